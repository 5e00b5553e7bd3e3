//! Floorhand: a terminal application for warehouse floor staff.
//!
//! See ARCHITECTURE.md for the map of this crate.

mod alloc;
pub mod config;
pub mod demo;
pub mod domain;
pub mod flows;
pub mod import;
pub mod labels;
pub mod server;
pub mod sops;
pub mod store;
pub mod sync;
pub mod tui;
