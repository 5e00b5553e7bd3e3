//! What the benchmarks share: the large warehouse of the lookup benchmark (built through
//! the public [`Store`] API), randomness, statistics, the app loop on a `TestBackend`, the
//! physical durable-commit baseline, environment knobs and `/proc` readings.
//!
//! Each bench includes this with `mod common;` and uses only part of it.
#![allow(dead_code)]

use chrono::{Duration as Days, NaiveDate, Utc};
use floorhand::domain::gs1::gtin_check_digit;
use floorhand::domain::{
    AbcClass, Event, Item, ItemGtin, Location, LocationKind, LocationRole, MoveReason, Role,
};
use floorhand::store::{NewUser, SYSTEM_USER, Store};
use floorhand::tui::{self, App};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;
use std::time::{Duration, Instant};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = Result<T, BoxError>;

/// The terminal id the store is built with (the app's default config uses the same).
pub const TERMINAL: &str = "T01";
/// Events per `Store::record` call, i.e. per transaction, while building.
pub const BATCH: usize = 10_000;
/// The user the benchmark logs in as, in process and in the pseudo-terminal.
pub const BADGE: &str = "9001";
pub const PIN: &str = "1234";
pub const COLS: u16 = 80;
pub const ROWS: u16 = 24;

/// One-row commits that fill the baseline's WAL once, to its first checkpoint and beyond.
pub const WAL_CYCLE: usize = 1_100;
/// The virtual location every receipt comes from.
pub const SUPPLIER: &str = "SUPPLIER";
/// The site every location belongs to.
pub const SITE: &str = "WH1";
/// The users the lookup and receiving benchmarks build: badge, name, role.
pub const USERS: [(&str, &str, Role); 3] = [
    (BADGE, "Bench Picker", Role::Picker),
    ("9002", "Bench Supervisor", Role::Supervisor),
    ("9003", "Bench Receiver", Role::Receiver),
];

// ------------------------------------------------------------------------------------------
// Sizes, randomness, statistics.
// ------------------------------------------------------------------------------------------

pub struct Sizes {
    pub items: usize,
    pub locations: usize,
    pub events: usize,
}

impl Sizes {
    pub fn new(scale: f64) -> Self {
        let scaled = |n: f64, min: usize| ((n * scale).round() as usize).max(min);
        let items = scaled(100_000.0, 100);
        let locations = scaled(20_000.0, 100);
        // Reference data is about 1.4 events per item; leave room for movements.
        let events = scaled(1_000_000.0, 0).max(items * 2 + locations + 1_000);
        Self {
            items,
            locations,
            events,
        }
    }
}

pub fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> Res<T>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|e| format!("{name}={v:?} is not valid: {e}").into()),
        Err(_) => Ok(default),
    }
}

