//! Sync benchmark: the real HTTP server in process on 127.0.0.1:0, real terminal stores,
//! everything on loopback.
//!
//! One run, in this order:
//!
//! 1. the physical baseline: a bare durable SQLite commit (WAL, synchronous FULL, one-row
//!    insert) on the same disk, p50 of many;
//! 2. a site built on the server's store through the store API (100,000 items, 20,000
//!    locations, 1,000,000 events; one transaction per 10,000 events), the server started
//!    over it;
//! 3. bootstrap: a fresh terminal enrols and runs its first `client::round` (snapshot,
//!    then pull to head): seconds from the enrolment to caught up, with a breakdown;
//! 4. push: that terminal (A) records 100,000 movements locally (not timed), then one
//!    timed `client::round` pushes them in batches of `MAX_BATCH` over HTTP;
//!    `push_eps` counts until the first pull of that round (the round then pulls its own
//!    events back; that is reported too);
//! 5. pull: another terminal (B1), bootstrapped before A pushed, runs one timed round
//!    until caught up; `pull_eps` = events applied (journal and projections) / time. The
//!    CPU the whole process used meanwhile (server, fetching, applying, and whatever the
//!    server does in the background then) is reported too, a figure less at the mercy of
//!    a shared machine than the time, for comparing builds. With `SYNC_BENCH_PULLERS` =
//!    n, n terminals are bootstrapped and pull in turn, and `pull_eps` is their median
//!    (the lower middle one for an even n). Pullers in one process pull slower than one does
//!    alone (with five, each pull took about 0.95 s of CPU against 0.75 s; why was not
//!    found), so the default is one, as on a terminal;
//! 6. multi: 50 simulated terminals, each enrolled through the API, push batches of 100
//!    concurrently (closed loop, each its next batch as soon as the last is answered):
//!    server events/s and push latency p50/p99.
//!
//! Its last line is
//! `sync: push_eps=.. pull_eps=.. multi_eps=.. multi_p99_ms=.. bootstrap_s=.. ...`
//!
//! Knobs (environment):
//! - `SYNC_BENCH_SCALE` (default 1.0): scales the site, the events pushed and pulled and
//!   the batches per simulated terminal (0.05 for a quick run);
//! - `SYNC_BENCH_PULLERS` (default 1): how many terminals pull, see 5.;
//! - `SYNC_BENCH_DIR`: where the temporary stores go (default: the system temp directory).

mod common;

use chrono::{SecondsFormat, Utc};
use common::{
    CommitBaseline, Recipe, Res, Rng, SITE, SUPPLIER, Sizes, Summary, baseline_connection,
    bench_dir, build_on, env_scale, file_mb, load_average, load_averages, ms, secs,
};
use floorhand::domain::{Event, MoveReason, Role};
use floorhand::server::{AppState, LocalServer, admin};
use floorhand::store::Store;
use floorhand::sync::client::{self, Http, Round, Transport, TransportError};
use floorhand::sync::wire::{
    EnrollRequest, EnrollResponse, MAX_BATCH, PulledPage, PushRequest, PushResponse, PushResult,
    Snapshot, WireEvent,
};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// Events per `Store::record` call (one transaction) while recording on a terminal.
const BUILD_BATCH: usize = common::BATCH;
/// The receiver and the putaway user whose movements terminals push.
const RECEIVER: &str = "7001";
const PUTAWAY: &str = "7002";
/// Simulated terminals in the multi phase, and events per push there.
const MULTI_TERMINALS: usize = 50;
const MULTI_BATCH: usize = 100;
/// Terminal ids: A, which bootstraps and pushes, and the pullers B1, B2, ...
const BOOT: &str = "TA";
const PULLER: &str = "TB";
/// Terminals that pull A's events, one after the other, unless `SYNC_BENCH_PULLERS` says
/// another number; `pull_eps` is the median of their pulls.
const PULLERS: usize = 1;

// Targets and the reference numbers they come from.
const TARGET_PUSH_EPS: f64 = 100_000.0;
const TARGET_PULL_EPS: f64 = 150_000.0;
const TARGET_MULTI_EPS: f64 = 50_000.0;
const TARGET_MULTI_P99_MS: f64 = 100.0;
const TARGET_BOOTSTRAP_S: f64 = 5.0;
const ATUIN_PUSH: f64 = 15_000.0;
const ATUIN_PULL: f64 = 44_000.0;
const POUCHDB: f64 = 2_000.0;

