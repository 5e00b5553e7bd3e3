//! The store: schema and migrations, the journal, the invariants `check` verifies, and
//! what happens when a write cannot be made.

mod common;

use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use common::TestResult;
use floorhand::domain::{AbcClass, Event, Item, Location, LocationRole, MoveReason, Role};
use floorhand::store::{LoginOutcome, MIGRATIONS, Move, NewUser, StockFilter, Store, StoreError};
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
         AND type = 'table' AND name NOT LIKE 'sqlite_%' AND strict = 0",
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

/// A store of schema 5 (balances keyed by codes) moves to integer keys: every item and
/// location keeps its rowid as its id, every balance is kept, and the store works on.
#[test]
fn balances_keyed_by_codes_move_to_integer_keys() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.db");
    {
        let c = rusqlite::Connection::open(&path)?;
        for sql in &MIGRATIONS[..5] {
            c.execute_batch(sql)?;
        }
        let moved = serde_json::to_string(&Event::StockMoved {
            sku: "PLAIN".into(),
            lot: "".into(),
            from: "SUPPLIER".into(),
            to: "BIN-1".into(),
            qty: 5,
            reason: MoveReason::Transfer,
            receipt: None,
            order: None,
        })?;
        c.execute_batch(
            "INSERT INTO items (rowid, sku, description, base_unit, lot_tracked,
                 expiry_tracked, abc, unit_cost_cents, category)
             VALUES (40, 'PLAIN', 'plain', 'EA', 0, 0, 'B', 100, 'test'),
                    (41, 'LOTTED', 'lotted', 'EA', 1, 0, 'B', 100, 'test');
             INSERT INTO gtins (gtin, sku, pack_qty) VALUES ('4006381333931', 'PLAIN', 1);
             INSERT INTO locations (rowid, code, site, zone, kind, role)
             VALUES (7, 'SUPPLIER', 'WH1', 'A', 'virtual', 'supplier'),
                    (8, 'BIN-1', 'WH1', 'A', 'physical', 'storage');
             INSERT INTO balances (location, sku, lot, qty)
             VALUES ('SUPPLIER', 'PLAIN', '', -5), ('BIN-1', 'PLAIN', '', 5);
             PRAGMA user_version = 5;",
        )?;
        c.execute(
            "INSERT INTO journal (id, terminal, seq, user, at, kind, payload)
             VALUES ('e1', 'T01', 1, 'u', '2026-01-01T00:00:00Z', 'stock_moved', ?1)",
            [moved],
        )?;
    }
    let mut s = Store::open(&path, "T01")?;
    assert_eq!(s.schema_version()?, MIGRATIONS.len() as i64);
    let c = s.connection();
    let ids: Vec<(String, i64)> = c
        .prepare("SELECT sku, id FROM items UNION ALL SELECT code, id FROM locations ORDER BY 2")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let ids: Vec<(&str, i64)> = ids.iter().map(|(c, i)| (c.as_str(), *i)).collect();
    assert_eq!(
        ids,
        [("SUPPLIER", 7), ("BIN-1", 8), ("PLAIN", 40), ("LOTTED", 41)]
    );
    assert_eq!(s.balance("BIN-1", "PLAIN", "")?, 5);
    assert_eq!(s.balance("SUPPLIER", "PLAIN", "")?, -5);
    assert!(s.check()?.ok, "{:?}", s.check()?);
    // Reference data and balances work on under the new keys.
    s.define_locations("system", &[location("BIN-2", LocationRole::Storage, None)])?;
    s.move_stock("u", &mv("PLAIN", "", "BIN-1", "BIN-2", 2))?;
    assert_eq!(
        (
            s.balance("BIN-1", "PLAIN", "")?,
            s.balance("BIN-2", "PLAIN", "")?
        ),
        (3, 2)
    );
    assert!(s.check()?.ok, "{:?}", s.check()?);
    Ok(())
}

/// A location's listing comes by sku whichever way it is read: by sorting the location's
/// balances (few of them) or by walking the items in sku order (very many, as at a
/// supplier location), although items are numbered in the order they were defined.
#[test]
fn a_location_listing_is_in_sku_order_with_few_or_many_balances() -> TestResult {
    let mut s = small_warehouse()?;
    // Defined in reverse: ids run against sku order.
    let items: Vec<Item> = (0..40)
        .rev()
        .map(|i| item(&format!("K{i:02}"), false))
        .collect();
    s.define_items("system", &items)?;
    for i in 0..40 {
        s.move_stock("u", &mv(&format!("K{i:02}"), "", "SUPPLIER", "BIN-1", 1))?;
    }
    for i in [7, 3, 21] {
        s.move_stock("u", &mv(&format!("K{i:02}"), "", "BIN-1", "BIN-2", 1))?;
    }
    let list =
        |s: &Store, location: &str, limit: Option<usize>| -> Result<Vec<String>, StoreError> {
            Ok(s.stock(&StockFilter {
                location: Some(location.into()),
                include_virtual: true,
                limit,
                ..Default::default()
            })?
            .into_iter()
            .map(|r| r.sku)
            .collect())
        };
    let all: Vec<String> = (0..40).map(|i| format!("K{i:02}")).collect();
    // 40 balances with a limit of 5: walked (40 x 40 > 2 x 5 x 42 items).
    assert_eq!(list(&s, "SUPPLIER", Some(5))?, all[..5].to_vec());
    assert_eq!(list(&s, "SUPPLIER", None)?, all);
    // 3 balances: read and sorted.
    assert_eq!(list(&s, "BIN-2", Some(5))?, ["K03", "K07", "K21"]);
    assert_eq!(list(&s, "BIN-1", Some(2))?, ["K00", "K01"]);
    Ok(())
}