/// SplitMix64: small, fast and deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        v.get(self.below(v.len()))
    }

    /// As [`Rng::pick`], an error for an empty list.
    pub fn choose<'a, T>(&mut self, v: &'a [T]) -> Res<&'a T> {
        self.pick(v)
            .ok_or_else(|| "picked from an empty list".into())
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        // Nearest rank.
        let rank = |p: f64| {
            let i = ((p * v.len() as f64).ceil() as usize).saturating_sub(1);
            v.get(i.min(v.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        Self {
            n: v.len(),
            min: v.first().copied().unwrap_or(0.0),
            p50: rank(0.50),
            p99: rank(0.99),
            p999: rank(0.999),
            max: v.last().copied().unwrap_or(0.0),
        }
    }
}

// ------------------------------------------------------------------------------------------
// Building the warehouse.
// ------------------------------------------------------------------------------------------

/// What the measurements need to know about the warehouse that was built.
pub struct Warehouse {
    pub items: Vec<ItemCodes>,
    /// Physical location codes (virtual ones are not scanned on the floor).
    pub physical: Vec<String>,
    /// Every lot code in use.
    pub lot_codes: Vec<String>,
    /// A non-lot item with stock at a storage location, and another storage location.
    pub move_sample: Option<(String, String, String)>,
    /// How many locations there are, virtual ones included.
    pub locations: usize,
    pub docks: Vec<String>,
    pub storage: Vec<String>,
}

pub struct ItemCodes {
    pub sku: String,
    /// The unit GTIN-13, as printed under the barcode.
    pub gtin13: String,
    /// The case GTIN-14 (pack 12), for every third item.
    pub case14: Option<String>,
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
}

/// Stock the generator knows to be at one physical location.
#[derive(Clone, Copy)]
struct Holding {
    loc: u32,
    /// 0 for items that are not lot-tracked; else 1..=3, the item's lot.
    lot: u8,
    qty: i64,
}

/// Location indices by role, for the movement generator.
#[derive(Default)]
struct Places {
    codes: Vec<String>,
    roles: Vec<LocationRole>,
    supplier: u32,
    customer: u32,
    loss: u32,
    scrap: u32,
    dock: Vec<u32>,
    storage: Vec<u32>,
    pick_face: Vec<u32>,
    pack: Vec<u32>,
    ship: Vec<u32>,
    quarantine: Vec<u32>,
    returns: Vec<u32>,
}

/// Events waiting to be recorded in the next transaction.
struct Batcher<'u> {
    store: Store,
    user: &'u str,
    pending: Vec<Event>,
    recorded: usize,
}

impl Batcher<'_> {
    fn push(&mut self, e: Event) -> Res<()> {
        self.pending.push(e);
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Res<()> {
        if !self.pending.is_empty() {
            self.store.record(self.user, &self.pending)?;
            self.recorded += self.pending.len();
            self.pending.clear();
        }
        Ok(())
    }
}

const WORDS_A: [&str; 12] = [
    "Steel", "Brass", "Cotton", "Organic", "Compact", "Heavy", "Mini", "Deluxe", "Classic", "Eco",
    "Pro", "Soft",
];
const WORDS_B: [&str; 16] = [
    "bracket",
    "hinge",
    "towel",
    "tea",
    "lamp",
    "cable",
    "drill bit",
    "soap",
    "sponge",
    "hammer",
    "kettle",
    "filter",
    "notebook",
    "glove",
    "bolt",
    "candle",
];
const CATEGORIES: [&str; 6] = [
    "hardware",
    "household",
    "beverages",
    "electronics",
    "stationery",
    "garden",
];

/// How a warehouse is built besides its sizes.
pub struct Recipe<'a> {
    /// The user that records the reference data and the movements.
    pub recorder: &'a str,
    /// The users added: badge, name, role (PIN [`PIN`]).
    pub users: &'a [(&'a str, &'a str, Role)],
    /// Print the count of reference events before the movements.
    pub report: bool,
}

/// The warehouse on a store of its own at `db`, as the lookup and receiving benches build it.
pub fn build(db: &Path, sizes: &Sizes, rng: &mut Rng) -> Res<Warehouse> {
    let recipe = Recipe {
        recorder: SYSTEM_USER,
        users: &USERS,
        report: true,
    };
    build_on(Store::open(db, TERMINAL)?, &recipe, sizes, rng)
}

