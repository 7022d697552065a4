//! One rendered object of any kind, and a list of them written as one
//! multi-document YAML stream.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};
use strait_api::policy::{
    AuthorizationPolicy, MeshTlsAuthentication, NetworkAuthentication, Server,
};

/// Why a manifest could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// An object could not be written as YAML.
    #[error("writing {kind} {name} as YAML: {source}")]
    Yaml {
        /// The object's kind.
        kind: &'static str,
        /// The object's name.
        name: String,
        /// What the writer said.
        #[source]
        source: serde_norway::Error,
    },
    /// The CustomResourceDefinitions could not be built.
    #[error("building the CustomResourceDefinitions: {0}")]
    Crds(#[source] strait_api::crd::MergeError),
    /// A setting is unusable.
    #[error("{what}: {reason}")]
    Invalid {
        /// The setting and its value.
        what: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A Link name that cannot name the service mirror's objects.
    #[error("link {link:?}: {source}")]
    LinkName {
        /// The name given.
        link: String,
        /// What a Link name must be.
        #[source]
        source: crate::multicluster::InvalidLinkName,
    },
}

macro_rules! objects {
    (
        builtin: [$($kind:ident),* $(,)?],
        custom: [$($custom:ident => $custom_kind:literal),* $(,)?] $(,)?
    ) => {
        /// An object of one of the kinds the installers render. Keeping the
        /// typed value (rather than YAML) lets tests and callers inspect
        /// what will be applied.
        #[derive(Clone, Debug, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum Object {
            $(
                #[doc = concat!("A ", stringify!($kind), ".")]
                $kind($kind),
            )*
            $(
                #[doc = concat!("A ", $custom_kind, ".")]
                $custom($custom),
            )*
        }

        impl Object {
            /// The object's kind, as its YAML says.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Object::$kind(_) => <$kind as Resource>::KIND,)*
                    $(Object::$custom(_) => $custom_kind,)*
                }
            }

            /// The object's metadata.
            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Object::$kind(o) => o.metadata(),)*
                    $(Object::$custom(o) => &o.metadata,)*
                }
            }

            fn yaml(&self) -> Result<String, serde_norway::Error> {
                match self {
                    $(Object::$kind(o) => serde_norway::to_string(o),)*
                    $(Object::$custom(o) => serde_norway::to_string(o),)*
                }
            }
        }

        $(
            impl From<$kind> for Object {
                fn from(object: $kind) -> Self {
                    Object::$kind(object)
                }
            }
        )*
        $(
            impl From<$custom> for Object {
                fn from(object: $custom) -> Self {
                    Object::$custom(object)
                }
            }
        )*
    };
}

// Kubernetes' own kinds, and Linkerd's custom resources (whose kind is
// written here, as their derived types carry it only in their YAML).
objects!(
    builtin: [
        CustomResourceDefinition,
        Namespace,
        ServiceAccount,
        Secret,
        ConfigMap,
        ClusterRole,
        ClusterRoleBinding,
        Role,
        RoleBinding,
        Service,
        Deployment,
    ],
    custom: [
        Server => "Server",
        AuthorizationPolicy => "AuthorizationPolicy",
        MeshTlsAuthentication => "MeshTLSAuthentication",
        NetworkAuthentication => "NetworkAuthentication",
    ],
);

impl Object {
    /// The object's name (empty when unnamed, which no renderer produces).
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// The object's namespace, `None` for cluster-scoped objects.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// The object as one YAML document, opened by `---`.
    pub fn to_yaml(&self) -> Result<String, RenderError> {
        self.yaml()
            .map(|yaml| format!("---\n{yaml}"))
            .map_err(|source| RenderError::Yaml {
                kind: self.kind(),
                name: self.name().to_string(),
                source,
            })
    }
}

/// `objects` as one YAML stream, in order, each document opened by `---`:
/// what `kubectl apply -f -` reads. Order matters to it only in that a
/// Namespace must come before what lives in it, which every renderer here
/// respects.
pub fn render(objects: &[Object]) -> Result<String, RenderError> {
    objects.iter().map(Object::to_yaml).collect()
}
