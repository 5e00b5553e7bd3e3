//! A terminal's sync as its users meet it, against the real `floorhand serve`: the
//! `floorhand sync` command's exit codes and messages, and the TUI's background worker
//! with the status bar that shows it.

#![cfg(unix)]

mod common;

use common::app::{app_on, login, render, scan};
use common::serve::{Server, admin, enrolment_code, floorhand, on_server};
use common::{TestResult, ensure, from_supplier};
use floorhand::config::Config;
use floorhand::domain::MoveReason;
use floorhand::store::Store;
use floorhand::sync::client::{self, Worker};
use floorhand::tui::App;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// A picker may not receive: the server rejects this receipt, the terminal does not know.
fn record_a_rejected_receipt(db: &Path) -> TestResult {
    let mut store = Store::open(db, "T01")?;
    store.record(
        "1003",
        &[floorhand::domain::Event::StockMoved {
            sku: "SKU-10001".into(),
            lot: String::new(),
            from: "SUPPLIER".into(),
            to: "DOCK-01".into(),
            qty: 5,
            reason: MoveReason::Receipt,
            receipt: None,
            order: None,
        }],
    )?;
    Ok(())
}

/// A receiver's receipt, which the server accepts.
fn record_a_receipt(db: &Path) -> TestResult {
    let mut store = Store::open(db, "T01")?;
    store.move_stock("1001", &from_supplier("SKU-10001", "DOCK-02", 3))?;
    Ok(())
}

/// `floorhand --db DB ARGS`: its exit code, standard output and standard error.
fn terminal(dir: &Path, db: &Path, args: &[&str]) -> TestResult<(i32, String, String)> {
    let db = db.to_string_lossy().into_owned();
    let mut all = vec!["--db", db.as_str()];
    all.extend_from_slice(args);
    let Output {
        status,
        stdout,
        stderr,
    } = floorhand(dir, &all).output()?;
    let code = status.code().ok_or("floorhand ended by a signal")?;
    Ok((
        code,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    ))
}

/// The server's store with the demo site and terminal T01 enrolled on it: its code.
fn demo_server(dir: &Path) -> TestResult<(std::path::PathBuf, String)> {
    let store = dir.join("server.db");
    admin(dir, &store, &["init", "--demo"])?;
    let code = enrolment_code(dir, &store, "T01", "WH1")?;
    Ok((store, code))
}

#[test]
fn floorhand_sync_says_by_its_exit_code_what_happened() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let (store, code) = demo_server(dir)?;
    let mut server = Server::start(dir, &store)?;
    let db = dir.join("t01.db");

    let (exit, _, err) = terminal(dir, &db, &["sync"])?;
    ensure!(
        exit == 1 && err.contains("not enrolled") && err.contains("floorhand enroll"),
        "an unenrolled terminal: exit {exit}, {err}"
    );

    let (exit, out, err) = terminal(
        dir,
        &db,
        &["enroll", "--server", &server.url(), "--code", &code],
    )?;
    ensure!(
        exit == 0 && out.contains("enrolled as terminal T01 of site WH1"),
        "enrol: exit {exit}, {out}{err}"
    );
    let (exit, _, err) = terminal(
        dir,
        &db,
        &["enroll", "--server", &server.url(), "--code", &code],
    )?;
    ensure!(exit != 0, "the code enrolled twice: {err}");

    let (exit, out, err) = terminal(dir, &db, &["sync"])?;
    ensure!(
        exit == 0 && out.contains("bootstrapped from a snapshot") && out.contains("0 pending"),
        "first round: exit {exit}, {out}{err}"
    );
    // The terminal told the server it has nothing waiting.
    let table = admin(dir, &store, &["terminals"])?;
    let column = |name: &str| {
        table
            .lines()
            .next()
            .and_then(|h| h.split_whitespace().position(|w| w == name))
    };
    // "last seen" is two words in the heading, one in a row.
    let pending = column("pending").map(|i| i - 1);
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("T01 "))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    ensure!(
        pending.and_then(|i| row.get(i)) == Some(&"0"),
        "server terminals after the first round:\n{table}"
    );

    record_a_rejected_receipt(&db)?;
    record_a_receipt(&db)?;
    let (exit, out, err) = terminal(dir, &db, &["sync"])?;
    ensure!(
        exit == 3 && out.contains("2 pushed (1 rejected)") && out.contains("1 rejected in all"),
        "a round with a rejection: exit {exit}, {out}{err}"
    );
    let (exit, out, _) = terminal(dir, &db, &["rejected"])?;
    ensure!(
        exit == 0 && out.contains("1003") && out.contains("may not record a receipt movement"),
        "the rejected list: {out}"
    );

    // The rejection is old news: the next round synced, and says the total.
    let (exit, out, err) = terminal(dir, &db, &["sync"])?;
    ensure!(
        exit == 0 && out.contains("0 pushed") && out.contains("1 rejected in all"),
        "the round after: exit {exit}, {out}{err}"
    );

    server.kill()?;
    record_a_receipt(&db)?;
    let (exit, out, err) = terminal(dir, &db, &["sync"])?;
    ensure!(
        exit == 2 && err.contains("offline") && err.contains("1 events pending"),
        "server down: exit {exit}, {out}{err}"
    );

    server.restart()?;
    let (exit, out, err) = terminal(dir, &db, &["sync"])?;
    ensure!(
        exit == 0 && out.contains("1 pushed (0 rejected)") && out.contains("0 pending"),
        "back online: exit {exit}, {out}{err}"
    );

    // A balance goes wrong behind the journal's back; `check` finds it, and a resync
    // loads the site again (pushing first what was recorded meanwhile).
    rusqlite::Connection::open(&db)?.execute(
        "UPDATE stock SET qty = qty + 5
         WHERE location_id = (SELECT id FROM locations WHERE code = 'DOCK-02')",
        [],
    )?;
    let (exit, out, _) = terminal(dir, &db, &["check"])?;
    ensure!(
        exit == 1 && out.contains("FAILED"),
        "check: exit {exit}, {out}"
    );
    record_a_receipt(&db)?;
    let (exit, out, err) = terminal(dir, &db, &["sync", "--resync"])?;
    ensure!(
        exit == 0
            && out.contains("1 pushed (0 rejected)")
            && out.contains("resynced from a snapshot")
            && out.contains("0 pending"),
        "resync: exit {exit}, {out}{err}"
    );
    let (exit, out, _) = terminal(dir, &db, &["check"])?;
    ensure!(exit == 0, "check after the resync: exit {exit}, {out}");
    Ok(())
}

