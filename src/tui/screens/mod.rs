//! Drawing: a pure function of the app's state into a buffer. One module per screen,
//! plus the chrome every screen shares (title bar, scan field, notice, key hints,
//! status bar) and the help overlay.

mod help;
mod home;
mod login;
mod lookup;
mod putaway;
mod receiving;
mod rejected;
mod unlock;

use super::app::{App, Screen};
use super::theme;
use crate::flows::Notice;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

/// The smallest screen every floor task works on (RF-gun terminal emulation).
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 16;

/// From this width up, screens show more columns and frame the body.
pub(crate) const WIDE: u16 = 60;

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            too_small(area, buf);
            return;
        }
        // A long message gets a second row rather than being cut.
        let notice_rows = match self.screen().notice() {
            Some(n) if n.text.chars().count() > usize::from(area.width) => 2,
            _ => 1,
        };
        let [title, field, body, notice, keys, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(notice_rows),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        title_bar(self, title, buf);
        scan_field(self, field, buf);
        let body = if area.width >= WIDE && area.height >= 20 {
            let block = Block::new()
                .borders(Borders::TOP | Borders::BOTTOM)
                .border_style(theme::dim());
            let inner = block.inner(body);
            block.render(body, buf);
            inner
        } else {
            body
        };
        let wide = area.width >= WIDE;
        let hint = match self.screen() {
            Screen::Login(f) => login::render(f, self, body, buf),
            Screen::Home(f) => home::render(f, self, body, buf),
            Screen::Lookup(f) => lookup::render(f, self.today(), wide, body, buf),
            Screen::Unlock(_) => unlock::render(body, buf),
            Screen::Receiving(f) => receiving::render(f, wide, body, buf),
            Screen::Putaway(f) => putaway::render(f, wide, body, buf),
            Screen::Rejected(f) => rejected::render(f, self.utc_offset(), wide, body, buf),
        };
        notice_line(self.screen().notice(), notice, buf);
        Line::styled(hint, theme::dim()).render(keys, buf);
        status_bar(self, status, buf);
        if let Some(h) = self.help {
            help::render(h, area, buf);
        }
    }
}

fn too_small(area: Rect, buf: &mut Buffer) {
    let text = format!(
        "Terminal too small ({}x{}). Floorhand needs at least {MIN_WIDTH}x{MIN_HEIGHT}: enlarge the window or the font.",
        area.width, area.height
    );
    Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .style(theme::tone(crate::flows::Tone::Error))
        .render(area, buf);
}

fn title_bar(app: &App, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, theme::title_bar());
    let left = format!(" {}", app.screen().title());
    let (left, right) = if area.width >= WIDE {
        (format!(" Floorhand \u{b7}{left}"), "F1 Help ".to_string())
    } else {
        // The status bar has no room for the site at this width; it goes up here.
        (left, format!("{} \u{b7} F1 Help ", app.config.site))
    };
    Line::from(left).render(area, buf);
    Line::from(right).right_aligned().render(area, buf);
}

fn scan_field(app: &App, area: Rect, buf: &mut Buffer) {
    let masked = app.screen().masked();
    let label = match app.screen() {
        _ if masked => "PIN",
        Screen::Login(_) | Screen::Unlock(_) => "Badge",
        Screen::Home(_) | Screen::Rejected(_) => "Choice",
        Screen::Lookup(_) => "Scan",
        Screen::Receiving(f) => receiving::field_label(f),
        Screen::Putaway(f) => putaway::field_label(f),
    };
    let text = app.field.text();
    let shown = if masked {
        "*".repeat(text.chars().count())
    } else {
        crate::domain::scan::display(text)
    };
    // Keep the end of a long scan in view, cursor included.
    let room = usize::from(area.width).saturating_sub(label.len() + 3);
    let skip = shown.chars().count().saturating_sub(room);
    let shown: String = shown.chars().skip(skip).collect();
    let line = Line::from(vec![
        Span::styled(format!("{label}> "), theme::heading()),
        Span::styled(format!("{shown}_"), theme::field()),
    ]);
    line.render(area, buf);
}

