//! Helpers shared by the integration tests.
//!
//! Each file under `tests/` is its own crate and compiles this module with `mod common;`,
//! using only the part it needs; hence the `allow(dead_code)` on the parts.
//!
//! - [`app`]: the App on the demo warehouse in memory, driven by key events, with a
//!   fixed clock, and rendered into a `TestBackend`.
//! - [`pty`]: the real `floorhand` binary in a pseudo-terminal, read back through a
//!   `vt100` emulator (Unix only).
//! - [`serve`]: the real binary's `server` commands and a running `floorhand serve`
//!   (Unix only).
//! - [`sync`]: seeds, the random generator and the floor of the sync tests.

#[allow(dead_code)]
pub mod app;
#[cfg(unix)]
#[allow(dead_code)]
pub mod pty;
#[cfg(unix)]
#[allow(dead_code)]
pub mod serve;
#[allow(dead_code)]
pub mod sync;

use floorhand::domain::MoveReason;
use floorhand::store::Move;
use std::path::Path;
use std::process::Command;

/// What a test (or a helper) returns: `?` takes any error.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// `assert!` that returns an error instead of panicking, so the caller can add context
/// (the sync tests add the seed to replay).
#[allow(unused_macros)]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(format!($($arg)+).into());
        }
    };
}
#[allow(unused_imports)]
pub(crate) use ensure;

/// A movement of `qty` of `sku` lot `lot` (no expiry) from `from` to `to`.
#[allow(dead_code)]
pub fn mv(sku: &str, lot: &str, from: &str, to: &str, qty: i64, reason: MoveReason) -> Move {
    Move {
        sku: sku.into(),
        lot: lot.into(),
        expiry: None,
        from: from.into(),
        to: to.into(),
        qty,
        reason,
        order: None,
    }
}

/// A receipt straight from the supplier: `qty` of `sku` (no lot) to `to`.
#[allow(dead_code)]
pub fn from_supplier(sku: &str, to: &str, qty: i64) -> Move {
    mv(sku, "", "SUPPLIER", to, qty, MoveReason::Receipt)
}

/// The real `floorhand` binary with `args`, its data and config directories inside the
/// test's directory `dir` and nothing from the environment that picks a store or address.
#[allow(dead_code)]
pub fn floorhand(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_floorhand"));
    c.args(args)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("FLOORHAND_CONFIG", dir.join("none.toml"))
        .env("RUST_BACKTRACE", "0")
        .env_remove("FLOORHAND_DB")
        .env_remove("FLOORHAND_SERVER_STORE")
        .env_remove("FLOORHAND_LISTEN");
    c
}

/// An address on loopback with a port the OS has just handed out.
#[allow(dead_code)]
pub fn free_address() -> std::io::Result<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    Ok(format!("127.0.0.1:{port}"))
}
