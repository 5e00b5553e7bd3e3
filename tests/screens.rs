//! Every screen rendered into a TestBackend at 40x16 (RF gun) and 80x24, driven by the
//! same key events a scanner sends, and compared with reviewed snapshots.

mod common;

use common::TestResult;
use common::app::{SIZES, key, login, render, scan, snapshot_app, typed};
use floorhand::tui::App;
use ratatui::crossterm::event::KeyCode;

/// Snapshot the app at both sizes under `name_WxH`.
fn snap(app: &App, name: &str) -> TestResult {
    for (w, h) in SIZES {
        let screen = render(app, w, h)?;
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
    Ok(())
}

#[test]
fn login_screen_lists_demo_logins() -> TestResult {
    let mut app = snapshot_app()?;
    snap(&app, "login")?;
    scan(&mut app, "1001");
    typed(&mut app, "11");
    let screen = render(&app, 40, 16)?;
    assert!(screen.contains("PIN> **_"), "the PIN is masked:\n{screen}");
    assert!(!screen.contains("PIN> 11"));
    snap(&app, "login_pin")
}

#[test]
fn wrong_pin_shows_tries_left_and_rings() -> TestResult {
    let mut app = snapshot_app()?;
    login(&mut app, "1001", "0000");
    assert_eq!(app.take_bells(), 1);
    snap(&app, "login_wrong_pin")
}

#[test]
fn home_menu_by_role() -> TestResult {
    let mut app = snapshot_app()?;
    login(&mut app, "1001", "1111");
    assert!(app.user().is_some());
    snap(&app, "home_receiver")?;
    let mut sup = snapshot_app()?;
    login(&mut sup, "1007", "7777");
    snap(&sup, "home_supervisor")
}

#[test]
fn stock_lookup_by_item_location_lot_and_not_found() -> TestResult {
    let mut app = snapshot_app()?;
    login(&mut app, "1001", "1111");
    scan(&mut app, "1");
    snap(&app, "lookup_empty")?;
    scan(&mut app, "SKU-10001");
    snap(&app, "lookup_item")?;
    // The case GTIN of SKU-10001 finds the same item and says it was a case.
    scan(&mut app, "10614141100016");
    let screen = render(&app, 80, 24)?;
    assert!(
        screen.contains("SKU-10001") && screen.contains("(case of 6)"),
        "{screen}"
    );
    scan(&mut app, "PF-A-01");
    snap(&app, "lookup_location")?;
    // An item with an expired lot in a sellable bin.
    scan(&mut app, "SKU-10006");
    snap(&app, "lookup_expired_lot")?;
    scan(&mut app, "L2505A");
    snap(&app, "lookup_lot")?;
    assert_eq!(app.take_bells(), 0);
    scan(&mut app, "NOPE-1\u{1b}[2J");
    assert_eq!(app.take_bells(), 1, "an unknown scan rings the bell");
    let screen = render(&app, 40, 16)?;
    assert!(
        screen.contains("not found: NOPE-1[2J"),
        "escape stripped:\n{screen}"
    );
    snap(&app, "lookup_not_found")
}

#[test]
fn help_overlay_shows_the_screens_procedure() -> TestResult {
    let mut app = snapshot_app()?;
    key(&mut app, KeyCode::F(1));
    let screen = render(&app, 80, 24)?;
    assert!(
        screen.contains("Help: Signing in") || screen.contains("Help: Sign"),
        "{screen}"
    );
    key(&mut app, KeyCode::Esc);
    login(&mut app, "1001", "1111");
    scan(&mut app, "1");
    key(&mut app, KeyCode::F(1));
    snap(&app, "help_lookup")?;
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Esc);
    let screen = render(&app, 40, 16)?;
    assert!(!screen.contains("Help:"), "Esc closes help:\n{screen}");
    Ok(())
}

#[test]
fn too_small_terminal_asks_for_more_room() -> TestResult {
    let app = snapshot_app()?;
    for (w, h) in [(39, 16), (40, 15), (20, 5)] {
        let screen = render(&app, w, h)?;
        assert!(screen.contains("Terminal too small"), "{w}x{h}:\n{screen}");
    }
    insta::assert_snapshot!("too_small_30x10", render(&app, 30, 10)?);
    Ok(())
}

/// A supervisor reads the events the server rejected, with the reasons; a picker does
/// not have the screen.
#[test]
fn rejected_sync_events_for_a_supervisor() -> TestResult {
    use floorhand::domain::{Event, MoveReason, Task};
    use floorhand::sync::wire::PushResult;
    let mut store = common::app::demo_store()?;
    let receipt = |qty| Event::StockMoved {
        sku: "SKU-10001".into(),
        lot: String::new(),
        from: "SUPPLIER".into(),
        to: "DOCK-01".into(),
        qty,
        reason: MoveReason::Receipt,
        receipt: None,
        order: None,
    };
    let at = common::app::on_test_day(13, 5);
    let mut results = Vec::new();
    for (qty, reason) in [
        (5, "user 1003 (picker) may not record a receipt movement"),
        (2, "not found: location DOCK-01 on site WH1"),
    ] {
        let r = store.record_at("1003", &[receipt(qty)], at)?;
        results.push(PushResult::Rejected {
            seq: r[0].seq,
            id: r[0].id.to_string(),
            reason: reason.into(),
        });
    }
    store.record_push_results(&results)?;
    let config = floorhand::config::Config::default();
    let mut app = common::app::app_at(store, config, common::app::on_test_day(14, 20))?;

    login(&mut app, "1003", "3333");
    let tasks = common::app::home_tasks(&app)?;
    assert!(!tasks.contains(&Task::RejectedSync), "{tasks:?}");
    key(&mut app, KeyCode::F(9));

    login(&mut app, "1007", "7777");
    common::app::open_task(&mut app, Task::RejectedSync)?;
    snap(&app, "rejected_sync")?;
    key(&mut app, KeyCode::Down);
    let screen = render(&app, 40, 16)?;
    assert!(screen.contains("not found: location"), "{screen}");
    scan(&mut app, "SKU-10001");
    assert_eq!(app.take_bells(), 1, "a scan here rings");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen().title(), "Menu");
    Ok(())
}
