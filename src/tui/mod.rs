//! The terminal user interface: the app loop, the scan field, and one screen per flow.

pub mod app;
pub mod input;
pub mod io;
pub mod screens;
pub mod theme;

pub use app::App;

use ratatui::crossterm::event;
use ratatui::{Terminal, backend::Backend};
use std::io::Write;
use std::time::Duration;

/// How often the clock and the idle timer advance without a key press.
pub(crate) const TICK: Duration = Duration::from_millis(500);

/// Keys handled between two frames at most, so the screen keeps up with a flood.
const MAX_BURST: usize = 512;

/// Run the app on a real terminal until the user quits. The terminal is restored on
/// return and on panic (by `ratatui::run`).
pub fn run(mut app: App) -> std::io::Result<()> {
    ratatui::run(|terminal| {
        loop {
            draw(terminal, &app)?;
            if app.take_bells() > 0 && app.config.bell {
                let out = terminal.backend_mut();
                out.write_all(b"\x07")?;
                Write::flush(out)?;
            }
            if app.should_quit() {
                return Ok(());
            }
            let ready = event::poll(TICK)?;
            app.tick(chrono::Utc::now());
            if ready {
                app.on_event(&event::read()?);
                // A scanner types a whole code at once: take every key already waiting
                // before drawing, so a scan costs one frame rather than one per character.
                let mut burst = 0;
                while burst < MAX_BURST && !app.should_quit() && event::poll(Duration::ZERO)? {
                    app.on_event(&event::read()?);
                    burst += 1;
                }
            } else {
                app.idle();
            }
        }
    })
}

/// Draw one frame of the app: a pure function of its state.
pub fn draw<B: Backend>(terminal: &mut Terminal<B>, app: &App) -> Result<(), B::Error> {
    terminal.draw(|f| f.render_widget(app, f.area()))?;
    Ok(())
}
