//! The export world (`strait:export-mode/export-plugin`): its bindings and the
//! glue behind [`crate::export_export!`].

wit_bindgen::generate!({
    path: "../../wit/export",
    world: "export-plugin",
    pub_export_macro: true,
    export_macro_name: "__export_export_world",
    default_bindings_module: "strait_plugin_sdk::export",
});

pub use self::strait::export_mode::types::{
    Decision, Federation, Label, LabelSelector, Link, MirrorExtras, RemoteService,
    SelectorOperator, SelectorRequirement, ServicePort,
};

/// Runs an [`crate::Exporter`] for the generated export glue; the log sink is
/// pointed at this world's `log` import first.
#[doc(hidden)]
pub fn __run<P: crate::Exporter>(service: RemoteService, link: Link) -> Decision {
    crate::log::install(write_log);
    P::decide(&service, &link)
}

/// Runs [`crate::Exporter::federate`] for the generated export glue.
#[doc(hidden)]
pub fn __run_federate<P: crate::Exporter>(service: RemoteService, link: Link) -> Federation {
    crate::log::install(write_log);
    P::federate(&service, &link)
}

fn write_log(level: crate::log::Level, message: &str) {
    use self::strait::export_mode::log::{Level, log};
    let level = match level {
        crate::log::Level::Trace => Level::Trace,
        crate::log::Level::Debug => Level::Debug,
        crate::log::Level::Info => Level::Info,
        crate::log::Level::Warn => Level::Warn,
        crate::log::Level::Error => Level::Error,
    };
    log(level, message);
}

/// Makes `$plugin` (a type implementing [`crate::Exporter`]) the component's
/// `exporter` export. Use it once, at the top level of the plugin crate.
#[macro_export]
macro_rules! export_export {
    ($plugin:ty) => {
        const _: () = {
            struct __StraitExport;
            impl $crate::export::exports::strait::export_mode::exporter::Guest for __StraitExport {
                fn decide(
                    service: $crate::export::RemoteService,
                    link: $crate::export::Link,
                ) -> $crate::export::Decision {
                    $crate::export::__run::<$plugin>(service, link)
                }
                fn federate(
                    service: $crate::export::RemoteService,
                    link: $crate::export::Link,
                ) -> $crate::export::Federation {
                    $crate::export::__run_federate::<$plugin>(service, link)
                }
            }
    $crate::export::__export_export_world!(__StraitExport with_types_in $crate::export);
        };
    };
}
