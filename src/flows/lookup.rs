//! Stock lookup: scan a location, an item (SKU or any GTIN) or a lot, see what is on hand
//! where, and whether it is available.

use super::{Effect, Input, Notice, refuse};
use crate::domain::{LocationRole, scan};
use crate::store::{Found, StockFilter, StockRow, Store, StoreError};
use chrono::NaiveDate;

/// What the scanned code turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Item {
        sku: String,
        description: String,
        base_unit: String,
        /// The pack quantity of the GTIN scanned (1 for a SKU or unit GTIN).
        pack_qty: i64,
    },
    Location {
        code: String,
        role: LocationRole,
        zone: String,
    },
    Lot {
        code: String,
        /// The items using this lot code, with the lot's expiry.
        items: Vec<(String, Option<NaiveDate>)>,
    },
}

/// The facts a lookup needs, gathered from the store by the app loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupAnswer {
    pub code: String,
    /// `None` when nothing is known by that code.
    pub subject: Option<Subject>,
    pub rows: Vec<StockRow>,
    /// Balances held but not listed (beyond [`LIST_LIMIT`]).
    pub more: usize,
    /// On hand when not every row is listed.
    pub total: Option<i64>,
}

/// Most balance rows a lookup lists; the screen shows a dozen at a time.
pub const LIST_LIMIT: usize = 500;

impl LookupAnswer {
    /// Resolve `code` and read the balances behind it: the one piece of I/O of this flow.
    pub fn gather(store: &Store, code: &str) -> Result<Self, StoreError> {
        let mut more = 0;
        let mut total = None;
        let (subject, rows) = match store.find_code(code)? {
            Found::Location(l) => {
                // A busy dock or a virtual location holds thousands of balances: list the
                // first ones, count the rest, and take the total from the store.
                let rows = store.stock(&StockFilter {
                    location: Some(l.code.clone()),
                    include_virtual: true,
                    limit: Some(LIST_LIMIT),
                    ..Default::default()
                })?;
                // A listing short of the limit is every balance the location holds.
                let held = if rows.len() < LIST_LIMIT {
                    rows.len()
                } else {
                    usize::try_from(store.balance_rows(&l.code)?).unwrap_or(0)
                };
                more = held.saturating_sub(rows.len());
                if more > 0 && l.kind == crate::domain::LocationKind::Physical {
                    total = Some(store.location_load(&l.code)?);
                }
                let subject = Subject::Location {
                    code: l.code,
                    role: l.role,
                    zone: l.zone,
                };
                (Some(subject), rows)
            }
            Found::Item { item, pack_qty } => {
                let rows = store.stock(&StockFilter {
                    sku: Some(item.sku.clone()),
                    ..Default::default()
                })?;
                let subject = Subject::Item {
                    sku: item.sku,
                    description: item.description,
                    base_unit: item.base_unit,
                    pack_qty,
                };
                (Some(subject), rows)
            }
            Found::Lots(lots) => {
                let mut rows = Vec::new();
                for lot in &lots {
                    rows.extend(store.stock(&StockFilter {
                        sku: Some(lot.sku.clone()),
                        lot: Some(lot.code.clone()),
                        ..Default::default()
                    })?);
                }
                let subject = Subject::Lot {
                    code: code.to_string(),
                    items: lots.into_iter().map(|l| (l.sku, l.expiry)).collect(),
                };
                (Some(subject), rows)
            }
            Found::Nothing => (None, Vec::new()),
        };
        Ok(Self {
            code: code.to_string(),
            subject,
            rows,
            more,
            total,
        })
    }

    /// On hand at physical locations.
    pub fn on_hand(&self) -> i64 {
        self.total
            .unwrap_or_else(|| self.physical().map(|r| r.qty).sum())
    }

    /// On hand where it may be sold, leaving out lots that expired before `today`.
    pub fn available(&self, today: NaiveDate) -> i64 {
        self.physical()
            .filter(|r| r.available && r.expiry.is_none_or(|d| d >= today))
            .map(|r| r.qty)
            .sum()
    }

