//! What the sync tests share: seeds that can be replayed, a small random generator, the
//! floor that random movements go across and the random movements themselves, and the
//! balances everyone must agree on, read from stores or replayed from a journal.

use super::{TestResult, ensure, from_supplier, mv};
use floorhand::domain::{Event, LocationRole, MoveReason};
use floorhand::store::{Move, StockFilter, StockRow, Store, StoreError};
use std::collections::BTreeMap;

pub const SEED_VAR: &str = "FLOORHAND_SYNC_SEED";

/// The test's seed: `FLOORHAND_SYNC_SEED` or the clock. Printed so a failure can be replayed.
pub fn base_seed(test: &str) -> u64 {
    let seed = std::env::var(SEED_VAR)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("{test}: seed {seed} (replay with {SEED_VAR}={seed})");
    seed
}

/// Run one seeded case; a failure says which seed to replay.
pub fn seeded<T>(test: &str, seed: u64, f: impl FnOnce(u64) -> TestResult<T>) -> TestResult<T> {
    f(seed).map_err(|e| {
        format!("{test} failed with seed {seed} (replay with {SEED_VAR}={seed}): {e}").into()
    })
}

/// SplitMix64: small, good enough, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// lo..=hi.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as usize) as i64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next() >> 11) as f64) / ((1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        v.get(self.below(v.len()))
    }

    pub fn fork(&mut self) -> Self {
        Self::new(self.next())
    }
}

/// No fsync: for stores that are not the ones a test kills or cuts the power of;
/// waiting for the disk would only make the tests slow.
pub fn fast(store: &Store) -> TestResult {
    store
        .connection()
        .pragma_update(None, "synchronous", "OFF")?;
    Ok(())
}

/// Where movements go, from the server's reference data.
pub struct Floor {
    pub docks: Vec<String>,
    /// Storage bins without a capacity limit, so no movement is refused for room.
    pub storage: Vec<String>,
    pub packs: Vec<String>,
    /// Items without lots, for receipts.
    pub skus: Vec<String>,
}

/// The floor of `store`'s warehouse, which must have docks, pack stations, plain items
/// and at least `min_storage` storage bins without a capacity limit.
pub fn floor(store: &Store, min_storage: usize) -> TestResult<Floor> {
    let mut f = Floor {
        docks: Vec::new(),
        storage: Vec::new(),
        packs: Vec::new(),
        skus: Vec::new(),
    };
    for l in store.locations()? {
        match l.role {
            LocationRole::Dock => f.docks.push(l.code),
            LocationRole::Storage if l.capacity.is_none() => f.storage.push(l.code),
            LocationRole::Pack => f.packs.push(l.code),
            _ => {}
        }
    }
    let mut stmt = store
        .connection()
        .prepare("SELECT sku FROM items WHERE lot_tracked = 0 ORDER BY sku LIMIT 12")?;
    f.skus = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ensure!(
        !f.docks.is_empty()
            && f.storage.len() >= min_storage
            && !f.packs.is_empty()
            && !f.skus.is_empty(),
        "the demo warehouse lacks docks, bins, pack stations or plain items"
    );
    Ok(f)
}

/// A balance among `rows` with stock at a location of one of `roles`: most often one of
/// the first few, "hot" ones, so that terminals collide.
pub fn hot_source(rng: &mut Rng, rows: &[StockRow], roles: &[LocationRole]) -> Option<StockRow> {
    let candidates: Vec<_> = rows
        .iter()
        .filter(|r| r.qty > 0 && roles.contains(&r.role))
        .collect();
    let hot = candidates.len().min(6);
    let i = if rng.chance(0.7) {
        rng.below(hot)
    } else {
        rng.below(candidates.len())
    };
    candidates.get(i).map(|r| (*r).clone())
}

/// `qty` of the balance `r` moved from its location to `to`.
pub fn move_from(r: &StockRow, to: &str, qty: i64, reason: MoveReason) -> Move {
    mv(&r.sku, &r.lot, &r.location, to, qty, reason)
}

/// All of `have`, or a random part of it.
pub fn some_of(rng: &mut Rng, have: i64) -> i64 {
    if rng.chance(0.5) {
        have
    } else {
        rng.range(1, have)
    }
}

/// Record `m` by `user`: `true` when recorded, `false` when the terminal refused it.
pub fn try_move(store: &mut Store, user: &str, m: &Move) -> TestResult<bool> {
    match store.move_stock(user, m) {
        Ok(_) => Ok(true),
        Err(StoreError::Rejected(_)) => Ok(false),
        Err(e) => Err(format!("{}: recording {m:?} failed: {e}", store.terminal()).into()),
    }
}

/// What [`random_move`] records, as weights out of their sum (a kind with weight 0 never
/// comes up), each kind by a user whose role may record it.
pub struct Mix {
    /// From the supplier to a dock, by the receiver (1001).
    pub receipt: usize,
    /// From a dock to storage, by the putaway user (1002).
    pub putaway: usize,
    /// Between storage bins and pick faces, by 1002 or the supervisor (1007).
    pub transfer: usize,
    /// From storage or a pick face to a pack station, by the picker (1003).
    pub pick: usize,
    /// From a pack station to the customer, by the packer (1004).
    pub ship: usize,
    /// From storage to LOSS, by the counter (1006).
    pub loss: usize,
    /// The chance that a transfer is by 1002 rather than 1007; at 0 it draws nothing.
    pub transfers_by_putaway: f64,
}

impl Mix {
    fn total(&self) -> usize {
        self.receipt + self.putaway + self.transfer + self.pick + self.ship + self.loss
    }
}