fn main() -> Res<()> {
    let scale = env_scale("SYNC_BENCH_SCALE")?;
    let sizes = SyncSizes::new(scale);
    let n_pullers = common::env_parse("SYNC_BENCH_PULLERS", PULLERS)?.max(1);
    let dir = bench_dir("SYNC_BENCH_DIR", "floorhand-sync-")?;
    println!(
        "bench: scale {scale}: site of {} items, {} locations, {} events; push {} events; \
         {MULTI_TERMINALS} terminals x {} batches of {MULTI_BATCH}; stores in {}",
        sizes.site.items,
        sizes.site.locations,
        sizes.site.events,
        sizes.push,
        sizes.multi_batches,
        dir.path().display()
    );
    println!(
        "machine: {} CPUs, load average {} at the start",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_averages()
    );

    // 1. The physical floor: one durable commit.
    let commit = commits(dir.path(), sizes.commits)?;
    println!(
        "baseline: bare durable SQLite commit (WAL, synchronous=FULL, one-row insert): \
         p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {} commits ({:.0} commits/s at p50)",
        commit.p50,
        commit.p99,
        commit.max,
        commit.n,
        1000.0 / commit.p50.max(1e-9)
    );

    // 2. The site on the server's store, then the server over it.
    let server_db = dir.path().join("server.db");
    let mut rng = Rng::new(0x5eed_5e4c_0001);
    let t = Instant::now();
    let site = build(&server_db, &sizes.site, &mut rng)?;
    let build_s = t.elapsed().as_secs_f64();
    let codes = {
        let mut store = admin::open_store(&server_db)?;
        let now = Utc::now();
        let mut codes = Vec::new();
        for name in std::iter::once(BOOT.to_string())
            .chain((1..=n_pullers).map(|k| format!("{PULLER}{k}")))
            .chain((1..=MULTI_TERMINALS).map(|k| format!("M{k:02}")))
        {
            codes.push(admin::enroll(&mut store, &name, SITE, now)?.code);
        }
        let (events, balances) = server_stats(&store)?;
        println!(
            "build: server site of {} items, {} locations, {events} events ({balances} balances) \
             in {build_s:.2} s ({:.0} events/s, {BUILD_BATCH} per transaction); server store {:.1} MB",
            sizes.site.items,
            site.locations,
            events as f64 / build_s,
            file_mb(&server_db)
        );
        codes
    };
    let mut codes = codes.into_iter();
    let mut next_code = || codes.next().ok_or("not enough enrolment codes");

    let state = AppState::new(admin::open_store(&server_db)?);
    let mut server = LocalServer::start(state.clone())?;
    println!("server: listening on {}", server.url());

    // 3. Bootstrap of a fresh terminal.
    let boot_code = next_code()?;
    let mut a = Store::open(&dir.path().join("ta.db"), BOOT)?;
    let t = Instant::now();
    client::enroll(&mut a, server.url(), &boot_code)?;
    let enrolled = t.elapsed();
    let token_a = a.enrolment()?.ok_or("terminal A is not enrolled")?.token;
    let mut timed = Timed::new(Http::new(server.url(), &token_a));
    let round = client::round(&mut a, &mut timed)?;
    let bootstrap = t.elapsed();
    let bootstrap_s = bootstrap.as_secs_f64();
    if !round.bootstrapped {
        return Err("the first round of a fresh terminal did not bootstrap".into());
    }
    let boot = timed.phases(t)?;
    let (a_balances, a_items, a_locations) = terminal_stats(&a)?;
    println!(
        "bootstrap: {bootstrap_s:.3} s from enrolment to caught up: enrol {:.3} s, snapshot \
         over HTTP {:.3} s, loading it into the store {:.3} s, pull to head {:.3} s \
         ({} events in {} pages); terminal now holds {a_items} items, {a_locations} \
         locations, {a_balances} balances",
        secs(enrolled),
        secs(boot.snapshot),
        secs(boot.apply),
        secs(boot.pull),
        round.pulled,
        timed.pulls
    );
    snapshot_profile(&server_db)?;

    // The pullers, bootstrapped before A pushes (not timed, reported).
    let mut pullers = Vec::with_capacity(n_pullers);
    for k in 1..=n_pullers {
        let code = next_code()?;
        let mut b = Store::open(
            &dir.path().join(format!("tb{k}.db")),
            &format!("{PULLER}{k}"),
        )?;
        let t = Instant::now();
        client::enroll(&mut b, server.url(), &code)?;
        let token = b.enrolment()?.ok_or("a puller is not enrolled")?.token;
        let round = client::round(&mut b, &mut Http::new(server.url(), &token))?;
        println!(
            "bootstrap (puller B{k}): {:.3} s, {} events pulled after the snapshot",
            t.elapsed().as_secs_f64(),
            round.pulled
        );
        pullers.push((b, token));
    }

    // 4. Push: A records the movements locally, then one round pushes them.
    let t = Instant::now();
    let recorded = record_movements(&mut a, &site, sizes.push, &mut rng)?;
    let record_s = t.elapsed().as_secs_f64();
    let pending = a.pending_count()?;
    println!(
        "push: terminal A recorded {recorded} movements locally in {record_s:.2} s \
         ({:.0} events/s, {BUILD_BATCH} per transaction); {pending} pending",
        recorded as f64 / record_s
    );
    let before = ServerPushTime::read(&state);
    let mut timed = Timed::new(Http::new(server.url(), &token_a));
    let t = Instant::now();
    let round_a = client::round(&mut a, &mut timed)?;
    let round_a_s = t.elapsed().as_secs_f64();
    let pushed = timed.phases(t)?;
    let push_s = secs(pushed.push_done);
    let server_push = ServerPushTime::read(&state).since(&before);
    check_round(&round_a, recorded, "push")?;
    if a.pending_count()? != 0 {
        return Err("terminal A still has pending events after its round".into());
    }
    let push_eps = round_a.pushed as f64 / push_s;
    let push_times = timed.push_times();
    let per_push = Summary::of(push_times.ms.clone());
    println!(
        "push: {} events in {} pushes of up to {MAX_BATCH} in {push_s:.3} s = {push_eps:.0} \
         events/s; per push round trip p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.1} \
         pushes in flight on average; in the server per push (waiting for its turn and \
         for the push before it included) mean {:.2} ms",
        round_a.pushed,
        push_times.ms.len(),
        per_push.p50,
        per_push.p99,
        per_push.max,
        push_times.total.as_secs_f64() / push_s,
        server_push.mean_ms(),
    );
    println!(
        "push: the same round then pulled {} events back (its own, marked synced) in {:.3} s; \
         whole round {round_a_s:.3} s",
        timed.pulled_events,
        secs(pushed.pull)
    );

    // 5. Pull: each puller in turn catches up on what A pushed.
    let mut pulls = Vec::with_capacity(n_pullers);
    let mut cpu = Vec::with_capacity(n_pullers);
    let mut pages = Vec::new();
    for (k, (b, token)) in pullers.iter_mut().enumerate() {
        let mut timed_b = Timed::new(Http::new(server.url(), token));
        let cpu0 = common::process_cpu_s();
        let t = Instant::now();
        let round_b = client::round(b, &mut timed_b)?;
        let pull_s = t.elapsed().as_secs_f64();
        let cpu_s = match (cpu0, common::process_cpu_s()) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        };
        if round_b.pulled < recorded {
            return Err(format!(
                "puller B{} applied {} events, fewer than the {recorded} A pushed",
                k + 1,
                round_b.pulled
            )
            .into());
        }
        let eps = round_b.pulled as f64 / pull_s;
        let per_page = Summary::of(timed_b.pull_ms.clone());
        println!(
            "pull: puller B{} applied {} events (journal and projections) in {} pages in \
             {pull_s:.3} s = {eps:.0} events/s; per page HTTP p50 {:.2} ms, p99 {:.2} ms; \
             applying in the store {:.3} s ({:.0}% of the round); CPU {cpu_s:.2} s (server, \
             fetching and applying)",
            k + 1,
            round_b.pulled,
            timed_b.pulls,
            per_page.p50,
            per_page.p99,
            pull_s - timed_b.pull_total.as_secs_f64(),
            100.0 * (pull_s - timed_b.pull_total.as_secs_f64()) / pull_s
        );
        pulls.push(eps);
        cpu.push(cpu_s);
        pages.extend(timed_b.pull_ms);
    }
    let pull_runs = Summary::of(pulls.clone());
    let pull_eps = pull_runs.p50;
    let per_page = Summary::of(pages);
    let pull_cpu = Summary::of(cpu);
    println!(
        "pull: median of {n_pullers} pullers {pull_eps:.0} events/s (lowest {:.0}, highest {:.0}; \
         in the order pulled: {}); CPU per pull p50 {:.2} s",
        pull_runs.min,
        pull_runs.max,
        pulls
            .iter()
            .map(|e| format!("{e:.0}"))
            .collect::<Vec<_>>()
            .join(", "),
        pull_cpu.p50
    );
    let t = Instant::now();
    let digest_a = balances_digest(&a)?;
    for (k, (b, _)) in pullers.iter().enumerate() {
        if balances_digest(b)? != digest_a {
            return Err(
                format!("terminal A and puller B{} disagree on the balances", k + 1).into(),
            );
        }
    }
    println!(
        "pull: A's and every puller's balances agree ({} rows; compared in {:.2} s)",
        digest_a.0,
        t.elapsed().as_secs_f64()
    );
    drop(pullers);

    // 6. Fifty terminals pushing at once.
    let mut multi_codes = Vec::with_capacity(MULTI_TERMINALS);
    for _ in 0..MULTI_TERMINALS {
        multi_codes.push(next_code()?);
    }
    let before = ServerPushTime::read(&state);
    let commits_before = state.metrics().push_commits();
    let multi = multi(
        server.url(),
        multi_codes,
        &site,
        sizes.multi_batches,
        &mut rng,
    )?;
    let server_multi = ServerPushTime::read(&state).since(&before);
    let multi_commits = state.metrics().push_commits() - commits_before;
    let multi_eps = multi.accepted as f64 / multi.secs;
    println!(
        "multi: {MULTI_TERMINALS} terminals pushed {} events ({} accepted) in {} pushes of \
         {MULTI_BATCH} in {:.3} s = {multi_eps:.0} events/s ({:.0} pushes/s); push latency \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; server store time per push (waiting for \
         the store included) mean {:.2} ms; {} store commits ({:.1} pushes per commit)",
        multi.sent,
        multi.accepted,
        multi.latency.n,
        multi.secs,
        multi.latency.n as f64 / multi.secs,
        multi.latency.p50,
        multi.latency.p99,
        multi.latency.max,
        server_multi.mean_ms(),
        multi_commits,
        multi.latency.n as f64 / multi_commits.max(1) as f64
    );
    println!(
        "multi: with {MULTI_TERMINALS} terminals each waiting for its answer, latency is about \
         {MULTI_TERMINALS} / pushes per second (Little's law): {:.1} ms here",
        1000.0 * MULTI_TERMINALS as f64 / (multi.latency.n as f64 / multi.secs)
    );
    server.stop()?;

    // The disk of a shared machine drifts: the baseline again, at the end.
    let commit_end = commits(dir.path(), sizes.commits)?;
    println!(
        "baseline again at the end: durable commit p50 {:.3} ms, p99 {:.3} ms (start: p50 {:.3} ms)",
        commit_end.p50, commit_end.p99, commit.p50
    );

    // Against the baseline and the reference numbers.
    let commit_per_s = 1000.0 / commit.p50.max(1e-9);
    let ceiling = |batch: usize| batch as f64 * commit_per_s;
    println!(
        "compare: commit p50 {:.3} ms; one push of {MAX_BATCH} took {:.2} ms at p50 = {:.1} \
         bare commits; if a batch cost only its commit: push ceiling {:.0} events/s (measured \
         {:.1}% of it), multi ceiling {:.0} events/s at {MULTI_BATCH} per push (measured {:.1}%)",
        commit.p50,
        per_push.p50,
        per_push.p50 / commit.p50.max(1e-9),
        ceiling(MAX_BATCH),
        100.0 * push_eps / ceiling(MAX_BATCH),
        ceiling(MULTI_BATCH),
        100.0 * multi_eps / ceiling(MULTI_BATCH)
    );
    println!(
        "compare: references atuin-server (SQLite) ~{ATUIN_PUSH:.0} records/s push, \
         ~{ATUIN_PULL:.0}/s pull; pouchdb-server ~{POUCHDB:.0} docs/s"
    );
    println!(
        "compare: push {push_eps:.0}/s = {:.2}x atuin push, {:.1}x pouchdb; pull \
         {pull_eps:.0}/s = {:.2}x atuin pull, {:.1}x pouchdb; multi {multi_eps:.0}/s = \
         {:.2}x atuin push, {:.1}x pouchdb",
        push_eps / ATUIN_PUSH,
        push_eps / POUCHDB,
        pull_eps / ATUIN_PULL,
        pull_eps / POUCHDB,
        multi_eps / ATUIN_PUSH,
        multi_eps / POUCHDB
    );
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "targets: push >= {TARGET_PUSH_EPS:.0}/s {} ({:.2}x); pull >= {TARGET_PULL_EPS:.0}/s \
         {} ({:.2}x); multi >= {TARGET_MULTI_EPS:.0}/s {} ({:.2}x) at p99 < \
         {TARGET_MULTI_P99_MS:.0} ms {} ({:.1} ms); bootstrap < {TARGET_BOOTSTRAP_S:.0} s {} \
         ({bootstrap_s:.2} s)",
        verdict(push_eps >= TARGET_PUSH_EPS),
        push_eps / TARGET_PUSH_EPS,
        verdict(pull_eps >= TARGET_PULL_EPS),
        pull_eps / TARGET_PULL_EPS,
        verdict(multi_eps >= TARGET_MULTI_EPS),
        multi_eps / TARGET_MULTI_EPS,
        verdict(multi.latency.p99 < TARGET_MULTI_P99_MS),
        multi.latency.p99,
        verdict(bootstrap_s < TARGET_BOOTSTRAP_S)
    );
    println!("machine: load average {} at the end", load_average());
    println!(
        "sync: push_eps={push_eps:.0} pull_eps={pull_eps:.0} multi_eps={multi_eps:.0} \
         multi_p99_ms={:.1} bootstrap_s={bootstrap_s:.3} multi_p50_ms={:.1} \
         push_p50_ms={:.2} pull_page_p50_ms={:.2} pull_min_eps={:.0} pull_max_eps={:.0} pull_cpu_s={:.2} \
         pullers={n_pullers} commit_p50_ms={:.3} commit_end_p50_ms={:.3} \
         build_s={build_s:.1} scale={scale}",
        multi.latency.p99,
        multi.latency.p50,
        per_push.p50,
        per_page.p50,
        pull_runs.min,
        pull_runs.max,
        pull_cpu.p50,
        commit.p50,
        commit_end.p50
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Sizes and the commit baseline.
// ------------------------------------------------------------------------------------------

/// The shared site sizes and the sync bench's own.
struct SyncSizes {
    site: Sizes,
    push: usize,
    multi_batches: usize,
    commits: usize,
}

impl SyncSizes {
    fn new(scale: f64) -> Self {
        let scaled = |n: f64, min: usize| ((n * scale).round() as usize).max(min);
        Self {
            site: Sizes::new(scale),
            // Pairs of receipt and putaway.
            push: scaled(100_000.0, 1_000) / 2 * 2,
            multi_batches: scaled(20.0, 2),
            commits: scaled(1_000.0, 200),
        }
    }
}

/// The physical floor under every durable write: `n` one-row inserts committed durably,
/// after 20 to warm up.
fn commits(dir: &Path, n: usize) -> Res<Summary> {
    let conn = baseline_connection(&dir.join("commit-baseline.db"))?;
    let mut baseline = CommitBaseline::with_warmup(&conn, 20)?;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        times.push(ms(baseline.commit()?));
    }
    Ok(Summary::of(times))
}

