use super::{render_lines, truncate};
use crate::flows::rejected::RejectedFlow;
use crate::tui::theme;
use chrono::FixedOffset;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// The list of rejected events above, the chosen one's details (its reason in full) below.
pub(super) fn render(
    flow: &RejectedFlow,
    offset: FixedOffset,
    wide: bool,
    area: Rect,
    buf: &mut Buffer,
) -> &'static str {
    let hint = "Up/Dn read  Esc menu  F1 help";
    let Some(chosen) = flow.selected() else {
        Paragraph::new(vec![
            Line::styled("No rejected events.", theme::heading()),
            Line::from("The server has accepted every event"),
            Line::from("this terminal has sent."),
        ])
        .wrap(Wrap { trim: true })
        .render(area, buf);
        return hint;
    };
    let n = flow.events.len();
    let rows = u16::try_from(n)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(1) / 2)
        .max(1);
    let [heading, list, details] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(rows),
        Constraint::Fill(1),
    ])
    .areas(area);
    let width = usize::from(area.width);
    Line::styled(
        truncate(&format!("{n} refused by the server (oldest first)"), width),
        theme::heading(),
    )
    .render(heading, buf);
    // Keep the chosen row in view.
    let shown = usize::from(rows);
    let first = flow.selected.saturating_sub(shown.saturating_sub(1));
    let lines: Vec<Line> = flow
        .events
        .iter()
        .enumerate()
        .skip(first)
        .take(shown)
        .map(|(i, e)| {
            let kind = e.kind.replace('_', " ");
            let text = if wide {
                format!(
                    "{:>6} {:<16} {:<6} {}",
                    e.seq,
                    kind,
                    e.user,
                    when(&e.at, offset)
                )
            } else {
                format!("{:>5} {kind} {}", e.seq, e.user)
            };
            let line = Line::from(truncate(&text, width));
            if i == flow.selected {
                line.style(theme::selected())
            } else {
                line
            }
        })
        .collect();
    render_lines(&lines, list, buf);
    let mut about = vec![Line::styled(
        format!(
            "#{} by {} on {}",
            chosen.seq,
            chosen.user,
            when(&chosen.at, offset)
        ),
        theme::dim(),
    )];
    about.push(Line::from(chosen.reason.clone()));
    Paragraph::new(about)
        .wrap(Wrap { trim: true })
        .render(details, buf);
    hint
}

/// An event's time (RFC 3339, UTC) on the floor's clock; as stored if it is not a time.
fn when(at: &str, offset: FixedOffset) -> String {
    chrono::DateTime::parse_from_rfc3339(at).map_or_else(
        |_| at.to_string(),
        |t| t.with_timezone(&offset).format("%d %b %H:%M").to_string(),
    )
}