/// The warehouse on `store`.
pub fn build_on(store: Store, recipe: &Recipe, sizes: &Sizes, rng: &mut Rng) -> Res<Warehouse> {
    let mut b = Batcher {
        store,
        user: recipe.recorder,
        pending: Vec::with_capacity(BATCH),
        recorded: 0,
    };

    let places = locations(sizes.locations);
    for (code, role) in places.codes.iter().zip(&places.roles) {
        b.push(Event::LocationDefined {
            location: location(code, *role, b.recorded + b.pending.len(), rng),
        })?;
    }

    let mut items = Vec::with_capacity(sizes.items);
    let mut lot_tracked = Vec::with_capacity(sizes.items);
    for i in 0..sizes.items {
        let (item, codes) = item(i, rng)?;
        lot_tracked.push(item.lot_tracked);
        items.push(codes);
        b.push(Event::ItemDefined { item })?;
    }

    // Three lots per lot-tracked item. Codes wrap round so about one in ten is shared by
    // two items, as lot codes from different suppliers are.
    let lot_items = lot_tracked.iter().filter(|t| **t).count();
    let modulus = (lot_items * 3 * 9 / 10).max(3);
    let mut lots_of: Vec<[String; 3]> = Vec::with_capacity(sizes.items);
    let mut lot_codes = Vec::new();
    let mut j = 0;
    let today = Utc::now().date_naive();
    for (i, tracked) in lot_tracked.iter().enumerate() {
        if !*tracked {
            lots_of.push(Default::default());
            continue;
        }
        let codes = [0, 1, 2].map(|k| format!("B{:06}", (j * 3 + k) % modulus));
        j += 1;
        for code in &codes {
            let expiry: Option<NaiveDate> =
                (i % 20 == 17).then(|| today + Days::days(30 + rng.below(700) as i64));
            b.push(Event::LotDefined {
                sku: items[i].sku.clone(),
                lot: code.clone(),
                expiry,
            })?;
            lot_codes.push(code.clone());
        }
        lots_of.push(codes);
    }
    lot_codes.sort();
    lot_codes.dedup();
    b.flush()?;

    let users: Vec<NewUser> = recipe
        .users
        .iter()
        .map(|(badge, name, role)| NewUser {
            badge: (*badge).into(),
            name: (*name).into(),
            roles: vec![*role],
            pin: PIN.into(),
        })
        .collect();
    b.store.add_users(recipe.recorder, &users)?;
    b.recorded += users.len();

    let reference = b.recorded;
    let moves = sizes.events.saturating_sub(reference);
    if recipe.report {
        println!(
            "build: {reference} reference events ({} locations, {} items, {} lots, {} users); {moves} movements to go",
            places.codes.len(),
            sizes.items,
            lot_items * 3,
            users.len()
        );
    }

    let mut holdings: Vec<Vec<Holding>> = vec![Vec::new(); sizes.items];
    let hot = (sizes.items / 5).max(1);
    for _ in 0..moves {
        // Half the movements touch the fastest fifth of the range (A items).
        let i = if rng.chance(50) {
            rng.below(hot)
        } else {
            rng.below(sizes.items)
        };
        let (from, to, lot, qty, reason) =
            next_move(rng, &places, &mut holdings[i], lot_tracked[i]);
        let lot = match lot {
            0 => String::new(),
            k => lots_of[i][usize::from(k) - 1].clone(),
        };
        b.push(Event::StockMoved {
            sku: items[i].sku.clone(),
            lot,
            from: places.codes[from as usize].clone(),
            to: places.codes[to as usize].clone(),
            qty,
            reason,
            receipt: None,
            order: None,
        })?;
    }
    b.flush()?;

    let move_sample =
        holdings
            .iter()
            .zip(&lot_tracked)
            .zip(&items)
            .find_map(|((hs, tracked), codes)| {
                let h = hs
                    .iter()
                    .find(|h| !*tracked && places.roles[h.loc as usize] == LocationRole::Storage)?;
                let other = places.storage.iter().find(|l| **l != h.loc)?;
                Some((
                    codes.sku.clone(),
                    places.codes[h.loc as usize].clone(),
                    places.codes[*other as usize].clone(),
                ))
            });
    let physical = places
        .codes
        .iter()
        .zip(&places.roles)
        .filter(|(_, r)| r.kind() == LocationKind::Physical)
        .map(|(c, _)| c.clone())
        .collect();
    let codes = |v: &[u32]| -> Vec<String> {
        v.iter()
            .map(|i| places.codes[*i as usize].clone())
            .collect()
    };
    Ok(Warehouse {
        items,
        physical,
        lot_codes,
        move_sample,
        locations: places.codes.len(),
        docks: codes(&places.dock),
        storage: codes(&places.storage),
    })
}

