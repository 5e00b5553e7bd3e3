use crate::tui::app::Help;
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

/// The procedure for the current screen, over it.
pub(super) fn render(help: Help, area: Rect, buf: &mut Buffer) {
    let area = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    Clear.render(area, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(format!(" Help: {} ", help.topic.title()))
        .title_bottom(Line::from(" Esc close  Up/Dn scroll ").right_aligned());
    let lines: Vec<Line> = help
        .topic
        .text()
        .lines()
        .skip_while(|l| l.starts_with("# ") || l.is_empty())
        .map(|l| {
            let l = l.replace('`', "");
            match l.strip_prefix("## ") {
                Some(h) => Line::styled(h.to_string(), theme::heading()),
                None => Line::from(l),
            }
        })
        .collect();
    Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((help.scroll, 0))
        .render(area, buf);
}
