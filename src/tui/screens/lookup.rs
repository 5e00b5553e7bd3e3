use super::columns;
use crate::flows::lookup::{LookupAnswer, LookupFlow, Subject};
use crate::store::StockRow;
use crate::tui::theme;
use chrono::NaiveDate;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

pub(super) fn render(
    flow: &LookupFlow,
    today: NaiveDate,
    wide: bool,
    area: Rect,
    buf: &mut Buffer,
) -> &'static str {
    let Some(answer) = &flow.answer else {
        Paragraph::new(vec![
            Line::styled("Scan a location, an item", theme::heading()),
            Line::styled("(SKU or barcode) or a lot.", theme::heading()),
        ])
        .render(area, buf);
        return "Enter look up  Esc back  F1 help";
    };
    let mut lines = subject_lines(answer, today, wide);
    let by_location = !matches!(answer.subject, Some(Subject::Location { .. }));
    lines.push(Line::styled(header(by_location, wide), theme::dim()));
    let room = usize::from(area.height).saturating_sub(lines.len());
    let shown = answer.rows.iter().skip(flow.scroll).take(room);
    for row in shown {
        let expired = row.expiry.is_some_and(|d| d < today);
        let line = Line::from(row_text(row, expired, by_location, wide));
        lines.push(if expired {
            line.style(theme::tone(crate::flows::Tone::Error))
        } else if row.available {
            line
        } else {
            line.style(theme::unavailable())
        });
    }
    if answer.more > 0 && flow.scroll + room >= answer.rows.len() {
        lines.push(Line::styled(
            format!("... and {} more rows", answer.more),
            theme::dim(),
        ));
    }
    Paragraph::new(lines).render(area, buf);
    if flow.scroll + room < answer.rows.len() {
        "Esc back  Up/Dn more rows  F1 help"
    } else {
        "Enter look up  Esc back  F1 help"
    }
}

fn subject_lines(a: &LookupAnswer, today: NaiveDate, wide: bool) -> Vec<Line<'static>> {
    let unit = a
        .rows
        .first()
        .map(|r| r.base_unit.clone())
        .unwrap_or_default();
    let totals = totals_line(a, &unit, today, wide);
    match &a.subject {
        Some(Subject::Item {
            sku,
            description,
            base_unit,
            pack_qty,
        }) => {
            let mut first = format!("{sku} {description}");
            if *pack_qty > 1 {
                first.push_str(&format!(" (case of {pack_qty})"));
            }
            vec![
                Line::styled(first, theme::heading()),
                Line::from(totals_line(a, base_unit, today, wide)),
            ]
        }
        Some(Subject::Location { code, role, zone }) => {
            let zone = if zone.is_empty() {
                String::new()
            } else {
                format!(" zone {zone}")
            };
            let avail = if role.is_available() {
                "available"
            } else {
                "not available"
            };
            let mut v = vec![Line::styled(
                format!("{code} {}{zone}", role.as_str()),
                theme::heading(),
            )];
            v.push(Line::from(if wide {
                format!("{} rows, {} units, {avail}", a.rows.len(), a.on_hand())
            } else {
                format!("{} units, {avail}", a.on_hand())
            }));
            v
        }
        Some(Subject::Lot { code, items }) => {
            let what = match items.as_slice() {
                [(sku, Some(exp))] => format!("Lot {code} {sku} exp {exp}"),
                [(sku, None)] => format!("Lot {code} {sku}"),
                many => format!("Lot {code} ({} items)", many.len()),
            };
            vec![Line::styled(what, theme::heading()), Line::from(totals)]
        }
        None => vec![],
    }
}

/// On hand, available, and how much of it is expired, if any.
fn totals_line(a: &LookupAnswer, unit: &str, today: NaiveDate, wide: bool) -> String {
    let (avail, exp) = if wide {
        ("Available", "Expired")
    } else {
        ("Avail", "Exp")
    };
    let mut t = format!(
        "On hand {} {unit}  {avail} {}",
        a.on_hand(),
        a.available(today)
    );
    let expired = a.expired(today);
    if expired > 0 {
        t.push_str(&format!("  {exp} {expired}"));
    }
    t
}

fn header(by_location: bool, wide: bool) -> String {
    let first = if by_location { "Location" } else { "Item" };
    if wide {
        columns(&[
            (first, 12, false),
            ("Role", 10, false),
            ("Lot", 10, false),
            ("Expiry", 10, false),
            ("Qty", 8, true),
            ("Avail", 7, false),
        ])
    } else {
        columns(&[
            (if by_location { "Loc" } else { "Item" }, 11, false),
            ("Lot", 8, false),
            ("Expiry", 8, false),
            ("Qty", 6, true),
            ("A", 1, false),
        ])
    }
}

/// One balance row. Expired lots say so where the availability is shown: they sit in
/// sellable bins but must not be picked.
fn row_text(r: &StockRow, expired: bool, by_location: bool, wide: bool) -> String {
    let first = if by_location { &r.location } else { &r.sku };
    let qty = r.qty.to_string();
    if wide {
        let expiry = r
            .expiry
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        columns(&[
            (first, 12, false),
            (r.role.as_str(), 10, false),
            (&r.lot, 10, false),
            (&expiry, 10, false),
            (&qty, 8, true),
            (avail_word(r.available, expired, wide), 7, false),
        ])
    } else {
        let expiry = r
            .expiry
            .map(|d| d.format("%y-%m-%d").to_string())
            .unwrap_or_default();
        columns(&[
            (first, 11, false),
            (&r.lot, 8, false),
            (&expiry, 8, false),
            (&qty, 6, true),
            (avail_word(r.available, expired, wide), 1, false),
        ])
    }
}

fn avail_word(available: bool, expired: bool, wide: bool) -> &'static str {
    match (expired, available, wide) {
        (true, _, true) => "EXPIRED",
        (true, _, false) => "X",
        (false, true, true) => "yes",
        (false, true, false) => "Y",
        (false, false, true) => "no",
        (false, false, false) => "-",
    }
}
