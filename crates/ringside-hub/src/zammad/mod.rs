//! The hub's side of Zammad: its REST client ([`client`]) and the connection check
//! ([`check`]) that `ringside-hub zammad check` prints. The JSON Zammad sends is read by
//! `ringside_providers::zammad`.

pub mod check;
pub mod client;
