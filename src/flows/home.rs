//! The home menu: the tasks the user's role allows.

use super::{Effect, Input, Notice, refuse};
use crate::domain::Task;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeFlow {
    pub tasks: Vec<Task>,
    pub selected: usize,
    pub notice: Option<Notice>,
}

impl HomeFlow {
    pub fn new(tasks: Vec<Task>) -> Self {
        Self {
            tasks,
            selected: 0,
            notice: None,
        }
    }

    pub fn input(&mut self, input: Input) -> Vec<Effect> {
        let n = self.tasks.len();
        match input {
            Input::Up if n > 0 => self.selected = (self.selected + n - 1) % n,
            Input::Down if n > 0 => self.selected = (self.selected + 1) % n,
            Input::Scanned(s) if s.is_empty() => return self.open(self.selected),
            Input::Scanned(s) if s.eq_ignore_ascii_case("l") => return vec![Effect::Logout],
            Input::Scanned(s) => {
                return match s.parse::<usize>() {
                    Ok(k) if (1..=n).contains(&k) => {
                        self.selected = k - 1;
                        self.open(k - 1)
                    }
                    _ => refuse(
                        &mut self.notice,
                        format!("{s} is not on the menu: key 1 to {n}, or L to log out"),
                    ),
                };
            }
            _ => {}
        }
        vec![]
    }

    fn open(&mut self, i: usize) -> Vec<Effect> {
        match self.tasks.get(i) {
            Some(t) if t.is_available() => {
                self.notice = None;
                vec![Effect::Open(*t)]
            }
            Some(t) => refuse(
                &mut self.notice,
                format!("{} is not available in this release yet", t.title()),
            ),
            None => refuse(&mut self.notice, "no task to open"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_by_number_arrow_and_refuse_unbuilt() {
        let mut h = HomeFlow::new(vec![Task::StockLookup, Task::Picking, Task::Packing]);
        assert_eq!(
            h.input(Input::Scanned("1".into())),
            vec![Effect::Open(Task::StockLookup)]
        );
        assert_eq!(h.input(Input::Scanned("2".into())), vec![Effect::Beep]);
        assert!(
            h.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("Picking is not available"))
        );
        assert_eq!(h.selected, 1, "the number moves the highlight");
        h.input(Input::Up);
        h.input(Input::Up);
        assert_eq!(h.selected, 2, "Up wraps round");
        h.input(Input::Down);
        assert_eq!(
            h.input(Input::Scanned(String::new())),
            vec![Effect::Open(Task::StockLookup)]
        );
        assert_eq!(h.input(Input::Scanned("9".into())), vec![Effect::Beep]);
        assert_eq!(h.input(Input::Scanned("L".into())), vec![Effect::Logout]);
    }
}
