//! A supervisor reads this terminal's events that the server rejected, with its reasons.
//! Read-only: a rejected event stays in the journal, and what to do about it (record the
//! movement again by someone allowed, count the stock) happens on the floor.

use super::{Effect, Input, Notice, refuse};
use crate::store::RejectedEvent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedFlow {
    /// Oldest first, as they were recorded.
    pub events: Vec<RejectedEvent>,
    pub selected: usize,
    pub notice: Option<Notice>,
}

impl RejectedFlow {
    pub fn new(events: Vec<RejectedEvent>) -> Self {
        Self {
            events,
            selected: 0,
            notice: None,
        }
    }

    pub fn input(&mut self, input: Input) -> Vec<Effect> {
        let n = self.events.len();
        match input {
            Input::Up if n > 0 => self.selected = self.selected.saturating_sub(1),
            Input::Down if n > 0 => self.selected = (self.selected + 1).min(n - 1),
            Input::PageUp if n > 0 => self.selected = self.selected.saturating_sub(5),
            Input::PageDown if n > 0 => self.selected = (self.selected + 5).min(n - 1),
            Input::Back => return vec![Effect::Home],
            Input::Scanned(s) if s.is_empty() => {}
            Input::Scanned(_) | Input::Function(..) => {
                return refuse(
                    &mut self.notice,
                    "nothing to scan here: Up and Down to read, Esc for the menu",
                );
            }
            _ => {}
        }
        vec![]
    }

    pub fn selected(&self) -> Option<&RejectedEvent> {
        self.events.get(self.selected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64) -> RejectedEvent {
        RejectedEvent {
            seq,
            id: format!("id-{seq}"),
            user: "1003".into(),
            at: "2026-11-22T14:00:00Z".into(),
            kind: "stock_moved".into(),
            reason: format!("reason {seq}"),
        }
    }

    #[test]
    fn reads_up_and_down_refuses_scans_and_goes_back() {
        let mut f = RejectedFlow::new((1..=8).map(event).collect());
        assert_eq!(f.selected().map(|e| e.seq), Some(1));
        f.input(Input::Up);
        assert_eq!(f.selected, 0, "stays on the first");
        f.input(Input::Down);
        f.input(Input::PageDown);
        assert_eq!(f.selected().map(|e| e.seq), Some(7));
        f.input(Input::PageDown);
        assert_eq!(f.selected().map(|e| e.seq), Some(8), "stops on the last");
        assert_eq!(f.input(Input::Scanned("SKU-1".into())), vec![Effect::Beep]);
        assert!(
            f.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("nothing to scan"))
        );
        assert_eq!(f.input(Input::Back), vec![Effect::Home]);
    }

    #[test]
    fn an_empty_list_takes_keys_quietly() {
        let mut f = RejectedFlow::new(Vec::new());
        assert!(f.input(Input::Down).is_empty());
        assert!(f.input(Input::Scanned(String::new())).is_empty());
        assert_eq!(f.selected(), None);
    }
}
