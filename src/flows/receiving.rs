//! Receiving against a purchase order: choose or scan the PO, optionally scan the
//! delivery note, then scan cases and units (SKU, GTIN, case GTIN or a GS1 element
//! string), with lot and expiry asked for when the scan did not carry them, a quantity
//! that defaults to the pack, and one key for the condition. Over-receipts and expired
//! lots need a supervisor on the spot (or, for an over-receipt, are parked in
//! quarantine). Closing shows the summary; each short, over and damaged line becomes a
//! discrepancy.
//!
//! The flow asks the app for facts and commits with [`Request`]s and takes the
//! [`Answer`]s; it never touches the store itself.

use super::{Effect, Input, Notice, refuse};
use crate::domain::receiving::{LineSummary, ScannedItem, over_limit, read_scan};
use crate::domain::{Item, scan};
use crate::store::{OpenReceipt, PoState, PoSummary};
use chrono::NaiveDate;

/// The site policy the flow applies (from the terminal config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub blind: bool,
    pub blind_suppliers: Vec<String>,
    pub tolerance_pct: u32,
    pub allow_unexpected: bool,
    pub two_person_check: bool,
    pub max_qty_per_scan: i64,
    pub gs_standin: Option<char>,
}

/// An item scan waiting for its lot, expiry, quantity, condition or approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The PO line; 0 when the item is not on the PO.
    pub line: i64,
    pub sku: String,
    pub description: String,
    pub base_unit: String,
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
    /// Base units per scan: the pack of the GTIN scanned times the count in the scan.
    pub default_qty: i64,
    pub pack_qty: i64,
    pub lot: Option<String>,
    pub expiry: Option<NaiveDate>,
    pub sscc: Option<String>,
    pub qty: i64,
    pub damaged: bool,
    pub approved_by: Option<String>,
    /// A supervisor approved going over the tolerance.
    pub over_approved: bool,
    /// Parked over-receipt: goes to quarantine as a pending discrepancy.
    pub park: bool,
}

/// Why a supervisor is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// The line would go `excess` units over what the tolerance allows.
    Over { excess: i64 },
    /// The lot expired before today.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalStage {
    /// S: a supervisor approves now; P: park (over-receipts only); Esc: cancel.
    Choose,
    Badge,
    Pin {
        badge: String,
    },
}

/// Badge and PIN of a second user for the two-person check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckStage {
    Badge,
    Pin { badge: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    ChoosePo,
    DeliveryNote,
    ScanItem,
    Lot(Pending),
    Expiry(Pending),
    Qty(Pending),
    Approve {
        pending: Pending,
        why: Approval,
        stage: ApprovalStage,
    },
    /// The closing summary; Enter closes the receipt.
    Summary(Vec<LineSummary>),
    Check {
        summary: Vec<LineSummary>,
        stage: CheckStage,
    },
}

/// What the flow asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The site's open POs.
    ListPos,
    /// One PO with its lines.
    LoadPo(String),
    StartReceipt {
        po: String,
        delivery_note: Option<String>,
    },
    /// What item a receiving scan names (SKU or GTIN, with the pack of that GTIN).
    Resolve(ScannedItem),
    /// The expiry of a lot already known, if it is.
    LotExpiry {
        sku: String,
        lot: String,
    },
    Receive {
        receipt: String,
        pending: Pending,
    },
    /// Badge and PIN of a supervisor approving on the spot.
    Authorize {
        badge: String,
        pin: String,
    },
    Summary {
        receipt: String,
    },
    /// Second person's badge and PIN; recorded as the receipt's check.
    Check {
        receipt: String,
        badge: String,
        pin: String,
    },
    Close {
        receipt: String,
    },
    /// The PO again, after a refusal that may come from someone else's receipt.
    Refresh(String),
    PrintLabel {
        receipt: String,
        last: Pending,
    },
}

