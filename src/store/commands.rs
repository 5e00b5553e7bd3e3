//! Commands: validate a request against the rules and the current state, then record the
//! events it causes. A refused request writes nothing and says why.

use super::queries::ItemRules;
use super::{Balances, Recorded, Result, Store, StoreError};
use crate::domain::orders::{self, OrderRef};
use crate::domain::{
    Event, Item, Location, LocationKind, LoginFailure, MAX_MOVE_QTY, MoveReason, Role, User, auth,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::time::Duration;

/// A request to move stock between two locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub sku: String,
    /// Empty for items that are not lot-tracked.
    pub lot: String,
    /// Expiry of a lot seen for the first time.
    pub expiry: Option<NaiveDate>,
    pub from: String,
    pub to: String,
    pub qty: i64,
    pub reason: MoveReason,
    /// The customer order line this movement picks or ships for.
    pub order: Option<OrderRef>,
}

/// The answer to a login attempt. Every attempt is journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Success(User),
    UnknownBadge,
    Disabled,
    /// Locked after too many wrong PINs; a supervisor must unlock it.
    Locked,
    /// Wrong PIN; `wait` is how long the next attempt must wait.
    WrongPin {
        attempts_left: u32,
        wait: Duration,
    },
    /// Tried again too soon after a wrong PIN; the PIN was not checked.
    TooSoon {
        wait: Duration,
    },
}

impl Store {
    /// Check a movement against the rules and the stock, and the events it causes.
    pub fn plan_move(&self, m: &Move) -> Result<Vec<Event>> {
        check_qty(m)?;
        let item = self
            .item_rules(&m.sku)?
            .ok_or_else(|| reject(format!("not found: {}", m.sku)))?;
        let from = self.existing_location(&m.from)?;
        let to = self.existing_location(&m.to)?;
        self.plan_move_with(m, &item, &from, &to, None)
    }

    /// [`Store::plan_move`] with the item and both locations already read (by a caller
    /// that checked them for rules of its own), and whether the lot is known when the
    /// caller read that too. The same checks in the same order; `check_qty` and the
    /// existence of the item and locations are the caller's.
    pub(super) fn plan_move_with(
        &self,
        m: &Move,
        item: &ItemRules,
        from: &Location,
        to: &Location,
        lot_known: Option<bool>,
    ) -> Result<Vec<Event>> {
        if from.code == to.code {
            return Err(reject(format!("from and to are both {}", from.code)));
        }
        let mut events = Vec::new();
        if item.lot_tracked {
            if m.lot.is_empty() {
                return Err(reject(format!(
                    "{} is lot-tracked: scan or key the lot",
                    item.sku
                )));
            }
            let known = match lot_known {
                Some(known) => known,
                None => self.lot(&item.sku, &m.lot)?.is_some(),
            };
            if !known {
                if item.expiry_tracked && m.expiry.is_none() {
                    return Err(reject(format!(
                        "{} lot {} is new: key its expiry date",
                        item.sku, m.lot
                    )));
                }
                events.push(Event::LotDefined {
                    sku: item.sku.clone(),
                    lot: m.lot.clone(),
                    expiry: m.expiry,
                });
            }
        } else if !m.lot.is_empty() {
            return Err(reject(format!(
                "{} is not lot-tracked: no lot needed",
                item.sku
            )));
        }
        if from.kind == LocationKind::Physical {
            let have = self.balance(&from.code, &item.sku, &m.lot)?;
            if have < m.qty {
                return Err(reject(format!(
                    "only {have} {} of {} at {}",
                    item.base_unit, item.sku, from.code
                )));
            }
        }
        if let Some(cap) = to.capacity.filter(|_| to.kind == LocationKind::Physical) {
            let room = cap - self.location_load(&to.code)?;
            if m.qty > room {
                return Err(reject(format!(
                    "{} has room for {} only",
                    to.code,
                    room.max(0)
                )));
            }
        }
        if let Some(at) = &m.order {
            let line = self
                .order_line(at)?
                .ok_or_else(|| reject(format!("not found: order {} line {}", at.order, at.line)))?;
            // The floor end of the movement says which site it is in.
            let site = if from.kind == LocationKind::Physical {
                &from.site
            } else {
                &to.site
            };
            let delta = orders::progress(from.role, to.role, m.qty);
            orders::check_move(at, &line, &item.sku, site, m.reason, delta).map_err(reject)?;
        }
        events.push(Event::StockMoved {
            sku: item.sku.clone(),
            lot: m.lot.clone(),
            from: from.code.clone(),
            to: to.code.clone(),
            qty: m.qty,
            reason: m.reason,
            receipt: None,
            order: m.order.clone(),
        });
        Ok(events)
    }

