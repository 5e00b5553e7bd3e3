//! The integer ids of locations and items, by code: the keys of the balance table
//! (`stock`, see migration 6).
//!
//! An id never changes once its row is committed (items and locations are never
//! deleted), so a store keeps the ids it has read. An id read inside a transaction that
//! rolls back may have been that transaction's own insert, later given to another code:
//! [`Store::transact`](super::Store) forgets them all then.

use super::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension};
use rustc_hash::{FxHashMap, FxHashSet};

/// Codes missing from the cache above which a lookup reads the whole table in one scan
/// (about 0.3 µs a row) instead of one query per code (about 1.5 µs each).
const READ_ALL_ABOVE: usize = 2_000;

/// A balance's key in `stock`: location id, item id, lot.
pub(super) type StockKey<'a> = (i64, i64, &'a str);

#[derive(Default)]
pub(super) struct Ids {
    locations: Table,
    items: Table,
}

#[derive(Default)]
struct Table {
    ids: FxHashMap<Box<str>, i64>,
}

/// Which table a code belongs to.
#[derive(Clone, Copy)]
enum Kind {
    Location,
    Item,
}

impl Kind {
    fn one(self) -> &'static str {
        match self {
            Kind::Location => "SELECT id FROM locations WHERE code = ?1",
            Kind::Item => "SELECT id FROM items WHERE sku = ?1",
        }
    }

    fn all(self) -> &'static str {
        match self {
            Kind::Location => "SELECT code, id FROM locations",
            Kind::Item => "SELECT sku, id FROM items",
        }
    }

    fn unknown(self, code: &str) -> StoreError {
        StoreError::Rejected(match self {
            Kind::Location => format!("unknown location {code}: nothing was saved"),
            Kind::Item => format!("unknown item {code}: nothing was saved"),
        })
    }
}

impl Table {
    fn get(&mut self, conn: &Connection, kind: Kind, code: &str) -> Result<i64> {
        match self.ids.get(code) {
            Some(id) => Ok(*id),
            None => self
                .read(conn, kind, code)?
                .ok_or_else(|| kind.unknown(code)),
        }
    }

    /// Read one code's id from the store, and keep it.
    fn read(&mut self, conn: &Connection, kind: Kind, code: &str) -> Result<Option<i64>> {
        let id = lookup(conn, kind, code)?;
        if let Some(id) = id {
            self.ids.insert(code.into(), id);
        }
        Ok(id)
    }

    /// Make sure the cache holds every code of `codes` that has a row.
    fn fill<'a>(
        &mut self,
        conn: &Connection,
        kind: Kind,
        codes: impl Iterator<Item = &'a str>,
    ) -> Result<()> {
        let missing: FxHashSet<&str> = codes.filter(|c| !self.ids.contains_key(*c)).collect();
        if missing.len() > READ_ALL_ABOVE {
            let mut stmt = conn.prepare_cached(kind.all())?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let code: String = r.get(0)?;
                self.ids.insert(code.into_boxed_str(), r.get(1)?);
            }
        } else {
            for code in missing {
                self.read(conn, kind, code)?;
            }
        }
        Ok(())
    }
}

/// One code's id, read from the store.
fn lookup(conn: &Connection, kind: Kind, code: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(kind.one())?
        .query_row([code], |r| r.get(0))
        .optional()?)
}

/// The id of the location `code`, read from the store without a cache; a code without a
/// row is refused.
pub(super) fn location_id(conn: &Connection, code: &str) -> Result<i64> {
    lookup(conn, Kind::Location, code)?.ok_or_else(|| Kind::Location.unknown(code))
}

/// The id of the item `sku`, as [`location_id`].
pub(super) fn item_id(conn: &Connection, sku: &str) -> Result<i64> {
    lookup(conn, Kind::Item, sku)?.ok_or_else(|| Kind::Item.unknown(sku))
}

impl Ids {
    /// The id of the location `code`; a code without a row is refused.
    pub fn location(&mut self, conn: &Connection, code: &str) -> Result<i64> {
        self.locations.get(conn, Kind::Location, code)
    }

    /// The id of the item `sku`; a code without a row is refused.
    pub fn item(&mut self, conn: &Connection, sku: &str) -> Result<i64> {
        self.items.get(conn, Kind::Item, sku)
    }

