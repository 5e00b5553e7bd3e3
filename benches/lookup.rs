//! Stock lookup benchmark.
//!
//! Builds a warehouse of 100,000 items, 20,000 locations and 1,000,000 journal events
//! through the public [`Store`] API, then measures, in one run:
//!
//! - start-up: spawn of the real `floorhand` binary in a pseudo-terminal until its first
//!   frame (the login screen) is on the screen; median of several runs;
//! - lookup latency: scan-to-frame of stock lookups through the real app loop (tick, key,
//!   draw after every key, as `tui::run` does) on an 80x24 `TestBackend`: from the first
//!   key of a scan to the end of the frame drawn after its Enter;
//! - peak memory: `VmHWM` of the real app process after a login and a few hundred lookups
//!   through the pseudo-terminal (MB here are 10^6 bytes);
//! - the physical baseline: one durable SQLite commit (WAL, synchronous FULL, one-row
//!   insert), in the same run and on the same disk.
//!
//! The machine may be shared: `p99_uncontended_ms` is scan-to-frame less the time the
//! bench thread spent runnable but waiting for a CPU (`/proc/thread-self/schedstat`), so a
//! busy machine can be told from a slow app.
//!
//! Its last line is
//! `lookup: build_s=.. startup_ms=.. p50_ms=.. p99_ms=.. commit_p50_ms=.. peak_rss_mb=.. ...`
//!
//! Knobs (environment):
//! - `LOOKUP_BENCH_SCALE` (default 1.0): scales items, locations and events (0.05 for a
//!   quick run);
//! - `LOOKUP_BENCH_SCANS` (default 10,000): lookups measured in process;
//! - `LOOKUP_BENCH_STARTS` (default 15): start-ups measured;
//! - `LOOKUP_BENCH_DIR`: where the temporary store is built (default: the system temp
//!   directory);
//! - `LOOKUP_BENCH_KEEP=1`: keep the store afterwards (its path is printed) to look into it.

use chrono::{Duration as Days, NaiveDate, Utc};
use floorhand::config::Config;
use floorhand::domain::gs1::gtin_check_digit;
use floorhand::domain::{
    AbcClass, Event, Item, ItemGtin, Location, LocationKind, LocationRole, MoveReason, Role,
};
use floorhand::store::{Move, NewUser, SYSTEM_USER, Store};
use floorhand::tui::{self, App, app::Screen};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error>;
type Res<T> = Result<T, BoxError>;

/// The terminal id the store is built with (the app's default config uses the same).
const TERMINAL: &str = "T01";
/// Events per `Store::record` call, i.e. per transaction, while building.
const BATCH: usize = 10_000;
/// The user the benchmark logs in as, in process and in the pseudo-terminal.
const BADGE: &str = "9001";
const PIN: &str = "1234";
const COLS: u16 = 80;
const ROWS: u16 = 24;
/// What the login screen shows: the first frame.
const FIRST_FRAME: &str = "Scan your badge";
/// Lookups driven through the pseudo-terminal before reading the app's peak memory.
const PTY_SCANS: usize = 200;
/// One-row commits that fill the baseline's WAL once, to its first checkpoint and beyond.
const WAL_CYCLE: usize = 1_100;
/// The virtual location every receipt comes from.
const SUPPLIER: &str = "SUPPLIER";
/// Durable commits measured for the physical baseline.
const COMMITS: usize = 1_000;

