//! The store: schema and migrations, the journal, the invariants `check` verifies, and
//! what happens when a write cannot be made.

mod common;

use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use common::TestResult;
use floorhand::domain::{AbcClass, Item, Location, LocationRole, MoveReason, Role};
use floorhand::store::{LoginOutcome, MIGRATIONS, Move, NewUser, Store, StoreError};
use proptest::prelude::*;
use std::collections::HashMap;

fn item(sku: &str, lot_tracked: bool) -> Item {
    Item {
        sku: sku.into(),
        description: format!("item {sku}"),
        base_unit: "EA".into(),
        gtins: vec![],
        lot_tracked,
        expiry_tracked: false,
        shelf_life_days: None,
        abc: AbcClass::B,
        unit_cost_cents: 100,
        category: "test".into(),
    }
}

fn location(code: &str, role: LocationRole, capacity: Option<i64>) -> Location {
    Location {
        code: code.into(),
        site: "WH1".into(),
        zone: "A".into(),
        kind: role.kind(),
        role,
        pick_seq: None,
        check_digits: None,
        capacity,
    }
}

const LOCS: [&str; 7] = [
    "SUPPLIER", "CUSTOMER", "LOSS", "BIN-1", "BIN-2", "BIN-3", "SMALL",
];

fn small_warehouse() -> Result<Store, StoreError> {
    let mut s = Store::open_in_memory("T01")?;
    s.define_locations(
        "system",
        &[
            location("SUPPLIER", LocationRole::Supplier, None),
            location("CUSTOMER", LocationRole::Customer, None),
            location("LOSS", LocationRole::Loss, None),
            location("BIN-1", LocationRole::Storage, None),
            location("BIN-2", LocationRole::PickFace, None),
            location("BIN-3", LocationRole::Dock, None),
            location("SMALL", LocationRole::Storage, Some(10)),
        ],
    )?;
    s.define_items("system", &[item("PLAIN", false), item("LOTTED", true)])?;
    Ok(s)
}

/// A transfer.
fn mv(sku: &str, lot: &str, from: &str, to: &str, qty: i64) -> Move {
    common::mv(sku, lot, from, to, qty, MoveReason::Transfer)
}

#[test]
fn migrations_from_empty_and_pragmas() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.db");
    let store = Store::open(&path, "T01")?;
    assert_eq!(store.schema_version()?, MIGRATIONS.len() as i64);
    let c = store.connection();
    let mode: String = c.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    let sync: i64 = c.pragma_query_value(None, "synchronous", |r| r.get(0))?;
    let fk: i64 = c.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    assert_eq!(
        (mode.as_str(), sync, fk),
        ("wal", 2, 1),
        "WAL, FULL, foreign keys"
    );
    let loose: i64 = c.query_row(
        "SELECT COUNT(*) FROM pragma_table_list WHERE schema = 'main'
         AND name NOT LIKE 'sqlite_%' AND strict = 0",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(loose, 0, "every table is STRICT");
    drop(store);
    // Reopening applies nothing and keeps the data.
    let again = Store::open(&path, "T01")?;
    assert_eq!(again.schema_version()?, MIGRATIONS.len() as i64);
    Ok(())
}

#[test]
fn a_store_from_a_newer_version_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.db");
    drop(Store::open(&path, "T01")?);
    let c = rusqlite::Connection::open(&path)?;
    c.pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1)?;
    drop(c);
    match Store::open(&path, "T01") {
        Err(e @ StoreError::TooNew { .. }) => {
            assert!(e.to_string().contains("newer Floorhand"), "{e}");
            Ok(())
        }
        Err(e) => Err(format!("wrong error: {e}").into()),
        Ok(_) => Err("a too-new store was opened".into()),
    }
}

#[test]
fn the_journal_is_append_only() -> TestResult {
    let mut s = small_warehouse()?;
    s.move_stock("u", &mv("PLAIN", "", "SUPPLIER", "BIN-1", 5))?;
    let c = s.connection();
    assert!(c.execute("UPDATE journal SET user = 'x'", []).is_err());
    assert!(c.execute("DELETE FROM journal", []).is_err());
    Ok(())
}

