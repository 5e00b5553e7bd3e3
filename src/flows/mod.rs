//! Guided flows as plain state machines. A flow takes inputs (a scan, a key command, the
//! answer of a lookup) and returns effects for the app loop to perform. No flow touches
//! the terminal, the store or the clock; tests drive them directly.

pub mod home;
pub mod login;
pub mod lookup;
pub mod putaway;
pub mod receiving;
pub mod rejected;
pub mod unlock;

use crate::domain::Task;

/// What the user did, as far as a flow is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The scan field was submitted (scanner terminator or Enter); already sanitized.
    Scanned(String),
    Up,
    Down,
    PageUp,
    PageDown,
    /// Esc on an empty scan field.
    Back,
    /// A function key F2..F8 (F1 is help, F9 logout, F10 quit), with what was typed in
    /// the scan field (e.g. a quantity before F3 for damaged).
    Function(u8, String),
}

/// What the app loop must do for a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Sound the terminal bell: something was wrong.
    Beep,
    Authenticate {
        badge: String,
        pin: String,
    },
    /// Look up what a code is and the stock behind it.
    Lookup(String),
    /// Open a task from the home menu.
    Open(Task),
    /// Unlock a badge locked by wrong PINs.
    Unlock(String),
    /// Leave the task for the home menu.
    Home,
    Logout,
    /// Facts or a commit the receiving flow needs.
    Receiving(receiving::Request),
    /// Facts or a commit the putaway flow needs.
    Putaway(putaway::Request),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Error,
}

/// A one-line message under the screen's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub tone: Tone,
    pub text: String,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Self {
        Self {
            tone: Tone::Info,
            text: text.into(),
        }
    }
    pub fn success(text: impl Into<String>) -> Self {
        Self {
            tone: Tone::Success,
            text: text.into(),
        }
    }
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            tone: Tone::Error,
            text: text.into(),
        }
    }
}

/// An error notice and the bell, the answer to every bad input.
pub(crate) fn refuse(notice: &mut Option<Notice>, text: impl Into<String>) -> Vec<Effect> {
    *notice = Some(Notice::error(text));
    vec![Effect::Beep]
}
