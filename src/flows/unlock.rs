//! A supervisor unlocks a badge locked by wrong PINs.

use super::{Effect, Input, Notice, refuse};
use crate::domain::scan;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnlockFlow {
    pub notice: Option<Notice>,
}

impl UnlockFlow {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn input(&mut self, input: Input) -> Vec<Effect> {
        match input {
            Input::Scanned(badge) if badge.is_empty() => {
                refuse(&mut self.notice, "scan the badge to unlock")
            }
            Input::Scanned(badge) => vec![Effect::Unlock(badge)],
            Input::Back => vec![Effect::Home],
            _ => vec![],
        }
    }

    /// The store's answer to [`Effect::Unlock`].
    pub fn answer(&mut self, badge: &str, result: Result<(), String>) -> Vec<Effect> {
        match result {
            Ok(()) => {
                self.notice = Some(Notice::success(format!(
                    "badge {} unlocked",
                    scan::display(badge)
                )));
                vec![]
            }
            Err(message) => refuse(&mut self.notice, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlock_reports_both_ways() {
        let mut f = UnlockFlow::new();
        assert_eq!(
            f.input(Input::Scanned("1003".into())),
            vec![Effect::Unlock("1003".into())]
        );
        assert!(f.answer("1003", Ok(())).is_empty());
        assert_eq!(f.notice, Some(Notice::success("badge 1003 unlocked")));
        assert_eq!(
            f.answer("9", Err("not found: badge 9".into())),
            vec![Effect::Beep]
        );
    }
}
