//! The `floorhand` binary: command line, start-up and the error report at the edge.

mod cli;
mod sync_cmd;

use std::io::IsTerminal;

fn main() -> color_eyre::Result<std::process::ExitCode> {
    // Installed before the terminal is touched, so a panic report comes after the
    // terminal has been restored (ratatui chains its own hook onto this one). Errors
    // are for people at a terminal or in a script: no colours into a pipe, and no hint
    // about backtrace variables.
    let mut hooks = color_eyre::config::HookBuilder::default().display_env_section(false);
    if !std::io::stderr().is_terminal() {
        hooks = hooks.theme(color_eyre::config::Theme::new());
    }
    hooks.install()?;
    cli::main()
}
