//! Scanned and keyed text: what the scanner typed, made safe to show and log.

/// The ASCII group separator a GS1 scanner sends for FNC1.
pub const GS: char = '\u{1d}';

/// Longest scan accepted; a GS1 DataMatrix carries at most a few hundred characters.
pub const MAX_SCAN_LEN: usize = 512;

/// Remove control and escape characters, keeping GS (0x1D), which separates GS1 fields.
/// Leading and trailing spaces are trimmed.
pub fn sanitize(raw: &str) -> String {
    raw.chars()
        .filter(|c| *c == GS || !c.is_control())
        .take(MAX_SCAN_LEN)
        .collect::<String>()
        .trim()
        .to_string()
}

/// How a scan is shown on screen or written to a log: GS becomes a visible `<GS>`.
pub fn display(scan: &str) -> String {
    sanitize(scan).replace(GS, "<GS>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_keeps_gs() {
        assert_eq!(sanitize("\x1b[31mAB\x07C\r\n"), "[31mABC");
        assert_eq!(sanitize(" 01\u{1d}10X "), "01\u{1d}10X");
        assert_eq!(display("10A\u{1d}17"), "10A<GS>17");
        assert_eq!(sanitize("\u{9b}2J"), "2J");
    }
}
