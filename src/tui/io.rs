//! The I/O behind the flows' requests: facts gathered from the store and commits made
//! on the app's behalf. Each function takes a request and returns the flow's answer;
//! store errors become messages the flow shows.

use crate::config::Config;
use crate::domain::putaway::{self, Bin};
use crate::domain::receiving::read_scan;
use crate::domain::{LocationRole, Task as MenuTask, User, scan};
use crate::flows::putaway::{self as pa, BinFacts, Suggested};
use crate::flows::receiving::{self as rc, Pending};
use crate::labels::{self, LpnLabel};
use crate::store::{Found, LoginOutcome, Move, Receive, Store};
use chrono::{DateTime, Utc};

/// The receiving flow's policy from the terminal config.
pub fn receiving_policy(config: &Config) -> rc::Policy {
    let r = &config.receiving;
    rc::Policy {
        blind: r.blind,
        blind_suppliers: r.blind_suppliers.clone(),
        tolerance_pct: r.over_tolerance_pct,
        allow_unexpected: r.allow_unexpected,
        two_person_check: r.two_person_check,
        max_qty_per_scan: r.max_qty_per_scan,
        gs_standin: config.scanner.gs_standin,
    }
}

/// Badge and PIN of someone else than the user at the terminal, with a role that may do
/// one of `tasks`. The attempt counts towards the badge's lockout like any login.
fn authorize(
    store: &mut Store,
    user: &User,
    badge: &str,
    pin: &str,
    tasks: &[MenuTask],
    now: DateTime<Utc>,
) -> Result<String, String> {
    if badge == user.badge {
        return Err("it must be someone else's badge".into());
    }
    match store.login(badge, pin, now).map_err(|e| e.to_string())? {
        LoginOutcome::Success(u) if tasks.iter().any(|t| u.may(*t)) => Ok(u.badge),
        LoginOutcome::Success(u) => {
            Err(format!("{} may not do this: {}", u.badge, u.roles_label()))
        }
        LoginOutcome::WrongPin { attempts_left, .. } => {
            Err(format!("wrong PIN: {attempts_left} tries left"))
        }
        LoginOutcome::TooSoon { wait } => Err(format!("too soon: wait {} s", wait.as_secs())),
        LoginOutcome::Locked => Err(format!("badge {} is locked", scan::display(badge))),
        LoginOutcome::Disabled => Err(format!("badge {} is disabled", scan::display(badge))),
        LoginOutcome::UnknownBadge => Err(format!("badge {} is not known", scan::display(badge))),
    }
}

fn location_of(
    store: &Store,
    config: &Config,
    set: Option<&String>,
    role: LocationRole,
) -> Result<String, String> {
    match set {
        Some(code) => Ok(code.clone()),
        None => store
            .default_location(&config.site, role)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("site {} has no {} location", config.site, role.as_str())),
    }
}

