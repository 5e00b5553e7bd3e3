use super::{App, WIDE, columns};
use crate::flows::login::{LoginFlow, LoginStep};
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

pub(super) fn render(flow: &LoginFlow, app: &App, area: Rect, buf: &mut Buffer) -> &'static str {
    let mut lines = vec![match &flow.step {
        LoginStep::Badge => Line::styled("Scan your badge.", theme::heading()),
        LoginStep::Pin { badge } => Line::styled(
            format!(
                "Badge {}: key your PIN.",
                crate::domain::scan::display(badge)
            ),
            theme::heading(),
        ),
    }];
    if !app.demo_logins.is_empty() {
        let wide = area.width >= WIDE;
        if wide {
            lines.push(Line::from(""));
        }
        lines.push(Line::styled(
            columns(&[
                ("Demo", 5, false),
                ("PIN", 4, false),
                ("role", 18, false),
                ("name", 20, false),
            ]),
            theme::dim(),
        ));
        for d in &app.demo_logins {
            lines.push(Line::from(columns(&[
                (&d.badge, 5, false),
                (&d.pin, 4, false),
                (&d.roles, 18, false),
                (&d.name, 20, false),
            ])));
        }
    }
    Paragraph::new(lines).render(area, buf);
    match flow.step {
        LoginStep::Badge => "Enter next  F1 help  F10 quit",
        LoginStep::Pin { .. } => "Enter sign in  Esc back  F1 help",
    }
}