/// The app's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Pos(Vec<PoSummary>),
    Po(Result<PoState, String>),
    Started(Result<String, String>),
    Resolved {
        scan: ScannedItem,
        item: Result<(Item, i64), String>,
    },
    LotExpiry(Option<NaiveDate>),
    /// The PO after the commit.
    Received(Result<PoState, String>),
    /// The supervisor's badge.
    Authorized(Result<String, String>),
    Summary(Result<Vec<LineSummary>, String>),
    Checked(Result<String, String>),
    /// How many discrepancies were raised.
    Closed(Result<usize, String>),
    Label(Result<String, String>),
    Refreshed(PoState),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivingFlow {
    pub step: Step,
    pub policy: Policy,
    pub today: NaiveDate,
    pub pos: Vec<PoSummary>,
    /// Highlighted PO in the list, or first line shown of the PO's lines.
    pub selected: usize,
    pub po: Option<PoState>,
    pub receipt: Option<String>,
    pub delivery_note: Option<String>,
    /// Who checked the counts (two-person check), once someone has.
    pub checked_by: Option<String>,
    /// The last confirmed scan, for its label.
    pub last: Option<Pending>,
    pub notice: Option<Notice>,
}

fn ask(r: Request) -> Vec<Effect> {
    vec![Effect::Receiving(r)]
}

impl ReceivingFlow {
    /// A new flow on the PO list.
    pub fn new(policy: Policy, today: NaiveDate, pos: Vec<PoSummary>) -> Self {
        Self {
            step: Step::ChoosePo,
            policy,
            today,
            pos,
            selected: 0,
            po: None,
            receipt: None,
            delivery_note: None,
            checked_by: None,
            last: None,
            notice: None,
        }
    }

    /// Resume an open receipt where it stopped: its scans are committed, so the flow goes
    /// on at the item scan.
    pub fn resume(policy: Policy, today: NaiveDate, open: OpenReceipt, po: PoState) -> Self {
        let mut f = Self::new(policy, today, Vec::new());
        f.checked_by = open.checked_by;
        f.notice = Some(Notice::info(format!("resumed the receipt of {}", po.po)));
        f.po = Some(po);
        f.receipt = Some(open.receipt);
        f.delivery_note = open.delivery_note;
        f.step = Step::ScanItem;
        f
    }

