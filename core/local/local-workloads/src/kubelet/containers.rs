//! What a Pod's containers come to in the kubelet: the built-in program
//! each runs (or why it cannot run), and the ports those programs and the
//! proxy bind on the Pod's address.

use k8s_openapi::api::core::v1::PodSpec;
use strait_mesh::names::{INIT_CONTAINER, PROXY_CONTAINER};
use strait_mesh::ports::{ADMIN_PORT, INBOUND_PORT, OUTBOUND_PORT};

use super::Problem;
use crate::images::{self, Program};

/// What a Pod's containers come to: the programs to run, what cannot run,
/// and whether the Pod is a multicluster gateway.
pub(super) struct Containers {
    pub(super) programs: Vec<(String, Program)>,
    pub(super) problems: Vec<Problem>,
    pub(super) gateway: bool,
}

/// Maps each container to a built-in program. The proxy and its init
/// container are strait's own, so they are not programs; anything else
/// that has no built-in image, and a Pod that would run nothing, is a
/// problem for its status rather than a Pod that hangs.
pub(super) fn containers_of(spec: &PodSpec) -> Containers {
    let mut programs = Vec::new();
    let mut problems = Vec::new();
    for container in spec.init_containers.iter().flatten() {
        if ![INIT_CONTAINER, PROXY_CONTAINER].contains(&container.name.as_str()) {
            problems.push((
                container.name.clone(),
                container.image.clone().unwrap_or_default(),
                format!(
                    "init container {:?} cannot run: strait local runs no init containers",
                    container.name
                ),
            ));
        }
    }
    // A gateway's proxy is the Pod's only program, whether its container
    // is named as the injected proxy's or not.
    let mut gateway = false;
    for container in &spec.containers {
        let program = images::program_of(container);
        if container.name == PROXY_CONTAINER {
            gateway |= program == Ok(Program::Gateway);
            continue;
        }
        match program {
            Ok(Program::Gateway) => gateway = true,
            Ok(program) => programs.push((container.name.clone(), program)),
            Err(err) => problems.push((container.name.clone(), err.image.clone(), err.to_string())),
        }
    }
    if gateway && !programs.is_empty() {
        // A gateway's proxy serves no application ports: they would hang.
        problems.push((
            String::new(),
            String::new(),
            "a multicluster gateway's Pod runs only its proxy, no other container".into(),
        ));
    }
    if programs.is_empty() && problems.is_empty() && !gateway {
        problems.push((
            String::new(),
            String::new(),
            "the Pod has no containers to run".into(),
        ));
    }
    Containers {
        programs,
        problems,
        gateway,
    }
}

/// The ports a Pod binds on its own address: its servers', and the proxy's
/// when it is meshed. An address is only free when all of them are.
pub(super) fn bound_ports(programs: &[(String, Program)], meshed: bool) -> Vec<u16> {
    let mut ports: Vec<u16> = programs
        .iter()
        .filter_map(|(_, program)| program.server_port())
        .collect();
    if meshed {
        ports.extend([INBOUND_PORT, OUTBOUND_PORT, ADMIN_PORT]);
    }
    ports
}
