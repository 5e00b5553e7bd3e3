//! Colours and styles, in one place. Plain 16-colour styles so RF terminals render them.

use crate::flows::Tone;
use ratatui::style::{Color, Modifier, Style};

pub fn title_bar() -> Style {
    Style::new().fg(Color::Black).bg(Color::Cyan)
}

pub fn status_bar() -> Style {
    Style::new().fg(Color::Black).bg(Color::Gray)
}

pub fn heading() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn field() -> Style {
    Style::new()
        .fg(Color::White)
        .bg(Color::Blue)
        .add_modifier(Modifier::BOLD)
}

pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub fn unavailable() -> Style {
    Style::new().fg(Color::Yellow)
}

pub fn tone(t: Tone) -> Style {
    match t {
        Tone::Info => Style::new().fg(Color::Cyan),
        Tone::Success => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        Tone::Error => Style::new()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
    }
}