/// A location lookup lists at most `LIST_LIMIT` balances, first by sku, and counts the
/// rest; a physical location's total covers them all. A short listing counts nothing more.
#[test]
fn a_location_lookup_lists_the_first_balances_and_counts_the_rest() -> TestResult {
    use floorhand::flows::lookup::{LIST_LIMIT, LookupAnswer};
    let mut s = small_warehouse()?;
    let n = LIST_LIMIT + 7;
    let items: Vec<Item> = (0..n)
        .rev()
        .map(|i| item(&format!("M{i:04}"), false))
        .collect();
    s.define_items("system", &items)?;
    for i in 0..n {
        s.move_stock("u", &mv(&format!("M{i:04}"), "", "SUPPLIER", "BIN-1", 2))?;
    }
    s.move_stock("u", &mv("M0003", "", "BIN-1", "BIN-2", 1))?;
    let big = LookupAnswer::gather(&s, "BIN-1")?;
    let skus: Vec<String> = big.rows.iter().map(|r| r.sku.clone()).collect();
    let first: Vec<String> = (0..LIST_LIMIT).map(|i| format!("M{i:04}")).collect();
    assert_eq!(skus, first);
    assert_eq!(big.more, 7);
    assert_eq!(big.total, Some(2 * i64::try_from(n)? - 1));
    let small = LookupAnswer::gather(&s, "BIN-2")?;
    assert_eq!((small.rows.len(), small.more, small.total), (1, 0, None));
    Ok(())
}

/// An item id read in a transaction that rolls back is forgotten: the item's insert is
/// gone, and its id goes to the next item defined, so a remembered id would put that
/// item's stock on the wrong item.
#[test]
fn ids_read_in_a_rolled_back_transaction_are_forgotten() -> TestResult {
    use floorhand::sync::wire::{Ordered, WireEvent};
    let mut s = small_warehouse()?;
    let pulled = |gseq: i64, event: Event| Ordered {
        gseq,
        event: WireEvent {
            id: format!("p{gseq}-{}", event.kind()),
            terminal: "T9".into(),
            seq: gseq,
            user: "1001".into(),
            at: "2026-11-22T08:00:00.000Z".into(),
            event,
        },
    };
    let defined = |sku: &str| Event::ItemDefined {
        item: item(sku, false),
    };
    let moved = |sku: &str, to: &str, qty: i64| Event::StockMoved {
        sku: sku.into(),
        lot: "".into(),
        from: "SUPPLIER".into(),
        to: to.into(),
        qty,
        reason: MoveReason::Transfer,
        receipt: None,
        order: None,
    };
    // X is defined and moved, but the page also names a bin that does not exist.
    let refused = s.apply_pulled(&[
        pulled(1, defined("X")),
        pulled(2, moved("X", "BIN-1", 5)),
        pulled(3, moved("PLAIN", "NOWHERE", 1)),
    ]);
    assert!(refused.is_err(), "a page naming an unknown bin was applied");
    // Y takes the id X had; then X is defined again.
    s.apply_pulled(&[pulled(1, defined("Y")), pulled(2, moved("Y", "BIN-1", 3))])?;
    s.apply_pulled(&[pulled(3, defined("X")), pulled(4, moved("X", "BIN-1", 5))])?;
    assert_eq!(
        (s.balance("BIN-1", "X", "")?, s.balance("BIN-1", "Y", "")?),
        (5, 3)
    );
    assert!(s.check()?.ok, "{:?}", s.check()?);
    Ok(())
}

/// A movement naming an item or a location the store does not know is refused by name,
/// and nothing is written.
#[test]
fn a_movement_of_an_unknown_item_is_refused_by_name() -> TestResult {
    let mut s = small_warehouse()?;
    let before = s.check()?;
    for (m, says) in [
        (mv("NOPE", "", "SUPPLIER", "BIN-1", 1), "NOPE"),
        (mv("PLAIN", "", "SUPPLIER", "NOWHERE", 1), "NOWHERE"),
    ] {
        let err = s.move_stock("u", &m).expect_err("refused");
        assert!(err.to_string().contains(says), "{err}");
    }
    assert_eq!(s.check()?, before);
    assert_eq!(s.balance("BIN-1", "PLAIN", "")?, 0);
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
        "UPDATE stock SET qty = qty + 1
         WHERE location_id = (SELECT id FROM locations WHERE code = 'BIN-1')",
        [],
    )?;
    c.execute(
        "INSERT INTO stock (location_id, item_id, lot, qty) VALUES
         ((SELECT id FROM locations WHERE code = 'BIN-2'),
          (SELECT id FROM items WHERE sku = 'PLAIN'), '', -3)",
        [],
    )?;
    // A balance of an item id that has no row.
    c.execute(
        "INSERT INTO stock (location_id, item_id, lot, qty) VALUES
         ((SELECT id FROM locations WHERE code = 'BIN-2'), 999999, '', 4)",
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
    assert!(
        failed["foreign_keys"][0].contains("item id 999999, lot '') references missing items"),
        "{failed:?}"
    );
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
