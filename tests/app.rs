//! The app loop without a terminal: sessions, roles, idle logout and on-screen unlock,
//! driven by key events and a clock the test controls.

mod common;

use chrono::Duration;
use common::TestResult;
use common::app::{home_tasks, key, login, open_task, scan, t0};
use floorhand::config::Config;
use floorhand::domain::Task;
use floorhand::store::Store;
use floorhand::tui::App;
use floorhand::tui::app::Screen;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The demo App with `config`, its store named after the terminal, at [`t0`].
fn app_with(config: Config) -> TestResult<App> {
    let mut store = Store::open_in_memory(&config.terminal_id)?;
    floorhand::demo::load(&mut store)?;
    Ok(App::new(store, config, t0()))
}

fn last_event(app: &App) -> TestResult<(String, String)> {
    let tail = app.store().journal_tail(1)?;
    let (_, kind, payload) = tail.into_iter().next().ok_or("empty journal")?;
    Ok((kind, payload))
}

#[test]
fn idle_terminal_logs_out_by_itself() -> TestResult {
    let config = Config {
        idle_logout_secs: 120,
        ..Config::default()
    };
    let mut app = app_with(config)?;
    login(&mut app, "1003", "3333");
    assert!(matches!(app.screen(), Screen::Home(_)));
    app.tick(t0() + Duration::seconds(119));
    assert!(app.user().is_some(), "not idle long enough yet");
    // A key press restarts the idle timer.
    key(&mut app, KeyCode::Down);
    app.tick(t0() + Duration::seconds(200));
    assert!(app.user().is_some());
    app.tick(t0() + Duration::seconds(119 + 120));
    assert!(app.user().is_none());
    let Screen::Login(flow) = app.screen() else {
        return Err("not back at login".into());
    };
    assert!(
        flow.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("idle"))
    );
    let (kind, payload) = last_event(&app)?;
    assert_eq!(kind, "logged_out");
    assert!(payload.contains("\"idle\":true"), "{payload}");
    Ok(())
}

#[test]
fn zero_idle_logout_never_logs_out() -> TestResult {
    let mut app = app_with(Config {
        idle_logout_secs: 0,
        ..Config::default()
    })?;
    login(&mut app, "1003", "3333");
    app.tick(t0() + Duration::days(1));
    assert!(app.user().is_some());
    Ok(())
}

#[test]
fn menu_follows_role_and_unbuilt_tasks_are_refused() -> TestResult {
    let mut app = app_with(Config::default())?;
    login(&mut app, "1003", "3333");
    let tasks = home_tasks(&app)?;
    assert_eq!(tasks, vec![Task::StockLookup, Task::Picking]);
    scan(&mut app, "2");
    assert!(
        matches!(app.screen(), Screen::Home(_)),
        "picking is not built yet"
    );
    assert_eq!(app.take_bells(), 1);
    scan(&mut app, "1");
    assert!(matches!(app.screen(), Screen::Lookup(_)));
    key(&mut app, KeyCode::Esc);
    assert!(
        matches!(app.screen(), Screen::Home(_)),
        "Esc goes back to the menu"
    );
    key(&mut app, KeyCode::F(9));
    assert!(app.user().is_none());
    assert_eq!(last_event(&app)?.0, "logged_out");
    Ok(())
}

#[test]
fn supervisor_unlocks_a_badge_on_screen() -> TestResult {
    let mut app = app_with(Config::default())?;
    // The picker gets locked out.
    let mut t = t0();
    for _ in 0..5 {
        app.tick(t);
        login(&mut app, "1003", "0000");
        key(&mut app, KeyCode::Esc);
        t += Duration::minutes(5);
    }
    app.tick(t);
    login(&mut app, "1003", "3333");
    assert!(app.user().is_none(), "locked");
    // The supervisor signs in and unlocks it from the menu.
    key(&mut app, KeyCode::Esc);
    login(&mut app, "1007", "7777");
    open_task(&mut app, Task::UnlockBadge)?;
    assert!(matches!(app.screen(), Screen::Unlock(_)));
    app.take_bells();
    scan(&mut app, "1003");
    let Screen::Unlock(flow) = app.screen() else {
        return Err("left unlock".into());
    };
    assert!(
        flow.notice
            .as_ref()
            .is_some_and(|n| n.text == "badge 1003 unlocked"),
        "{:?}",
        flow.notice
    );
    assert_eq!(app.take_bells(), 0);
    let (kind, payload) = last_event(&app)?;
    assert_eq!(kind, "badge_unlocked");
    assert!(payload.contains("\"by\":\"1007\""));
    scan(&mut app, "1003");
    assert_eq!(
        app.take_bells(),
        1,
        "unlocking an unlocked badge is refused"
    );
    // The picker can sign in again.
    key(&mut app, KeyCode::F(9));
    login(&mut app, "1003", "3333");
    assert!(app.user().is_some_and(|u| u.badge == "1003"));
    Ok(())
}

#[test]
fn quit_logs_out_first() -> TestResult {
    let mut app = app_with(Config::default())?;
    login(&mut app, "1003", "3333");
    app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL));
    assert!(app.should_quit());
    assert_eq!(last_event(&app)?.0, "logged_out");
    Ok(())
}

/// Checkpoints wait for an idle moment of the app loop: commits do not checkpoint the WAL
/// (it grows), and after an idle tick the next commits reuse it from its start.
#[test]
fn the_wal_is_checkpointed_when_idle_not_on_a_commit() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("floorhand.db");
    let mut store = Store::open(&path, "T01")?;
    floorhand::demo::load(&mut store)?;
    // Closing the last connection checkpoints and removes the WAL: start from none.
    drop(store);
    let mut app = App::new(Store::open(&path, "T01")?, Config::default(), t0());
    let wal = dir.path().join("floorhand.db-wal");
    let size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    // A login and a logout are two commits, like two scans.
    let sessions = |app: &mut App, n: usize| {
        for _ in 0..n {
            login(app, "1003", "3333");
            key(app, KeyCode::F(9));
        }
    };
    sessions(&mut app, 4);
    let first = size();
    sessions(&mut app, 4);
    let grown = size();
    assert!(
        grown > first,
        "no checkpoint on a commit: the WAL grows ({first} -> {grown})"
    );
    app.idle();
    sessions(&mut app, 4);
    assert_eq!(
        size(),
        grown,
        "after an idle tick the WAL is reused from its start"
    );
    assert!(matches!(app.screen(), Screen::Login(_)));
    Ok(())
}
