//! Applying the rules with the system's iptables programs.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::rules::{Config, restore_input};

/// Which iptables the rules go through. Kernels and images differ: the
/// legacy and nf_tables back ends keep separate tables, and the rules must
/// land where the node's other rules are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IptablesMode {
    /// `iptables-restore` and `iptables-save`: whatever the image links them to.
    #[default]
    Default,
    /// `iptables-legacy-restore` and `iptables-legacy-save`.
    Legacy,
    /// `iptables-nft-restore` and `iptables-nft-save`.
    Nft,
}

impl IptablesMode {
    /// Parses `--iptables-mode`: `legacy` or `nft`.
    pub fn parse(text: &str) -> Result<Self, UnknownIptablesMode> {
        match text.trim() {
            "legacy" => Ok(IptablesMode::Legacy),
            "nft" => Ok(IptablesMode::Nft),
            other => Err(UnknownIptablesMode(other.to_string())),
        }
    }

    fn save_program(self) -> &'static str {
        match self {
            IptablesMode::Default => "iptables-save",
            IptablesMode::Legacy => "iptables-legacy-save",
            IptablesMode::Nft => "iptables-nft-save",
        }
    }

    fn restore_program(self) -> &'static str {
        match self {
            IptablesMode::Default => "iptables-restore",
            IptablesMode::Legacy => "iptables-legacy-restore",
            IptablesMode::Nft => "iptables-nft-restore",
        }
    }
}

/// An `--iptables-mode` that names no iptables back end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--iptables-mode: {0:?} is neither \"legacy\" nor \"nft\"")]
pub struct UnknownIptablesMode(pub String);

/// Why the rules could not be read or applied.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program is not installed (or not on `PATH`).
    #[error("{program} was not found: install iptables, or pick another --iptables-mode")]
    Missing {
        /// The program looked for.
        program: String,
    },
    /// The program could not be started or talked to.
    #[error("running {program}: {source}")]
    Io {
        /// The program.
        program: String,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The program ran and refused: no permission (NET_ADMIN), a kernel
    /// without the nat table or the REDIRECT target, or a rule it rejects.
    #[error("{program} failed ({status}): {stderr}")]
    Refused {
        /// The program.
        program: String,
        /// How it exited.
        status: std::process::ExitStatus,
        /// What it said.
        stderr: String,
    },
}

/// Runs iptables, optionally inside another network namespace (as a CNI
/// plugin or a test does), through `nsenter`.
#[derive(Clone, Debug, Default)]
pub struct Runner {
    /// Which iptables programs to use.
    pub mode: IptablesMode,
    /// A network namespace to enter first, e.g. `/var/run/netns/NAME`.
    pub netns: Option<PathBuf>,
}

impl Runner {
    /// The `nat` table as `iptables-save -t nat` prints it.
    pub fn saved_nat(&self) -> Result<String, RunError> {
        self.run(self.mode.save_program(), &["-t", "nat"], None)
    }

    /// Installs `config`'s rules, replacing those of an earlier run, and
    /// returns the `iptables-restore` input it applied.
    pub fn apply(&self, config: &Config) -> Result<String, RunError> {
        let existing = self.saved_nat()?;
        let input = restore_input(config, &existing);
        self.run(self.mode.restore_program(), &["--noflush"], Some(&input))?;
        Ok(input)
    }

    fn run(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, RunError> {
        let mut command = match &self.netns {
            Some(netns) => {
                let mut command = Command::new("nsenter");
                command
                    .arg(format!("--net={}", netns.display()))
                    .arg("--")
                    .arg(program);
                command
            }
            None => Command::new(program),
        };
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawned = command.spawn().map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                RunError::Missing {
                    program: if self.netns.is_some() {
                        "nsenter".into()
                    } else {
                        program.into()
                    },
                }
            } else {
                RunError::Io {
                    program: program.into(),
                    source,
                }
            }
        });
        let mut child = spawned?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes())
                .map_err(|source| RunError::Io {
                    program: program.into(),
                    source,
                })?;
        }
        let output = child.wait_with_output().map_err(|source| RunError::Io {
            program: program.into(),
            source,
        })?;
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if !output.status.success() {
            // nsenter reports a missing program as exit 127 with its own
            // message; name the program rather than nsenter.
            if self.netns.is_some() && output.status.code() == Some(127) {
                return Err(RunError::Missing {
                    program: program.into(),
                });
            }
            return Err(RunError::Refused {
                program: program.into(),
                status: output.status,
                stderr,
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

#[cfg(test)]
mod tests;