    /// Validate and record one movement, in one transaction.
    pub fn move_stock(&mut self, user: &str, m: &Move) -> Result<Vec<Recorded>> {
        self.move_batch(user, std::slice::from_ref(m))
    }

    pub(super) fn existing_location(&self, code: &str) -> Result<Location> {
        self.location(code)?
            .ok_or_else(|| reject(format!("not found: {code}")))
    }

    /// Check a badge and PIN, journal the attempt and apply the lockout rules.
    pub fn login(&mut self, badge: &str, pin: &str, now: DateTime<Utc>) -> Result<LoginOutcome> {
        let Some(rec) = self.user(badge)? else {
            self.record_login_failure(badge, LoginFailure::UnknownBadge, now)?;
            return Ok(LoginOutcome::UnknownBadge);
        };
        if rec.user.disabled {
            self.record_login_failure(badge, LoginFailure::Disabled, now)?;
            return Ok(LoginOutcome::Disabled);
        }
        if rec.locked {
            self.record_login_failure(badge, LoginFailure::Locked, now)?;
            return Ok(LoginOutcome::Locked);
        }
        let delay = auth::retry_delay(rec.failed_attempts);
        if let Some(last) = rec.last_failed_at {
            let ready = last + chrono::Duration::from_std(delay).unwrap_or_default();
            if now < ready {
                self.record_login_failure(badge, LoginFailure::TooSoon, now)?;
                let wait = (ready - now).to_std().unwrap_or_default();
                return Ok(LoginOutcome::TooSoon {
                    wait: round_up(wait),
                });
            }
        }
        if auth::verify_pin(pin, &rec.user.pin_hash) {
            self.record_at(
                badge,
                &[Event::LoginSucceeded {
                    badge: badge.into(),
                }],
                now,
            )?;
            return Ok(LoginOutcome::Success(rec.user));
        }
        let failures = rec.failed_attempts + 1;
        let mut events = vec![Event::LoginFailed {
            badge: badge.into(),
            failure: LoginFailure::WrongPin,
        }];
        if failures >= auth::LOCK_AFTER {
            events.push(Event::BadgeLocked {
                badge: badge.into(),
            });
        }
        self.record_at(badge, &events, now)?;
        if failures >= auth::LOCK_AFTER {
            return Ok(LoginOutcome::Locked);
        }
        Ok(LoginOutcome::WrongPin {
            attempts_left: auth::LOCK_AFTER - failures,
            wait: auth::retry_delay(failures),
        })
    }

    fn record_login_failure(
        &mut self,
        badge: &str,
        failure: LoginFailure,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let badge = crate::domain::scan::sanitize(badge);
        self.record_at(
            &badge,
            &[Event::LoginFailed {
                badge: badge.clone(),
                failure,
            }],
            now,
        )?;
        Ok(())
    }

    pub fn logout(&mut self, badge: &str, idle: bool) -> Result<()> {
        self.record(
            badge,
            &[Event::LoggedOut {
                badge: badge.into(),
                idle,
            }],
        )?;
        Ok(())
    }

    /// Unlock a badge locked by wrong PINs. `by` must be a supervisor or admin when a
    /// person does it on the floor; the CLI passes the system user.
    pub fn unlock(&mut self, badge: &str, by: &str) -> Result<()> {
        let rec = self
            .user(badge)?
            .ok_or_else(|| reject(format!("not found: badge {badge}")))?;
        if !rec.locked && rec.failed_attempts == 0 {
            return Err(reject(format!("badge {badge} is not locked")));
        }
        self.record(
            by,
            &[Event::BadgeUnlocked {
                badge: badge.into(),
                by: by.into(),
            }],
        )?;
        Ok(())
    }

