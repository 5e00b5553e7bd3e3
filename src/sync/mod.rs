//! Sync between terminals and the server: the wire types, the pure plan and the client.
//! The model is written down in `README.md` beside this file.

pub mod client;
pub mod plan;
pub mod wire;
