//! `strait plugin test`: a plugin against a cases file, through the plugin
//! host the mesh uses. The cases format is documented in `strait-plugin-cases`.

use std::path::Path;

use strait_plugin_cases::Report;
use strait_plugin_host::{PluginKind, PluginSource};

use crate::ToolError;

/// Runs the plugin in `file` against the cases in `cases_path`, as `kind`
/// (default: the world the component implements); the result of every
/// case, or why the plugin or the cases cannot be used at all.
pub fn test(file: &Path, cases_path: &Path, kind: Option<PluginKind>) -> Result<Report, ToolError> {
    let plugin = PluginSource::File(file).read()?;
    let text = std::fs::read_to_string(cases_path)
        .map_err(|e| ToolError::io("read cases file", cases_path, e))?;
    let host = crate::host()?;
    let kind = match kind {
        Some(kind) => kind,
        None => strait_plugin_cases::detect_kind(&host, &plugin)?,
    };
    let cases = strait_plugin_cases::load(&text, kind).map_err(|source| ToolError::Cases {
        path: cases_path.to_path_buf(),
        source: Box::new(source),
    })?;
    Ok(strait_plugin_cases::run(&host, &plugin, &cases)?)
}