#[test]
fn events_carry_ids_terminal_gapless_sequence_user_and_time() -> TestResult {
    let mut s = small_warehouse()?;
    let before = s.journal_len()?;
    let rec = s.move_stock("1001", &mv("LOTTED", "L1", "SUPPLIER", "BIN-1", 3))?;
    // A new lot is defined in the same transaction as the movement.
    assert_eq!(rec.len(), 2);
    assert_eq!(rec[1].seq, rec[0].seq + 1);
    assert_eq!(rec[0].id.get_version_num(), 7);
    assert_eq!(s.journal_len()?, before + 2);
    let (user, at, terminal): (String, String, String) = s.connection().query_row(
        "SELECT user, at, terminal FROM journal ORDER BY ord DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    assert_eq!((user.as_str(), terminal.as_str()), ("1001", "T01"));
    assert!(at.ends_with('Z'), "UTC: {at}");
    assert!(s.check()?.ok);
    Ok(())
}

#[test]
fn refused_moves_write_nothing() -> TestResult {
    let mut s = small_warehouse()?;
    s.move_stock("u", &mv("PLAIN", "", "SUPPLIER", "BIN-1", 5))?;
    let n = s.journal_len()?;
    let cases = [
        (mv("PLAIN", "", "BIN-1", "BIN-2", 6), "only 5"),
        (mv("PLAIN", "", "SUPPLIER", "SMALL", 11), "room for 10"),
        (mv("PLAIN", "", "SUPPLIER", "BIN-1", 0), "out of range"),
        (
            mv("PLAIN", "", "SUPPLIER", "BIN-1", 2_000_000),
            "out of range",
        ),
        (mv("NOPE", "", "SUPPLIER", "BIN-1", 1), "not found: NOPE"),
        (
            mv("PLAIN", "", "SUPPLIER", "NOWHERE", 1),
            "not found: NOWHERE",
        ),
        (mv("LOTTED", "", "SUPPLIER", "BIN-1", 1), "lot-tracked"),
        (mv("PLAIN", "L9", "SUPPLIER", "BIN-1", 1), "not lot-tracked"),
        (mv("PLAIN", "", "BIN-1", "BIN-1", 1), "both BIN-1"),
    ];
    for (m, want) in cases {
        match s.move_stock("u", &m) {
            Err(StoreError::Rejected(msg)) => assert!(msg.contains(want), "{msg} / {want}"),
            other => return Err(format!("{m:?} gave {other:?}").into()),
        }
    }
    // A batch with one bad move writes none of it.
    let batch = [
        mv("PLAIN", "", "BIN-1", "BIN-2", 2),
        mv("PLAIN", "", "BIN-1", "BIN-2", 4),
    ];
    assert!(s.move_batch("u", &batch).is_err());
    assert_eq!(s.journal_len()?, n);
    assert_eq!(s.balance("BIN-1", "PLAIN", "")?, 5);
    Ok(())
}

#[test]
fn read_only_and_full_disk_fail_cleanly_and_the_store_keeps_working() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = Store::open(&dir.path().join("s.db"), "T01")?;
    s.define_locations(
        "system",
        &[
            location("SUPPLIER", LocationRole::Supplier, None),
            location("BIN-1", LocationRole::Storage, None),
        ],
    )?;
    s.define_items("system", &[item("PLAIN", false)])?;
    let n = s.journal_len()?;

    s.connection().pragma_update(None, "query_only", true)?;
    let e = s.move_stock("u", &mv("PLAIN", "", "SUPPLIER", "BIN-1", 1));
    assert!(matches!(e, Err(StoreError::ReadOnly)), "{e:?}");
    assert!(e.err().is_some_and(|e| e.to_string().contains("read-only")));
    s.connection().pragma_update(None, "query_only", false)?;

    // Fill the disk: allow no page beyond the current ones, then write a lot.
    let pages: i64 = s
        .connection()
        .pragma_query_value(None, "page_count", |r| r.get(0))?;
    s.connection()
        .pragma_update(None, "max_page_count", pages)?;
    let many: Vec<Item> = (0..2000)
        .map(|i| item(&format!("BULK-{i:05}-{}", "x".repeat(60)), false))
        .collect();
    let e = s.define_items("system", &many);
    assert!(matches!(e, Err(StoreError::DiskFull)), "{e:?}");
    assert_eq!(s.journal_len()?, n, "no partial write");
    assert!(s.item(&many[0].sku)?.is_none());
    // Lookups still work, and once there is room again so do writes.
    assert!(s.item("PLAIN")?.is_some());
    s.connection()
        .pragma_update(None, "max_page_count", 1_000_000)?;
    s.move_stock("u", &mv("PLAIN", "", "SUPPLIER", "BIN-1", 1))?;
    assert!(s.check()?.ok);
    Ok(())
}