// ------------------------------------------------------------------------------------------
// The site on the server's store.
// ------------------------------------------------------------------------------------------

/// What the terminals need to know about the site to push valid movements.
struct Site {
    locations: usize,
    /// Items that are not lot-tracked (pushed movements carry no lot).
    plain: Vec<String>,
    docks: Vec<String>,
    storage: Vec<String>,
}

/// The site's users: the receiver and the putaway user whose movements terminals push,
/// a picker and a supervisor.
const SITE_USERS: [(&str, &str, Role); 4] = [
    (RECEIVER, "Bench Receiver", Role::Receiver),
    (PUTAWAY, "Bench Putaway", Role::Putaway),
    ("7003", "Bench Picker", Role::Picker),
    ("7004", "Bench Supervisor", Role::Supervisor),
];

/// The shared warehouse on the server's store, recorded by its admin user.
fn build(db: &Path, sizes: &Sizes, rng: &mut Rng) -> Res<Site> {
    let recipe = Recipe {
        recorder: admin::ADMIN_USER,
        users: &SITE_USERS,
        report: false,
    };
    let wh = build_on(admin::open_store(db)?, &recipe, sizes, rng)?;
    Ok(Site {
        locations: wh.locations,
        plain: wh
            .items
            .into_iter()
            .filter(|i| !i.lot_tracked)
            .map(|i| i.sku)
            .collect(),
        docks: wh.docks,
        storage: wh.storage,
    })
}

