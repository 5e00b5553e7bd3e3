use super::App;
use crate::flows::home::HomeFlow;
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub(super) fn render(flow: &HomeFlow, app: &App, area: Rect, buf: &mut Buffer) -> &'static str {
    let mut lines = Vec::new();
    if let Some(u) = app.user() {
        lines.push(Line::styled(format!("Hello, {}", u.name), theme::heading()));
    }
    for (i, task) in flow.tasks.iter().enumerate() {
        let mut spans = vec![Span::raw(format!("{:>2} {}", i + 1, task.title()))];
        if !task.is_available() {
            spans.push(Span::styled("  not yet available", theme::dim()));
        }
        let line = Line::from(spans);
        lines.push(if i == flow.selected {
            line.style(theme::selected())
        } else {
            line
        });
    }
    Paragraph::new(lines).render(area, buf);
    "Up/Dn Enter open  F9 logout  F1 help"
}
