//! Opening one stream connection: the upgrade request with the bearer token and the resume
//! query, client-sized WebSocket buffers, and handshake failures mapped to [`ClientError`].

use std::time::Duration;

use ringside_core::stream::{ResumeFrom, MAX_FRAME_BYTES};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::endpoint::HubEndpoint;
use crate::error::{with_causes, ClientError};

/// An open stream connection.
pub(super) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The largest message accepted: the hub sends no larger frame (snapshots come in parts).
const MAX_MESSAGE_SIZE: usize = MAX_FRAME_BYTES;
/// One connection that mostly idles needs no large eager read buffer (default 128 KiB).
const READ_BUFFER_SIZE: usize = 16 << 10;
/// The client only writes pings and a close frame.
const MAX_WRITE_BUFFER_SIZE: usize = 64 << 10;

/// Connects to the hub's stream, resuming after `resume` when given.
pub(super) async fn open(
    endpoint: &HubEndpoint,
    resume: Option<&ResumeFrom>,
    timeout: Duration,
) -> Result<Socket, ClientError> {
    let url = endpoint.stream_url(resume);
    let mut request = url.as_str().into_client_request().map_err(from_ws)?;
    let mut bearer =
        HeaderValue::from_str(&format!("Bearer {}", endpoint.token())).map_err(|_| {
            ClientError::InvalidConfig {
                detail: "the agent token cannot be sent in a header".into(),
            }
        })?;
    bearer.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, bearer);

    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_SIZE)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER_SIZE)
        .max_message_size(Some(MAX_MESSAGE_SIZE))
        .max_frame_size(Some(MAX_MESSAGE_SIZE));
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    match tokio::time::timeout(timeout, connecting).await {
        Err(_) => Err(ClientError::Timeout(timeout)),
        Ok(Err(error)) => Err(from_ws(error)),
        Ok(Ok((socket, _response))) => Ok(socket),
    }
}

/// Maps a failure to open the connection.
fn from_ws(error: WsError) -> ClientError {
    match error {
        WsError::Http(response) => {
            let body = response.body().as_deref().unwrap_or_default();
            ClientError::from_status(response.status().as_u16(), body)
        }
        WsError::Url(error) => ClientError::InvalidConfig {
            detail: error.to_string(),
        },
        WsError::Io(_) | WsError::Tls(_) => ClientError::Unreachable {
            detail: with_causes(&error),
        },
        WsError::HttpFormat(_) => ClientError::InvalidResponse {
            detail: with_causes(&error),
        },
        other => ClientError::ConnectionLost {
            detail: with_causes(&other),
        },
    }
}
