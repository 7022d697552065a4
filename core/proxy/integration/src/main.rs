//! `strait-proxy` as the netns tests run it in a pod's network namespace:
//! the same sidecar, configured by the same variables, built beside the
//! tests so that they find it without a separate build.

fn main() -> std::process::ExitCode {
    strait_proxy::init_logging();
    strait_proxy::run_sidecar()
}