/// The status bar at both sizes, once `done` holds of the worker's status.
fn wait_for_status(
    app: &App,
    what: &str,
    within: Duration,
    done: impl Fn(&client::Status) -> bool,
) -> TestResult<(String, String)> {
    let deadline = Instant::now() + within;
    loop {
        let status = app.sync_status().ok_or("the app has no sync worker")?;
        if done(&status) {
            let wide = render(app, 80, 24)?;
            let narrow = render(app, 40, 16)?;
            let last = |s: &str| s.lines().nth_back(0).unwrap_or_default().to_string();
            return Ok((last(&wide), last(&narrow)));
        }
        ensure!(
            Instant::now() < deadline,
            "waited {within:?} for the worker to be {what}; its status: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_sync_worker_follows_commits_and_the_status_bar_shows_it() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let (store, code) = demo_server(dir)?;
    let mut server = Server::start(dir, &store)?;
    let db = dir.join("t01.db");
    {
        let mut store = Store::open(&db, "T01")?;
        client::enroll(&mut store, &server.url(), &code)?;
    }
    let worker = Worker::spawn(db.clone(), "T01".into()).ok_or("no worker")?;
    let mut app = app_on(Store::open(&db, "T01")?, Config::default())?;
    app.set_sync(worker);

    // Its first round bootstraps the terminal.
    let (wide, narrow) = wait_for_status(&app, "online", Duration::from_secs(30), |s| {
        s.online && s.last_sync.is_some()
    })?;
    ensure!(
        wide.contains("online \u{b7} 0 pending \u{b7} synced ") && narrow.contains("T01 online "),
        "the status bar after bootstrap:\n{wide}\n{narrow}"
    );

    // Signing in commits an event, and the app asks the worker to sync right away: it
    // is on the server well before the worker's 15 s interval would have come round.
    login(&mut app, "1001", "1111");
    ensure!(app.user().is_some(), "not signed in");
    let login_id: String = rusqlite::Connection::open(&db)?.query_row(
        "SELECT id FROM journal WHERE kind = 'login_succeeded' ORDER BY seq DESC LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !on_server(&store, &login_id)? {
        ensure!(
            Instant::now() < deadline,
            "the sign-in was not pushed within 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    wait_for_status(&app, "synced again", Duration::from_secs(10), |s| {
        s.pending == 0
    })?;

    // The server goes away; a scan nudges the worker, which finds it offline.
    server.kill()?;
    record_a_receipt(&db)?;
    scan(&mut app, "1");
    let (wide, narrow) = wait_for_status(&app, "offline", Duration::from_secs(10), |s| {
        !s.online && s.pending == 1
    })?;
    ensure!(
        wide.contains("offline \u{b7} 1 pending \u{b7} synced ") && narrow.contains("offline 1 "),
        "the status bar while offline:\n{wide}\n{narrow}"
    );

    // Back: the worker's own retries find the server, without a nudge.
    server.restart()?;
    wait_for_status(&app, "online again", Duration::from_secs(30), |s| {
        s.online && s.pending == 0
    })?;

    // A rejected event is counted on the bar until someone looks into it.
    record_a_rejected_receipt(&db)?;
    scan(&mut app, "SKU-10001");
    let (wide, narrow) = wait_for_status(
        &app,
        "told of the rejection",
        Duration::from_secs(10),
        |s| s.rejected == 1 && s.pending == 0,
    )?;
    ensure!(
        wide.contains("online \u{b7} 0 pending \u{b7} synced ")
            && wide.contains(" \u{b7} 1 rejected")
            && narrow.contains("online !1 "),
        "the status bar with a rejected event:\n{wide}\n{narrow}"
    );
    Ok(())
}