pub fn receiving(
    store: &mut Store,
    config: &Config,
    user: &User,
    now: DateTime<Utc>,
    today: chrono::NaiveDate,
    request: rc::Request,
) -> rc::Answer {
    use rc::{Answer, Request};
    let err = |e: crate::store::StoreError| e.to_string();
    match request {
        Request::ListPos => {
            Answer::Pos(store.open_purchase_orders(&config.site).unwrap_or_default())
        }
        Request::LoadPo(po) => Answer::Po(match store.purchase_order(&po) {
            Ok(Some(p)) if p.site != config.site => {
                Err(format!("{po} is for site {}, not {}", p.site, config.site))
            }
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(format!("not found: {}", scan::display(&po))),
            Err(e) => Err(e.to_string()),
        }),
        Request::StartReceipt { po, delivery_note } => Answer::Started(
            store
                .start_receipt(&user.badge, &po, delivery_note.as_deref())
                .map_err(err),
        ),
        Request::Resolve(scanned) => {
            let item = match store.find_code(&scanned.code) {
                Ok(Found::Item { item, pack_qty }) => Ok((item, pack_qty)),
                Ok(Found::Location(_)) => Err(format!(
                    "{} is a location: scan an item",
                    scan::display(&scanned.code)
                )),
                Ok(_) => Err(format!("not found: {}", scan::display(&scanned.code))),
                Err(e) => Err(e.to_string()),
            };
            Answer::Resolved {
                scan: scanned,
                item,
            }
        }
        Request::LotExpiry { sku, lot } => {
            Answer::LotExpiry(store.lot(&sku, &lot).ok().flatten().and_then(|l| l.expiry))
        }
        Request::Receive { receipt, pending } => {
            let mut answer = || -> Result<_, String> {
                let to = if pending.damaged || pending.park {
                    location_of(
                        store,
                        config,
                        config.receiving.quarantine.as_ref(),
                        LocationRole::Quarantine,
                    )?
                } else {
                    location_of(
                        store,
                        config,
                        config.receiving.dock.as_ref(),
                        LocationRole::Dock,
                    )?
                };
                let r = Receive {
                    receipt: receipt.clone(),
                    line: pending.line,
                    sku: pending.sku.clone(),
                    lot: pending.lot.clone().unwrap_or_default(),
                    expiry: pending.expiry,
                    qty: pending.qty,
                    damaged: pending.damaged,
                    to,
                    approved_by: pending.approved_by.clone(),
                    sscc: pending.sscc.clone(),
                    tolerance_pct: config.receiving.over_tolerance_pct,
                    today,
                };
                let received = store.receive(&user.badge, &r).map_err(err)?;
                tracing::info!(receipt, sku = %r.sku, qty = r.qty, to = %r.to, "received");
                Ok(received.po)
            };
            Answer::Received(answer())
        }
        Request::Authorize { badge, pin } => Answer::Authorized(authorize(
            store,
            user,
            &badge,
            &pin,
            &[MenuTask::Approvals],
            now,
        )),
        Request::Refresh(po) => match store.purchase_order(&po) {
            Ok(Some(p)) => Answer::Refreshed(p),
            _ => Answer::Pos(store.open_purchase_orders(&config.site).unwrap_or_default()),
        },
        Request::Summary { receipt } => {
            Answer::Summary(store.receipt_summary(&receipt).map_err(err))
        }
        Request::Check {
            receipt,
            badge,
            pin,
        } => Answer::Checked(
            // The second person may be another receiver or a supervisor.
            authorize(
                store,
                user,
                &badge,
                &pin,
                &[MenuTask::Receiving, MenuTask::Approvals],
                now,
            )
            .and_then(|by| {
                store
                    .check_receipt(&user.badge, &receipt, &by)
                    .map_err(err)?;
                Ok(by)
            }),
        ),
        Request::Close { receipt } => Answer::Closed(
            store
                .close_receipt(
                    &user.badge,
                    &receipt,
                    config.receiving.close_policy,
                    config.receiving.two_person_check,
                    config.receiving.over_tolerance_pct,
                )
                .map(|raised| raised.len())
                .map_err(err),
        ),
        Request::PrintLabel { receipt, last } => {
            Answer::Label(print_label(store, config, user, now, &receipt, &last))
        }
    }
}

fn print_label(
    store: &mut Store,
    config: &Config,
    user: &User,
    now: DateTime<Utc>,
    receipt: &str,
    last: &Pending,
) -> Result<String, String> {
    if config.labels.printer == labels::Printer::None {
        return Err("no label printer is set up for this terminal: see labels.printer".into());
    }
    let lot = last.lot.clone().unwrap_or_default();
    // The label counts base units, so its GS1 barcode names the unit GTIN.
    let gtin = store.item(&last.sku).ok().flatten().and_then(|i| {
        i.gtins
            .into_iter()
            .find(|g| g.pack_qty == 1)
            .map(|g| g.gtin)
    });
    let po = store.receipt(receipt).map_err(|e| e.to_string())?.po;
    // The label is journaled once it went out, so a failed print uses up no LPN.
    let lpn = store.next_lpn().map_err(|e| e.to_string())?;
    let label = LpnLabel {
        lpn: lpn.clone(),
        sku: last.sku.clone(),
        description: last.description.clone(),
        gtin,
        lot: lot.clone(),
        expiry: last.expiry,
        qty: last.qty,
        unit: last.base_unit.clone(),
        po,
        receipt: receipt.to_string(),
        site: config.site.clone(),
        printed_at: now,
    };
    let zpl = labels::render(labels::LPN_TEMPLATE, &label);
    labels::send(&config.labels.printer, &lpn, &zpl).map_err(|e| e.to_string())?;
    store
        .record_label(&user.badge, &lpn, receipt, &last.sku, &lot, last.qty)
        .map_err(|e| e.to_string())?;
    Ok(lpn)
}

