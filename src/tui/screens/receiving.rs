use super::{columns, truncate};
use crate::flows::receiving::{Approval, ApprovalStage, CheckStage, Pending, ReceivingFlow, Step};
use crate::store::PoLineState;
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

pub(super) fn field_label(f: &ReceivingFlow) -> &'static str {
    match &f.step {
        Step::ChoosePo => "PO",
        Step::DeliveryNote => "Note",
        Step::ScanItem => "Item",
        Step::Lot(_) => "Lot",
        Step::Expiry(_) => "Expiry",
        Step::Qty(_) => "Qty",
        Step::Approve {
            stage: ApprovalStage::Choose,
            ..
        } => "S/P",
        Step::Approve { .. } | Step::Check { .. } => "Badge",
        Step::Summary(_) => "Close",
    }
}

pub(super) fn render(f: &ReceivingFlow, wide: bool, area: Rect, buf: &mut Buffer) -> &'static str {
    let w = usize::from(area.width);
    let mut lines: Vec<Line> = Vec::new();
    if let Some(po) = &f.po {
        let mut head = format!("{} {}", po.po, po.supplier);
        if wide {
            if let Some(n) = &f.delivery_note {
                head.push_str(&format!("  note {n}"));
            }
            if f.blind() {
                head.push_str("  (blind)");
            }
        }
        lines.push(Line::styled(truncate(&head, w), theme::heading()));
    }
    let rows = usize::from(area.height);
    let hint = match &f.step {
        Step::ChoosePo => {
            lines.push(Line::styled(
                format!("Open POs ({})", f.pos.len()),
                theme::heading(),
            ));
            let room = rows.saturating_sub(lines.len());
            let start = f.selected.saturating_sub(room.saturating_sub(1));
            for (i, p) in f.pos.iter().enumerate().skip(start).take(room) {
                let expected = p
                    .expected
                    .map(|d| {
                        d.format(if wide { "%Y-%m-%d" } else { "%m-%d" })
                            .to_string()
                    })
                    .unwrap_or_default();
                let n = format!("{}L", p.lines);
                let text = if wide {
                    columns(&[
                        (&p.po, 10, false),
                        (&p.supplier, 30, false),
                        (&expected, 10, false),
                        (&n, 4, true),
                    ])
                } else {
                    columns(&[
                        (&p.po, 8, false),
                        (&p.supplier, 20, false),
                        (&expected, 5, false),
                        (&n, 3, true),
                    ])
                };
                let line = Line::from(text);
                lines.push(if i == f.selected {
                    line.style(theme::selected())
                } else {
                    line
                });
            }
            "Enter open  Up/Dn  Esc menu  F1 help"
        }
        Step::DeliveryNote => {
            lines.push(Line::from("Scan the delivery note or ASN,"));
            lines.push(Line::from("or Enter to go on without one."));
            "Enter go on  Esc back  F1 help"
        }
        Step::ScanItem => {
            po_lines(f, wide, rows.saturating_sub(lines.len()), &mut lines);
            "F2 close  F5 label  Esc menu  F1 help"
        }
        Step::Lot(p) => {
            pending(p, wide, &mut lines);
            lines.push(Line::styled("Scan or key the lot.", theme::heading()));
            "Enter next  Esc cancel  F1 help"
        }
        Step::Expiry(p) => {
            pending(p, wide, &mut lines);
            lines.push(Line::styled("Key the expiry: YYMMDD", theme::heading()));
            "Enter next  Esc cancel  F1 help"
        }
        Step::Qty(p) => {
            pending(p, wide, &mut lines);
            lines.push(Line::styled(
                format!("Qty {} {}: Enter good", p.default_qty, p.base_unit),
                theme::heading(),
            ));
            lines.push(Line::from("F3 damaged, or key a quantity"));
            "Enter good  F3 damaged  Esc cancel"
        }
        Step::Approve {
            pending: p,
            why,
            stage,
        } => {
            pending(p, wide, &mut lines);
            if p.qty > 0 && matches!(why, Approval::Over { .. }) {
                lines.push(Line::from(format!(
                    "Receiving {} {}, line {}",
                    p.qty, p.base_unit, p.line
                )));
            }
            let what = match why {
                Approval::Over { .. } if f.blind() => "More than the order allows.".to_string(),
                Approval::Over { excess } => format!("Over the order by {excess}."),
                Approval::Expired => "The lot has expired.".to_string(),
            };
            lines.push(Line::styled(what, theme::tone(crate::flows::Tone::Error)));
            lines.push(Line::from(match (stage, why) {
                (ApprovalStage::Choose, Approval::Over { .. }) if !p.damaged => {
                    "S supervisor, P park in quarantine"
                }
                (ApprovalStage::Choose, Approval::Over { .. }) => "S supervisor approves",
                (ApprovalStage::Choose, Approval::Expired) => "S supervisor approves",
                (ApprovalStage::Badge, _) => "Supervisor: scan your badge",
                (ApprovalStage::Pin { .. }, _) => "Supervisor: key your PIN",
            }));
            "Esc cancel  F1 help"
        }
        Step::Summary(summary) if f.blind() => {
            // Blind: only what was counted, nothing that gives the order away.
            let head = if wide {
                columns(&[
                    ("Ln", 3, true),
                    ("Item", 12, false),
                    ("Description", 26, false),
                    ("Good", 6, true),
                    ("Damaged", 8, true),
                ])
            } else {
                columns(&[
                    ("Ln", 2, true),
                    ("Item", 10, false),
                    ("Desc", 12, false),
                    ("Good", 5, true),
                    ("Dm", 4, true),
                ])
            };
            lines.push(Line::styled(head, theme::dim()));
            let room = rows.saturating_sub(lines.len() + 1);
            let desc = |sku: &str| {
                f.po.as_ref()
                    .and_then(|p| p.lines.iter().find(|l| l.sku == sku))
                    .map(|l| l.description.clone())
                    .unwrap_or_default()
            };
            for l in summary.iter().skip(f.selected).take(room) {
                let (ln, good, dmg, d) = (
                    l.line.to_string(),
                    l.good.to_string(),
                    l.damaged.to_string(),
                    desc(&l.sku),
                );
                let text = if wide {
                    columns(&[
                        (&ln, 3, true),
                        (&l.sku, 12, false),
                        (&d, 26, false),
                        (&good, 6, true),
                        (&dmg, 8, true),
                    ])
                } else {
                    columns(&[
                        (&ln, 2, true),
                        (&l.sku, 10, false),
                        (&d, 12, false),
                        (&good, 5, true),
                        (&dmg, 4, true),
                    ])
                };
                lines.push(Line::from(text));
            }
            lines.push(Line::styled("Enter closes the receipt", theme::heading()));
            "Enter close  Esc go on  Up/Dn"
        }
        Step::Summary(summary) => {
            let head = if wide {
                columns(&[
                    ("Ln", 3, true),
                    ("Item", 12, false),
                    ("Ordered", 8, true),
                    ("Before", 7, true),
                    ("Good", 6, true),
                    ("Damaged", 8, true),
                    ("Short", 6, true),
                    ("Over", 5, true),
                ])
            } else {
                columns(&[
                    ("Ln", 2, true),
                    ("Item", 10, false),
                    ("Ord", 4, true),
                    ("Good", 4, true),
                    ("Dm", 3, true),
                    ("Sh", 3, true),
                    ("Ov", 3, true),
                ])
            };
            lines.push(Line::styled(head, theme::dim()));
            let room = rows.saturating_sub(lines.len() + 1);
            for l in summary.iter().skip(f.selected).take(room) {
                let n = |v: i64| v.to_string();
                let ordered = if f.blind() {
                    "-".to_string()
                } else {
                    n(l.ordered)
                };
                let cells: Vec<(String, usize)> = if wide {
                    vec![
                        (n(l.line), 3),
                        (l.sku.clone(), 12),
                        (ordered, 8),
                        (n(l.before), 7),
                        (n(l.good), 6),
                        (n(l.damaged), 8),
                        (n(l.short()), 6),
                        (n(l.over()), 5),
                    ]
                } else {
                    vec![
                        (n(l.line), 2),
                        (l.sku.clone(), 10),
                        (ordered, 4),
                        (n(l.good), 4),
                        (n(l.damaged), 3),
                        (n(l.short()), 3),
                        (n(l.over()), 3),
                    ]
                };
                let cells: Vec<(&str, usize, bool)> = cells
                    .iter()
                    .enumerate()
                    .map(|(i, (t, w))| (t.as_str(), *w, i != 1))
                    .collect();
                let line = Line::from(columns(&cells));
                let flagged = !l.discrepancies(f.policy.tolerance_pct).is_empty() || l.line == 0;
                lines.push(if flagged {
                    line.style(theme::unavailable())
                } else {
                    line
                });
            }
            let n: usize = summary
                .iter()
                .map(|l| l.discrepancies(f.policy.tolerance_pct).len() + usize::from(l.line == 0))
                .sum();
            lines.push(Line::styled(
                format!("Enter closes: {n} discrepancies"),
                theme::heading(),
            ));
            "Enter close  Esc go on  Up/Dn"
        }
        Step::Check { stage, .. } => {
            lines.push(Line::styled("Two-person check", theme::heading()));
            lines.push(Line::from(match stage {
                CheckStage::Badge => "Second person: scan your badge",
                CheckStage::Pin { .. } => "Second person: key your PIN",
            }));
            "Enter next  Esc back  F1 help"
        }
    };
    super::render_lines(&lines, area, buf);
    hint
}

