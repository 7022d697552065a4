//! The files under `deploy/`: the same objects `strait install` and
//! `strait multicluster install` print, as kustomizations that take the
//! identity material from files the user puts beside them, so
//! `kubectl apply -k deploy/control-plane` installs a control plane whose
//! trust anchor the user chose.

use std::collections::BTreeMap;

use serde::Serialize;
use strait_mesh::names::{
    CONTROL_PLANE_NAMESPACE, ISSUER_CA_KEY, ISSUER_CERT_KEY, ISSUER_KEY_KEY, ISSUER_SECRET,
    MULTICLUSTER_NAMESPACE, TRUST_ROOTS, TRUST_ROOTS_KEY,
};

use crate::control_plane::ControlPlane;
use crate::meta::{CONTROL_PLANE_COMPONENT, CONTROL_PLANE_NS, EXTENSION, PART_OF, PART_OF_VALUE};
use crate::multicluster::Multicluster;
use crate::object::{RenderError, render};

/// The first line of every generated file, so nobody edits one by hand.
pub const HEADER: &str = "# Generated from strait's installer (core/ops/install); do not edit.\n\
# Regenerate: STRAIT_UPDATE_DEPLOY=1 cargo test -p strait-install --test deploy\n";

/// One file under `deploy/`: its path there and its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployFile {
    /// The path relative to `deploy/`, with `/` separators.
    pub path: &'static str,
    /// The contents.
    pub contents: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    config_map_generator: Vec<Generator>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secret_generator: Vec<Generator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generator_options: Option<GeneratorOptions>,
}

impl Kustomization {
    fn new(resources: Vec<&'static str>) -> Self {
        Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            resources,
            config_map_generator: Vec::new(),
            secret_generator: Vec::new(),
            generator_options: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Generator {
    name: &'static str,
    namespace: &'static str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    type_: Option<&'static str>,
    files: Vec<&'static str>,
}

/// Generated objects keep their names (the controllers mount them by
/// name) and carry strait's labels.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeneratorOptions {
    disable_name_suffix_hash: bool,
    labels: BTreeMap<&'static str, &'static str>,
}

/// Every generated file under `deploy/`, rendered with the default
/// settings (`cluster.local`, the default image).
pub fn files() -> Result<Vec<DeployFile>, RenderError> {
    let control_plane = ControlPlane::default();
    let mut files = vec![
        kustomization(
            "crds/kustomization.yaml",
            Kustomization::new(vec!["crds.yaml"]),
        )?,
        kustomization(
            "control-plane/kustomization.yaml",
            control_plane_kustomization(),
        )?,
        DeployFile {
            path: "control-plane/control-plane.yaml",
            contents: format!("{HEADER}{}", render(&control_plane.objects()?)?),
        },
        DeployFile {
            path: "control-plane/.gitignore",
            contents: ignore(&[
                ISSUER_KEY_KEY,
                ISSUER_CERT_KEY,
                ISSUER_CA_KEY,
                TRUST_ROOTS_KEY,
            ]),
        },
    ];
    let base = Multicluster {
        gateway: false,
        ..Multicluster::default()
    };
    let with_gateway = Multicluster::default();
    let mut gateway = Kustomization::new(vec!["../base", "gateway.yaml"]);
    gateway.config_map_generator = vec![Generator {
        name: TRUST_ROOTS,
        namespace: MULTICLUSTER_NAMESPACE,
        type_: None,
        files: vec![TRUST_ROOTS_KEY],
    }];
    gateway.generator_options = Some(GeneratorOptions {
        disable_name_suffix_hash: true,
        labels: BTreeMap::from([(PART_OF, PART_OF_VALUE), (EXTENSION, "multicluster")]),
    });
    files.extend([
        // The gateway's kustomization includes the base; a kustomization
        // may not include the directory it lives in, so the base has its own.
        kustomization(
            "multicluster/kustomization.yaml",
            Kustomization::new(vec!["base"]),
        )?,
        kustomization(
            "multicluster/base/kustomization.yaml",
            Kustomization::new(vec!["multicluster.yaml"]),
        )?,
        DeployFile {
            path: "multicluster/base/multicluster.yaml",
            contents: format!("{HEADER}{}", render(&base.objects()?)?),
        },
        kustomization("multicluster/gateway/kustomization.yaml", gateway)?,
        DeployFile {
            path: "multicluster/gateway/gateway.yaml",
            contents: format!("{HEADER}{}", render(&with_gateway.gateway_objects())?),
        },
        DeployFile {
            path: "multicluster/gateway/.gitignore",
            contents: ignore(&[TRUST_ROOTS_KEY]),
        },
    ]);
    Ok(files)
}

fn control_plane_kustomization() -> Kustomization {
    let mut k = Kustomization::new(vec!["../crds", "control-plane.yaml"]);
    k.config_map_generator = vec![Generator {
        name: TRUST_ROOTS,
        namespace: CONTROL_PLANE_NAMESPACE,
        type_: None,
        files: vec![TRUST_ROOTS_KEY],
    }];
    k.secret_generator = vec![Generator {
        name: ISSUER_SECRET,
        namespace: CONTROL_PLANE_NAMESPACE,
        type_: Some("kubernetes.io/tls"),
        files: vec![ISSUER_CERT_KEY, ISSUER_KEY_KEY, ISSUER_CA_KEY],
    }];
    k.generator_options = Some(GeneratorOptions {
        disable_name_suffix_hash: true,
        labels: BTreeMap::from([
            (PART_OF, PART_OF_VALUE),
            (CONTROL_PLANE_NS, CONTROL_PLANE_NAMESPACE),
            (CONTROL_PLANE_COMPONENT, "identity"),
        ]),
    });
    k
}

fn kustomization(path: &'static str, k: Kustomization) -> Result<DeployFile, RenderError> {
    let yaml = serde_norway::to_string(&k).map_err(|source| RenderError::Yaml {
        kind: "Kustomization",
        name: path.into(),
        source,
    })?;
    Ok(DeployFile {
        path,
        contents: format!("{HEADER}{yaml}"),
    })
}

/// A `.gitignore` keeping the user's identity files out of version
/// control: the issuer key is a secret, and the rest is per-mesh.
fn ignore(files: &[&str]) -> String {
    let mut text =
        String::from("# The identity files you put here are yours, and the key is a secret.\n");
    for file in files {
        text.push_str(file);
        text.push('\n');
    }
    text
}