/// One random movement the terminal's own view allows, of a kind `mix` picks. Sources are
/// biased to a few "hot" balances so that terminals collide. Returns whether one was
/// recorded (the terminal may refuse it, e.g. for lack of stock).
pub fn random_move(rng: &mut Rng, store: &mut Store, floor: &Floor, mix: &Mix) -> TestResult<bool> {
    if store.location("SUPPLIER")?.is_none() {
        return Ok(false); // not bootstrapped: it knows no locations yet
    }
    let rows = store.stock(&StockFilter::default())?;
    let source = |rng: &mut Rng, roles: &[LocationRole]| hot_source(rng, &rows, roles);
    let mut roll = rng.below(mix.total());
    let mut is = |weight: usize| {
        let hit = roll < weight;
        roll = roll.saturating_sub(weight);
        hit
    };
    let (user, m) = if is(mix.receipt) {
        let (Some(sku), Some(dock)) = (rng.pick(&floor.skus), rng.pick(&floor.docks)) else {
            return Ok(false);
        };
        ("1001", from_supplier(sku, dock, rng.range(1, 24)))
    } else if is(mix.putaway) {
        let Some(r) = source(rng, &[LocationRole::Dock]) else {
            return Ok(false);
        };
        let Some(to) = rng.pick(&floor.storage) else {
            return Ok(false);
        };
        let qty = some_of(rng, r.qty);
        ("1002", move_from(&r, to, qty, MoveReason::Putaway))
    } else if is(mix.transfer) {
        let Some(r) = source(rng, &[LocationRole::Storage, LocationRole::PickFace]) else {
            return Ok(false);
        };
        let Some(to) = rng.pick(&floor.storage) else {
            return Ok(false);
        };
        if *to == r.location {
            return Ok(false);
        }
        let user = if rng.chance(mix.transfers_by_putaway) {
            "1002"
        } else {
            "1007"
        };
        let qty = some_of(rng, r.qty);
        (user, move_from(&r, to, qty, MoveReason::Transfer))
    } else if is(mix.pick) {
        let Some(r) = source(rng, &[LocationRole::Storage, LocationRole::PickFace]) else {
            return Ok(false);
        };
        let Some(to) = rng.pick(&floor.packs) else {
            return Ok(false);
        };
        let qty = some_of(rng, r.qty);
        ("1003", move_from(&r, to, qty, MoveReason::Pick))
    } else if is(mix.ship) {
        let Some(r) = source(rng, &[LocationRole::Pack]) else {
            return Ok(false);
        };
        let qty = some_of(rng, r.qty);
        ("1004", move_from(&r, "CUSTOMER", qty, MoveReason::Ship))
    } else {
        let Some(r) = source(rng, &[LocationRole::Storage]) else {
            return Ok(false);
        };
        let qty = some_of(rng, r.qty);
        ("1006", move_from(&r, "LOSS", qty, MoveReason::Adjustment))
    };
    try_move(store, user, &m)
}

/// A balance: (location, sku, lot).
pub type Key = (String, String, String);

/// Every non-zero balance, virtual locations included.
pub fn balances(store: &Store) -> TestResult<BTreeMap<Key, i64>> {
    let rows = store.stock(&StockFilter {
        include_virtual: true,
        ..StockFilter::default()
    })?;
    Ok(rows
        .into_iter()
        .filter(|r| r.qty != 0)
        .map(|r| ((r.location, r.sku, r.lot), r.qty))
        .collect())
}

/// A stock movement read back from a journal: its place there (`ord`, the global
/// sequence number on a server) and the balances it takes from and adds to.
pub struct JournalMove {
    pub ord: i64,
    pub from: Key,
    pub to: Key,
    pub qty: i64,
}

/// The stock movements in `store`'s journal up to and including `through`, in journal
/// order.
pub fn journal_moves(store: &Store, through: i64) -> TestResult<Vec<JournalMove>> {
    let mut stmt = store
        .connection()
        .prepare("SELECT ord, payload FROM journal WHERE ord <= ?1 ORDER BY ord")?;
    let mut rows = stmt.query([through])?;
    let mut moves = Vec::new();
    while let Some(r) = rows.next()? {
        let payload: String = r.get(1)?;
        moves.extend(as_move(r.get(0)?, serde_json::from_str(&payload)?));
    }
    Ok(moves)
}

/// `event` at journal row `ord` as a movement, if it is one.
pub fn as_move(ord: i64, event: Event) -> Option<JournalMove> {
    match event {
        Event::StockMoved {
            sku,
            lot,
            from,
            to,
            qty,
            ..
        } => Some(JournalMove {
            ord,
            from: (from, sku.clone(), lot.clone()),
            to: (to, sku, lot),
            qty,
        }),
        _ => None,
    }
}

/// The balances `moves` leave when they start from nothing, zeros removed.
pub fn replay_moves<'a>(moves: impl IntoIterator<Item = &'a JournalMove>) -> BTreeMap<Key, i64> {
    replay_onto(BTreeMap::new(), moves)
}

/// The balances `moves` leave when they start from `base`, zeros removed.
pub fn replay_onto<'a>(
    mut out: BTreeMap<Key, i64>,
    moves: impl IntoIterator<Item = &'a JournalMove>,
) -> BTreeMap<Key, i64> {
    for m in moves {
        *out.entry(m.from.clone()).or_default() -= m.qty;
        *out.entry(m.to.clone()).or_default() += m.qty;
    }
    out.retain(|_, q| *q != 0);
    out
}