#[test]
fn login_lockout_is_progressive_journaled_and_unlockable() -> TestResult {
    let mut s = small_warehouse()?;
    s.add_users(
        "system",
        &[NewUser {
            badge: "1003".into(),
            name: "Pat".into(),
            roles: vec![Role::Picker],
            pin: "3333".into(),
        }],
    )?;
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 22, 8, 0, 0)
        .single()
        .ok_or("time")?;
    let at = |s: i64| t0 + ChronoDuration::seconds(s);
    let n0 = s.journal_len()?;
    // Three free tries.
    for i in 0..3 {
        let o = s.login("1003", "0000", at(i))?;
        assert!(matches!(o, LoginOutcome::WrongPin { .. }), "{o:?}");
    }
    // After the third failure the next try must wait; a try during the wait is refused
    // without checking the PIN.
    let o = s.login("1003", "3333", at(3))?;
    assert!(matches!(o, LoginOutcome::TooSoon { .. }), "{o:?}");
    let o = s.login("1003", "0000", at(10))?;
    assert!(
        matches!(
            o,
            LoginOutcome::WrongPin {
                attempts_left: 1,
                ..
            }
        ),
        "{o:?}"
    );
    // Each retry waits longer.
    let o = s.login("1003", "0000", at(12))?;
    assert!(
        matches!(o, LoginOutcome::TooSoon { wait } if wait.as_secs() >= 2),
        "{o:?}"
    );
    let o = s.login("1003", "0000", at(100))?;
    assert_eq!(o, LoginOutcome::Locked);
    // Locked: even the right PIN is refused.
    assert_eq!(s.login("1003", "3333", at(1000))?, LoginOutcome::Locked);
    assert!(s.user("1003")?.is_some_and(|u| u.locked));
    // Every attempt is in the journal (the fifth wrong PIN also locked the badge).
    let attempts = 8;
    assert_eq!(s.journal_len()?, n0 + attempts + 1);
    assert_eq!(
        s.login("nobody", "1234", at(1001))?,
        LoginOutcome::UnknownBadge
    );
    s.unlock("1003", "1007")?;
    assert!(matches!(
        s.login("1003", "3333", at(1002))?,
        LoginOutcome::Success(_)
    ));
    assert!(s.unlock("1003", "1007").is_err(), "not locked any more");
    Ok(())
}

#[test]
fn check_names_each_kind_of_violation() -> TestResult {
    let mut s = small_warehouse()?;
    s.move_stock("u", &mv("PLAIN", "", "SUPPLIER", "BIN-1", 5))?;
    assert!(s.check()?.ok);
    let c = s.connection();
    c.execute(
        "UPDATE balances SET qty = qty + 1 WHERE location = 'BIN-1'",
        [],
    )?;
    c.execute(
        "INSERT INTO balances (location, sku, lot, qty) VALUES ('BIN-2', 'PLAIN', '', -3)",
        [],
    )?;
    c.execute(
        "INSERT INTO journal (id, terminal, seq, user, at, kind, payload)
         VALUES ('x', 'T01', 99, 'u', '2026-01-01T00:00:00Z', 'logged_out', '{\"kind\":\"logged_out\",\"badge\":\"u\",\"idle\":false}')",
        [],
    )?;
    let report = s.check()?;
    assert!(!report.ok);
    let failed: HashMap<&str, &Vec<String>> = report
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| (c.name, &c.violations))
        .collect();
    assert!(failed.contains_key("conservation"), "{failed:?}");
    assert!(failed.contains_key("balances_equal_replay"), "{failed:?}");
    assert!(failed.contains_key("no_negative_physical"), "{failed:?}");
    assert!(
        failed["terminal_sequences_gapless"][0].contains("T01"),
        "{failed:?}"
    );
    assert!(failed["no_negative_physical"][0].contains("BIN-2 holds -3 of PLAIN"));
    assert!(!failed.contains_key("integrity"));
    Ok(())
}

#[derive(Debug, Clone)]
struct Op {
    sku: usize,
    lot: usize,
    from: usize,
    to: usize,
    qty: i64,
}

fn op() -> impl Strategy<Value = Op> {
    (
        0..2usize,
        0..2usize,
        0..LOCS.len(),
        0..LOCS.len(),
        -2i64..15,
    )
        .prop_map(|(sku, lot, from, to, qty)| Op {
            sku,
            lot,
            from,
            to,
            qty,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random movements, many of them invalid: what is accepted keeps every invariant
    /// `check` verifies, what is refused changes nothing, and the balances match a
    /// model kept beside the store.
    #[test]
    fn random_movements_keep_every_invariant(ops in proptest::collection::vec(op(), 1..60)) {
        let mut s = small_warehouse().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut model: HashMap<(String, String, String), i64> = HashMap::new();
        for o in ops {
            let (sku, lot) = if o.sku == 0 { ("PLAIN", String::new()) } else { ("LOTTED", format!("L{}", o.lot)) };
            let m = mv(sku, &lot, LOCS[o.from], LOCS[o.to], o.qty);
            let before = s.journal_len().map_err(|e| TestCaseError::fail(e.to_string()))?;
            match s.move_stock("prop", &m) {
                Ok(_) => {
                    *model.entry((m.from.clone(), sku.into(), lot.clone())).or_default() -= m.qty;
                    *model.entry((m.to.clone(), sku.into(), lot.clone())).or_default() += m.qty;
                }
                Err(StoreError::Rejected(_)) => {
                    let after = s.journal_len().map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(before, after, "a refused move wrote something");
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
        }
        let report = s.check().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(report.ok, "{:?}", report);
        for ((loc, sku, lot), qty) in &model {
            let got = s.balance(loc, sku, lot).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(got, *qty, "{} {} {}", loc, sku, lot);
            let physical = !matches!(loc.as_str(), "SUPPLIER" | "CUSTOMER" | "LOSS");
            prop_assert!(!physical || got >= 0);
        }
    }
}
