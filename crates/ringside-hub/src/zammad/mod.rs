//! The hub's side of Zammad: its REST client ([`client`]), the connection check
//! ([`check`]) that `ringside-hub zammad check` prints, one pass of the sync into the
//! caller directory ([`sync`]), the task that runs the passes beside the hub ([`task`]),
//! the customers' tickets fetched when a call rings ([`tickets`], [`live`]), whether
//! Zammad answers ([`health`]) and customers created from a popup ([`customer`]). The JSON
//! Zammad sends is read by `ringside_providers::zammad`.

pub mod check;
pub mod client;
pub mod customer;
pub mod health;
pub mod live;
pub mod sync;
pub mod task;
pub mod tickets;
