//! One `strait local up` of the tests on the machine at a time: runs at
//! once would share the loopback pod network, and while `local up` passes
//! over addresses another process holds, a run's timing (and its rates) is
//! more telling alone. A lock on a file in the temporary directory covers
//! test threads and test binaries run side by side alike.

use std::fs::{File, OpenOptions};

/// Held while a `local up` runs; released when dropped (or when the
/// process ends, so a crashed test leaves no stale lock).
pub struct OneMesh(#[allow(dead_code)] File);

/// Waits until no other holder runs a mesh, then holds the lock.
pub fn one_mesh() -> OneMesh {
    let path = std::env::temp_dir().join("strait-local-up.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    file.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", path.display()));
    OneMesh(file)
}