    /// Read the ids of many balances' codes at once, before looking them up one by one.
    pub fn fill<'a>(
        &mut self,
        conn: &Connection,
        keys: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Result<()> {
        self.locations
            .fill(conn, Kind::Location, keys.clone().map(|(l, _)| l))?;
        self.items.fill(conn, Kind::Item, keys.map(|(_, s)| s))
    }

    /// Each balance of `keys`, given by codes, keyed by ids instead, with what it
    /// carries, in key order (so writes walk the balance tree in order). A code without
    /// a row is refused.
    pub fn keyed<'a, T>(
        &mut self,
        conn: &Connection,
        keys: Vec<((&'a str, &'a str, &'a str), T)>,
    ) -> Result<Vec<(StockKey<'a>, T)>> {
        self.fill(conn, keys.iter().map(|((l, s, _), _)| (*l, *s)))?;
        let mut out = Vec::with_capacity(keys.len());
        for ((location, sku, lot), carried) in keys {
            let key = (self.location(conn, location)?, self.item(conn, sku)?, lot);
            out.push((key, carried));
        }
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Forget every id (after a rollback).
    pub fn clear(&mut self) {
        self.locations.ids.clear();
        self.items.ids.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Connection {
        let conn = Connection::open_in_memory().expect("memory store");
        conn.execute_batch(
            "CREATE TABLE locations (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
             CREATE TABLE items (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE);
             INSERT INTO locations (id, code) VALUES (7, 'DOCK'), (9, 'A-1');
             INSERT INTO items (id, sku) VALUES (3, 'S1');",
        )
        .expect("schema");
        conn
    }

    /// A code is read once, then found in the cache; an unknown code is refused by name.
    #[test]
    fn ids_are_read_once_and_unknown_codes_refused() {
        let conn = store();
        let mut ids = Ids::default();
        assert_eq!(ids.location(&conn, "DOCK").ok(), Some(7));
        assert_eq!(ids.item(&conn, "S1").ok(), Some(3));
        conn.execute_batch("UPDATE locations SET id = 8 WHERE code = 'DOCK'")
            .expect("renumber");
        // Cached: the store is not asked again.
        assert_eq!(ids.location(&conn, "DOCK").ok(), Some(7));
        let err = ids.item(&conn, "NOPE").expect_err("unknown");
        assert_eq!(err.to_string(), "unknown item NOPE: nothing was saved");
        ids.clear();
        assert_eq!(ids.location(&conn, "DOCK").ok(), Some(8));
    }

    /// Filling reads every code that has a row, by one query each or by one scan.
    #[test]
    fn fill_reads_known_codes_both_ways() {
        let conn = store();
        let mut many = String::new();
        for i in 0..=READ_ALL_ABOVE {
            many.push_str(&format!("INSERT INTO locations (code) VALUES ('B-{i}');"));
        }
        conn.execute_batch(&many).expect("locations");
        let codes: Vec<String> = (0..=READ_ALL_ABOVE).map(|i| format!("B-{i}")).collect();
        for few in [false, true] {
            let mut ids = Ids::default();
            let keys: Vec<(&str, &str)> = if few {
                vec![("DOCK", "S1"), ("A-1", "S1"), ("GONE", "S1")]
            } else {
                codes.iter().map(|c| (c.as_str(), "S1")).collect()
            };
            ids.fill(&conn, keys.iter().copied()).expect("fill");
            conn.execute_batch("DELETE FROM locations; DELETE FROM items")
                .expect("empty");
            // Everything known was read by the fill; the unknown stays unknown.
            assert_eq!(ids.item(&conn, "S1").ok(), Some(3));
            if few {
                assert_eq!(ids.location(&conn, "A-1").ok(), Some(9));
                assert!(ids.location(&conn, "GONE").is_err());
            } else {
                assert!(ids.location(&conn, &codes[READ_ALL_ABOVE]).is_ok());
                assert_eq!(ids.location(&conn, "DOCK").ok(), Some(7));
            }
            conn.execute_batch(
                "INSERT INTO locations (id, code) VALUES (7, 'DOCK'), (9, 'A-1');
                 INSERT INTO items (id, sku) VALUES (3, 'S1');",
            )
            .expect("refill");
        }
    }
}
