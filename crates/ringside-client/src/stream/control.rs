//! How the app steers the running stream task: reconnect now, or stop.

use std::sync::Arc;

use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

/// The app's handle on a running stream. Dropping it stops the stream.
#[derive(Debug)]
pub struct StreamHandle {
    reconnect: Arc<Notify>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl StreamHandle {
    /// Drops the current connection or skips the backoff wait, and connects again at once
    /// with a fresh backoff sequence. For resume from sleep and network changes, when the
    /// old connection is probably dead but no heartbeat has noticed yet. Several calls before
    /// the task reacts count as one.
    pub fn reconnect_now(&self) {
        self.reconnect.notify_one();
    }

    /// Closes the connection politely and waits for the task to end.
    pub async fn shutdown(self) {
        // An error means the task has already ended.
        let _ = self.shutdown.send(());
        if let Err(error) = self.task.await {
            tracing::error!(%error, "stream task failed");
        }
    }
}

/// What the task must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Command {
    /// Reconnect at once.
    ReconnectNow,
    /// Stop (asked for, or the handle was dropped).
    Shutdown,
}

/// The task's side of the handle.
#[derive(Debug)]
pub(super) struct Control {
    reconnect: Arc<Notify>,
    shutdown: oneshot::Receiver<()>,
}

impl Control {
    /// Waits for the next command; cancel-safe, so it can sit in a `select!`.
    pub(super) async fn next(&mut self) -> Command {
        tokio::select! {
            biased;
            _ = &mut self.shutdown => Command::Shutdown,
            () = self.reconnect.notified() => Command::ReconnectNow,
        }
    }
}

/// The handle's side, waiting for the task it steers.
pub(super) struct HandleParts {
    reconnect: Arc<Notify>,
    shutdown: oneshot::Sender<()>,
}

impl HandleParts {
    pub(super) fn into_handle(self, task: JoinHandle<()>) -> StreamHandle {
        StreamHandle {
            reconnect: self.reconnect,
            shutdown: self.shutdown,
            task,
        }
    }
}

/// A connected pair of control and handle parts.
pub(super) fn channel() -> (Control, HandleParts) {
    let reconnect = Arc::new(Notify::new());
    let (shutdown, shutdown_rx) = oneshot::channel();
    (
        Control {
            reconnect: reconnect.clone(),
            shutdown: shutdown_rx,
        },
        HandleParts {
            reconnect,
            shutdown,
        },
    )
}
