use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget, Wrap};

pub(super) fn render(area: Rect, buf: &mut Buffer) -> &'static str {
    Paragraph::new(vec![
        Line::styled("Scan the badge to unlock.", theme::heading()),
        Line::from("Check who it belongs to first: the"),
        Line::from("owner must be standing with you."),
    ])
    .wrap(Wrap { trim: true })
    .render(area, buf);
    "Enter unlock  Esc back  F1 help"
}