/// The location codes and roles: five virtual ones, docks and the other work areas, then
/// aisles of bays, each bay a pick face with four storage levels above it.
fn locations(n: usize) -> Places {
    let mut p = Places::default();
    let add = |p: &mut Places, code: String, role: LocationRole| -> u32 {
        let idx = p.codes.len() as u32;
        p.codes.push(code);
        p.roles.push(role);
        match role {
            LocationRole::Dock => p.dock.push(idx),
            LocationRole::Storage => p.storage.push(idx),
            LocationRole::PickFace => p.pick_face.push(idx),
            LocationRole::Pack => p.pack.push(idx),
            LocationRole::Ship => p.ship.push(idx),
            LocationRole::Quarantine => p.quarantine.push(idx),
            LocationRole::Returns => p.returns.push(idx),
            _ => {}
        }
        idx
    };
    p.supplier = add(&mut p, SUPPLIER.into(), LocationRole::Supplier);
    p.customer = add(&mut p, "CUSTOMER".into(), LocationRole::Customer);
    p.loss = add(&mut p, "LOSS".into(), LocationRole::Loss);
    p.scrap = add(&mut p, "SCRAP".into(), LocationRole::Scrap);
    add(&mut p, "TRANSIT".into(), LocationRole::Transit);
    for (prefix, count, role) in [
        ("DOCK", 20, LocationRole::Dock),
        ("QUAR", 4, LocationRole::Quarantine),
        ("RET", 4, LocationRole::Returns),
        ("PACK", 8, LocationRole::Pack),
        ("SHIP", 4, LocationRole::Ship),
    ] {
        for k in 1..=count {
            add(&mut p, format!("{prefix}-{k:02}"), role);
        }
    }
    let mut bay = 0usize;
    while p.codes.len() < n {
        let aisle = bay / 40 + 1;
        let zone = char::from(b'A' + ((aisle - 1) / 5 % 26) as u8);
        let pos = bay % 40 + 1;
        add(
            &mut p,
            format!("PF-{zone}{aisle:03}-{pos:02}"),
            LocationRole::PickFace,
        );
        for level in 1..=4 {
            if p.codes.len() < n {
                add(
                    &mut p,
                    format!("{zone}-{aisle:03}-{pos:02}-{level}"),
                    LocationRole::Storage,
                );
            }
        }
        bay += 1;
    }
    p
}

fn location(code: &str, role: LocationRole, seq: usize, rng: &mut Rng) -> Location {
    let physical = role.kind() == LocationKind::Physical;
    let zone = match role {
        LocationRole::Storage => code.get(..1).unwrap_or_default().to_string(),
        LocationRole::PickFace => code.get(3..4).unwrap_or_default().to_string(),
        _ if physical => code.split('-').next().unwrap_or_default().to_string(),
        _ => String::new(),
    };
    let racked = matches!(role, LocationRole::Storage | LocationRole::PickFace);
    Location {
        code: code.to_string(),
        site: SITE.into(),
        zone,
        kind: role.kind(),
        role,
        pick_seq: racked.then_some(seq as i64 * 10),
        check_digits: physical.then(|| format!("{:02}", rng.below(100))),
        capacity: None,
    }
}