fn main() -> Res<()> {
    let scale = env_parse("LOOKUP_BENCH_SCALE", 1.0_f64)?;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!("LOOKUP_BENCH_SCALE must be a positive number, not {scale}").into());
    }
    let sizes = Sizes::new(scale);
    let scans = env_parse("LOOKUP_BENCH_SCANS", 10_000_usize)?.max(1);
    let starts = env_parse("LOOKUP_BENCH_STARTS", 15_usize)?.max(1);
    let bin = floorhand_binary()?;

    let dir = match std::env::var_os("LOOKUP_BENCH_DIR") {
        Some(parent) => tempfile::Builder::new()
            .prefix("floorhand-lookup-")
            .tempdir_in(parent)?,
        None => tempfile::Builder::new()
            .prefix("floorhand-lookup-")
            .tempdir()?,
    };
    let db = dir.path().join("floorhand.db");
    println!(
        "bench: scale {scale}: {} items, {} locations, {} journal events; store {}; binary {}",
        sizes.items,
        sizes.locations,
        sizes.events,
        db.display(),
        bin.display()
    );

    let load_start = load_average();
    println!(
        "machine: {} CPUs, load average {load_start} at the start",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    // Build.
    let mut rng = Rng::new(0x5eed_f100_7a4d);
    let t = Instant::now();
    let wh = build(&db, &sizes, &mut rng)?;
    let build_s = t.elapsed().as_secs_f64();
    let store = Store::open(&db, TERMINAL)?;
    let events = store.journal_len()?;
    let (balances, physical_balances, db_mb) = store_stats(&store, &db)?;
    println!(
        "build: {events} events in {build_s:.2} s ({:.0} events/s, {} per transaction); \
         {balances} balances ({physical_balances} at physical locations); store {db_mb:.1} MB",
        events as f64 / build_s,
        BATCH
    );

    let rss_before_check = vm_hwm_mb("self")?;
    let t = Instant::now();
    let report = store.check()?;
    let check_s = t.elapsed().as_secs_f64();
    let rss_after_check = vm_hwm_mb("self")?;
    println!(
        "check: {} in {check_s:.2} s (bench VmHWM {rss_before_check:.1} MB before, \
         {rss_after_check:.1} MB after)",
        if report.ok {
            "all checks hold"
        } else {
            "VIOLATIONS FOUND"
        }
    );
    for c in report.checks.iter().filter(|c| !c.ok) {
        println!("  {} failed: {:?}", c.name, c.violations.first());
    }
    drop(store);

    // Start-up to first frame, the real binary in a pseudo-terminal.
    let mut startup = Vec::with_capacity(starts);
    for run in 0..starts {
        let mut pty = Pty::spawn(&bin, dir.path(), &db)?;
        let frame = pty.wait_for(FIRST_FRAME, Duration::from_secs(20), |s| {
            s.contents().contains(FIRST_FRAME)
        })?;
        let ms = ms(frame - pty.started);
        pty.quit()?;
        println!("startup run {}: {ms:.3} ms", run + 1);
        startup.push(ms);
    }
    let startup = Summary::of(startup);
    println!(
        "startup to first frame: median {:.3} ms (min {:.3}, max {:.3}, {} runs)",
        startup.p50, startup.min, startup.max, startup.n
    );

    // Peak memory of the real app: login and lookups through the pseudo-terminal.
    let app_mem = app_memory(&bin, dir.path(), &db, &wh, &mut rng)?;
    println!(
        "app memory: VmHWM {:.2} MB at first frame, {:.2} MB after login and {} lookups \
         (VmRSS {:.2} MB); lookups through the pty: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        app_mem.first_frame_mb,
        app_mem.peak_mb,
        app_mem.pty.n,
        app_mem.rss_mb,
        app_mem.pty.p50,
        app_mem.pty.p99,
        app_mem.pty.max
    );

    // Scan-to-frame in process.
    let look = lookups(&db, &wh, scans, &mut rng)?;
    println!(
        "app memory after a lookup of {SUPPLIER} too: VmHWM {:.2} MB",
        app_mem.supplier_peak_mb
    );
    println!(
        "lookup scan-to-frame: p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms over {} scans \
         ({:.1} keys per scan; each key drawn)",
        look.all.p50, look.all.p99, look.all.p999, look.all.max, look.all.n, look.keys_per_scan
    );
    println!(
        "lookup scan-to-frame less time spent waiting for a CPU (schedstat): p50 {:.3} ms, \
         p99 {:.3} ms; {} scans waited over 1 ms for a CPU (other processes on this machine)",
        look.uncontended.p50, look.uncontended.p99, look.waited
    );
    println!(
        "lookup Enter-to-frame: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; one key + frame \
         while typing: p50 {:.3} ms",
        look.enter.p50, look.enter.p99, look.enter.max, look.per_key_p50
    );
    println!(
        "lookup of the virtual location {} ({} balance rows): scan-to-frame {:.3} ms",
        look.worst.0, look.worst.1, look.worst.2
    );
    for (kind, s, rows) in &look.by_kind {
        println!(
            "  {kind:<9} n={:<5} p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  rows mean {:.1} max {}",
            s.n, s.p50, s.p99, s.max, rows.0, rows.1
        );
    }

    // The app's own durable write: one stock movement, planned and recorded.
    // The physical baseline, in turns with the app's own durable write.
    let (commit, moves) = durable_writes(&db, dir.path(), &wh)?;
    println!(
        "durable commit baseline (WAL, FULL, one-row insert): p50 {:.3} ms, p99 {:.3} ms over {} commits",
        commit.p50, commit.p99, commit.n
    );
    println!(
        "move_stock on the built store (plan + record, one transaction), in blocks between \
         the baseline's: p50 {:.3} ms, p99 {:.3} ms over {} moves",
        moves.p50, moves.p99, moves.n
    );

    let bench_rss_mb = vm_hwm_mb("self")?;
    if std::env::var_os("LOOKUP_BENCH_KEEP").is_some_and(|v| v != "0") {
        println!(
            "kept the store: {}",
            dir.keep().join("floorhand.db").display()
        );
    }
    println!("bench process VmHWM: {bench_rss_mb:.2} MB");

    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!("machine: load average {} at the end", load_average());
    println!(
        "targets: startup < 100 ms {}; lookup p99 < 5 ms {}; peak memory < 50 MB {}",
        verdict(startup.p50 < 100.0),
        verdict(look.all.p99 < 5.0),
        verdict(app_mem.peak_mb < 50.0)
    );
    println!(
        "lookup: build_s={build_s:.2} startup_ms={:.3} p50_ms={:.3} p99_ms={:.3} commit_p50_ms={:.3} \
         peak_rss_mb={:.2} check_s={check_s:.2} check_ok={} startup_min_ms={:.3} startup_max_ms={:.3} \
         p99_9_ms={:.3} max_ms={:.3} p99_uncontended_ms={:.3} enter_p50_ms={:.3} enter_p99_ms={:.3} pty_p50_ms={:.3} \
         pty_p99_ms={:.3} first_frame_rss_mb={:.2} move_p50_ms={:.3} commit_p99_ms={:.3} \
         bench_rss_mb={bench_rss_mb:.2} supplier_lookup_ms={:.3} supplier_peak_rss_mb={:.2} scans={} events={events} items={} locations={} \
         balances={balances} scale={scale} load_avg={load_start}",
        startup.p50,
        look.all.p50,
        look.all.p99,
        commit.p50,
        app_mem.peak_mb,
        u8::from(report.ok),
        startup.min,
        startup.max,
        look.all.p999,
        look.all.max,
        look.uncontended.p99,
        look.enter.p50,
        look.enter.p99,
        app_mem.pty.p50,
        app_mem.pty.p99,
        app_mem.first_frame_mb,
        moves.p50,
        commit.p99,
        look.worst.2,
        app_mem.supplier_peak_mb,
        look.all.n,
        sizes.items,
        sizes.locations,
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Sizes, randomness, statistics.
// ------------------------------------------------------------------------------------------

struct Sizes {
    items: usize,
    locations: usize,
    events: usize,
}

impl Sizes {
    fn new(scale: f64) -> Self {
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

fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> Res<T>
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
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        v.get(self.below(v.len()))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    n: usize,
    min: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

impl Summary {
    fn of(mut v: Vec<f64>) -> Self {
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
struct Warehouse {
    items: Vec<ItemCodes>,
    /// Physical location codes (virtual ones are not scanned on the floor).
    physical: Vec<String>,
    /// Every lot code in use.
    lot_codes: Vec<String>,
    /// A non-lot item with stock at a storage location, and another storage location.
    move_sample: Option<(String, String, String)>,
}

struct ItemCodes {
    sku: String,
    /// The unit GTIN-13, as printed under the barcode.
    gtin13: String,
    /// The case GTIN-14 (pack 12), for every third item.
    case14: Option<String>,
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
struct Batcher {
    store: Store,
    pending: Vec<Event>,
    recorded: usize,
}

impl Batcher {
    fn push(&mut self, e: Event) -> Res<()> {
        self.pending.push(e);
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Res<()> {
        if !self.pending.is_empty() {
            self.store.record(SYSTEM_USER, &self.pending)?;
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

fn build(db: &Path, sizes: &Sizes, rng: &mut Rng) -> Res<Warehouse> {
    let store = Store::open(db, TERMINAL)?;
    let mut b = Batcher {
        store,
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

    let users = [
        (BADGE, "Bench Picker", Role::Picker),
        ("9002", "Bench Supervisor", Role::Supervisor),
        ("9003", "Bench Receiver", Role::Receiver),
    ];
    let users: Vec<NewUser> = users
        .iter()
        .map(|(badge, name, role)| NewUser {
            badge: (*badge).into(),
            name: (*name).into(),
            roles: vec![*role],
            pin: PIN.into(),
        })
        .collect();
    b.store.add_users(SYSTEM_USER, &users)?;
    b.recorded += users.len();

    let reference = b.recorded;
    let moves = sizes.events.saturating_sub(reference);
    println!(
        "build: {reference} reference events ({} locations, {} items, {} lots, {} users); {moves} movements to go",
        places.codes.len(),
        sizes.items,
        lot_items * 3,
        users.len()
    );

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
    Ok(Warehouse {
        items,
        physical,
        lot_codes,
        move_sample,
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
        site: "WH1".into(),
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
fn store_stats(store: &Store, db: &Path) -> Res<(i64, i64, f64)> {
    let conn = store.connection();
    let all: i64 = conn.query_row("SELECT COUNT(*) FROM balances", [], |r| r.get(0))?;
    let physical: i64 = conn.query_row(
        "SELECT COUNT(*) FROM balances b JOIN locations l ON l.code = b.location
         WHERE l.kind = 'physical'",
        [],
        |r| r.get(0),
    )?;
    let mut bytes = 0;
    for suffix in ["", "-wal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        bytes += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
    }
    Ok((all, physical, bytes as f64 / 1e6))
}

// ------------------------------------------------------------------------------------------
// Scans.
// ------------------------------------------------------------------------------------------

/// One code to scan and what the lookup screen must show for it.
struct Scan {
    kind: &'static str,
    code: String,
    /// Text the body of the frame must contain once the answer is drawn.
    expect: String,
}

/// A mix of what is scanned on the floor: SKUs, unit and case GTINs, physical locations,
/// lot codes and the odd unknown code.
fn pick_scan(rng: &mut Rng, wh: &Warehouse) -> Option<Scan> {
    let roll = rng.below(100);
    let scan = match roll {
        0..25 => {
            let it = rng.pick(&wh.items)?;
            Scan {
                kind: "sku",
                code: it.sku.clone(),
                expect: it.sku.clone(),
            }
        }
        25..55 => {
            let it = rng.pick(&wh.items)?;
            let (kind, code) = match (&it.case14, rng.chance(30)) {
                (Some(case), true) => ("gtin14", case.clone()),
                _ => ("gtin13", it.gtin13.clone()),
            };
            Scan {
                kind,
                code,
                expect: it.sku.clone(),
            }
        }
        55..88 => {
            let code = rng.pick(&wh.physical)?.clone();
            Scan {
                kind: "location",
                expect: code.clone(),
                code,
            }
        }
        88..98 => {
            let code = rng.pick(&wh.lot_codes)?.clone();
            Scan {
                kind: "lot",
                expect: format!("Lot {code}"),
                code,
            }
        }
        _ => {
            let code = format!("ZZ{:08}", rng.below(100_000_000));
            Scan {
                kind: "unknown",
                expect: format!("not found: {code}"),
                code,
            }
        }
    };
    Some(scan)
}

type Term = Terminal<TestBackend>;

/// One turn of the app loop for one key: tick, key, draw (as `tui::run` does).
fn press(app: &mut App, term: &mut Term, code: KeyCode) -> Res<()> {
    app.tick(Utc::now());
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    tui::draw(term, app)?;
    let _ = app.take_bells();
    Ok(())
}

fn type_line(app: &mut App, term: &mut Term, text: &str) -> Res<()> {
    for c in text.chars() {
        press(app, term, KeyCode::Char(c))?;
    }
    press(app, term, KeyCode::Enter)
}

/// The frame's body (below the title bar and the scan field) as text.
fn body_text(term: &Term) -> String {
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

struct LookupStats {
    all: Summary,
    /// Scan-to-frame less the time the thread waited for a CPU.
    uncontended: Summary,
    /// Scans that waited more than 1 ms for a CPU.
    waited: usize,
    enter: Summary,
    per_key_p50: f64,
    keys_per_scan: f64,
    by_kind: Vec<(&'static str, Summary, (f64, usize))>,
    /// The supplier location, which holds a balance for nearly every item: code, rows, ms.
    worst: (&'static str, usize, f64),
}

fn lookups(db: &Path, wh: &Warehouse, scans: usize, rng: &mut Rng) -> Res<LookupStats> {
    let store = Store::open(db, TERMINAL)?;
    let mut app = App::new(store, Config::default(), Utc::now());
    let mut term = Terminal::new(TestBackend::new(COLS, ROWS))?;
    tui::draw(&mut term, &app)?;
    type_line(&mut app, &mut term, BADGE)?;
    type_line(&mut app, &mut term, PIN)?;
    if !matches!(app.screen(), Screen::Home(_)) {
        return Err(format!("login as {BADGE} failed:\n{}", body_text(&term)).into());
    }
    type_line(&mut app, &mut term, "1")?;
    if !matches!(app.screen(), Screen::Lookup(_)) {
        return Err(format!("could not open Stock lookup:\n{}", body_text(&term)).into());
    }

    let warmup = (scans / 20).clamp(10, 100);
    let mut all = Vec::with_capacity(scans);
    let mut uncontended = Vec::with_capacity(scans);
    let mut waited = 0;
    let mut enter = Vec::with_capacity(scans);
    let mut per_key = Vec::with_capacity(scans * 12);
    let mut keys = 0usize;
    let mut kinds: Vec<(&'static str, Vec<f64>, Vec<usize>)> = Vec::new();
    let mut wrong = Vec::new();
    for n in 0..warmup + scans {
        let scan = pick_scan(rng, wh).ok_or("nothing to scan: the warehouse is empty")?;
        let wait0 = runqueue_wait_ns();
        let t0 = Instant::now();
        let mut t_key = t0;
        for c in scan.code.chars() {
            press(&mut app, &mut term, KeyCode::Char(c))?;
            let now = Instant::now();
            if n >= warmup {
                per_key.push(ms(now - t_key));
            }
            t_key = now;
        }
        press(&mut app, &mut term, KeyCode::Enter)?;
        let t1 = Instant::now();
        let wait = match (wait0, runqueue_wait_ns()) {
            (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
            _ => Duration::ZERO,
        };

        let body = body_text(&term);
        if !body.contains(&scan.expect) && wrong.len() < 5 {
            wrong.push(format!(
                "scan {:?} ({}): expected {:?} in\n{body}",
                scan.code, scan.kind, scan.expect
            ));
        }
        if n < warmup {
            continue;
        }
        let rows = match app.screen() {
            Screen::Lookup(f) => f.answer.as_ref().map_or(0, |a| a.rows.len()),
            _ => 0,
        };
        keys += scan.code.chars().count() + 1;
        all.push(ms(t1 - t0));
        uncontended.push(ms((t1 - t0).saturating_sub(wait)));
        waited += usize::from(wait > Duration::from_millis(1));
        enter.push(ms(t1 - t_key));
        match kinds.iter_mut().find(|(k, _, _)| *k == scan.kind) {
            Some((_, v, r)) => {
                v.push(ms(t1 - t0));
                r.push(rows);
            }
            None => kinds.push((scan.kind, vec![ms(t1 - t0)], vec![rows])),
        }
    }
    if !wrong.is_empty() {
        return Err(format!(
            "lookups did not show what was scanned:\n{}",
            wrong.join("\n")
        )
        .into());
    }
    // Not on the floor's scan list, but nothing stops anyone keying it.
    let t0 = Instant::now();
    type_line(&mut app, &mut term, SUPPLIER)?;
    let worst_ms = ms(t0.elapsed());
    let worst_rows = match app.screen() {
        Screen::Lookup(f) => f.answer.as_ref().map_or(0, |a| a.rows.len()),
        _ => 0,
    };
    println!(
        "lookup sanity: every scanned code's answer was on the frame (checked all {scans} scans)"
    );
    kinds.sort_by_key(|(k, _, _)| *k);
    let by_kind = kinds
        .into_iter()
        .map(|(k, v, r)| {
            let mean = r.iter().sum::<usize>() as f64 / r.len().max(1) as f64;
            let max = r.iter().copied().max().unwrap_or(0);
            (k, Summary::of(v), (mean, max))
        })
        .collect();
    let n = all.len();
    Ok(LookupStats {
        all: Summary::of(all),
        uncontended: Summary::of(uncontended),
        waited,
        enter: Summary::of(enter),
        per_key_p50: Summary::of(per_key).p50,
        keys_per_scan: keys as f64 / n.max(1) as f64,
        by_kind,
        worst: (SUPPLIER, worst_rows, worst_ms),
    })
}

// ------------------------------------------------------------------------------------------
// Durable writes.
// ------------------------------------------------------------------------------------------

/// The physical floor under every saved scan, a one-row insert committed durably (WAL,
/// synchronous FULL), and the app's own durable write, one unit moved back and forth
/// between two storage locations with `Store::move_stock` (plan + record in one
/// transaction). They alternate in blocks of [`BLOCK`] so both sample the disk over the
/// same minutes (its fsync latency wanders on a shared machine) without one commit's
/// flush paying for the other's writes.
fn durable_writes(db: &Path, dir: &Path, wh: &Warehouse) -> Res<(Summary, Summary)> {
    const BLOCK: usize = 50;
    let Some((sku, a, b)) = &wh.move_sample else {
        return Err("no stock at a storage location to move".into());
    };
    let mut store = Store::open(db, TERMINAL)?;
    let conn = rusqlite::Connection::open(dir.join("commit-baseline.db"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")?;
    let mut insert = conn.prepare("INSERT INTO t (v) VALUES (?1)")?;
    // Until the first checkpoint (1,000 pages) every commit also grows the WAL file, and
    // growing costs a file-system journal commit on top of the flush; the app's store is
    // long past that, so the baseline is taken once the WAL is being reused.
    for v in 0..WAL_CYCLE {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        insert.execute([v as i64])?;
        conn.execute_batch("COMMIT")?;
    }
    let mut commits = Vec::with_capacity(COMMITS);
    let mut moves = Vec::with_capacity(COMMITS);
    let mut n = 0usize;
    while commits.len() < COMMITS {
        for k in 0..BLOCK {
            let t = Instant::now();
            conn.execute_batch("BEGIN IMMEDIATE")?;
            insert.execute([(n + k) as i64])?;
            conn.execute_batch("COMMIT")?;
            // The first commit of a block may pay for the other's writes.
            if k > 0 && n > 0 {
                commits.push(ms(t.elapsed()));
            }
        }
        for k in 0..BLOCK {
            let (from, to) = if k % 2 == 0 { (a, b) } else { (b, a) };
            let m = Move {
                sku: sku.clone(),
                lot: String::new(),
                expiry: None,
                from: from.clone(),
                to: to.clone(),
                qty: 1,
                reason: MoveReason::Transfer,
            };
            let t = Instant::now();
            store.move_stock(BADGE, &m)?;
            if k > 0 && n > 0 {
                moves.push(ms(t.elapsed()));
            }
        }
        n += BLOCK;
    }
    commits.truncate(COMMITS);
    moves.truncate(COMMITS);
    Ok((Summary::of(commits), Summary::of(moves)))
}

// ------------------------------------------------------------------------------------------
// The real binary in a pseudo-terminal.
// ------------------------------------------------------------------------------------------

/// The `floorhand` binary of this build: Cargo names it for benches, else it sits next to
/// the `deps` directory the bench runs from.
fn floorhand_binary() -> Res<PathBuf> {
    let path = match option_env!("CARGO_BIN_EXE_floorhand") {
        Some(p) => PathBuf::from(p),
        None => {
            let exe = std::env::current_exe()?;
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .ok_or("cannot tell the target directory from the bench's path")?;
            profile_dir.join(format!("floorhand{}", std::env::consts::EXE_SUFFIX))
        }
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the floorhand binary is not at {}: build it first (cargo build --release), \
             or run this with `cargo bench --bench lookup`",
            path.display()
        )
        .into())
    }
}

struct Pty {
    _master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: mpsc::Receiver<(Instant, Vec<u8>)>,
    screen: vt100::Parser,
    started: Instant,
}

impl Pty {
    /// Start `floorhand --db <db>` in an 80x24 pseudo-terminal with a clean environment:
    /// its data and config directories inside `dir`, no config file.
    fn spawn(bin: &Path, dir: &Path, db: &Path) -> Res<Self> {
        let pair = native_pty_system().openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })?;
        let mut cmd = CommandBuilder::new(bin);
        cmd.arg("--db");
        cmd.arg(db);
        cmd.cwd(dir);
        cmd.env("XDG_DATA_HOME", dir.join("xdg-data"));
        cmd.env("XDG_CONFIG_HOME", dir.join("xdg-config"));
        cmd.env("HOME", dir.join("home"));
        cmd.env("FLOORHAND_CONFIG", dir.join("no-such-config.toml"));
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("FLOORHAND_DB");
        let mut reader = pair.master.try_clone_reader()?;
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let writer = pair.master.take_writer()?;
        let started = Instant::now();
        let child = pair.slave.spawn_command(cmd)?;
        // Only the child holds the terminal's other end now, so reads end when it exits.
        drop(pair.slave);
        Ok(Self {
            _master: pair.master,
            child,
            writer,
            output,
            screen: vt100::Parser::new(ROWS, COLS, 0),
            started,
        })
    }

    /// Feed output to the screen until `ready` holds; the time the output that made it
    /// hold was read.
    fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&vt100::Screen) -> bool,
    ) -> Res<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok((at, bytes)) => {
                    self.screen.process(&bytes);
                    if ready(self.screen.screen()) {
                        return Ok(at);
                    }
                }
                Err(e) => {
                    let status = self.child.try_wait().ok().flatten();
                    return Err(format!(
                        "waiting for {what:?} ({e}; child exit status {status:?}); the screen:\n{}",
                        self.screen.screen().contents()
                    )
                    .into());
                }
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Res<()> {
        self.writer.write_all(bytes)?;
        self.writer.flush()?;
        Ok(())
    }

    fn pid(&self) -> Res<u32> {
        Ok(self
            .child
            .process_id()
            .ok_or("the child has no process id")?)
    }

    /// Ctrl-Q, then wait for the app to exit; killed if it does not within 5 s.
    fn quit(mut self) -> Res<()> {
        self.send(b"\x11")?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            // Keep draining so the child never blocks on a full terminal.
            while self.output.try_recv().is_ok() {}
            std::thread::sleep(Duration::from_millis(2));
        }
        self.child.kill()?;
        self.child.wait()?;
        Err("the app did not quit on Ctrl-Q within 5 s; killed it".into())
    }
}

/// The body rows of the screen (below the title bar and the scan field).
fn body_has(screen: &vt100::Screen, text: &str) -> bool {
    screen.rows(0, COLS).skip(2).any(|row| row.contains(text))
}

struct AppMemory {
    first_frame_mb: f64,
    peak_mb: f64,
    rss_mb: f64,
    /// VmHWM after a lookup of the supplier location as well.
    supplier_peak_mb: f64,
    pty: Summary,
}

/// Start the app, sign in, open Stock lookup and scan SKUs and locations (each different,
/// so each answer is a new frame), then read the app's peak resident memory.
fn app_memory(bin: &Path, dir: &Path, db: &Path, wh: &Warehouse, rng: &mut Rng) -> Res<AppMemory> {
    let mut pty = Pty::spawn(bin, dir, db)?;
    let long = Duration::from_secs(20);
    pty.wait_for(FIRST_FRAME, long, |s| s.contents().contains(FIRST_FRAME))?;
    let pid = pty.pid()?;
    let first_frame_mb = vm_hwm_mb(&pid.to_string())?;
    pty.send(format!("{BADGE}\r").as_bytes())?;
    pty.wait_for("the PIN prompt", long, |s| body_has(s, "key your PIN"))?;
    pty.send(format!("{PIN}\r").as_bytes())?;
    pty.wait_for("the menu", long, |s| body_has(s, "Stock lookup"))?;
    pty.send(b"1\r")?;
    pty.wait_for("the lookup screen", long, |s| {
        body_has(s, "Scan a location")
    })?;

    let mut times = Vec::with_capacity(PTY_SCANS);
    let mut seen = std::collections::HashSet::new();
    while times.len() < PTY_SCANS {
        let code = if rng.chance(50) {
            rng.pick(&wh.items).map(|i| i.sku.clone())
        } else {
            rng.pick(&wh.physical).cloned()
        }
        .ok_or("nothing to scan: the warehouse is empty")?;
        if !seen.insert(code.clone()) {
            continue;
        }
        let t = Instant::now();
        pty.send(format!("{code}\r").as_bytes())?;
        let heading = format!("{code} ");
        let at = pty.wait_for(&code, long, |s| {
            s.rows(0, COLS)
                .skip(2)
                .take(3)
                .any(|row| row.starts_with(&heading))
        })?;
        times.push(ms(at.saturating_duration_since(t)));
    }
    let peak_mb = vm_hwm_mb(&pid.to_string())?;
    let rss_mb = proc_status_mb(&pid.to_string(), "VmRSS:")?;
    // Then the supplier location, which has a balance row for nearly every item.
    pty.send(format!("{SUPPLIER}\r").as_bytes())?;
    let heading = format!("{SUPPLIER} ");
    pty.wait_for(SUPPLIER, long, |s| {
        s.rows(0, COLS)
            .skip(2)
            .take(3)
            .any(|row| row.starts_with(&heading))
    })?;
    let supplier_peak_mb = vm_hwm_mb(&pid.to_string())?;
    pty.quit()?;
    Ok(AppMemory {
        first_frame_mb,
        peak_mb,
        rss_mb,
        supplier_peak_mb,
        pty: Summary::of(times),
    })
}

/// Nanoseconds this thread has spent runnable but waiting for a CPU
/// (`/proc/thread-self/schedstat`, second field).
fn runqueue_wait_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().nth(1)?.parse().ok()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn vm_hwm_mb(pid: &str) -> Res<f64> {
    proc_status_mb(pid, "VmHWM:")
}

/// A `kB` field of `/proc/<pid>/status`, in MB (10^6 bytes).
fn proc_status_mb(pid: &str, field: &str) -> Res<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(kb * 1024.0 / 1e6)
}
