//! Badge + PIN login.

use super::{Effect, Input, Notice, refuse};
use crate::domain::scan;
use crate::store::LoginOutcome;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginStep {
    Badge,
    Pin { badge: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFlow {
    pub step: LoginStep,
    pub notice: Option<Notice>,
}

impl Default for LoginFlow {
    fn default() -> Self {
        Self::new()
    }
}

impl LoginFlow {
    pub fn new() -> Self {
        Self {
            step: LoginStep::Badge,
            notice: None,
        }
    }

    /// Start over with a message, e.g. after an idle logout.
    pub fn with_notice(notice: Notice) -> Self {
        Self {
            step: LoginStep::Badge,
            notice: Some(notice),
        }
    }

    /// The PIN is typed into a masked field.
    pub fn masked(&self) -> bool {
        matches!(self.step, LoginStep::Pin { .. })
    }

    pub fn input(&mut self, input: Input) -> Vec<Effect> {
        match (&self.step, input) {
            (LoginStep::Badge, Input::Scanned(badge)) => {
                if badge.is_empty() {
                    return refuse(&mut self.notice, "scan your badge or type its number");
                }
                self.step = LoginStep::Pin { badge };
                self.notice = None;
                vec![]
            }
            (LoginStep::Pin { badge }, Input::Scanned(pin)) => {
                if pin.is_empty() {
                    return refuse(&mut self.notice, "key your PIN, then Enter");
                }
                vec![Effect::Authenticate {
                    badge: badge.clone(),
                    pin,
                }]
            }
            (LoginStep::Pin { .. }, Input::Back) => {
                *self = Self::new();
                vec![]
            }
            _ => vec![],
        }
    }

    /// The store's answer to [`Effect::Authenticate`]. Success is handled by the app,
    /// which leaves this screen.
    pub fn answer(&mut self, outcome: &LoginOutcome) -> Vec<Effect> {
        let badge = match &self.step {
            LoginStep::Pin { badge } => scan::display(badge),
            LoginStep::Badge => String::new(),
        };
        let text = match outcome {
            LoginOutcome::Success(_) => {
                *self = Self::new();
                return vec![];
            }
            LoginOutcome::UnknownBadge => {
                self.step = LoginStep::Badge;
                format!("badge {badge} is not known: scan it again or see a supervisor")
            }
            LoginOutcome::Disabled => {
                self.step = LoginStep::Badge;
                format!("badge {badge} is disabled: see a supervisor")
            }
            LoginOutcome::Locked => {
                self.step = LoginStep::Badge;
                format!("badge {badge} is locked: a supervisor must unlock it")
            }
            LoginOutcome::WrongPin {
                attempts_left,
                wait,
            } => {
                let mut t = format!("wrong PIN: {attempts_left} tries left before the lock");
                if !wait.is_zero() {
                    t.push_str(&format!(", wait {} s", wait.as_secs()));
                }
                t
            }
            LoginOutcome::TooSoon { wait } => {
                format!(
                    "too soon: wait {} s, then key your PIN again",
                    wait.as_secs()
                )
            }
        };
        refuse(&mut self.notice, text)
    }

    /// The store could not record the attempt; the user stays where they are.
    pub fn failed(&mut self, message: String) -> Vec<Effect> {
        refuse(&mut self.notice, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn badge_then_pin_then_authenticate() {
        let mut f = LoginFlow::new();
        assert!(!f.masked());
        assert_eq!(f.input(Input::Scanned(String::new())), vec![Effect::Beep]);
        assert_eq!(f.input(Input::Scanned("1001".into())), vec![]);
        assert!(f.masked());
        assert_eq!(
            f.input(Input::Scanned("1111".into())),
            vec![Effect::Authenticate {
                badge: "1001".into(),
                pin: "1111".into()
            }]
        );
        let e = f.answer(&LoginOutcome::WrongPin {
            attempts_left: 1,
            wait: Duration::from_secs(4),
        });
        assert_eq!(e, vec![Effect::Beep]);
        assert!(
            f.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("1 tries left") && n.text.contains("wait 4 s"))
        );
        assert!(f.masked(), "a wrong PIN keeps the badge");
        f.answer(&LoginOutcome::Locked);
        assert_eq!(f.step, LoginStep::Badge);
        assert!(
            f.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("badge 1001 is locked"))
        );
    }

    #[test]
    fn esc_on_pin_goes_back_to_badge() {
        let mut f = LoginFlow::new();
        f.input(Input::Scanned("1001".into()));
        f.input(Input::Back);
        assert_eq!(f, LoginFlow::new());
    }
}