fn item(i: usize, rng: &mut Rng) -> Res<(Item, ItemCodes)> {
    let n = i + 1;
    let sku = format!("SKU-{n:06}");
    let body = format!("40{n:010}");
    let cd = gtin_check_digit(&body).ok_or("no check digit")?;
    let gtin13 = format!("{body}{cd}");
    let mut gtins = vec![ItemGtin {
        gtin: format!("0{gtin13}"),
        pack_qty: 1,
    }];
    let case14 = if i % 3 == 0 {
        let case_body = format!("1{body}");
        let cd = gtin_check_digit(&case_body).ok_or("no check digit")?;
        let case14 = format!("{case_body}{cd}");
        gtins.push(ItemGtin {
            gtin: case14.clone(),
            pack_qty: 12,
        });
        Some(case14)
    } else {
        None
    };
    let lot_tracked = i % 10 == 7;
    let expiry_tracked = i % 20 == 17;
    let description = format!(
        "{} {} {}",
        WORDS_A[rng.below(WORDS_A.len())],
        WORDS_B[rng.below(WORDS_B.len())],
        10 * (1 + rng.below(50))
    );
    let item = Item {
        sku: sku.clone(),
        description,
        base_unit: "EA".into(),
        gtins,
        lot_tracked,
        expiry_tracked,
        shelf_life_days: expiry_tracked.then_some(365),
        abc: match i % 10 {
            0 | 1 => AbcClass::A,
            2..=4 => AbcClass::B,
            _ => AbcClass::C,
        },
        unit_cost_cents: 50 + rng.below(5_000) as i64,
        category: CATEGORIES[rng.below(CATEGORIES.len())].into(),
    };
    Ok((
        item,
        ItemCodes {
            sku,
            gtin13,
            case14,
            lot_tracked,
            expiry_tracked,
        },
    ))
}

/// One movement of item stock that keeps every physical balance non-negative: receipts
/// from the supplier, putaway, replenishment, picks, packing, shipping, returns, losses.
fn next_move(
    rng: &mut Rng,
    p: &Places,
    holdings: &mut Vec<Holding>,
    lot_tracked: bool,
) -> (u32, u32, u8, i64, MoveReason) {
    let any = |rng: &mut Rng, v: &[u32]| rng.pick(v).copied().unwrap_or(p.supplier);
    if holdings.is_empty() || rng.chance(20) {
        let lot = if lot_tracked {
            1 + rng.below(3) as u8
        } else {
            0
        };
        let (from, to, qty, reason) = if rng.chance(5) {
            (
                p.customer,
                any(rng, &p.returns),
                1 + rng.below(3) as i64,
                MoveReason::Return,
            )
        } else if rng.chance(60) {
            (
                p.supplier,
                any(rng, &p.dock),
                12 * (1 + rng.below(20) as i64),
                MoveReason::Receipt,
            )
        } else {
            (
                p.supplier,
                any(rng, &p.storage),
                12 * (1 + rng.below(20) as i64),
                MoveReason::Receipt,
            )
        };
        add(holdings, to, lot, qty);
        return (from, to, lot, qty, reason);
    }
    // Docks, packing, shipping, quarantine and returns are flow-through areas: stock there
    // moves on first, so they hold a few hundred balances each, not thousands.
    let transient = holdings.iter().position(|h| {
        !matches!(
            p.roles[h.loc as usize],
            LocationRole::Storage | LocationRole::PickFace
        )
    });
    let h = match transient {
        Some(h) if rng.chance(80) => h,
        _ => rng.below(holdings.len()),
    };
    let Holding {
        loc,
        lot,
        qty: have,
    } = holdings[h];
    let part = |rng: &mut Rng| 1 + rng.below(have as usize) as i64;
    let (to, qty, reason) = match p.roles[loc as usize] {
        LocationRole::Dock if rng.chance(5) => {
            (any(rng, &p.quarantine), have, MoveReason::Transfer)
        }
        LocationRole::Dock => (any(rng, &p.storage), have, MoveReason::Putaway),
        LocationRole::Storage => match rng.below(100) {
            0..60 => (any(rng, &p.pick_face), part(rng), MoveReason::Transfer),
            60..85 => (any(rng, &p.storage), part(rng), MoveReason::Transfer),
            _ => (any(rng, &p.pack), part(rng), MoveReason::Pick),
        },
        LocationRole::PickFace if rng.chance(5) => (p.loss, 1, MoveReason::Adjustment),
        LocationRole::PickFace => (any(rng, &p.pack), part(rng), MoveReason::Pick),
        LocationRole::Pack => (any(rng, &p.ship), have, MoveReason::Pack),
        LocationRole::Ship => (p.customer, have, MoveReason::Ship),
        LocationRole::Quarantine if rng.chance(50) => (p.scrap, have, MoveReason::Adjustment),
        LocationRole::Quarantine | LocationRole::Returns => {
            (any(rng, &p.storage), have, MoveReason::Putaway)
        }
        _ => (p.loss, have, MoveReason::Adjustment),
    };
    let to = if to == loc { p.loss } else { to };
    if have == qty {
        holdings.swap_remove(h);
    } else {
        holdings[h].qty -= qty;
    }
    if p.roles[to as usize].kind() == LocationKind::Physical {
        add(holdings, to, lot, qty);
    }
    (loc, to, lot, qty, reason)
}