    /// On hand in lots that expired before `today`.
    pub fn expired(&self, today: NaiveDate) -> i64 {
        self.physical()
            .filter(|r| r.expiry.is_some_and(|d| d < today))
            .map(|r| r.qty)
            .sum()
    }

    fn physical(&self) -> impl Iterator<Item = &StockRow> {
        self.rows
            .iter()
            .filter(|r| r.role.kind() == crate::domain::LocationKind::Physical)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupFlow {
    pub answer: Option<LookupAnswer>,
    /// First result row shown.
    pub scroll: usize,
    pub notice: Option<Notice>,
}

/// Rows one Page Up/Down moves.
const PAGE: usize = 5;

impl LookupFlow {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn input(&mut self, input: Input) -> Vec<Effect> {
        let max = self
            .answer
            .as_ref()
            .map_or(0, |a| a.rows.len().saturating_sub(1));
        match input {
            Input::Scanned(code) if code.is_empty() => {
                return refuse(&mut self.notice, "scan a location, an item or a lot");
            }
            Input::Scanned(code) => return vec![Effect::Lookup(code)],
            Input::Back => return vec![Effect::Home],
            Input::Up => self.scroll = self.scroll.saturating_sub(1),
            Input::Down => self.scroll = (self.scroll + 1).min(max),
            Input::PageUp => self.scroll = self.scroll.saturating_sub(PAGE),
            Input::PageDown => self.scroll = (self.scroll + PAGE).min(max),
            Input::Function(..) => {}
        }
        vec![]
    }

    /// The answer to [`Effect::Lookup`].
    pub fn answer(&mut self, answer: LookupAnswer) -> Vec<Effect> {
        self.scroll = 0;
        if answer.subject.is_none() {
            let text = format!("not found: {}", scan::display(&answer.code));
            self.answer = None;
            return refuse(&mut self.notice, text);
        }
        self.notice = match answer.rows.is_empty() {
            true => Some(Notice::info("no stock on hand")),
            false => None,
        };
        self.answer = Some(answer);
        vec![]
    }

    pub fn failed(&mut self, message: String) -> Vec<Effect> {
        refuse(&mut self.notice, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(location: &str, role: LocationRole, qty: i64) -> StockRow {
        StockRow {
            location: location.into(),
            role,
            sku: "S".into(),
            description: "d".into(),
            base_unit: "EA".into(),
            lot: String::new(),
            expiry: None,
            qty,
            available: role.is_available(),
        }
    }

    #[test]
    fn scan_asks_for_lookup_and_not_found_beeps() {
        let mut f = LookupFlow::new();
        assert_eq!(
            f.input(Input::Scanned("X1".into())),
            vec![Effect::Lookup("X1".into())]
        );
        let e = f.answer(LookupAnswer {
            code: "X1".into(),
            subject: None,
            rows: vec![],
            more: 0,
            total: None,
        });
        assert_eq!(e, vec![Effect::Beep]);
        assert_eq!(f.notice, Some(Notice::error("not found: X1")));
        assert_eq!(f.input(Input::Back), vec![Effect::Home]);
    }

    #[test]
    fn totals_split_available_from_on_hand() {
        let a = LookupAnswer {
            code: "S".into(),
            subject: Some(Subject::Item {
                sku: "S".into(),
                description: "d".into(),
                base_unit: "EA".into(),
                pack_qty: 1,
            }),
            rows: vec![
                row("A-1", LocationRole::Storage, 10),
                row("DOCK", LocationRole::Dock, 5),
                row("Q", LocationRole::Quarantine, 2),
                row("PF", LocationRole::PickFace, 3),
            ],
            more: 0,
            total: None,
        };
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        assert_eq!(a.on_hand(), 20);
        assert_eq!(a.available(today), 13);
        assert_eq!(a.expired(today), 0);
        let mut old = a.clone();
        old.rows[0].expiry = today.pred_opt();
        assert_eq!(old.available(today), 3, "an expired lot is not available");
        assert_eq!(old.expired(today), 10);
        let mut f = LookupFlow::new();
        assert!(f.answer(a).is_empty());
        f.input(Input::PageDown);
        assert_eq!(f.scroll, 3);
        f.input(Input::Up);
        assert_eq!(f.scroll, 2);
    }
}
