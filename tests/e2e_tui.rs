//! End to end: the real `floorhand` binary in a real pseudo-terminal.
//!
//! Each test starts `floorhand --db <tmp>/demo.db demo` in a PTY with its own data,
//! config and home directories, types at it the way a person or a scanner would, and
//! reads the screen back through a `vt100` terminal emulator. A reader thread drains the
//! PTY into both the raw bytes (to count BEL and find the terminal-restore sequences) and
//! the emulated screen. Nothing sleeps to wait: every wait polls for what it expects on
//! screen, bounded by a deadline, and a timeout fails with the screen printed. The PTY
//! harness is `common::pty`, shared with `e2e_receiving.rs`.

#![cfg(unix)]

mod common;

use common::TestResult;
use common::pty::{
    CTRL_Q, DEADLINE, ESC, F1, F10, Session, assert_store_checks, assert_terminal_restored, fail,
    first_word, framed,
};

impl Session {
    /// Sign in from the login screen and wait for the home menu.
    fn login(&mut self, badge: &str, pin: &str) -> TestResult<String> {
        self.sign_in(badge, pin, |s| {
            s.contains("Hello,") && s.contains("Stock lookup")
        })
    }

    /// From the home menu, open Stock lookup by its menu number.
    fn open_lookup(&mut self, menu: &str) -> TestResult {
        let number = menu
            .lines()
            .find_map(|l| l.trim().strip_suffix("Stock lookup"))
            .map(str::trim)
            .ok_or_else(|| {
                fail(format!(
                    "no Stock lookup entry on the menu:\n{}",
                    framed(menu)
                ))
            })?
            .to_string();
        self.scan(&number)?;
        self.wait_text("Scan a location, an item")?;
        Ok(())
    }
}

/// The last whole number on a line (the quantity column of a stock row).
fn last_number(line: &str) -> Option<i64> {
    line.split_whitespace()
        .rev()
        .find_map(|w| w.parse::<i64>().ok())
}

/// The stock row on screen whose first column is `key`, with its quantity.
fn row_qty(screen: &str, key: &str) -> TestResult<i64> {
    let line = screen
        .lines()
        .find(|l| first_word(l) == Some(key))
        .ok_or_else(|| fail(format!("no row for {key} on screen:\n{}", framed(screen))))?;
    last_number(line).ok_or_else(|| fail(format!("no quantity in the row {line:?}")))
}

/// The number after "On hand" on screen.
fn on_hand(screen: &str) -> TestResult<i64> {
    screen
        .lines()
        .find_map(|l| l.split_once("On hand ").map(|(_, rest)| rest))
        .and_then(|rest| first_word(rest))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| fail(format!("no \"On hand <n>\" on screen:\n{}", framed(screen))))
}

#[test]
fn sign_in_look_up_help_and_quit_80x24() -> TestResult {
    let mut s = Session::start(80, 24)?;
    let menu = s.login("1001", "1111")?;
    assert!(
        menu.contains("Rosa Alvarez"),
        "home greets the user:\n{menu}"
    );

    // Look up an item: one row per location, and the total.
    s.open_lookup(&menu)?;
    s.send(b"SKU-10001\r")?;
    let screen = s.wait_for("the SKU-10001 lookup result", |s| {
        s.contains("On hand") && s.lines().any(|l| first_word(l) == Some("PF-A-01"))
    })?;
    assert!(
        screen.lines().any(|l| first_word(l) == Some("SKU-10001")),
        "the item heading:\n{}",
        framed(&screen)
    );
    let rows = [("A-02-04-2", 24), ("D-08-03-1", 54), ("PF-A-01", 108)];
    let mut total = 0;
    for (location, want) in rows {
        let qty = row_qty(&screen, location)?;
        assert_eq!(qty, want, "qty at {location}:\n{}", framed(&screen));
        total += qty;
    }
    let shown = on_hand(&screen)?;
    assert_eq!(shown, 186, "on hand:\n{}", framed(&screen));
    assert_eq!(shown, total, "on hand is the sum of the rows");

    // An unknown code: a notice on screen and the bell.
    let bells = s.bells();
    s.send(b"NOPE-123\r")?;
    s.wait_text("not found: NOPE-123")?;
    s.wait_until("a BEL after the failed lookup", DEADLINE, |out| {
        out.bells() > bells
    })?;

    // F1 opens this screen's procedure; a lone Esc closes it.
    s.send(F1)?;
    s.wait_text("Help: Stock lookup")?;
    s.send(ESC)?;
    s.wait_for("the help overlay to close", |s| {
        !s.contains("Help: Stock lookup") && s.contains("Scan>")
    })?;

    s.send(CTRL_Q)?;
    let status = s.wait_exit()?;
    assert!(status.success(), "exit status {status}");
    assert_terminal_restored(&s);

    // The store the session wrote to still passes every check.
    assert_store_checks(&s.dirs)?;

    let log_file = s.dirs.log_file();
    assert!(log_file.is_file(), "no log file at {}", log_file.display());
    let log = std::fs::read_to_string(&log_file)?;
    assert!(log.contains("login"), "the log records the login:\n{log}");
    Ok(())
}

#[test]
fn supervisor_looks_up_a_location_on_40x16() -> TestResult {
    let mut s = Session::start(40, 16)?;
    let menu = s.login("1007", "7777")?;
    let status_bar = menu.lines().last().unwrap_or_default();
    assert!(
        status_bar.contains("1007"),
        "the status bar shows the badge: {status_bar:?}\n{}",
        framed(&menu)
    );

    s.open_lookup(&menu)?;
    s.send(b"PF-A-01\r")?;
    let screen = s.wait_for("the PF-A-01 lookup result", |s| {
        s.lines().any(|l| first_word(l) == Some("SKU-10001"))
    })?;
    assert!(
        screen.lines().any(|l| first_word(l) == Some("PF-A-01")),
        "the location heading:\n{}",
        framed(&screen)
    );
    assert_eq!(
        row_qty(&screen, "SKU-10001")?,
        108,
        "qty of SKU-10001 at PF-A-01:\n{}",
        framed(&screen)
    );

    s.send(F10)?;
    let status = s.wait_exit()?;
    assert!(status.success(), "exit status {status}");
    assert_terminal_restored(&s);
    Ok(())
}

#[test]
fn too_small_terminal_then_resized() -> TestResult {
    let mut s = Session::start(30, 10)?;
    s.wait_text("Terminal too small")?;
    s.resize(80, 24)?;
    s.wait_for("the login screen after the resize", |s| {
        s.contains("Scan your badge") && !s.contains("Terminal too small")
    })?;
    s.send(CTRL_Q)?;
    let status = s.wait_exit()?;
    assert!(status.success(), "exit status {status}");
    assert_terminal_restored(&s);
    Ok(())
}