fn add(holdings: &mut Vec<Holding>, loc: u32, lot: u8, qty: i64) {
    match holdings.iter_mut().find(|h| h.loc == loc && h.lot == lot) {
        Some(h) => h.qty += qty,
        None => holdings.push(Holding { loc, lot, qty }),
    }
}

/// Balance rows (all, physical) and the size of the store files in MB. Read-only SQL on the
/// store's connection, for the report only.
pub fn store_stats(store: &Store, db: &Path) -> Res<(i64, i64, f64)> {
    let conn = store.connection();
    let all: i64 = conn.query_row("SELECT COUNT(*) FROM balances", [], |r| r.get(0))?;
    let physical: i64 = conn.query_row(
        "SELECT COUNT(*) FROM balances b JOIN locations l ON l.code = b.location
         WHERE l.kind = 'physical'",
        [],
        |r| r.get(0),
    )?;
    Ok((all, physical, file_mb(db)))
}

/// The size of a store's database and WAL files in MB.
pub fn file_mb(db: &Path) -> f64 {
    let mut bytes = 0;
    for suffix in ["", "-wal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        bytes += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
    }
    bytes as f64 / 1e6
}

// ------------------------------------------------------------------------------------------
// The app loop.
// ------------------------------------------------------------------------------------------

pub type Term = Terminal<TestBackend>;

/// One turn of the app loop for one key: tick, key, draw (as `tui::run` does).
/// One key without a frame: the app loop takes every key already waiting (a scanner's
/// burst) before it draws.
pub fn key(app: &mut App, code: KeyCode) {
    app.tick(Utc::now());
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

pub fn press(app: &mut App, term: &mut Term, code: KeyCode) -> Res<()> {
    app.tick(Utc::now());
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    tui::draw(term, app)?;
    let _ = app.take_bells();
    Ok(())
}

pub fn type_line(app: &mut App, term: &mut Term, text: &str) -> Res<()> {
    for c in text.chars() {
        press(app, term, KeyCode::Char(c))?;
    }
    press(app, term, KeyCode::Enter)
}

/// The frame's body (below the title bar and the scan field) as text.
pub fn body_text(term: &Term) -> String {
    let buf = term.backend().buffer();
    let width = usize::from(buf.area.width.max(1));
    let mut out = String::new();
    for (i, cell) in buf.content().iter().enumerate().skip(width * 2) {
        if i % width == 0 {
            out.push('\n');
        }
        out.push_str(cell.symbol());
    }
    out
}

// ------------------------------------------------------------------------------------------
// Durable commit baseline.
// ------------------------------------------------------------------------------------------

/// The physical floor under every saved scan: a one-row insert committed durably (WAL,
/// synchronous FULL) to a database of its own next to the store, on the same disk.
pub struct CommitBaseline<'c> {
    conn: &'c rusqlite::Connection,
    insert: rusqlite::Statement<'c>,
    next: i64,
}

