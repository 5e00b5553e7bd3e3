//! The `floorhand` binary: command line, start-up and the error report at the edge.

mod cli;

fn main() -> color_eyre::Result<std::process::ExitCode> {
    // Installed before the terminal is touched, so a panic report comes after the
    // terminal has been restored (ratatui chains its own hook onto this one).
    color_eyre::install()?;
    cli::main()
}
