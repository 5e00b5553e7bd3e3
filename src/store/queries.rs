//! Read-only queries used by flows and commands.

use super::{Result, Store, StoreError};
use crate::domain::orders::{LineProgress, OrderRef};
use crate::domain::{
    AbcClass, Item, ItemGtin, Location, LocationKind, LocationRole, Lot, Role, User,
    item::normalize_gtin,
};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

/// One balance row, joined with what a screen needs to show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockRow {
    pub location: String,
    pub role: LocationRole,
    pub sku: String,
    pub description: String,
    pub base_unit: String,
    /// Empty for items that are not lot-tracked.
    pub lot: String,
    pub expiry: Option<NaiveDate>,
    pub qty: i64,
    /// Whether this stock may be sold (storage and pick faces only).
    pub available: bool,
}

/// Which balances to list. Empty fields match everything; virtual locations (supplier,
/// customer, loss ...) are left out unless asked for.
#[derive(Debug, Clone, Default)]
pub struct StockFilter {
    pub sku: Option<String>,
    pub location: Option<String>,
    pub lot: Option<String>,
    pub include_virtual: bool,
    /// List at most this many rows.
    pub limit: Option<usize>,
}

/// A user with the state of their badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    pub failed_attempts: u32,
    pub last_failed_at: Option<DateTime<Utc>>,
    pub locked: bool,
}

/// What a scanned or typed code turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Location(Location),
    /// An item, by SKU (pack 1) or by one of its GTINs with that GTIN's pack quantity.
    Item {
        item: Item,
        pack_qty: i64,
    },
    /// A lot code; the same code may be used by several items.
    Lots(Vec<Lot>),
    Nothing,
}

/// What the rules of a movement need to know of an item (no GTINs, no description).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ItemRules {
    pub sku: String,
    pub base_unit: String,
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
}