/// The baseline's database at `path`: WAL, synchronous FULL, one table.
pub fn baseline_connection(path: &Path) -> Res<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("CREATE TABLE IF NOT EXISTS t (v INTEGER NOT NULL)")?;
    Ok(conn)
}

impl<'c> CommitBaseline<'c> {
    /// Prepare the insert and warm up. Until the first checkpoint (1,000 pages) every
    /// commit also grows the WAL file, and growing costs a file-system journal commit on
    /// top of the flush; the app's store is long past that, so the baseline is taken once
    /// the WAL is being reused.
    pub fn new(conn: &'c rusqlite::Connection) -> Res<Self> {
        Self::with_warmup(conn, WAL_CYCLE)
    }

    /// Prepare the insert and warm up with `warmup` commits.
    pub fn with_warmup(conn: &'c rusqlite::Connection, warmup: usize) -> Res<Self> {
        let insert = conn.prepare("INSERT INTO t (v) VALUES (?1)")?;
        let mut b = Self {
            conn,
            insert,
            next: 0,
        };
        for v in 0..warmup {
            b.commit_value(v as i64)?;
        }
        Ok(b)
    }

    /// One durable commit of the value `v`, timed.
    pub fn commit_value(&mut self, v: i64) -> Res<Duration> {
        let t = Instant::now();
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.insert.execute([v])?;
        self.conn.execute_batch("COMMIT")?;
        Ok(t.elapsed())
    }

    /// One durable commit of the next value, timed.
    pub fn commit(&mut self) -> Res<Duration> {
        self.next += 1;
        let v = self.next;
        self.commit_value(v)
    }

    /// `n` commits in a row, timed as [`timed_block`] says.
    pub fn block(&mut self, n: usize, out: &mut Vec<f64>) -> Res<()> {
        timed_block(n, out, || self.commit())
    }
}

/// `n` timed commits in a row; all but the first (which may pay for another writer's
/// writes to the same disk) are pushed to `out` in ms.
pub fn timed_block(
    n: usize,
    out: &mut Vec<f64>,
    mut commit: impl FnMut() -> Res<Duration>,
) -> Res<()> {
    for k in 0..n {
        let d = commit()?;
        if k > 0 {
            out.push(ms(d));
        }
    }
    Ok(())
}

/// A temporary directory for a bench's store: under `$<dir_var>` if set, else the system
/// temp directory.
pub fn bench_dir(dir_var: &str, prefix: &str) -> Res<tempfile::TempDir> {
    Ok(match std::env::var_os(dir_var) {
        Some(parent) => tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?,
        None => tempfile::Builder::new().prefix(prefix).tempdir()?,
    })
}

/// A positive finite scale from `$name` (default 1.0).
pub fn env_scale(name: &str) -> Res<f64> {
    let scale = env_parse(name, 1.0_f64)?;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!("{name} must be a positive number, not {scale}").into());
    }
    Ok(scale)
}

// ------------------------------------------------------------------------------------------
// The machine.
// ------------------------------------------------------------------------------------------

/// Nanoseconds this thread has spent runnable but waiting for a CPU
/// (`/proc/thread-self/schedstat`, second field).
pub fn runqueue_wait_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds (user and system) this process has used, all threads, from
/// `/proc/self/stat` (in ticks of 1/100 s); `None` where that cannot be read.
pub fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The 1, 5 and 15 minute load averages.
pub fn load_averages() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

pub fn vm_hwm_mb(pid: &str) -> Res<f64> {
    proc_status_mb(pid, "VmHWM:")
}

/// A `kB` field of `/proc/<pid>/status`, in MB (10^6 bytes).
pub fn proc_status_mb(pid: &str, field: &str) -> Res<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(kb * 1024.0 / 1e6)
}
