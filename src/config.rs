//! Terminal configuration, read from a TOML file. Every key has a default, so a missing
//! file is a valid configuration; README.md documents each key.

use crate::domain::receiving::ClosePolicy;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A key that ends a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Terminator {
    Enter,
    Tab,
    CtrlJ,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScannerConfig {
    /// Keys that end a scan.
    pub terminators: Vec<Terminator>,
    /// A character the scanner sends in place of GS (0x1D) when it cannot send GS itself.
    pub gs_standin: Option<char>,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        Self {
            terminators: vec![Terminator::Enter, Terminator::CtrlJ],
            gs_standin: None,
        }
    }
}

/// The site's receiving policy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceivingConfig {
    /// Blind receiving: the receiver does not see ordered quantities.
    pub blind: bool,
    /// Suppliers always received blind, whatever `blind` says.
    pub blind_suppliers: Vec<String>,
    /// How far over the ordered quantity a line may go without a supervisor, in percent.
    pub over_tolerance_pct: u32,
    /// Receive items that are not on the PO, raised as discrepancies, instead of refusing.
    pub allow_unexpected: bool,
    /// What happens to the unreceived rest of a PO when a receipt closes.
    pub close_policy: ClosePolicy,
    /// A second user must confirm the counts before a receipt can close.
    pub two_person_check: bool,
    /// Largest quantity one scan may receive.
    pub max_qty_per_scan: i64,
    /// Where good goods go; default the site's first dock location.
    pub dock: Option<String>,
    /// Where damaged goods go; default the site's first quarantine location.
    pub quarantine: Option<String>,
}

impl Default for ReceivingConfig {
    fn default() -> Self {
        Self {
            blind: false,
            blind_suppliers: Vec::new(),
            over_tolerance_pct: 0,
            allow_unexpected: false,
            close_policy: ClosePolicy::Backorder,
            two_person_check: false,
            max_qty_per_scan: 9999,
            dock: None,
            quarantine: None,
        }
    }
}

impl ReceivingConfig {
    /// Whether ordered quantities are hidden for this supplier.
    pub fn is_blind(&self, supplier: &str) -> bool {
        self.blind
            || self
                .blind_suppliers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(supplier))
    }
}

/// `floorhand serve` and `floorhand server ...` on this machine; flags and environment
/// variables take precedence.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port `serve` listens on.
    pub listen: Option<String>,
    /// The server's store.
    pub store: Option<std::path::PathBuf>,
}

/// Label printing for this terminal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelsConfig {
    /// `none`, `dir:PATH`, `tcp:HOST:PORT` or `command:CMD`.
    pub printer: crate::labels::Printer,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// This terminal's id; it is written on every journal event.
    pub terminal_id: String,
    /// The site this terminal works in.
    pub site: String,
    /// Log out after this many seconds without a key press; 0 never.
    pub idle_logout_secs: u64,
    /// Ring the terminal bell on every error.
    pub bell: bool,
    /// Log level for the log file: error, warn, info, debug or trace.
    pub log_level: String,
    pub scanner: ScannerConfig,
    pub receiving: ReceivingConfig,
    pub labels: LabelsConfig,
    pub server: ServerConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            terminal_id: "T01".into(),
            site: "WH1".into(),
            idle_logout_secs: 300,
            bell: true,
            log_level: "info".into(),
            scanner: ScannerConfig::default(),
            receiving: ReceivingConfig::default(),
            labels: LabelsConfig::default(),
            server: ServerConfig::default(),
        }
    }
}

impl Config {
    /// Read the config at `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|message| ConfigError::Invalid {
                path: path.to_path_buf(),
                message,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let cfg: Self = toml::from_str(text).map_err(|e| e.message().to_string())?;
        if cfg.terminal_id.trim().is_empty() {
            return Err("terminal_id must not be empty".into());
        }
        if cfg.scanner.terminators.is_empty() {
            return Err("scanner.terminators needs at least one of enter, tab, ctrl-j".into());
        }
        if !(1..=crate::domain::MAX_MOVE_QTY).contains(&cfg.receiving.max_qty_per_scan) {
            return Err(format!(
                "receiving.max_qty_per_scan must be 1 to {}",
                crate::domain::MAX_MOVE_QTY
            ));
        }
        if cfg.scanner.gs_standin.is_some_and(|c| c.is_alphanumeric()) {
            return Err(
                "scanner.gs_standin must not be a letter or digit: scans contain those".into(),
            );
        }
        Ok(cfg)
    }

    pub fn idle_logout(&self) -> Option<Duration> {
        (self.idle_logout_secs > 0).then(|| Duration::from_secs(self.idle_logout_secs))
    }
}

/// Where Floorhand keeps its files unless told otherwise.
pub struct Paths {
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
}

impl Paths {
    /// The platform's data and config directories (XDG on Linux).
    pub fn platform() -> Self {
        match directories::ProjectDirs::from("", "", "floorhand") {
            Some(d) => Self {
                data_dir: d.data_dir().to_path_buf(),
                config_file: d.config_dir().join("config.toml"),
            },
            None => Self {
                data_dir: PathBuf::from(".floorhand"),
                config_file: PathBuf::from(".floorhand/config.toml"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() -> Result<(), String> {
        assert_eq!(Config::parse("")?, Config::default());
        let c = Config::parse(
            "terminal_id = \"DOCK-3\"\nidle_logout_secs = 0\n[scanner]\nterminators = [\"tab\"]\ngs_standin = \"~\"\n",
        )?;
        assert_eq!(c.terminal_id, "DOCK-3");
        assert_eq!(c.idle_logout(), None);
        assert_eq!(c.scanner.terminators, vec![Terminator::Tab]);
        assert_eq!(c.scanner.gs_standin, Some('~'));
        assert!(Config::parse("bogus = 1").is_err());
        assert!(Config::parse("[scanner]\ngs_standin = \"A\"").is_err());
        Ok(())
    }
}
