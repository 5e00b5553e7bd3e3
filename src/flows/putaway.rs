//! Putaway: move received stock from the dock to a bin. The flow suggests a bin by the
//! rules; the operator proves presence by scanning the bin label or keying its check
//! digits. Another valid bin is allowed after a confirmation. A partial putaway leaves
//! the rest at the dock as a task.

use super::{Effect, Input, Notice, refuse};
use crate::domain::putaway::Suggestion;
use crate::domain::scan;
use chrono::NaiveDate;

/// Stock waiting at a dock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub from: String,
    pub sku: String,
    pub description: String,
    pub base_unit: String,
    pub lot: String,
    pub expiry: Option<NaiveDate>,
    pub qty: i64,
}

/// A bin the operator scanned, as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinFacts {
    pub code: String,
    /// Units that still fit; `None` is unlimited.
    pub room: Option<i64>,
}

/// The suggested bin with what proves presence there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggested {
    pub suggestion: Suggestion,
    pub check_digits: Option<String>,
    /// Room left in the suggested bin; `None` is unlimited.
    pub room: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Tasks,
    /// Go to the suggested bin and scan it (or key its check digits).
    Bin {
        task: Task,
        suggested: Option<Suggested>,
    },
    /// The operator scanned another valid bin: Enter puts it there, Esc goes back.
    ConfirmOther {
        task: Task,
        suggested: Option<Suggested>,
        bin: BinFacts,
    },
    /// How much goes into the bin; Enter takes the default.
    Qty {
        task: Task,
        bin: BinFacts,
        default: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    ListTasks,
    /// The SKU a scanned code names (SKU, GTIN or lot), to find its task.
    Resolve(String),
    Suggest(Task),
    /// A scanned bin: it must be a storage bin.
    CheckBin(String),
    Move {
        task: Task,
        bin: String,
        qty: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Tasks(Vec<Task>),
    /// The SKU (and lot, when a lot was scanned) a code names.
    Resolved(Option<(String, Option<String>)>),
    Suggested(Option<Suggested>),
    Bin(Result<BinFacts, String>),
    /// The tasks left after the move.
    Moved(Result<Vec<Task>, String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutawayFlow {
    pub step: Step,
    pub tasks: Vec<Task>,
    pub selected: usize,
    pub notice: Option<Notice>,
}

fn ask(r: Request) -> Vec<Effect> {
    vec![Effect::Putaway(r)]
}

impl PutawayFlow {
    pub fn new(tasks: Vec<Task>) -> Self {
        let notice = tasks
            .is_empty()
            .then(|| Notice::info("nothing waiting at the dock"));
        Self {
            step: Step::Tasks,
            tasks,
            selected: 0,
            notice,
        }
    }

    pub fn input(&mut self, input: Input) -> Vec<Effect> {
        let step = std::mem::replace(&mut self.step, Step::Tasks);
        let (step, effects) = self.next(step, input);
        self.step = step;
        effects
    }

    fn next(&mut self, step: Step, input: Input) -> (Step, Vec<Effect>) {
        match (step, input) {
            (Step::Tasks, Input::Back) => (Step::Tasks, vec![Effect::Home]),
            (Step::Tasks, Input::Up) => {
                self.selected = self.selected.saturating_sub(1);
                (Step::Tasks, vec![])
            }
            (Step::Tasks, Input::Down) => {
                self.selected = (self.selected + 1).min(self.tasks.len().saturating_sub(1));
                (Step::Tasks, vec![])
            }
            (Step::Tasks, Input::Scanned(s)) if s.is_empty() => match self.tasks.get(self.selected)
            {
                Some(t) => (Step::Tasks, ask(Request::Suggest(t.clone()))),
                None => (
                    Step::Tasks,
                    refuse(&mut self.notice, "nothing waiting at the dock"),
                ),
            },
            (Step::Tasks, Input::Scanned(s)) => (Step::Tasks, ask(Request::Resolve(s))),
            (Step::Bin { .. } | Step::Qty { .. }, Input::Back) => {
                self.notice = None;
                (Step::Tasks, vec![])
            }
            (Step::Bin { task, suggested }, Input::Scanned(s)) if s.is_empty() => {
                let msg = match &suggested {
                    Some(x) => format!("scan bin {} or key its check digits", x.suggestion.bin),
                    None => "scan a storage bin".to_string(),
                };
                (Step::Bin { task, suggested }, refuse(&mut self.notice, msg))
            }
            (Step::Bin { task, suggested }, Input::Scanned(s)) => {
                // Check digits keyed for the suggested bin prove presence there.
                if let Some(x) = &suggested
                    && x.check_digits.as_deref() == Some(s.as_str())
                {
                    let bin = BinFacts {
                        code: x.suggestion.bin.clone(),
                        room: x.room,
                    };
                    return self.ask_qty(task, bin);
                }
                if s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()) {
                    let step = Step::Bin { task, suggested };
                    return (
                        step,
                        refuse(
                            &mut self.notice,
                            "wrong check digits: look at the label again",
                        ),
                    );
                }
                (Step::Bin { task, suggested }, ask(Request::CheckBin(s)))
            }
            (Step::ConfirmOther { task, bin, .. }, Input::Scanned(s)) if s.is_empty() => {
                self.ask_qty(task, bin)
            }
            // Yet another bin, or the suggested one after all (label or check digits):
            // handled as at the bin step.
            (
                Step::ConfirmOther {
                    task, suggested, ..
                },
                Input::Scanned(s),
            ) => self.next(Step::Bin { task, suggested }, Input::Scanned(s)),
            (
                Step::ConfirmOther {
                    task, suggested, ..
                },
                Input::Back,
            ) => {
                self.notice = None;
                (Step::Bin { task, suggested }, vec![])
            }
            (Step::Qty { task, bin, default }, Input::Scanned(s)) => {
                let qty = if s.is_empty() {
                    Some(default)
                } else {
                    s.parse::<i64>().ok()
                };
                let most = bin.room.map_or(task.qty, |r| r.min(task.qty));
                match qty {
                    Some(q) if (1..=most).contains(&q) => {
                        let req = Request::Move {
                            task: task.clone(),
                            bin: bin.code.clone(),
                            qty: q,
                        };
                        (Step::Qty { task, bin, default }, ask(req))
                    }
                    _ => {
                        let msg = format!("{:?}: key 1 to {most}", scan::display(&s));
                        (
                            Step::Qty { task, bin, default },
                            refuse(&mut self.notice, msg),
                        )
                    }
                }
            }
            (step, _) => (step, vec![]),
        }
    }

    fn ask_qty(&mut self, task: Task, bin: BinFacts) -> (Step, Vec<Effect>) {
        let default = bin.room.map_or(task.qty, |r| r.min(task.qty));
        if default <= 0 {
            let msg = format!("{} has no room: choose another bin", bin.code);
            return (
                Step::Bin {
                    task,
                    suggested: None,
                },
                refuse(&mut self.notice, msg),
            );
        }
        self.notice = None;
        (Step::Qty { task, bin, default }, vec![])
    }

    pub fn answer(&mut self, answer: Answer) -> Vec<Effect> {
        let step = std::mem::replace(&mut self.step, Step::Tasks);
        let (step, effects) = match (step, answer) {
            (step, Answer::Tasks(tasks)) => {
                self.tasks = tasks;
                self.selected = self.selected.min(self.tasks.len().saturating_sub(1));
                (step, vec![])
            }
            (step, Answer::Resolved(found)) => {
                let hit = found.and_then(|(sku, lot)| {
                    self.tasks
                        .iter()
                        .position(|t| t.sku == sku && lot.as_ref().is_none_or(|l| &t.lot == l))
                });
                match hit {
                    Some(i) => {
                        self.selected = i;
                        let task = self.tasks[i].clone();
                        (step, ask(Request::Suggest(task)))
                    }
                    None => (
                        step,
                        refuse(
                            &mut self.notice,
                            "not waiting at the dock: scan an item from the list",
                        ),
                    ),
                }
            }
            (Step::Tasks, Answer::Suggested(suggested)) => {
                match self.tasks.get(self.selected).cloned() {
                    Some(task) => {
                        self.notice = match &suggested {
                            Some(s) => Some(Notice::info(format!(
                                "{} ({})",
                                s.suggestion.bin,
                                s.suggestion.reason.describe()
                            ))),
                            None => Some(Notice::error(
                                "no bin has room: leave it at the dock or scan a bin",
                            )),
                        };
                        (Step::Bin { task, suggested }, vec![])
                    }
                    None => (Step::Tasks, vec![]),
                }
            }
            (Step::Bin { task, suggested }, Answer::Bin(Ok(bin))) => {
                if suggested
                    .as_ref()
                    .is_some_and(|s| s.suggestion.bin == bin.code)
                {
                    self.ask_qty(task, bin)
                } else {
                    self.notice = Some(Notice::info(format!(
                        "{} is not the suggested bin: Enter to use it, Esc back",
                        bin.code
                    )));
                    (
                        Step::ConfirmOther {
                            task,
                            suggested,
                            bin,
                        },
                        vec![],
                    )
                }
            }
            (step, Answer::Bin(Err(e))) => (step, refuse(&mut self.notice, e)),
            (Step::Qty { task, bin, .. }, Answer::Moved(Ok(tasks))) => {
                self.notice = Some(Notice::success(format!(
                    "put {} {} in {}",
                    moved(&task, &tasks),
                    task.sku,
                    bin.code
                )));
                self.tasks = tasks;
                self.selected = self.selected.min(self.tasks.len().saturating_sub(1));
                (Step::Tasks, vec![])
            }
            (step, Answer::Moved(Err(e))) => (step, refuse(&mut self.notice, e)),
            (step, _) => (step, vec![]),
        };
        self.step = step;
        effects
    }
}

/// How much of `task` left the dock, judging by the tasks after the move.
fn moved(task: &Task, after: &[Task]) -> i64 {
    let left = after
        .iter()
        .find(|t| t.from == task.from && t.sku == task.sku && t.lot == task.lot)
        .map_or(0, |t| t.qty);
    task.qty - left
}
