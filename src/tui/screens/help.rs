use crate::tui::app::Help;
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

/// The procedure for the current screen, over it.
pub(super) fn render(help: Help, area: Rect, buf: &mut Buffer) {
    // On a narrow screen the overlay takes all of it: every column is needed for text.
    let area = if area.width < super::WIDE {
        area
    } else {
        Rect {
            x: area.x + 1,
            y: area.y + 1,
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(2),
        }
    };
    Clear.render(area, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(format!(" Help: {} ", help.topic.title()))
        .title_bottom(Line::from(" Esc close  Up/Dn scroll ").right_aligned());
    let lines: Vec<Line> = reflow(help.topic.text())
        .into_iter()
        .map(|l| match l.strip_prefix("## ") {
            Some(h) => Line::styled(h.to_string(), theme::heading()),
            None => Line::from(l),
        })
        .collect();
    Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((help.scroll, 0))
        .render(area, buf);
}

/// The procedure's paragraphs and list items as single lines, so the overlay wraps them to
/// its own width: a line that continues the one before (indented, or plain text after
/// text) is joined to it. The title is dropped; the box shows it.
fn reflow(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut joinable = false;
    for raw in text
        .lines()
        .skip_while(|l| l.starts_with("# ") || l.is_empty())
    {
        let line = raw.replace('`', "");
        let trimmed = line.trim_start();
        let starts_item = trimmed.starts_with("- ")
            || trimmed
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if trimmed.is_empty() || line.starts_with('#') {
            out.push(line.clone());
            joinable = false;
        } else if joinable && !starts_item {
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(trimmed);
            }
        } else {
            out.push(line.clone());
            joinable = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn reflow_joins_continuation_lines() {
        let text = "# T\n\nIntro line\nwraps here.\n\n## Steps\n\n1. Do this\n   and that.\n2. Then\n   - a point\n     more\n";
        assert_eq!(
            super::reflow(text),
            vec![
                "Intro line wraps here.",
                "",
                "## Steps",
                "",
                "1. Do this and that.",
                "2. Then",
                "   - a point more"
            ]
        );
    }
}
