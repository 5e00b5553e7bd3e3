use super::{columns, truncate};
use crate::flows::putaway::{PutawayFlow, Step, Task};
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

pub(super) fn field_label(f: &PutawayFlow) -> &'static str {
    match f.step {
        Step::Tasks => "Item",
        Step::Bin { .. } => "Bin",
        Step::ConfirmOther { .. } => "Use?",
        Step::Qty { .. } => "Qty",
    }
}

pub(super) fn render(f: &PutawayFlow, wide: bool, area: Rect, buf: &mut Buffer) -> &'static str {
    let w = usize::from(area.width);
    let rows = usize::from(area.height);
    let mut lines: Vec<Line> = Vec::new();
    let hint = match &f.step {
        Step::Tasks => {
            lines.push(Line::styled(
                format!("At the dock ({})", f.tasks.len()),
                theme::heading(),
            ));
            let head = if wide {
                columns(&[
                    ("Item", 12, false),
                    ("Description", 24, false),
                    ("Lot", 10, false),
                    ("Qty", 7, true),
                    ("At", 10, false),
                ])
            } else {
                columns(&[
                    ("Item", 11, false),
                    ("Lot", 8, false),
                    ("Qty", 6, true),
                    ("At", 9, false),
                ])
            };
            lines.push(Line::styled(head, theme::dim()));
            let room = rows.saturating_sub(lines.len());
            let start = f.selected.saturating_sub(room.saturating_sub(1));
            for (i, t) in f.tasks.iter().enumerate().skip(start).take(room) {
                let qty = t.qty.to_string();
                let text = if wide {
                    columns(&[
                        (&t.sku, 12, false),
                        (&t.description, 24, false),
                        (&t.lot, 10, false),
                        (&qty, 7, true),
                        (&t.from, 10, false),
                    ])
                } else {
                    columns(&[
                        (&t.sku, 11, false),
                        (&t.lot, 8, false),
                        (&qty, 6, true),
                        (&t.from, 9, false),
                    ])
                };
                let line = Line::from(text);
                lines.push(if i == f.selected {
                    line.style(theme::selected())
                } else {
                    line
                });
            }
            "Enter take  Up/Dn  Esc menu  F1 help"
        }
        Step::Bin { task, suggested } => {
            task_lines(task, w, &mut lines);
            match suggested {
                Some(s) => {
                    lines.push(Line::styled(
                        format!("Go to {}", s.suggestion.bin),
                        theme::heading(),
                    ));
                    lines.push(Line::from(format!(
                        "for {} {}",
                        s.suggestion.qty, task.base_unit
                    )));
                    lines.push(Line::from("Scan the bin label or key its"));
                    lines.push(Line::from("check digits."));
                }
                None => {
                    lines.push(Line::styled("No bin has room.", theme::heading()));
                    lines.push(Line::from("Scan a storage bin, or Esc."));
                }
            }
            "Esc back  F1 help"
        }
        Step::ConfirmOther {
            task,
            bin,
            suggested,
        } => {
            task_lines(task, w, &mut lines);
            if let Some(s) = suggested {
                lines.push(Line::from(format!("Suggested: {}", s.suggestion.bin)));
            }
            lines.push(Line::styled(
                format!("Put it in {} instead?", bin.code),
                theme::heading(),
            ));
            "Enter yes  Esc no  F1 help"
        }
        Step::Qty { task, bin, default } => {
            task_lines(task, w, &mut lines);
            lines.push(Line::styled(format!("Into {}", bin.code), theme::heading()));
            if let Some(room) = bin.room {
                lines.push(Line::from(format!("room for {room}")));
            }
            lines.push(Line::styled(
                format!("Qty {default}: Enter confirms"),
                theme::heading(),
            ));
            lines.push(Line::from("Key less to leave the rest."));
            "Enter confirm  Esc back  F1 help"
        }
    };
    Paragraph::new(lines).render(area, buf);
    hint
}

fn task_lines(t: &Task, w: usize, lines: &mut Vec<Line>) {
    lines.push(Line::from(truncate(
        &format!("{} {}", t.sku, t.description),
        w,
    )));
    let mut d = format!("{} {} at {}", t.qty, t.base_unit, t.from);
    if !t.lot.is_empty() {
        d.push_str(&format!("  lot {}", t.lot));
    }
    lines.push(Line::from(truncate(&d, w)));
}
