//! Serving a baseline's router on a runtime of its own, on `127.0.0.1:0`, until stopped:
//! what the bare broadcast and the bare commit server share.

use std::net::SocketAddr;

use axum::Router;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// A running baseline server.
pub struct BareServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    runtime: Runtime,
}

impl BareServer {
    /// Serves `app` on `runtime` (whose threads count as the server's CPU).
    pub fn start(runtime: Runtime, app: Router) -> anyhow::Result<BareServer> {
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        runtime.spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(BareServer {
            addr,
            stop,
            runtime,
        })
    }

    /// Stops serving and ends the runtime, and with it the router's state.
    pub fn stop(self) {
        let _ = self.stop.send(());
        self.runtime
            .shutdown_timeout(std::time::Duration::from_secs(1));
    }
}
