//! The built-in plugins, compiled ahead of time by the build script with the
//! engine configuration of [`crate::engine`], so a sidecar starting with
//! them loads machine code instead of running the compiler.

/// The built-in plugins compiled by the build script: the SHA-256 of each
/// component, and its artifact.
static PRECOMPILED: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/precompiled.rs"));

/// The built-in plugin whose component has `digest`, loaded from the
/// artifact compiled with the host, if there is one and this engine can run
/// it (wasmtime checks its version, configuration and CPU features, and
/// refuses the artifact otherwise; the caller then compiles).
pub(crate) fn load(
    engine: &wasmtime::Engine,
    digest: &str,
) -> Option<wasmtime::component::Component> {
    let (_, artifact) = PRECOMPILED.iter().find(|(d, _)| *d == digest)?;
    // SAFETY: `Component::deserialize` trusts its input to be an artifact
    // wasmtime produced. This one is: the build script of this crate made
    // it with `Engine::precompile_component` from the same wasmtime and
    // configuration, and it is embedded in the binary, not read at run
    // time. wasmtime still checks that its version, settings and target
    // match this engine's and returns an error when they do not.
    #[allow(unsafe_code)]
    let loaded = unsafe { wasmtime::component::Component::deserialize(engine, artifact) };
    match loaded {
        Ok(component) => Some(component),
        Err(error) => {
            tracing::debug!(%digest, error = %format!("{error:#}"), "a built-in plugin's artifact does not fit this host; compiling it");
            None
        }
    }
}

#[cfg(test)]
mod tests;
