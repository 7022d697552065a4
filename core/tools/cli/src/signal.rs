//! Stopping long-running commands the way their supervisors ask: on Ctrl-C
//! or SIGTERM, as the proxy stops.

pub use strait_proxy::terminated;
