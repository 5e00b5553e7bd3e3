//! The application state and its one place of effects: keys become intents, intents go
//! to the flow on screen, and the effects the flow returns are carried out here (store
//! calls, bell, screen changes). Drawing reads this state and never changes it.

use super::input::{Intent, ScanField};
use super::io;
use crate::config::Config;
use crate::demo::{self, DemoLogin};
use crate::domain::{Task, User, scan};
use crate::flows::home::HomeFlow;
use crate::flows::login::LoginFlow;
use crate::flows::lookup::{LookupAnswer, LookupFlow};
use crate::flows::putaway::{self, PutawayFlow};
use crate::flows::receiving::{self, ReceivingFlow};
use crate::flows::rejected::RejectedFlow;
use crate::flows::unlock::UnlockFlow;
use crate::flows::{Effect, Input, Notice};
use crate::sops::Topic;
use crate::store::{LoginOutcome, Store};
use chrono::{DateTime, FixedOffset, Local, Utc};
use ratatui::crossterm::event::{Event, KeyEvent};

/// The screen in front of the user, with its flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Login(LoginFlow),
    Home(HomeFlow),
    Lookup(LookupFlow),
    Unlock(UnlockFlow),
    Receiving(Box<ReceivingFlow>),
    Putaway(PutawayFlow),
    Rejected(RejectedFlow),
}

impl Screen {
    pub fn topic(&self) -> Topic {
        match self {
            Self::Login(_) => Topic::Login,
            Self::Home(_) => Topic::Home,
            Self::Lookup(_) => Topic::StockLookup,
            Self::Unlock(_) => Topic::Approvals,
            Self::Receiving(_) => Topic::Receiving,
            Self::Putaway(_) => Topic::Putaway,
            Self::Rejected(_) => Topic::Approvals,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            Self::Login(_) => "Sign in",
            Self::Home(_) => "Menu",
            Self::Lookup(_) => "Stock lookup",
            Self::Unlock(_) => "Unlock badge",
            Self::Receiving(_) => "Receiving",
            Self::Putaway(_) => "Putaway",
            Self::Rejected(_) => "Rejected sync",
        }
    }

    /// The message the flow on screen shows under its body.
    pub fn notice(&self) -> Option<&Notice> {
        match self {
            Self::Login(f) => f.notice.as_ref(),
            Self::Home(f) => f.notice.as_ref(),
            Self::Lookup(f) => f.notice.as_ref(),
            Self::Unlock(f) => f.notice.as_ref(),
            Self::Receiving(f) => f.notice.as_ref(),
            Self::Putaway(f) => f.notice.as_ref(),
            Self::Rejected(f) => f.notice.as_ref(),
        }
    }

    /// The scan field holds a PIN: shown as stars, never logged.
    pub fn masked(&self) -> bool {
        match self {
            Self::Login(f) => f.masked(),
            Self::Receiving(f) => f.masked(),
            _ => false,
        }
    }
}

/// The F1 overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Help {
    pub topic: Topic,
    pub scroll: u16,
}

pub struct App {
    pub(super) store: Store,
    pub(super) config: Config,
    pub(super) screen: Screen,
    pub(super) user: Option<User>,
    pub(super) field: ScanField,
    pub(super) help: Option<Help>,
    pub(super) demo_logins: Vec<DemoLogin>,
    pub(super) now: DateTime<Utc>,
    utc_offset: FixedOffset,
    last_input: DateTime<Utc>,
    bells: u32,
    quit: bool,
    sync: Option<crate::sync::client::Worker>,
}

/// WAL pages after which a commit checkpoints by itself, when the app had no idle moment
/// to do it (keys without a pause of [`super::TICK`]): 32 MB at 4 KB a page, some 600
/// receiving scans.
pub const CHECKPOINT_FALLBACK_PAGES: u32 = 8_192;

impl App {
    pub fn new(store: Store, config: Config, now: DateTime<Utc>) -> Self {
        // Checkpoints happen in idle moments (see `idle`), not on the commit of a scan.
        if let Err(e) = store.defer_checkpoints(CHECKPOINT_FALLBACK_PAGES) {
            tracing::warn!("could not defer checkpoints: {e}");
        }
        let demo_logins = if demo::is_demo(&store) {
            demo::logins()
        } else {
            Vec::new()
        };
        let mut screen = LoginFlow::new();
        if store.is_read_only() {
            screen.notice = Some(Notice::error(
                "the store is read-only: nothing can be saved. Call IT",
            ));
        }
        Self {
            store,
            config,
            screen: Screen::Login(screen),
            user: None,
            field: ScanField::default(),
            help: None,
            demo_logins,
            now,
            utc_offset: *Local::now().offset(),
            last_input: now,
            bells: 0,
            quit: false,
            sync: None,
        }
    }

    /// Sync in the background with this worker; the status bar shows its state.
    pub fn set_sync(&mut self, worker: crate::sync::client::Worker) {
        self.sync = Some(worker);
    }

