//! The scan field and key handling: a key press becomes an [`Intent`], tested without a
//! terminal.

use crate::config::{ScannerConfig, Terminator};
use crate::domain::scan::{self, GS, MAX_SCAN_LEN};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key press means to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// The scan ended with a terminator; the text is sanitized.
    Submit(String),
    /// The field's text changed.
    Edited,
    /// Esc on an empty field.
    Back,
    Help,
    /// F2..F8.
    Function(u8),
    Quit,
    Logout,
    Up,
    Down,
    PageUp,
    PageDown,
    Ignored,
}

/// The one scan field that has focus on every screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanField {
    text: String,
}

impl ScanField {
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn clear(&mut self) {
        self.text.clear();
    }

    pub fn handle(&mut self, key: KeyEvent, scanner: &ScannerConfig) -> Intent {
        if key.kind == KeyEventKind::Release {
            return Intent::Ignored;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let ends = |t| scanner.terminators.contains(&t);
        match key.code {
            KeyCode::F(1) => Intent::Help,
            KeyCode::F(9) => Intent::Logout,
            KeyCode::F(10) => Intent::Quit,
            KeyCode::F(n @ 2..=8) => Intent::Function(n),
            KeyCode::Char('q' | 'c') if ctrl => Intent::Quit,
            KeyCode::Esc if self.text.is_empty() => Intent::Back,
            KeyCode::Esc => {
                self.text.clear();
                Intent::Edited
            }
            KeyCode::Enter if ends(Terminator::Enter) => self.submit(),
            KeyCode::Tab if ends(Terminator::Tab) => self.submit(),
            KeyCode::Char('j') if ctrl && ends(Terminator::CtrlJ) => self.submit(),
            // GS arrives as Ctrl+5 or Ctrl+] depending on the terminal, or as itself.
            KeyCode::Char('5' | ']') if ctrl => self.push(GS),
            KeyCode::Char(c) if c == GS || Some(c) == scanner.gs_standin => self.push(GS),
            KeyCode::Char(c)
                if !c.is_control() && !ctrl && !key.modifiers.contains(KeyModifiers::ALT) =>
            {
                self.push(c)
            }
            KeyCode::Backspace => {
                self.text.pop();
                Intent::Edited
            }
            KeyCode::Up => Intent::Up,
            KeyCode::Down => Intent::Down,
            KeyCode::PageUp => Intent::PageUp,
            KeyCode::PageDown => Intent::PageDown,
            _ => Intent::Ignored,
        }
    }

    fn push(&mut self, c: char) -> Intent {
        if self.text.chars().count() >= MAX_SCAN_LEN {
            return Intent::Ignored;
        }
        self.text.push(c);
        Intent::Edited
    }

    fn submit(&mut self) -> Intent {
        let text = scan::sanitize(&std::mem::take(&mut self.text));
        Intent::Submit(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }
    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }
    fn typed(f: &mut ScanField, s: &str, cfg: &ScannerConfig) {
        for c in s.chars() {
            f.handle(key(KeyCode::Char(c)), cfg);
        }
    }

    #[test]
    fn scan_ends_at_configured_terminator() {
        let cfg = ScannerConfig::default();
        let mut f = ScanField::default();
        typed(&mut f, "SKU-1", &cfg);
        assert_eq!(
            f.handle(key(KeyCode::Enter), &cfg),
            Intent::Submit("SKU-1".into())
        );
        assert_eq!(f.text(), "");
        typed(&mut f, "A", &cfg);
        assert_eq!(f.handle(ctrl('j'), &cfg), Intent::Submit("A".into()));
        assert_eq!(f.handle(key(KeyCode::Tab), &cfg), Intent::Ignored);
        let tab = ScannerConfig {
            terminators: vec![Terminator::Tab],
            gs_standin: None,
        };
        typed(&mut f, "B", &tab);
        assert_eq!(f.handle(key(KeyCode::Enter), &tab), Intent::Ignored);
        assert_eq!(
            f.handle(key(KeyCode::Tab), &tab),
            Intent::Submit("B".into())
        );
    }

    #[test]
    fn gs_kept_controls_dropped() {
        let cfg = ScannerConfig {
            gs_standin: Some('~'),
            ..Default::default()
        };
        let mut f = ScanField::default();
        typed(&mut f, "10AB", &cfg);
        f.handle(ctrl('5'), &cfg);
        typed(&mut f, "17~X\u{7}", &cfg);
        f.handle(ctrl(']'), &cfg);
        f.handle(ctrl('x'), &cfg);
        assert_eq!(f.text(), "10AB\u{1d}17\u{1d}X\u{1d}");
    }

    #[test]
    fn esc_clears_then_goes_back() {
        let cfg = ScannerConfig::default();
        let mut f = ScanField::default();
        typed(&mut f, "ab", &cfg);
        assert_eq!(f.handle(key(KeyCode::Backspace), &cfg), Intent::Edited);
        assert_eq!(f.text(), "a");
        assert_eq!(f.handle(key(KeyCode::Esc), &cfg), Intent::Edited);
        assert_eq!(f.handle(key(KeyCode::Esc), &cfg), Intent::Back);
        assert_eq!(f.handle(key(KeyCode::F(1)), &cfg), Intent::Help);
        assert_eq!(f.handle(ctrl('q'), &cfg), Intent::Quit);
    }
}