/// Journal length and balance rows of the server's store.
fn server_stats(store: &Store) -> Res<(i64, i64)> {
    let conn = store.connection();
    let balances: i64 = conn.query_row("SELECT COUNT(*) FROM balances", [], |r| r.get(0))?;
    Ok((store.journal_len()?, balances))
}

/// Balances, items and locations a terminal holds.
fn terminal_stats(store: &Store) -> Res<(i64, i64, i64)> {
    let conn = store.connection();
    let count = |table: &str| -> Res<i64> {
        Ok(conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
    };
    Ok((count("balances")?, count("items")?, count("locations")?))
}

/// Row count and a hash of every balance, to compare two stores. The rows' hashes are
/// summed, so the order the rows come in does not matter (two stores may number their
/// items and locations differently).
fn balances_digest(store: &Store) -> Res<(usize, u64)> {
    let mut stmt = store
        .connection()
        .prepare("SELECT location, sku, lot, qty FROM balances")?;
    let mut rows = stmt.query([])?;
    let (mut sum, mut n) = (0u64, 0);
    while let Some(r) = rows.next()? {
        let mut h = DefaultHasher::new();
        r.get_ref(0)?.as_str()?.hash(&mut h);
        r.get_ref(1)?.as_str()?.hash(&mut h);
        r.get_ref(2)?.as_str()?.hash(&mut h);
        r.get::<_, i64>(3)?.hash(&mut h);
        sum = sum.wrapping_add(h.finish());
        n += 1;
    }
    Ok((n, sum))
}

/// Where the bootstrap's snapshot time goes, measured beside the running server on a
/// connection of its own: building it in the store, encoding and decoding its JSON.
fn snapshot_profile(server_db: &Path) -> Res<()> {
    let mut store = Store::open(server_db, admin::ADMIN_USER)?;
    let t = Instant::now();
    let snapshot = store.snapshot(SITE)?;
    let build = t.elapsed();
    let t = Instant::now();
    let json = serde_json::to_vec(&snapshot)?;
    let encode = t.elapsed();
    let t = Instant::now();
    let back: Snapshot = serde_json::from_slice(&json)?;
    let decode = t.elapsed();
    println!(
        "bootstrap profile: snapshot of {} reference events and {} balances: built in the \
         server's store {:.3} s, JSON {:.1} MB encoded {:.3} s, decoded {:.3} s",
        back.reference.len(),
        back.balances.len(),
        secs(build),
        json.len() as f64 / 1e6,
        secs(encode),
        secs(decode)
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// The server, in process.
// ------------------------------------------------------------------------------------------

/// The server's own count of time spent in the store on pushes (lock wait included),
/// read from its metrics.
#[derive(Clone, Copy, Default)]
struct ServerPushTime {
    secs: f64,
    count: f64,
}

impl ServerPushTime {
    fn read(state: &AppState) -> Self {
        let text = state.metrics().render();
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Self {
            secs: value("floorhand_push_seconds_sum "),
            count: value("floorhand_push_seconds_count "),
        }
    }

    fn since(&self, before: &Self) -> Self {
        Self {
            secs: self.secs - before.secs,
            count: self.count - before.count,
        }
    }

    fn mean_ms(&self) -> f64 {
        if self.count > 0.0 {
            1000.0 * self.secs / self.count
        } else {
            0.0
        }
    }
}

// ------------------------------------------------------------------------------------------
// Terminals.
// ------------------------------------------------------------------------------------------

/// A transport that times what goes through it.
struct Timed<T> {
    inner: T,
    /// Shared with the handles the round pushes through (see `Transport::pipeline`).
    pushes: Arc<Mutex<PushTimes>>,
    pulls: usize,
    pulled_events: usize,
    pull_ms: Vec<f64>,
    pull_total: Duration,
    snapshot_done: Option<Instant>,
    first_pull: Option<Instant>,
    snapshot_took: Duration,
}

/// Round trips of pushes.
#[derive(Debug, Clone, Default)]
struct PushTimes {
    ms: Vec<f64>,
    total: Duration,
}

fn timed_push<T: Transport + ?Sized>(
    inner: &mut T,
    times: &Mutex<PushTimes>,
    request: &PushRequest,
) -> Result<PushResponse, TransportError> {
    let t = Instant::now();
    let out = inner.push(request);
    let took = t.elapsed();
    let mut times = times.lock().unwrap_or_else(|e| e.into_inner());
    times.ms.push(ms(took));
    times.total += took;
    out
}

/// A push handle of a [`Timed`] transport: it times into the same record.
struct TimedPushes {
    inner: Box<dyn Transport + Send>,
    times: Arc<Mutex<PushTimes>>,
}

impl Transport for TimedPushes {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        timed_push(&mut *self.inner, &self.times, request)
    }

    fn pull(
        &mut self,
        after: i64,
        limit: usize,
        wait_secs: u64,
    ) -> Result<PulledPage, TransportError> {
        self.inner.pull(after, limit, wait_secs)
    }

    fn snapshot(&mut self) -> Result<Snapshot, TransportError> {
        self.inner.snapshot()
    }
}

/// Where a round's time went.
struct Phases {
    /// From the start to the first pull: the pushes and everything between them.
    push_done: Duration,
    snapshot: Duration,
    /// From the snapshot's answer to the first pull: loading it into the store.
    apply: Duration,
    /// From the first pull to the end.
    pull: Duration,
}

impl<T: Transport> Timed<T> {
    fn new(inner: T) -> Self {
        Self {
            inner,
            pushes: Arc::default(),
            pulls: 0,
            pulled_events: 0,
            pull_ms: Vec::new(),
            pull_total: Duration::ZERO,
            snapshot_done: None,
            first_pull: None,
            snapshot_took: Duration::ZERO,
        }
    }

    /// Every push's round trip so far, on whichever handle it went.
    fn push_times(&self) -> PushTimes {
        self.pushes
            .lock()
            .map(|t| t.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The phases of a round that started at `start` and has just ended.
    fn phases(&self, start: Instant) -> Res<Phases> {
        let end = Instant::now();
        let first_pull = self.first_pull.ok_or("the round never pulled")?;
        Ok(Phases {
            push_done: first_pull - start,
            snapshot: self.snapshot_took,
            apply: self
                .snapshot_done
                .map_or(Duration::ZERO, |done| first_pull - done),
            pull: end - first_pull,
        })
    }
}

impl<T: Transport> Transport for Timed<T> {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        timed_push(&mut self.inner, &self.pushes, request)
    }

    fn pipeline(&self) -> Option<Box<dyn Transport + Send>> {
        Some(Box::new(TimedPushes {
            inner: self.inner.pipeline()?,
            times: Arc::clone(&self.pushes),
        }))
    }

    fn pull(
        &mut self,
        after: i64,
        limit: usize,
        wait_secs: u64,
    ) -> Result<PulledPage, TransportError> {
        let t = Instant::now();
        self.first_pull.get_or_insert(t);
        let out = self.inner.pull(after, limit, wait_secs);
        let took = t.elapsed();
        self.pulls += 1;
        self.pull_ms.push(ms(took));
        self.pull_total += took;
        if let Ok(page) = &out {
            self.pulled_events += page.events.len();
        }
        out
    }

    fn snapshot(&mut self) -> Result<Snapshot, TransportError> {
        let t = Instant::now();
        let out = self.inner.snapshot();
        self.snapshot_took += t.elapsed();
        self.snapshot_done = Some(Instant::now());
        out
    }

    fn report_pending(&mut self, pending: i64) {
        self.inner.report_pending(pending);
    }
}

fn check_round(round: &Round, expected: usize, what: &str) -> Res<()> {
    if round.pushed != expected || round.rejected != 0 {
        return Err(format!(
            "{what}: {} events pushed, {} rejected; expected {expected} accepted",
            round.pushed, round.rejected
        )
        .into());
    }
    Ok(())
}

/// A receipt from the supplier to a dock and its putaway to storage.
fn receipt_and_putaway(site: &Site, rng: &mut Rng) -> Res<(Event, Event)> {
    let sku = rng.choose(&site.plain)?.clone();
    let dock = rng.choose(&site.docks)?.clone();
    let bin = rng.choose(&site.storage)?.clone();
    let qty = 12 * (1 + rng.below(10) as i64);
    Ok((
        Event::StockMoved {
            sku: sku.clone(),
            lot: String::new(),
            from: SUPPLIER.into(),
            to: dock.clone(),
            qty,
            reason: MoveReason::Receipt,
            receipt: None,
            order: None,
        },
        Event::StockMoved {
            sku,
            lot: String::new(),
            from: dock,
            to: bin,
            qty,
            reason: MoveReason::Putaway,
            receipt: None,
            order: None,
        },
    ))
}

/// Record `n` movements on a terminal: receipts by the receiver, then their putaways by
/// the putaway user, in transactions of `BUILD_BATCH`.
fn record_movements(store: &mut Store, site: &Site, n: usize, rng: &mut Rng) -> Res<usize> {
    let mut done = 0;
    while done < n {
        let pairs = (n - done).min(BUILD_BATCH) / 2;
        if pairs == 0 {
            break;
        }
        let mut receipts = Vec::with_capacity(pairs);
        let mut putaways = Vec::with_capacity(pairs);
        for _ in 0..pairs {
            let (r, p) = receipt_and_putaway(site, rng)?;
            receipts.push(r);
            putaways.push(p);
        }
        store.record(RECEIVER, &receipts)?;
        store.record(PUTAWAY, &putaways)?;
        done += pairs * 2;
    }
    Ok(done)
}

struct Multi {
    sent: usize,
    accepted: usize,
    secs: f64,
    latency: Summary,
}

/// One simulated terminal's work: its token and its batches, ready to send.
struct Simulated {
    token: String,
    batches: Vec<PushRequest>,
}

/// Enrol the simulated terminals through the API, prepare their batches (gapless
/// sequences from 1), then let them all push at once.
fn multi(base: &str, codes: Vec<String>, site: &Site, batches: usize, rng: &mut Rng) -> Res<Multi> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    );
    let at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut terminals = Vec::with_capacity(codes.len());
    for code in codes {
        let enrolled: EnrollResponse = agent
            .post(format!("{base}/v1/enroll"))
            .send_json(EnrollRequest { code })?
            .body_mut()
            .read_json()?;
        let mut seq = 0;
        let mut requests = Vec::with_capacity(batches);
        for _ in 0..batches {
            let mut events = Vec::with_capacity(MULTI_BATCH);
            while events.len() + 2 <= MULTI_BATCH {
                let (r, p) = receipt_and_putaway(site, rng)?;
                for (user, event) in [(RECEIVER, r), (PUTAWAY, p)] {
                    seq += 1;
                    events.push(WireEvent {
                        id: uuid::Uuid::now_v7().to_string(),
                        terminal: enrolled.terminal.clone(),
                        seq,
                        user: user.into(),
                        at: at.clone(),
                        event,
                    });
                }
            }
            requests.push(PushRequest { events });
        }
        terminals.push(Simulated {
            token: enrolled.token,
            batches: requests,
        });
    }
    let sent = terminals
        .iter()
        .flat_map(|t| &t.batches)
        .map(|b| b.events.len())
        .sum();
    let barrier = Arc::new(Barrier::new(terminals.len() + 1));
    let mut threads = Vec::with_capacity(terminals.len());
    for sim in terminals {
        let barrier = Arc::clone(&barrier);
        let mut http = Http::new(base, &sim.token);
        threads.push(std::thread::spawn(move || -> Res<(usize, Vec<f64>)> {
            let mut accepted = 0;
            let mut times = Vec::with_capacity(sim.batches.len());
            barrier.wait();
            for request in &sim.batches {
                let t = Instant::now();
                let answer = http.push(request)?;
                times.push(ms(t.elapsed()));
                accepted += answer
                    .results
                    .iter()
                    .filter(|r| matches!(r, PushResult::Accepted { .. }))
                    .count();
            }
            Ok((accepted, times))
        }));
    }
    barrier.wait();
    let t = Instant::now();
    let mut accepted = 0;
    let mut times = Vec::new();
    for thread in threads {
        let (a, ts) = thread
            .join()
            .map_err(|_| "a simulated terminal panicked")??;
        accepted += a;
        times.extend(ts);
    }
    let secs = t.elapsed().as_secs_f64();
    if accepted != sent {
        return Err(format!("multi: {accepted} of {sent} events accepted").into());
    }
    Ok(Multi {
        sent,
        accepted,
        secs,
        latency: Summary::of(times),
    })
}
