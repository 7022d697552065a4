//! strait's default plugins, compiled for `wasm32-wasip2` by this crate's build
//! script and embedded, so the mesh works with no plugin ConfigMap at all.

/// The default authorization plugin (Linkerd's inbound policy semantics), a
/// component of world `strait:authz/authorizer@0.1.0`.
pub static AUTHZ_DEFAULT: &[u8] = include_bytes!(env!("STRAIT_AUTHZ_DEFAULT_WASM"));

/// The default export plugin (Linkerd's export selectors), a component of
/// world `strait:export-mode/exporter@0.2.0`.
pub static EXPORT_DEFAULT: &[u8] = include_bytes!(env!("STRAIT_EXPORT_DEFAULT_WASM"));

/// Files of plugins that exist to test the host's containment rules. They are
/// paths into the build directory, never embedded.
#[cfg(feature = "test-fixtures")]
pub mod fixtures {
    /// An authz plugin that loops on `/loop`, exhausts memory on `/grow`, traps
    /// on `/trap`, logs on `/log` and otherwise allows as `default/faulty-plugin`.
    pub const AUTHZ_FAULTY: &str = env!("STRAIT_AUTHZ_FAULTY_WASM");
    /// An export plugin that traps for Service `trap`, loops for `loop`, and
    /// otherwise exports pod to pod with extras (one under a reserved prefix).
    pub const EXPORT_FAULTY: &str = env!("STRAIT_EXPORT_FAULTY_WASM");
    /// An export plugin built against the previous contract,
    /// `strait:export-mode@0.1.0`, which the host must keep loading: it
    /// mirrors pod to pod the Services annotated `strait.io/export-v0-1: yes`
    /// with the label `contract: 0.1`.
    pub const EXPORT_V0_1: &str = env!("STRAIT_EXPORT_V0_1_WASM");
    /// The default authz plugin's file, for tests that load from a path.
    pub const AUTHZ_DEFAULT: &str = env!("STRAIT_AUTHZ_DEFAULT_WASM");
    /// The default export plugin's file.
    pub const EXPORT_DEFAULT: &str = env!("STRAIT_EXPORT_DEFAULT_WASM");

    /// `component` with a custom section `name` holding `payload` appended:
    /// still a valid component that behaves as before, but another digest
    /// and size, so tests can push a "new" version of a plugin or a large
    /// one.
    pub fn with_custom_section(component: &[u8], name: &str, payload: &[u8]) -> Vec<u8> {
        let mut section = Vec::with_capacity(name.len() + payload.len() + 5);
        leb128(&mut section, name.len());
        section.extend_from_slice(name.as_bytes());
        section.extend_from_slice(payload);
        let mut out = Vec::with_capacity(component.len() + section.len() + 6);
        out.extend_from_slice(component);
        // Section id 0 (custom), then the section's length.
        out.push(0);
        leb128(&mut out, section.len());
        out.extend_from_slice(&section);
        out
    }

    /// `value` as unsigned LEB128, as Wasm writes lengths.
    fn leb128(out: &mut Vec<u8>, mut value: usize) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
}

/// Files of the example plugins in `plugins/examples/`, written with the
/// plugin SDK. They are paths into the build directory, never embedded.
#[cfg(feature = "examples")]
pub mod examples {
    /// Admits mTLS clients of listed namespaces; only one identity may write.
    pub const AUTHZ_NAMESPACES: &str = env!("STRAIT_EXAMPLE_AUTHZ_NAMESPACES_WASM");
    /// Exports Services by their `strait.io/export` annotation.
    pub const EXPORT_BY_ANNOTATION: &str = env!("STRAIT_EXAMPLE_EXPORT_BY_ANNOTATION_WASM");
}

#[cfg(test)]
mod tests;