    /// Create or replace users, hashing their PINs. All or nothing.
    pub fn add_users(&mut self, by: &str, users: &[NewUser]) -> Result<()> {
        let mut events = Vec::with_capacity(users.len());
        for u in users {
            if u.roles.is_empty() {
                return Err(reject(format!("badge {}: give at least one role", u.badge)));
            }
            let pin_hash =
                auth::hash_pin(&u.pin).map_err(|e| reject(format!("badge {}: {e}", u.badge)))?;
            events.push(Event::UserDefined {
                badge: u.badge.clone(),
                name: u.name.clone(),
                roles: u.roles.clone(),
                pin_hash,
            });
        }
        self.record(by, &events)?;
        Ok(())
    }

    /// Create or replace items. A GTIN may belong to one item only. All or nothing.
    pub fn define_items(&mut self, by: &str, items: &[Item]) -> Result<()> {
        let mut owner: HashMap<&str, &str> = HashMap::new();
        for item in items {
            for g in &item.gtins {
                if let Some(other) = owner.insert(&g.gtin, &item.sku).filter(|o| *o != item.sku) {
                    return Err(reject(format!(
                        "GTIN {} is on both {other} and {}",
                        g.gtin, item.sku
                    )));
                }
                if let Some((existing, _)) = self.item_by_gtin(&g.gtin)?
                    && existing.sku != item.sku
                {
                    return Err(reject(format!(
                        "GTIN {} already belongs to {}",
                        g.gtin, existing.sku
                    )));
                }
            }
        }
        let events: Vec<Event> = items
            .iter()
            .map(|item| Event::ItemDefined { item: item.clone() })
            .collect();
        self.record(by, &events)?;
        Ok(())
    }

    /// Create or replace locations. All or nothing.
    pub fn define_locations(&mut self, by: &str, locations: &[Location]) -> Result<()> {
        let events: Vec<Event> = locations
            .iter()
            .map(|l| Event::LocationDefined {
                location: l.clone(),
            })
            .collect();
        self.record(by, &events)?;
        Ok(())
    }

    /// Record several movements in one transaction, each checked against the stock as
    /// left by the ones before it. All or nothing.
    ///
    /// On a server store, whose balances follow the journal, the balances are brought to
    /// the head first and these movements update them as they go (the mark moves with
    /// them), so the checks see current stock there too.
    pub fn move_batch(&mut self, user: &str, moves: &[Move]) -> Result<Vec<Recorded>> {
        let now = Utc::now();
        let projected = self.projects_balances();
        if projected {
            self.catch_up()?;
        }
        let out = self.transact(|s| {
            if projected && s.projected_through()? != Some(s.head()?) {
                return Err(StoreError::Busy);
            }
            let mut out = Vec::with_capacity(moves.len());
            for m in moves {
                let events = s.plan_move(m)?;
                out.extend(super::record_in(
                    &s.conn,
                    Balances::Now,
                    &s.terminal,
                    user,
                    now,
                    &events,
                )?);
            }
            if projected {
                s.move_mark_to_head()?;
            }
            Ok(out)
        });
        if projected {
            self.forget_fold();
        }
        out
    }
}

/// A user to create, with the PIN in clear (it is hashed before anything is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub badge: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub pin: String,
}

fn reject(msg: String) -> StoreError {
    StoreError::Rejected(msg)
}

/// The first rule of every movement: a quantity in range.
pub(super) fn check_qty(m: &Move) -> Result<()> {
    if m.qty <= 0 || m.qty > MAX_MOVE_QTY {
        return Err(reject(format!(
            "quantity {} is out of range: enter 1 to {MAX_MOVE_QTY}",
            m.qty
        )));
    }
    Ok(())
}

fn round_up(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs() + u64::from(d.subsec_nanos() > 0))
}