/// The item being received.
fn pending(p: &Pending, wide: bool, lines: &mut Vec<Line>) {
    lines.push(Line::from(format!("{} {}", p.sku, p.description)));
    let mut detail = Vec::new();
    if p.pack_qty > 1 {
        detail.push(format!("case of {}", p.pack_qty));
    }
    if p.line == 0 {
        detail.push("NOT ON PO".to_string());
    } else if wide {
        detail.push(format!("line {}", p.line));
    }
    if let Some(l) = &p.lot {
        detail.push(format!("lot {l}"));
    }
    if let Some(e) = p.expiry {
        detail.push(format!("exp {e}"));
    }
    if !detail.is_empty() {
        lines.push(Line::from(detail.join("  ")));
    }
}

/// The PO's lines: ordered (unless blind), received and damaged so far.
fn po_lines(f: &ReceivingFlow, wide: bool, room: usize, lines: &mut Vec<Line>) {
    let Some(po) = &f.po else {
        return;
    };
    let blind = f.blind();
    type Cell = fn(&PoLineState) -> String;
    // (heading, width, right-aligned, value); the ordered column only when not blind.
    let (desc, ordered, recvd, dmg) = if wide {
        (
            ("Description", 26),
            ("Ordered", 8),
            ("Recvd", 6),
            ("Dmg", 4),
        )
    } else if blind {
        (("Desc", 17), ("Ord", 4), ("Rcv", 4), ("Dm", 3))
    } else {
        (("Desc", 12), ("Ord", 4), ("Rcv", 4), ("Dm", 3))
    };
    let mut spec: Vec<(&str, usize, bool, Cell)> = vec![
        ("Ln", if wide { 3 } else { 2 }, true, |l| l.line.to_string()),
        ("Item", if wide { 12 } else { 10 }, false, |l| l.sku.clone()),
        (desc.0, desc.1, false, |l| l.description.clone()),
    ];
    if !blind {
        spec.push((ordered.0, ordered.1, true, |l| l.ordered.to_string()));
    }
    spec.push((recvd.0, recvd.1, true, |l| l.received.to_string()));
    spec.push((dmg.0, dmg.1, true, |l| l.damaged.to_string()));
    let head: Vec<(&str, usize, bool)> = spec.iter().map(|(h, w, r, _)| (*h, *w, *r)).collect();
    lines.push(Line::styled(columns(&head), theme::dim()));
    for l in po
        .lines
        .iter()
        .skip(f.selected)
        .take(room.saturating_sub(1))
    {
        let values: Vec<String> = spec.iter().map(|(_, _, _, v)| v(l)).collect();
        let cells: Vec<(&str, usize, bool)> = spec
            .iter()
            .zip(&values)
            .map(|((_, w, r, _), v)| (v.as_str(), *w, *r))
            .collect();
        let text = columns(&cells);
        let done = l.received + l.damaged >= l.ordered;
        lines.push(if done && !blind {
            Line::styled(text, theme::dim())
        } else {
            Line::from(text)
        });
    }
}