    /// The sync state for the status bar; `None` when the terminal is not enrolled.
    pub fn sync_status(&self) -> Option<crate::sync::client::Status> {
        self.sync.as_ref().map(|w| w.status())
    }

    /// Show the clock in this offset from UTC instead of the local one (for tests).
    pub fn set_utc_offset(&mut self, offset: FixedOffset) {
        self.utc_offset = offset;
    }

    /// Today's date on the floor, for expiry checks.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now.with_timezone(&self.utc_offset).date_naive()
    }

    pub fn utc_offset(&self) -> FixedOffset {
        self.utc_offset
    }

    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    pub fn user(&self) -> Option<&User> {
        self.user.as_ref()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Bells rung since the last call; the loop writes BEL for each.
    pub fn take_bells(&mut self) -> u32 {
        std::mem::take(&mut self.bells)
    }

    /// Advance the clock; logs out an idle user.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        self.now = now;
        let Some(limit) = self.config.idle_logout() else {
            return;
        };
        let idle = (now - self.last_input).to_std().unwrap_or_default();
        if self.user.is_some() && idle >= limit {
            let mins = limit.as_secs().div_ceil(60);
            self.logout(
                true,
                Notice::info(format!("logged out after {mins} min idle")),
            );
        }
    }

    /// A quiet moment of the app loop (no key for a tick): copy the WAL into the
    /// database now, so that no scan pays for the checkpoint.
    pub fn idle(&mut self) {
        if let Err(e) = self.store.checkpoint() {
            tracing::warn!("checkpoint: {e}");
        }
    }

    pub fn on_event(&mut self, event: &Event) {
        if let Event::Key(key) = event {
            self.on_key(*key);
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) {
        self.last_input = self.now;
        let intent = self.field.handle(key, &self.config.scanner);
        if let Some(help) = &mut self.help {
            match intent {
                Intent::Help | Intent::Back => self.help = None,
                Intent::Up => help.scroll = help.scroll.saturating_sub(1),
                Intent::Down => help.scroll = help.scroll.saturating_add(1),
                Intent::PageUp => help.scroll = help.scroll.saturating_sub(8),
                Intent::PageDown => help.scroll = help.scroll.saturating_add(8),
                Intent::Quit => self.quit(),
                _ => {}
            }
            self.field.clear();
            return;
        }
        let input = match intent {
            Intent::Submit(text) => {
                if !self.screen.masked() {
                    tracing::info!(screen = self.screen.title(), scan = %scan::display(&text), "scan");
                }
                Input::Scanned(text)
            }
            Intent::Back => Input::Back,
            Intent::Up => Input::Up,
            Intent::Down => Input::Down,
            Intent::PageUp => Input::PageUp,
            Intent::PageDown => Input::PageDown,
            Intent::Function(n) => {
                let field = std::mem::take(&mut self.field).text().to_string();
                Input::Function(n, field)
            }
            Intent::Help => {
                self.help = Some(Help {
                    topic: self.screen.topic(),
                    scroll: 0,
                });
                return;
            }
            Intent::Quit => return self.quit(),
            Intent::Logout => {
                if self.user.is_some() {
                    self.logout(false, Notice::info("logged out"));
                }
                return;
            }
            Intent::Edited | Intent::Ignored => return,
        };
        self.dispatch(input);
    }

    /// Hand an input to the flow on screen and carry out what it asks for.
    fn dispatch(&mut self, input: Input) {
        let answered = matches!(input, Input::Scanned(_) | Input::Function(..));
        let effects = match &mut self.screen {
            Screen::Login(f) => f.input(input),
            Screen::Home(f) => f.input(input),
            Screen::Lookup(f) => f.input(input),
            Screen::Unlock(f) => f.input(input),
            Screen::Receiving(f) => f.input(input),
            Screen::Putaway(f) => f.input(input),
            Screen::Rejected(f) => f.input(input),
        };
        self.perform(effects);
        // Whatever was committed goes to the server soon; the UI never waits for it.
        if answered && let Some(w) = &self.sync {
            w.nudge();
        }
    }

    /// Carry out effects; answers go back to the flow, which may ask for more.
    fn perform(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            let more = match effect {
                Effect::Beep => {
                    self.bells += 1;
                    vec![]
                }
                Effect::Authenticate { badge, pin } => self.authenticate(&badge, &pin),
                Effect::Lookup(code) => {
                    let answer = LookupAnswer::gather(&self.store, &code);
                    match (&mut self.screen, answer) {
                        (Screen::Lookup(f), Ok(a)) => f.answer(a),
                        (Screen::Lookup(f), Err(e)) => f.failed(e.to_string()),
                        _ => vec![],
                    }
                }
                Effect::Unlock(badge) => self.unlock(&badge),
                Effect::Open(task) => {
                    self.open(task);
                    vec![]
                }
                Effect::Home => {
                    self.go_home();
                    vec![]
                }
                Effect::Logout => {
                    self.logout(false, Notice::info("logged out"));
                    vec![]
                }
                Effect::Receiving(request) => self.receiving(request),
                Effect::Putaway(request) => self.putaway(request),
            };
            self.perform(more);
        }
    }

    fn authenticate(&mut self, badge: &str, pin: &str) -> Vec<Effect> {
        let outcome = self.store.login(badge, pin, self.now);
        let Screen::Login(flow) = &mut self.screen else {
            return vec![];
        };
        match outcome {
            Ok(LoginOutcome::Success(user)) => {
                tracing::info!(badge = %user.badge, "login");
                self.user = Some(user);
                self.go_home();
                vec![]
            }
            Ok(other) => {
                tracing::warn!(badge = %scan::display(badge), outcome = ?other, "login refused");
                flow.answer(&other)
            }
            Err(e) => {
                tracing::error!("login could not be recorded: {e}");
                flow.failed(e.to_string())
            }
        }
    }

    fn unlock(&mut self, badge: &str) -> Vec<Effect> {
        let by = self.user.as_ref().map(|u| u.badge.clone());
        let result = match by {
            Some(by) if self.may(Task::UnlockBadge) => {
                self.store.unlock(badge, &by).map_err(|e| e.to_string())
            }
            _ => Err("your role may not unlock badges".to_string()),
        };
        match &mut self.screen {
            Screen::Unlock(f) => f.answer(badge, result),
            _ => vec![],
        }
    }

    fn receiving(&mut self, request: receiving::Request) -> Vec<Effect> {
        let Some(user) = self.user.clone().filter(|u| u.may(Task::Receiving)) else {
            return vec![Effect::Home];
        };
        let today = self.today();
        let answer = io::receiving(
            &mut self.store,
            &self.config,
            &user,
            self.now,
            today,
            request,
        );
        match &mut self.screen {
            Screen::Receiving(f) => f.answer(answer),
            _ => vec![],
        }
    }

    fn putaway(&mut self, request: putaway::Request) -> Vec<Effect> {
        let Some(user) = self.user.clone().filter(|u| u.may(Task::Putaway)) else {
            return vec![Effect::Home];
        };
        let today = self.today();
        let answer = io::putaway(&mut self.store, &self.config, &user, today, request);
        match &mut self.screen {
            Screen::Putaway(f) => f.answer(answer),
            _ => vec![],
        }
    }

    fn may(&self, task: Task) -> bool {
        self.user.as_ref().is_some_and(|u| u.may(task))
    }

    fn open(&mut self, task: Task) {
        // Checked again here: a menu entry is not a permission.
        if !self.may(task) {
            self.bells += 1;
            return;
        }
        self.field.clear();
        self.screen = match task {
            Task::StockLookup => Screen::Lookup(LookupFlow::new()),
            Task::UnlockBadge => Screen::Unlock(UnlockFlow::new()),
            Task::RejectedSync => Screen::Rejected(self.open_rejected()),
            Task::Receiving => Screen::Receiving(Box::new(self.open_receiving())),
            Task::Putaway => Screen::Putaway(PutawayFlow::new(io::putaway_tasks(
                &self.store,
                &self.config,
            ))),
            _ => return,
        };
    }

    /// The events the server rejected; a store that cannot say is shown as such.
    fn open_rejected(&self) -> RejectedFlow {
        match self.store.rejected_events() {
            Ok(events) => RejectedFlow::new(events),
            Err(e) => {
                tracing::error!("could not read the rejected events: {e}");
                let mut f = RejectedFlow::new(Vec::new());
                f.notice = Some(Notice::error(format!(
                    "could not read the rejected events: {e}. Call IT"
                )));
                f
            }
        }
    }

    /// Receiving resumes this terminal's open receipt, or starts on the PO list.
    fn open_receiving(&self) -> ReceivingFlow {
        let policy = io::receiving_policy(&self.config);
        let today = self.today();
        if let Ok(Some(open)) = self.store.open_receipt()
            && let Ok(Some(po)) = self.store.purchase_order(&open.po)
        {
            return ReceivingFlow::resume(policy, today, open, po);
        }
        let pos = self
            .store
            .open_purchase_orders(&self.config.site)
            .unwrap_or_default();
        ReceivingFlow::new(policy, today, pos)
    }

    fn go_home(&mut self) {
        let tasks = self.user.as_ref().map(User::tasks).unwrap_or_default();
        self.field.clear();
        self.screen = Screen::Home(HomeFlow::new(tasks));
    }

    fn logout(&mut self, idle: bool, notice: Notice) {
        if let Some(user) = self.user.take()
            && let Err(e) = self.store.logout(&user.badge, idle)
        {
            tracing::error!("logout could not be recorded: {e}");
        }
        self.help = None;
        self.field.clear();
        self.screen = Screen::Login(LoginFlow::with_notice(notice));
    }

    fn quit(&mut self) {
        if self.user.is_some() {
            self.logout(false, Notice::info("logged out"));
        }
        self.quit = true;
    }
}
