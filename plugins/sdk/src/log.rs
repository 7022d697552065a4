//! Logging to the host through the world's `log` import, with the `format!`
//! syntax: `strait_plugin_sdk::info!("denied {identity}")`.
//!
//! The host writes each message through its own log pipeline with the
//! plugin's name and version attached, and may rate limit or truncate them,
//! so log decisions worth explaining rather than every request. Outside a
//! component (in a plugin's native unit tests) messages go to stderr.

use std::sync::OnceLock;

/// How severe a message is; the host maps it onto its own levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Step-by-step detail.
    Trace,
    /// Detail useful while developing a plugin.
    Debug,
    /// Normal events worth keeping.
    Info,
    /// Something unexpected that the plugin handled.
    Warn,
    /// Something the plugin could not handle.
    Error,
}

type Sink = fn(Level, &str);

static SINK: OnceLock<Sink> = OnceLock::new();

/// Points logging at the world the component implements; the export glue
/// calls it, so only that world's `log` import ends up in the component.
pub(crate) fn install(sink: Sink) {
    let _ = SINK.get_or_init(|| sink);
}

/// Sends one message; the macros call it.
pub fn write(level: Level, message: &str) {
    match SINK.get() {
        Some(sink) => sink(level, message),
        None => eprintln!("[{level:?}] {message}"),
    }
}

/// Logs at [`Level::Trace`] with `format!` arguments.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Trace, &::std::format!($($arg)*)) };
}

/// Logs at [`Level::Debug`] with `format!` arguments.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Debug, &::std::format!($($arg)*)) };
}

/// Logs at [`Level::Info`] with `format!` arguments.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, &::std::format!($($arg)*)) };
}

/// Logs at [`Level::Warn`] with `format!` arguments.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, &::std::format!($($arg)*)) };
}

/// Logs at [`Level::Error`] with `format!` arguments.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, &::std::format!($($arg)*)) };
}