fn notice_line(notice: Option<&Notice>, area: Rect, buf: &mut Buffer) {
    if let Some(n) = notice {
        Paragraph::new(Line::styled(n.text.clone(), theme::tone(n.tone)))
            .wrap(Wrap { trim: true })
            .render(area, buf);
    }
}

fn status_bar(app: &App, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, theme::status_bar());
    let clock = app.now.with_timezone(&app.utc_offset()).format("%H:%M");
    let sync = sync_text(app.sync_status().as_ref(), area.width >= WIDE, app);
    let cfg = &app.config;
    let right = if area.width >= WIDE {
        format!(
            "site {} \u{b7} {} \u{b7} {sync} \u{b7} {clock} ",
            cfg.site, cfg.terminal_id
        )
    } else {
        format!("{} {sync} {clock} ", cfg.terminal_id)
    };
    let room = usize::from(area.width).saturating_sub(right.chars().count() + 1);
    let left = match app.user() {
        Some(u) if area.width >= WIDE => {
            format!(" {} {} \u{b7} {}", u.badge, u.name, u.roles_label())
        }
        Some(u) => format!(" {} {}", u.badge, u.roles_label()),
        None => " not signed in".to_string(),
    };
    Line::from(truncate(&left, room)).render(area, buf);
    Line::from(right).right_aligned().render(area, buf);
}

/// Online or offline, pending and rejected events, the last sync; "not enrolled" until the
/// terminal has a server.
fn sync_text(status: Option<&crate::sync::client::Status>, wide: bool, app: &App) -> String {
    let Some(s) = status.filter(|s| s.enrolled) else {
        return "not enrolled".into();
    };
    let state = match (&s.problem, s.online) {
        (Some(_), _) => "SYNC STOPPED",
        (None, true) => "online",
        (None, false) => "offline",
    };
    if !wide {
        let mut t = state.to_string();
        if s.pending > 0 {
            t.push_str(&format!(" {}", s.pending));
        }
        if s.rejected > 0 {
            t.push_str(&format!(" !{}", s.rejected));
        }
        return t;
    }
    let mut t = format!("{state} \u{b7} {} pending", s.pending);
    if let Some(last) = s
        .last_sync
        .as_deref()
        .and_then(|l| chrono::DateTime::parse_from_rfc3339(l).ok())
    {
        t.push_str(&format!(
            " \u{b7} synced {}",
            last.with_timezone(&app.utc_offset()).format("%H:%M")
        ));
    }
    if s.rejected > 0 {
        t.push_str(&format!(" \u{b7} {} rejected", s.rejected));
    }
    t
}

/// Left-aligned lines from the top of `area`, each cut at its right edge: what a plain
/// `Paragraph` draws, without its grapheme-by-grapheme line composer (a screen of PO lines
/// took twice as long through it). Control characters are left out, as `Buffer` does.
pub(crate) fn render_lines(lines: &[Line], area: Rect, buf: &mut Buffer) {
    for (line, y) in lines.iter().zip(area.top()..area.bottom()) {
        buf.set_line(area.x, y, line, area.width);
    }
}

/// `text` cut to `width` characters, with an ellipsis when something was cut.
pub(crate) fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('\u{2026}');
    cut
}

/// Fixed-width columns: text cut or padded to each width; right-aligned cells (numbers)
/// are never cut, since a cut number reads as another number.
pub(crate) fn columns(cells: &[(&str, usize, bool)]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(cells.iter().map(|c| c.1 + 1).sum());
    for (i, (text, width, right)) in cells.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        // Writing to a String cannot fail.
        let _ = if *right {
            write!(out, "{text:>width$}")
        } else {
            let cut = match text.char_indices().nth(*width) {
                Some((end, _)) => text.get(..end).unwrap_or(text),
                None => text,
            };
            write!(out, "{cut:<width$}")
        };
    }
    out.truncate(out.trim_end().len());
    out
}