pub fn putaway_tasks(store: &Store, config: &Config) -> Vec<pa::Task> {
    store
        .putaway_tasks(&config.site)
        .unwrap_or_default()
        .into_iter()
        .map(|r| pa::Task {
            from: r.location,
            sku: r.sku,
            description: r.description,
            base_unit: r.base_unit,
            lot: r.lot,
            expiry: r.expiry,
            qty: r.qty,
        })
        .collect()
}

pub fn putaway(
    store: &mut Store,
    config: &Config,
    user: &User,
    today: chrono::NaiveDate,
    request: pa::Request,
) -> pa::Answer {
    use pa::{Answer, Request};
    match request {
        Request::ListTasks => Answer::Tasks(putaway_tasks(store, config)),
        Request::Resolve(code) => {
            // A GS1 label names the item by GTIN and may carry the lot.
            let scanned = read_scan(&code, config.scanner.gs_standin, today).unwrap_or_default();
            let code = if scanned.code.is_empty() {
                code
            } else {
                scanned.code
            };
            Answer::Resolved(match store.find_code(&code) {
                Ok(Found::Item { item, .. }) => Some((item.sku, scanned.lot)),
                Ok(Found::Lots(lots)) => lots.into_iter().next().map(|l| (l.sku, Some(l.code))),
                _ => None,
            })
        }
        Request::Suggest(task) => {
            let suggested = (|| -> Option<Suggested> {
                let item = store.item(&task.sku).ok()??;
                let rules = store.putaway_rules().ok()?;
                let bins: Vec<Bin> = store.putaway_bins(&config.site, &task.sku).ok()?;
                let suggestion = putaway::suggest(&item, task.qty, &rules, &bins)?;
                let bin = bins.iter().find(|b| b.code == suggestion.bin)?;
                let room = bin.capacity.map(|_| bin.room());
                let check_digits = store.location(&suggestion.bin).ok()??.check_digits;
                Some(Suggested {
                    suggestion,
                    check_digits,
                    room,
                })
            })();
            Answer::Suggested(suggested)
        }
        Request::CheckBin(code) => Answer::Bin(match store.location(&code) {
            Ok(Some(l)) if l.site != config.site => {
                Err(format!("{} is in site {}", l.code, l.site))
            }
            Ok(Some(l)) if matches!(l.role, LocationRole::Storage | LocationRole::PickFace) => {
                let load = store.location_load(&l.code).unwrap_or(0);
                let room = l.capacity.map(|c| (c - load).max(0));
                if room == Some(0) {
                    Err(format!("{} is full: choose another bin", l.code))
                } else {
                    Ok(BinFacts { code: l.code, room })
                }
            }
            Ok(Some(l)) => Err(format!(
                "{} is a {} location, not a storage bin",
                l.code,
                l.role.as_str()
            )),
            Ok(None) => Err(format!("not found: {}", scan::display(&code))),
            Err(e) => Err(e.to_string()),
        }),
        Request::Move { task, bin, qty } => {
            let m = Move {
                sku: task.sku.clone(),
                lot: task.lot.clone(),
                expiry: None,
                from: task.from.clone(),
                to: bin.clone(),
                qty,
                reason: crate::domain::MoveReason::Putaway,
                order: None,
            };
            Answer::Moved(match store.move_stock(&user.badge, &m) {
                Ok(_) => {
                    tracing::info!(sku = %task.sku, qty, to = %bin, "put away");
                    Ok(putaway_tasks(store, config))
                }
                Err(e) => Err(e.to_string()),
            })
        }
    }
}