    /// Ordered quantities are hidden from the receiver.
    pub fn blind(&self) -> bool {
        let supplier = self.po.as_ref().map_or("", |p| p.supplier.as_str());
        self.policy.blind
            || self
                .policy
                .blind_suppliers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(supplier))
    }

    /// The field holds a PIN.
    pub fn masked(&self) -> bool {
        matches!(
            self.step,
            Step::Approve {
                stage: ApprovalStage::Pin { .. },
                ..
            } | Step::Check {
                stage: CheckStage::Pin { .. },
                ..
            }
        )
    }

    fn receipt_id(&self) -> String {
        self.receipt.clone().unwrap_or_default()
    }

    pub fn input(&mut self, input: Input) -> Vec<Effect> {
        let step = std::mem::replace(&mut self.step, Step::ScanItem);
        let (step, effects) = self.next(step, input);
        self.step = step;
        effects
    }

    /// The step after `input`, and what to do.
    fn next(&mut self, step: Step, input: Input) -> (Step, Vec<Effect>) {
        match (step, input) {
            // Choosing a PO.
            (Step::ChoosePo, Input::Back) => (Step::ChoosePo, vec![Effect::Home]),
            (Step::ChoosePo, Input::Up) => {
                self.selected = self.selected.saturating_sub(1);
                (Step::ChoosePo, vec![])
            }
            (Step::ChoosePo, Input::Down) => {
                self.selected = (self.selected + 1).min(self.pos.len().saturating_sub(1));
                (Step::ChoosePo, vec![])
            }
            (Step::ChoosePo, Input::Scanned(s)) => {
                let po = if s.is_empty() {
                    match self.pos.get(self.selected) {
                        Some(p) => p.po.clone(),
                        None => {
                            return (
                                Step::ChoosePo,
                                refuse(&mut self.notice, "no open PO: scan a PO number"),
                            );
                        }
                    }
                } else {
                    s
                };
                (Step::ChoosePo, ask(Request::LoadPo(po)))
            }
            (Step::DeliveryNote, Input::Back) => {
                self.po = None;
                (Step::ChoosePo, vec![])
            }
            (Step::DeliveryNote, Input::Scanned(s)) => {
                let po = self.po.as_ref().map(|p| p.po.clone()).unwrap_or_default();
                let note = (!s.is_empty()).then_some(s);
                self.delivery_note = note.clone();
                (
                    Step::DeliveryNote,
                    ask(Request::StartReceipt {
                        po,
                        delivery_note: note,
                    }),
                )
            }
            // Scanning items.
            (Step::ScanItem, Input::Scanned(s)) if s.is_empty() => (
                Step::ScanItem,
                refuse(&mut self.notice, "scan an item, or F2 to close the receipt"),
            ),
            (Step::ScanItem, Input::Scanned(s)) => {
                match read_scan(&s, self.policy.gs_standin, self.today) {
                    Ok(scan) => (Step::ScanItem, ask(Request::Resolve(scan))),
                    Err(e) => (
                        Step::ScanItem,
                        refuse(&mut self.notice, format!("{e}: scan again")),
                    ),
                }
            }
            (Step::ScanItem, Input::Function(2, _)) => (
                Step::ScanItem,
                ask(Request::Summary {
                    receipt: self.receipt_id(),
                }),
            ),
            (Step::ScanItem, Input::Function(5, _)) => match self.last.clone() {
                Some(last) => (
                    Step::ScanItem,
                    ask(Request::PrintLabel {
                        receipt: self.receipt_id(),
                        last,
                    }),
                ),
                None => (
                    Step::ScanItem,
                    refuse(&mut self.notice, "nothing received yet to label"),
                ),
            },
            (Step::ScanItem, Input::Up) => {
                self.selected = self.selected.saturating_sub(1);
                (Step::ScanItem, vec![])
            }
            (Step::ScanItem, Input::Down) => {
                let n = self.po.as_ref().map_or(0, |p| p.lines.len());
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
                (Step::ScanItem, vec![])
            }
            (Step::ScanItem, Input::Back) => (Step::ScanItem, vec![Effect::Home]),
            // Lot, expiry, quantity.
            (Step::Lot(p) | Step::Expiry(p) | Step::Qty(p), Input::Back) => {
                self.notice = Some(Notice::info(format!("{} not received", p.sku)));
                (Step::ScanItem, vec![])
            }
            (Step::Lot(mut p), Input::Scanned(lot)) => {
                if lot.is_empty() || lot.chars().count() > 20 {
                    return (
                        Step::Lot(p),
                        refuse(
                            &mut self.notice,
                            "scan or key the lot (up to 20 characters)",
                        ),
                    );
                }
                p.lot = Some(lot.clone());
                self.notice = None;
                // A lot already known keeps the expiry it was first received with.
                if p.expiry_tracked {
                    let sku = p.sku.clone();
                    return (Step::Lot(p), ask(Request::LotExpiry { sku, lot }));
                }
                self.after_lot(p)
            }
            (Step::Expiry(mut p), Input::Scanned(text)) => match parse_expiry(&text) {
                Some(d) => {
                    p.expiry = Some(d);
                    self.notice = None;
                    self.after_lot(p)
                }
                None => (
                    Step::Expiry(p),
                    refuse(
                        &mut self.notice,
                        format!(
                            "{:?} is not a date: key it as YYMMDD or YYYY-MM-DD",
                            scan::display(&text)
                        ),
                    ),
                ),
            },
            // Enter: good. F3, or a quantity followed by D: damaged.
            (Step::Qty(p), Input::Scanned(text)) => {
                let t = text.trim();
                match t.strip_suffix(['d', 'D']) {
                    Some(qty) => self.confirm_qty(p, qty, true),
                    None => self.confirm_qty(p, t, false),
                }
            }
            (Step::Qty(p), Input::Function(3, field)) => self.confirm_qty(p, &field, true),
            // Supervisor approval.
            (Step::Approve { pending, .. }, Input::Back) => {
                self.notice = Some(Notice::info(format!("{} not received", pending.sku)));
                (Step::ScanItem, vec![])
            }
            (
                Step::Approve {
                    pending,
                    why,
                    stage: ApprovalStage::Choose,
                },
                Input::Scanned(choice),
            ) => match (choice.to_ascii_lowercase().as_str(), why) {
                ("s", _) => (
                    Step::Approve {
                        pending,
                        why,
                        stage: ApprovalStage::Badge,
                    },
                    vec![],
                ),
                ("p", Approval::Over { .. }) if !pending.damaged => {
                    let mut p = pending;
                    p.park = true;
                    self.receive(p)
                }
                (other, _) => {
                    let text = format!(
                        "{:?}: key S for a supervisor{}, or Esc",
                        scan::display(other),
                        if pending.damaged || matches!(why, Approval::Expired) {
                            ""
                        } else {
                            ", P to park"
                        }
                    );
                    let step = Step::Approve {
                        pending,
                        why,
                        stage: ApprovalStage::Choose,
                    };
                    (step, refuse(&mut self.notice, text))
                }
            },
            (
                Step::Approve {
                    pending,
                    why,
                    stage: ApprovalStage::Badge,
                },
                Input::Scanned(badge),
            ) if !badge.is_empty() => (
                Step::Approve {
                    pending,
                    why,
                    stage: ApprovalStage::Pin { badge },
                },
                vec![],
            ),
            (
                Step::Approve {
                    pending,
                    why,
                    stage: ApprovalStage::Pin { badge },
                },
                Input::Scanned(pin),
            ) if !pin.is_empty() => {
                let req = Request::Authorize {
                    badge: badge.clone(),
                    pin,
                };
                (
                    Step::Approve {
                        pending,
                        why,
                        stage: ApprovalStage::Pin { badge },
                    },
                    ask(req),
                )
            }
            // Closing.
            (Step::Summary(_), Input::Back) => (Step::ScanItem, vec![]),
            (Step::Summary(summary), Input::Scanned(s)) if s.is_empty() => {
                if self.policy.two_person_check && self.checked_by.is_none() {
                    (
                        Step::Check {
                            summary,
                            stage: CheckStage::Badge,
                        },
                        vec![],
                    )
                } else {
                    (
                        Step::Summary(summary),
                        ask(Request::Close {
                            receipt: self.receipt_id(),
                        }),
                    )
                }
            }
            (Step::Check { summary, .. }, Input::Back) => (Step::Summary(summary), vec![]),
            (
                Step::Check {
                    summary,
                    stage: CheckStage::Badge,
                },
                Input::Scanned(badge),
            ) if !badge.is_empty() => (
                Step::Check {
                    summary,
                    stage: CheckStage::Pin { badge },
                },
                vec![],
            ),
            (
                Step::Check {
                    summary,
                    stage: CheckStage::Pin { badge },
                },
                Input::Scanned(pin),
            ) if !pin.is_empty() => {
                let req = Request::Check {
                    receipt: self.receipt_id(),
                    badge: badge.clone(),
                    pin,
                };
                (
                    Step::Check {
                        summary,
                        stage: CheckStage::Pin { badge },
                    },
                    ask(req),
                )
            }
            (step @ Step::Summary(_), Input::Up | Input::PageUp) => {
                self.selected = self.selected.saturating_sub(1);
                (step, vec![])
            }
            (Step::Summary(summary), Input::Down | Input::PageDown) => {
                self.selected = (self.selected + 1).min(summary.len().saturating_sub(1));
                (Step::Summary(summary), vec![])
            }
            (step, Input::Scanned(_)) => {
                let what = prompt(&step);
                (step, refuse(&mut self.notice, format!("{what} first")))
            }
            (step, _) => (step, vec![]),
        }
    }

    /// After the lot (and expiry) are known: an expired lot needs a supervisor.
    fn after_lot(&mut self, p: Pending) -> (Step, Vec<Effect>) {
        if p.expiry_tracked && p.expiry.is_none() {
            return (Step::Expiry(p), vec![]);
        }
        if p.expiry.is_some_and(|d| d < self.today) && p.approved_by.is_none() {
            let text = format!(
                "expired {}: a supervisor must approve",
                p.expiry.map(|d| d.to_string()).unwrap_or_default()
            );
            let effects = refuse(&mut self.notice, text);
            return (
                Step::Approve {
                    pending: p,
                    why: Approval::Expired,
                    stage: ApprovalStage::Choose,
                },
                effects,
            );
        }
        (Step::Qty(p), vec![])
    }

    fn confirm_qty(&mut self, mut p: Pending, text: &str, damaged: bool) -> (Step, Vec<Effect>) {
        let text = text.trim();
        let qty = if text.is_empty() {
            Some(p.default_qty)
        } else {
            text.parse::<i64>().ok()
        };
        let max = self.policy.max_qty_per_scan;
        let Some(qty) = qty.filter(|q| (1..=max).contains(q)) else {
            let msg = format!(
                "quantity {:?} is out of range: key 1 to {max}",
                scan::display(text)
            );
            return (Step::Qty(p), refuse(&mut self.notice, msg));
        };
        p.qty = qty;
        p.damaged = damaged;
        if !p.over_approved
            && let Some(line) = self
                .po
                .as_ref()
                .and_then(|po| po.lines.iter().find(|l| l.line == p.line))
        {
            let after = line.received + line.damaged + qty;
            let limit = over_limit(line.ordered, self.policy.tolerance_pct);
            if p.line > 0 && after > limit {
                let excess = after - limit;
                let text = if self.blind() {
                    "more than the order allows: a supervisor must approve".to_string()
                } else {
                    format!("over by {excess}: a supervisor must approve")
                };
                let effects = refuse(&mut self.notice, text);
                return (
                    Step::Approve {
                        pending: p,
                        why: Approval::Over { excess },
                        stage: ApprovalStage::Choose,
                    },
                    effects,
                );
            }
        }
        self.receive(p)
    }

    fn receive(&mut self, p: Pending) -> (Step, Vec<Effect>) {
        let req = Request::Receive {
            receipt: self.receipt_id(),
            pending: p.clone(),
        };
        (Step::Qty(p), ask(req))
    }

    /// A scan resolved to an item: match it to a PO line and ask for what is missing.
    fn resolved(&mut self, scan: ScannedItem, item: Item, pack_qty: i64) -> Vec<Effect> {
        let Some(po) = &self.po else {
            return vec![];
        };
        // The first line of the item that is not complete, else its first line.
        let lines: Vec<_> = po.lines.iter().filter(|l| l.sku == item.sku).collect();
        let line = lines
            .iter()
            .find(|l| l.received + l.damaged < l.ordered)
            .or(lines.first())
            .map(|l| l.line);
        let line = match line {
            Some(l) => l,
            None if self.policy.allow_unexpected => {
                self.notice = Some(Notice::info(format!(
                    "{} is not on {}: received as unexpected",
                    item.sku, po.po
                )));
                0
            }
            None => {
                let text = format!(
                    "{} is not on {}: set it aside and tell a supervisor",
                    item.sku, po.po
                );
                return refuse(&mut self.notice, text);
            }
        };
        if line > 0 {
            self.notice = None;
        }
        let count = scan.count.unwrap_or(1).max(1);
        let default_qty = pack_qty.saturating_mul(count);
        let p = Pending {
            line,
            sku: item.sku,
            description: item.description,
            base_unit: item.base_unit,
            lot_tracked: item.lot_tracked,
            expiry_tracked: item.expiry_tracked,
            default_qty,
            pack_qty,
            lot: scan.lot.filter(|_| item.lot_tracked),
            expiry: scan.expiry.filter(|_| item.expiry_tracked),
            sscc: scan.sscc,
            qty: default_qty,
            damaged: false,
            approved_by: None,
            over_approved: false,
            park: false,
        };
        let (step, effects) = if p.lot_tracked && p.lot.is_none() {
            (Step::Lot(p), vec![])
        } else if p.expiry_tracked {
            // Even when the label carries an expiry: a known lot keeps its recorded one.
            let (sku, lot) = (p.sku.clone(), p.lot.clone().unwrap_or_default());
            (Step::Lot(p), ask(Request::LotExpiry { sku, lot }))
        } else {
            self.after_lot(p)
        };
        self.step = step;
        effects
    }

    /// The app's answer to a [`Request`].
    pub fn answer(&mut self, answer: Answer) -> Vec<Effect> {
        match answer {
            Answer::Pos(pos) => {
                self.pos = pos;
                self.selected = 0;
                vec![]
            }
            Answer::Po(Ok(po)) if !po.open => {
                refuse(&mut self.notice, format!("{} is closed", po.po))
            }
            Answer::Po(Ok(po)) => {
                self.notice = None;
                self.po = Some(po);
                self.step = Step::DeliveryNote;
                vec![]
            }
            Answer::Po(Err(e))
            | Answer::Started(Err(e))
            | Answer::Summary(Err(e))
            | Answer::Closed(Err(e))
            | Answer::Label(Err(e)) => refuse(&mut self.notice, e),
            Answer::Started(Ok(receipt)) => {
                self.receipt = Some(receipt);
                self.step = Step::ScanItem;
                self.notice = Some(Notice::info("receipt started: scan the first case"));
                vec![]
            }
            Answer::Resolved {
                scan,
                item: Ok((item, pack)),
            } => self.resolved(scan, item, pack),
            Answer::Resolved { item: Err(e), .. } => refuse(&mut self.notice, e),
            Answer::LotExpiry(expiry) => {
                let step = std::mem::replace(&mut self.step, Step::ScanItem);
                let (step, effects) = match step {
                    Step::Lot(mut p) => {
                        if expiry.is_some() && p.expiry.is_some() && expiry != p.expiry {
                            self.notice = Some(Notice::info(format!(
                                "lot {} is recorded with expiry {}",
                                p.lot.as_deref().unwrap_or(""),
                                expiry.map(|d| d.to_string()).unwrap_or_default()
                            )));
                        }
                        p.expiry = expiry.or(p.expiry);
                        self.after_lot(p)
                    }
                    other => (other, vec![]),
                };
                self.step = step;
                effects
            }
            Answer::Received(Ok(po)) => {
                let step = std::mem::replace(&mut self.step, Step::ScanItem);
                if let Step::Qty(p) | Step::Approve { pending: p, .. } = step {
                    let how = if p.damaged {
                        " (damaged)"
                    } else if p.park {
                        " (parked)"
                    } else {
                        ""
                    };
                    self.notice = Some(Notice::success(format!(
                        "received {} {}{how}",
                        p.qty, p.sku
                    )));
                    self.last = Some(p);
                }
                self.po = Some(po);
                vec![]
            }
            Answer::Received(Err(e)) => {
                // Another terminal may have received on the same PO: look again, so the
                // next try sees the right totals (and asks for a supervisor if over).
                let mut effects = refuse(&mut self.notice, e);
                if let Some(po) = &self.po {
                    effects.push(Effect::Receiving(Request::Refresh(po.po.clone())));
                }
                effects
            }
            Answer::Refreshed(po) => {
                self.po = Some(po);
                vec![]
            }
            Answer::Authorized(Ok(badge)) => {
                let step = std::mem::replace(&mut self.step, Step::ScanItem);
                let Step::Approve {
                    mut pending, why, ..
                } = step
                else {
                    self.step = step;
                    return vec![];
                };
                self.notice = Some(Notice::success(format!("approved by {badge}")));
                pending.approved_by = Some(badge);
                let (step, effects) = match why {
                    Approval::Over { .. } => {
                        pending.over_approved = true;
                        self.receive(pending)
                    }
                    Approval::Expired => (Step::Qty(pending), vec![]),
                };
                self.step = step;
                effects
            }
            Answer::Authorized(Err(e)) => {
                if let Step::Approve { stage, .. } = &mut self.step {
                    *stage = ApprovalStage::Badge;
                }
                refuse(&mut self.notice, e)
            }
            Answer::Summary(Ok(lines)) => {
                self.selected = 0;
                self.notice = None;
                self.step = Step::Summary(lines);
                vec![]
            }
            Answer::Checked(Ok(by)) => {
                self.checked_by = Some(by.clone());
                self.notice = Some(Notice::success(format!("counts checked by {by}")));
                ask(Request::Close {
                    receipt: self.receipt_id(),
                })
            }
            Answer::Checked(Err(e)) => {
                if let Step::Check { stage, .. } = &mut self.step {
                    *stage = CheckStage::Badge;
                }
                refuse(&mut self.notice, e)
            }
            Answer::Closed(Ok(raised)) => {
                let po = self.po.take().map(|p| p.po).unwrap_or_default();
                self.receipt = None;
                self.delivery_note = None;
                self.checked_by = None;
                self.last = None;
                self.step = Step::ChoosePo;
                self.notice = Some(Notice::success(format!(
                    "{po} receipt closed: {raised} discrepanc{} for a supervisor",
                    if raised == 1 { "y" } else { "ies" }
                )));
                ask(Request::ListPos)
            }
            Answer::Label(Ok(lpn)) => {
                self.notice = Some(Notice::success(format!("label {lpn} printed")));
                vec![]
            }
        }
    }
}

