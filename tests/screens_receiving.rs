//! The receiving and putaway screens rendered into a TestBackend at 40x16 (RF gun) and
//! 80x24, driven through the App with the key events a scanner and a user send, and
//! compared with reviewed snapshots.

mod common;

use common::TestResult;
use common::app::{SIZES, key, login, render, scan, snapshot_app, snapshot_app_with, typed};
use floorhand::config::{Config, ReceivingConfig};
use floorhand::flows::putaway::Step as PutawayStep;
use floorhand::tui::App;
use floorhand::tui::app::Screen;
use ratatui::crossterm::event::KeyCode;

/// Snapshot the app at both sizes under `name_WxH`.
fn snap(app: &App, name: &str) -> TestResult {
    for (w, h) in SIZES {
        let screen = render(app, w, h)?;
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
    Ok(())
}

/// Both sizes contain `text`.
fn shows(app: &App, text: &str) -> TestResult {
    for (w, h) in SIZES {
        let screen = render(app, w, h)?;
        if !screen.contains(text) {
            return Err(format!("{w}x{h} does not show {text:?}:\n{screen}").into());
        }
    }
    Ok(())
}

/// The receiver signed in, on the open-PO list.
fn receiving(config: Config) -> TestResult<App> {
    let mut app = snapshot_app_with(config)?;
    login(&mut app, "1001", "1111");
    scan(&mut app, "2");
    if !matches!(app.screen(), Screen::Receiving(_)) {
        return Err(format!("menu 2 is not Receiving:\n{}", render(&app, 80, 24)?).into());
    }
    Ok(app)
}

#[test]
fn receiving_a_delivery_from_the_po_list_to_closing() -> TestResult {
    let labels = tempfile::tempdir()?;
    let mut config = Config::default();
    config.labels.printer = format!("dir:{}", labels.path().display()).parse()?;
    let mut app = receiving(config)?;
    shows(&app, "PO-5001")?;
    snap(&app, "receiving_po_list")?;

    // PO-5001 (Northfield Dairy) is expected first, so it is highlighted.
    key(&mut app, KeyCode::Enter);
    shows(&app, "Northfield Dairy")?;
    snap(&app, "receiving_delivery_note")?;
    scan(&mut app, "DN-48213");
    shows(&app, "receipt started")?;

    // Expiries are years ahead: the store checks them against the wall clock, not the
    // app's fixed clock.
    // A GS1-128 case label of whole milk carries lot and expiry: straight to the
    // quantity, 12 from the case pack; Enter receives it as good.
    scan(&mut app, "(01)10614141100665(17)311205(10)L2612A");
    shows(&app, "Qty 12 BTL")?;
    key(&mut app, KeyCode::Enter);
    shows(&app, "received 12 SKU-10066")?;
    snap(&app, "receiving_item_scan")?;

    // A bacon case barcode carries no lot or expiry: the screen asks for both.
    scan(&mut app, "10614141100290");
    shows(&app, "Scan or key the lot.")?;
    snap(&app, "receiving_lot")?;
    scan(&mut app, "L2612B");
    shows(&app, "Key the expiry: YYMMDD")?;
    snap(&app, "receiving_expiry")?;
    scan(&mut app, "311210");
    shows(&app, "case of 12")?;
    shows(&app, "Qty 12 PK: Enter good")?;
    shows(&app, "F3 damaged, or key a quantity")?;
    shows(&app, "Enter good  F3 damaged  Esc cancel")?;
    snap(&app, "receiving_qty_case")?;
    key(&mut app, KeyCode::Enter);
    shows(&app, "received 12 SKU-10029")?;

    // 18 of the 12 semi-skimmed milk ordered: over by 6, a supervisor approves.
    scan(&mut app, "(01)10614141100580(17)311203(10)L2612C");
    scan(&mut app, "18");
    shows(&app, "Over the order by 6.")?;
    shows(&app, "S supervisor, P park in quarantine")?;
    snap(&app, "receiving_over_approval")?;
    // S is typed, then Enter; a letter alone does nothing yet.
    typed(&mut app, "s");
    shows(&app, "S/P> s_")?;
    key(&mut app, KeyCode::Enter);
    shows(&app, "Supervisor: scan your badge")?;
    scan(&mut app, "1007");
    shows(&app, "Supervisor: key your PIN")?;
    typed(&mut app, "777");
    for (w, h) in SIZES {
        let screen = render(&app, w, h)?;
        assert!(screen.contains("PIN> ***_"), "stars:\n{screen}");
        assert!(!screen.contains("777"), "no PIN digits:\n{screen}");
    }
    snap(&app, "receiving_supervisor_pin")?;
    scan(&mut app, "7");
    shows(&app, "received 18 SKU-10058")?;

    // A damaged beef mince case: F3 at the quantity, booked to quarantine.
    scan(&mut app, "(01)10614141100139(17)311201(10)L2612D");
    shows(&app, "case of 6")?;
    key(&mut app, KeyCode::F(3));
    shows(&app, "received 6 SKU-10013 (damaged)")?;

    // F5 labels the last case (no printer configured: the label is only recorded).
    key(&mut app, KeyCode::F(5));
    shows(&app, "label T01-000001 printed")?;

    // F2: short lines 1, 2, 3 and 5, line 4 over, line 3 damaged.
    key(&mut app, KeyCode::F(2));
    shows(&app, "Enter closes: 6 discrepancies")?;
    snap(&app, "receiving_summary")?;
    key(&mut app, KeyCode::Enter);
    shows(&app, "Open POs")?;
    let screen = render(&app, 80, 24)?;
    assert!(
        screen.contains("PO-5001 receipt closed: 6 discrepancies for a supervisor"),
        "{screen}"
    );
    snap(&app, "receiving_po_list_closed")?;
    assert_eq!(app.take_bells(), 1, "only the over-receipt rang");
    Ok(())
}

#[test]
fn damaged_goods_over_the_order_need_a_supervisor_and_are_not_parked() -> TestResult {
    let mut app = receiving(Config::default())?;
    scan(&mut app, "PO-5001");
    scan(&mut app, "DN-48214");
    // 18 damaged of the 12 semi-skimmed milk ordered: a quantity and D, then Enter.
    scan(&mut app, "(01)10614141100580(17)311203(10)L2612E");
    shows(&app, "Qty 6 BTL: Enter good")?;
    scan(&mut app, "18d");
    shows(&app, "Over the order by 6.")?;
    shows(&app, "S supervisor approves")?;
    // P is not offered, and refused when typed; so is anything else.
    scan(&mut app, "p");
    shows(&app, "\"p\": key S for a supervisor, or Esc")?;
    for (w, h) in SIZES {
        let screen = render(&app, w, h)?;
        assert!(!screen.contains("park"), "{w}x{h}:\n{screen}");
    }
    snap(&app, "receiving_damaged_over_approval")?;
    assert_eq!(app.take_bells(), 2, "the over-receipt and the refused P");
    Ok(())
}

#[test]
fn blind_receiving_hides_the_ordered_quantities() -> TestResult {
    let config = Config {
        receiving: ReceivingConfig {
            blind: true,
            ..ReceivingConfig::default()
        },
        ..Config::default()
    };
    let mut app = receiving(config)?;
    scan(&mut app, "PO-5001");
    scan(&mut app, "");
    scan(&mut app, "(01)10614141100139(17)311201(10)L2612D");
    key(&mut app, KeyCode::Enter);
    shows(&app, "received 6 SKU-10013")?;
    snap(&app, "receiving_blind_item_scan")?;
    // PO-5001 orders 13, 120, 54, 12 and 24: none of them shows, nor an ordered column.
    for (w, h) in SIZES {
        let screen = render(&app, w, h)?;
        for word in screen.split(|c: char| !c.is_ascii_alphanumeric()) {
            assert!(
                !["13", "120", "54", "12", "24", "Ord", "Ordered"].contains(&word),
                "{word} shows on a blind receipt at {w}x{h}:\n{screen}"
            );
        }
    }
    Ok(())
}

#[test]
fn putaway_from_the_dock_to_a_bin() -> TestResult {
    let mut app = snapshot_app()?;
    login(&mut app, "1002", "2222");
    scan(&mut app, "2");
    shows(&app, "At the dock")?;
    snap(&app, "putaway_tasks")?;

    key(&mut app, KeyCode::Enter);
    shows(&app, "Go to ")?;
    snap(&app, "putaway_bin")?;
    let Screen::Putaway(flow) = app.screen() else {
        return Err("not on the putaway screen".into());
    };
    let PutawayStep::Bin {
        suggested: Some(suggested),
        ..
    } = &flow.step
    else {
        return Err(format!("no suggested bin: {:?}", flow.step).into());
    };
    let bin = suggested.suggestion.bin.clone();
    let digits = suggested.check_digits.clone().ok_or("no check digits")?;

    // Another storage bin needs a confirmation; Esc goes back to the suggestion.
    let other = if bin == "A-01-01-2" {
        "A-01-01-3"
    } else {
        "A-01-01-2"
    };
    scan(&mut app, other);
    shows(&app, &format!("Put it in {other} instead?"))?;
    snap(&app, "putaway_another_bin")?;
    key(&mut app, KeyCode::Esc);
    shows(&app, &format!("Go to {bin}"))?;

    // The check digits of the suggested bin prove presence there.
    scan(&mut app, &digits);
    shows(&app, &format!("Into {bin}"))?;
    snap(&app, "putaway_qty")?;
    Ok(())
}

#[test]
fn help_on_receiving_and_putaway() -> TestResult {
    let mut app = receiving(Config::default())?;
    key(&mut app, KeyCode::F(1));
    let screen = render(&app, 40, 16)?;
    assert!(screen.contains("Help: Receiving"), "{screen}");
    insta::assert_snapshot!("help_receiving_40x16", screen);
    key(&mut app, KeyCode::Esc);

    let mut app = snapshot_app()?;
    login(&mut app, "1002", "2222");
    scan(&mut app, "2");
    key(&mut app, KeyCode::F(1));
    let screen = render(&app, 40, 16)?;
    assert!(screen.contains("Help: Putaway"), "{screen}");
    insta::assert_snapshot!("help_putaway_40x16", screen);
    Ok(())
}
