//! `strait plugin test`: a plugin against a cases file, through the plugin
//! host the mesh uses. The cases format is documented in `strait-plugin-cases`.

use std::path::Path;
use std::process::ExitCode;

use strait_plugin_host::{PluginKind, PluginSource};

/// Exit status when the plugin or the cases cannot be used at all, so scripts
/// can tell a broken setup from failing cases (1).
const UNUSABLE: u8 = 2;

pub fn test(file: &Path, cases_path: &Path, kind: Option<PluginKind>) -> ExitCode {
    match run(file, cases_path, kind) {
        Ok(report) => {
            print!("{report}");
            if report.failed() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(UNUSABLE)
        }
    }
}

fn run(
    file: &Path,
    cases_path: &Path,
    kind: Option<PluginKind>,
) -> Result<strait_plugin_cases::Report, String> {
    let plugin = PluginSource::File(file).read().map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(cases_path)
        .map_err(|e| format!("cannot read cases file {}: {e}", cases_path.display()))?;
    let host = super::host().map_err(|e| e.to_string())?;
    let kind = match kind {
        Some(kind) => kind,
        None => strait_plugin_cases::detect_kind(&host, &plugin).map_err(|e| e.to_string())?,
    };
    let cases = strait_plugin_cases::load(&text, kind)
        .map_err(|e| format!("cases file {}: {e}", cases_path.display()))?;
    strait_plugin_cases::run(&host, &plugin, &cases).map_err(|e| e.to_string())
}