/// What the current step asks for, in a few words.
pub fn prompt(step: &Step) -> &'static str {
    match step {
        Step::ChoosePo => "scan or choose a PO",
        Step::DeliveryNote => "scan the delivery note, or Enter to skip",
        Step::ScanItem => "scan an item",
        Step::Lot(_) => "scan or key the lot",
        Step::Expiry(_) => "key the expiry date",
        Step::Qty(_) => "Enter for good, F3 for damaged",
        Step::Approve {
            stage: ApprovalStage::Choose,
            ..
        } => "choose S, P or Esc",
        Step::Approve {
            stage: ApprovalStage::Badge,
            ..
        }
        | Step::Check {
            stage: CheckStage::Badge,
            ..
        } => "scan a badge",
        Step::Approve { .. } | Step::Check { .. } => "key the PIN",
        Step::Summary(_) => "Enter to close, Esc to go on",
    }
}

/// An expiry date keyed as YYMMDD (GS1 style, day 00 meaning the month's last day) or
/// YYYY-MM-DD.
pub fn parse_expiry(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
        let year = 2000 + t.get(0..2)?.parse::<i32>().ok()?;
        let month = t.get(2..4)?.parse::<u32>().ok()?;
        return match t.get(4..6)?.parse::<u32>().ok()? {
            0 => NaiveDate::from_ymd_opt(year, month, 1)?
                .checked_add_months(chrono::Months::new(1))?
                .pred_opt(),
            day => NaiveDate::from_ymd_opt(year, month, day),
        };
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::parse_expiry;
    use chrono::NaiveDate;

    #[test]
    fn keyed_expiry_dates() {
        assert_eq!(
            parse_expiry("261231"),
            NaiveDate::from_ymd_opt(2026, 12, 31)
        );
        assert_eq!(parse_expiry("280200"), NaiveDate::from_ymd_opt(2028, 2, 29));
        assert_eq!(
            parse_expiry("2027-01-05"),
            NaiveDate::from_ymd_opt(2027, 1, 5)
        );
        assert_eq!(parse_expiry("261340"), None);
        assert_eq!(parse_expiry("tomorrow"), None);
    }
}