impl Store {
    /// A customer order line and how far it has come; `None` when there is no such line.
    pub fn order_line(&self, at: &OrderRef) -> Result<Option<LineProgress>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT site, sku, qty, picked, shipped FROM customer_orders
                 WHERE order_no = ?1 AND line = ?2",
            )?
            .query_row(params![at.order, at.line], |r| {
                Ok(LineProgress {
                    site: r.get(0)?,
                    sku: r.get(1)?,
                    qty: r.get(2)?,
                    picked: r.get(3)?,
                    shipped: r.get(4)?,
                })
            })
            .optional()?)
    }

    pub(super) fn item_rules(&self, sku: &str) -> Result<Option<ItemRules>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT sku, base_unit, lot_tracked, expiry_tracked FROM items WHERE sku = ?1",
            )?
            .query_row([sku], |r| {
                Ok(ItemRules {
                    sku: r.get(0)?,
                    base_unit: r.get(1)?,
                    lot_tracked: r.get(2)?,
                    expiry_tracked: r.get(3)?,
                })
            })
            .optional()?)
    }

    pub fn item(&self, sku: &str) -> Result<Option<Item>> {
        let Some(mut item) = self
            .conn
            .prepare_cached(
                "SELECT sku, description, base_unit, lot_tracked, expiry_tracked,
                        shelf_life_days, abc, unit_cost_cents, category
                 FROM items WHERE sku = ?1",
            )?
            .query_row([sku], item_from_row)
            .optional()?
        else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT gtin, pack_qty FROM gtins WHERE sku = ?1 ORDER BY pack_qty, gtin",
        )?;
        item.gtins = stmt
            .query_map([sku], |r| {
                Ok(ItemGtin {
                    gtin: r.get(0)?,
                    pack_qty: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(item))
    }

    /// The item and pack quantity behind a GTIN in any of its 8/12/13/14-digit forms.
    pub fn item_by_gtin(&self, code: &str) -> Result<Option<(Item, i64)>> {
        let Some(gtin) = normalize_gtin(code) else {
            return Ok(None);
        };
        let hit: Option<(String, i64)> = self
            .conn
            .prepare_cached("SELECT sku, pack_qty FROM gtins WHERE gtin = ?1")?
            .query_row([gtin], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match hit {
            Some((sku, pack)) => Ok(self.item(&sku)?.map(|i| (i, pack))),
            None => Ok(None),
        }
    }

    pub fn location(&self, code: &str) -> Result<Option<Location>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT code, site, zone, kind, role, pick_seq, check_digits, capacity
                 FROM locations WHERE code = ?1",
            )?
            .query_row([code], location_from_row)
            .optional()?)
    }

    /// The first location of a role at a site, by code.
    pub(super) fn first_location(
        &self,
        site: &str,
        role: LocationRole,
    ) -> Result<Option<Location>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT code, site, zone, kind, role, pick_seq, check_digits, capacity
                 FROM locations WHERE site = ?1 AND role = ?2 ORDER BY code LIMIT 1",
            )?
            .query_row([site, role.as_str()], location_from_row)
            .optional()?)
    }

    pub fn locations(&self) -> Result<Vec<Location>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT code, site, zone, kind, role, pick_seq, check_digits, capacity
             FROM locations ORDER BY code",
        )?;
        let rows = stmt.query_map([], location_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every lot with this code, whatever the item.
    pub fn lots_by_code(&self, code: &str) -> Result<Vec<Lot>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT sku, code, expiry FROM lots WHERE code = ?1 ORDER BY sku")?;
        let rows = stmt.query_map([code], |r| {
            Ok(Lot {
                sku: r.get(0)?,
                code: r.get(1)?,
                expiry: parse_date(r.get::<_, Option<String>>(2)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn lot(&self, sku: &str, code: &str) -> Result<Option<Lot>> {
        Ok(self
            .conn
            .prepare_cached("SELECT sku, code, expiry FROM lots WHERE sku = ?1 AND code = ?2")?
            .query_row([sku, code], |r| {
                Ok(Lot {
                    sku: r.get(0)?,
                    code: r.get(1)?,
                    expiry: parse_date(r.get::<_, Option<String>>(2)?),
                })
            })
            .optional()?)
    }

    /// What a code is, tried in this order: location code, SKU, GTIN, lot code.
    pub fn find_code(&self, code: &str) -> Result<Found> {
        if let Some(l) = self.location(code)? {
            return Ok(Found::Location(l));
        }
        if let Some(item) = self.item(code)? {
            return Ok(Found::Item { item, pack_qty: 1 });
        }
        if let Some((item, pack_qty)) = self.item_by_gtin(code)? {
            return Ok(Found::Item { item, pack_qty });
        }
        let lots = self.lots_by_code(code)?;
        if !lots.is_empty() {
            return Ok(Found::Lots(lots));
        }
        Ok(Found::Nothing)
    }

    /// Balances matching the filter, by location code then item then lot.
    pub fn stock(&self, f: &StockFilter) -> Result<Vec<StockRow>> {
        // Only the filters given go into the WHERE clause, so SQLite uses the primary key
        // (by location) or the item index (by item and lot): `(?1 IS NULL OR i.sku = ?1)`
        // would scan every balance. One cached statement per combination of filters.
        // Without an item, the locations are read in code order (CROSS JOIN keeps them
        // outermost), so a listing with a limit stops early instead of sorting them all.
        let (from, items) = if f.sku.is_some() {
            (
                "stock s JOIN locations l ON l.id = s.location_id",
                "JOIN items i ON i.id = s.item_id",
            )
        } else if self.walk_items_for(f)? {
            (
                "locations l CROSS JOIN items i CROSS JOIN stock s
                 ON s.location_id = l.id AND s.item_id = i.id",
                "",
            )
        } else {
            (
                "locations l CROSS JOIN stock s ON s.location_id = l.id",
                "JOIN items i ON i.id = s.item_id",
            )
        };
        let mut sql = format!(
            "SELECT l.code, l.role, i.sku, i.description, i.base_unit, s.lot, lo.expiry, s.qty
             FROM {from}
             {items}
             LEFT JOIN lots lo ON lo.sku = i.sku AND lo.code = s.lot
             WHERE (?4 OR l.kind = 'physical')"
        );
        for (given, clause) in [
            (f.sku.is_some(), " AND i.sku = ?1"),
            (f.location.is_some(), " AND l.code = ?2"),
            (f.lot.is_some(), " AND s.lot = ?3"),
        ] {
            if given {
                sql.push_str(clause);
            }
        }
        sql.push_str(" ORDER BY l.code, i.sku, s.lot");
        if let Some(n) = f.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![f.sku, f.location, f.lot, f.include_virtual], |r| {
            let role: String = r.get(1)?;
            Ok((
                role,
                r.get(0)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (role, location, sku, description, base_unit, lot, expiry, qty) = row?;
            let role = LocationRole::parse(&role)
                .ok_or_else(|| StoreError::Rejected(format!("unknown location role {role}")))?;
            out.push(StockRow {
                location,
                role,
                sku,
                description,
                base_unit,
                lot,
                expiry: parse_date(expiry),
                qty,
                available: role.is_available(),
            });
        }
        Ok(out)
    }

    /// Whether to list a location's balances by walking the items in sku order, rather
    /// than reading all its balances and sorting them (`stock` is keyed by item id, not
    /// sku). Only for a listing with a limit, and only when the location holds so many
    /// balances (a supplier location holds one per item) that the walk, about
    /// `limit * items / held` items long, is the shorter of the two: when `held` is over
    /// `sqrt(2 * limit * items)`. The balances are counted only that far.
    fn walk_items_for(&self, f: &StockFilter) -> Result<bool> {
        let (Some(location), Some(limit)) = (&f.location, f.limit) else {
            return Ok(false);
        };
        let items: i64 = self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM items")?
            .query_row([], |r| r.get(0))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let enough = limit.saturating_mul(items).saturating_mul(2).isqrt();
        let held: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM (SELECT 1 FROM stock
                 WHERE location_id = (SELECT id FROM locations WHERE code = ?1) LIMIT ?2)",
            )?
            .query_row(params![location, enough.saturating_add(1)], |r| r.get(0))?;
        Ok(held > enough)
    }

    /// On-hand quantity of one (location, item, lot); zero when there is no balance.
    pub fn balance(&self, location: &str, sku: &str, lot: &str) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT qty FROM balances WHERE location = ?1 AND sku = ?2 AND lot = ?3",
            )?
            .query_row([location, sku, lot], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// How many balances a location holds.
    pub fn balance_rows(&self, location: &str) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM stock
                 WHERE location_id = (SELECT id FROM locations WHERE code = ?1)",
            )?
            .query_row([location], |r| r.get(0))?)
    }

    /// Total on hand at a location, all items.
    pub fn location_load(&self, location: &str) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COALESCE(SUM(qty), 0) FROM stock
                 WHERE location_id = (SELECT id FROM locations WHERE code = ?1)",
            )?
            .query_row([location], |r| r.get(0))?)
    }

    pub fn user(&self, badge: &str) -> Result<Option<UserRecord>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT badge, name, roles, pin_hash, disabled, failed_attempts, last_failed_at, locked
                 FROM users WHERE badge = ?1",
            )?
            .query_row([badge], user_from_row)
            .optional()?)
    }

    pub fn users(&self) -> Result<Vec<UserRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT badge, name, roles, pin_hash, disabled, failed_attempts, last_failed_at, locked
             FROM users ORDER BY badge",
        )?;
        let rows = stmt.query_map([], user_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Number of events in the journal.
    pub fn journal_len(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM journal", [], |r| r.get(0))?)
    }

    /// The kinds of the last `n` journal events, newest last (for tests and audits).
    pub fn journal_tail(&self, n: i64) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT user, kind, payload FROM (SELECT ord, user, kind, payload FROM journal
             ORDER BY ord DESC LIMIT ?1) ORDER BY ord",
        )?;
        let rows = stmt.query_map([n], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn parse_date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| s.parse().ok())
}

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<Item> {
    let abc: String = r.get(6)?;
    Ok(Item {
        sku: r.get(0)?,
        description: r.get(1)?,
        base_unit: r.get(2)?,
        gtins: Vec::new(),
        lot_tracked: r.get(3)?,
        expiry_tracked: r.get(4)?,
        shelf_life_days: r.get(5)?,
        abc: AbcClass::parse(&abc).unwrap_or(AbcClass::C),
        unit_cost_cents: r.get(7)?,
        category: r.get(8)?,
    })
}

fn location_from_row(r: &Row<'_>) -> rusqlite::Result<Location> {
    let kind: String = r.get(3)?;
    let role: String = r.get(4)?;
    let role = LocationRole::parse(&role).unwrap_or(LocationRole::Storage);
    Ok(Location {
        code: r.get(0)?,
        site: r.get(1)?,
        zone: r.get(2)?,
        kind: LocationKind::parse(&kind).unwrap_or(role.kind()),
        role,
        pick_seq: r.get(5)?,
        check_digits: r.get(6)?,
        capacity: r.get(7)?,
    })
}

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let roles: String = r.get(2)?;
    let last: Option<String> = r.get(6)?;
    Ok(UserRecord {
        user: User {
            badge: r.get(0)?,
            name: r.get(1)?,
            roles: roles.split(',').filter_map(Role::parse).collect(),
            pin_hash: r.get(3)?,
            disabled: r.get(4)?,
        },
        failed_attempts: r.get(5)?,
        last_failed_at: last
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|d| d.with_timezone(&Utc)),
        locked: r.get(7)?,
    })
}
