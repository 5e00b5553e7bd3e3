//! Pure types and rules of the warehouse: no I/O, no clock, no database.
//!
//! Everything here can be used from flows, the store and tests alike.

pub mod auth;
pub mod event;
pub mod gs1;
pub mod item;
pub mod location;
pub mod orders;
pub mod permissions;
pub mod putaway;
pub mod receiving;
pub mod scan;
pub mod user;

pub use event::{Event, LoginFailure, MoveReason, ReceiptRef};
pub use item::{AbcClass, Item, ItemGtin, Lot};
pub use location::{Location, LocationKind, LocationRole};
pub use user::{Role, Task, User};

/// Largest quantity one movement may carry, in base units. Anything above is a typo
/// (a GTIN keyed into the quantity field, say), not a real movement.
pub const MAX_MOVE_QTY: i64 = 1_000_000;
