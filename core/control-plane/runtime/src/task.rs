//! Background tasks that end with what started them.

use tokio::task::JoinHandle;

/// A spawned task aborted when this is dropped: a controller's followers and
/// its admin endpoint stop when the controller returns, on every path out,
/// rather than outliving it in a test or an embedded cluster.
#[derive(Debug)]
pub(crate) struct Scoped(JoinHandle<()>);

impl Scoped {
    pub(crate) fn new(task: JoinHandle<()>) -> Self {
        Scoped(task)
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        self.0.abort();
    }
}
