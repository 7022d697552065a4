//! The authorization world (`strait:authz/authz-plugin`): its bindings, and
//! the candidate set the SDK keeps for authors of [`crate::Authorizer`].

wit_bindgen::generate!({
    path: "../../wit/authz",
    world: "authz-plugin",
    pub_export_macro: true,
    export_macro_name: "__export_authz_world",
    default_bindings_module: "strait_plugin_sdk::authz",
});

pub use self::strait::authz::types::{
    Authentication, Authorization, Cidr, Client, ClientTls, Decision, HttpRequest, IdentityMatch,
    Inbound, IpAddress, Network, Protocol, ResourceRef,
};

/// The candidates of one server port or route, converted once when the host
/// hands the set over and then lent to every call, so an author sees a plain
/// slice and pays for the conversion only once per policy.
pub struct Candidates(Vec<Authorization>);

impl Candidates {
    /// The authorizations in the policy controller's order, as `allow(index)`
    /// refers to them.
    pub fn as_slice(&self) -> &[Authorization] {
        &self.0
    }
}

impl exports::strait::authz::authorizer::GuestCandidates for Candidates {
    fn new(authorizations: Vec<Authorization>) -> Self {
        Candidates(authorizations)
    }
}

/// Runs an [`crate::Authorizer`] for the generated export glue; the log sink
/// is pointed at this world's `log` import first.
#[doc(hidden)]
pub fn __run<P: crate::Authorizer>(
    client: Client,
    request: &Inbound,
    candidates: exports::strait::authz::authorizer::CandidatesBorrow<'_>,
) -> Decision {
    crate::log::install(write_log);
    P::authorize(&client, request, candidates.get::<Candidates>().as_slice())
}

fn write_log(level: crate::log::Level, message: &str) {
    use self::strait::authz::log::{Level, log};
    let level = match level {
        crate::log::Level::Trace => Level::Trace,
        crate::log::Level::Debug => Level::Debug,
        crate::log::Level::Info => Level::Info,
        crate::log::Level::Warn => Level::Warn,
        crate::log::Level::Error => Level::Error,
    };
    log(level, message);
}

/// Makes `$plugin` (a type implementing [`crate::Authorizer`]) the component's
/// `authorizer` export. Use it once, at the top level of the plugin crate.
#[macro_export]
macro_rules! export_authz {
    ($plugin:ty) => {
        const _: () = {
            struct __StraitAuthz;
            impl $crate::authz::exports::strait::authz::authorizer::Guest for __StraitAuthz {
                type Candidates = $crate::authz::Candidates;
                fn authorize(
                    client: $crate::authz::Client,
                    request: &$crate::authz::Inbound,
                    candidates: $crate::authz::exports::strait::authz::authorizer::CandidatesBorrow<
                        '_,
                    >,
                ) -> $crate::authz::Decision {
                    $crate::authz::__run::<$plugin>(client, request, candidates)
                }
            }
    $crate::authz::__export_authz_world!(__StraitAuthz with_types_in $crate::authz);
        };
    };
}
