//! `--check FILE`: the generated script or runbook compared with a golden file, the drift
//! shown as a unified diff with passwords redacted.

use std::path::Path;
use std::process::ExitCode;

use super::FrontendError;
use crate::Result;

/// The exit status of `--check` and `golden --check` when the output drifted from the
/// golden files (1 stays "error", 2 "usage").
pub const DRIFT: u8 = 3;

/// `--check FILE`: exit 0 when the golden file holds exactly `rendered`, else the drift
/// report on stderr and exit 3 ([`DRIFT`]), so CI tells drift from an error (exit 1).
/// Prints nothing on stdout either way.
pub fn check(rendered: &str, golden: &Path, what: &str) -> Result<ExitCode> {
    Ok(match compare_with_golden(rendered, golden, what)? {
        None => ExitCode::SUCCESS,
        Some(diff) => {
            eprint!("{diff}");
            ExitCode::from(DRIFT)
        }
    })
}

/// Compares generated text (a script, a runbook) with a golden file: `None` when identical,
/// else a unified diff (golden → generated) saying which `what` drifted.
pub fn compare_with_golden(rendered: &str, golden: &Path, what: &str) -> Result<Option<String>> {
    let expected = std::fs::read_to_string(golden).map_err(|source| FrontendError::Golden {
        path: golden.to_path_buf(),
        source,
    })?;
    if expected == rendered {
        return Ok(None);
    }
    let diff = similar::TextDiff::from_lines(&expected, rendered)
        .unified_diff()
        .header(&golden.display().to_string(), "generated")
        .to_string();
    Ok(Some(shown_diff(
        &golden.display().to_string(),
        what,
        &diff,
        &expected,
        rendered,
    )))
}

/// The drift report as printed: passwords in the scripts' conninfos redacted, control
/// characters of the golden file written as escapes, and a word when the only difference
/// is a password (the redacted lines would otherwise look the same).
fn shown_diff(golden: &str, what: &str, diff: &str, expected: &str, rendered: &str) -> String {
    let redact = crate::model::conninfo::redact_secrets;
    let mut out = format!(
        "{} differs from the generated {what}",
        crate::escape::visible(golden)
    );
    if redact(expected) == redact(rendered) {
        out.push_str(" only in a password, which is not shown");
    }
    out.push_str(":\n");
    for line in redact(diff).split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        out.push_str(&crate::escape::visible(body));
        out.push_str(end);
    }
    out
}
