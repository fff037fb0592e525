//! Helpers behind the `slonik-gen` binary that are worth testing without a process:
//! where the config comes from, file checks, golden-file comparison, writing the next state.

use std::path::{Path, PathBuf};

use crate::atomic_file::{self, Staged};
use crate::model::conninfo::ConnectionParts;
use crate::ops::{Ddl, OpError, Operation};
use crate::{Cluster, Error, Result, Script};

/// The config file to read: `--config`, else `$SLONIK_GEN_CONFIG`, else `./slonik-gen.toml`.
pub fn config_path(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("SLONIK_GEN_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("slonik-gen.toml"))
}

/// Checks made on the generating machine before anything is printed: an `execute-script`
/// file must exist (slonik would only find out when it runs).
pub fn preflight(operation: &Operation) -> Result<()> {
    if let Operation::ExecuteScript {
        ddl: Ddl::File(file), ..
    } = operation
    {
        if !Path::new(file).is_file() {
            return Err(OpError::Refused {
                operation: "execute-script",
                reason: format!("SQL file {file} does not exist here; slonik reads it from its working directory when the script runs, so give a path that exists (an absolute one is safest)"),
            }
            .into());
        }
    }
    Ok(())
}

/// Renders `script` and compares it with the golden file: `None` when identical, else a
/// unified diff (golden → generated).
pub fn check_against(script: &Script, golden: &Path) -> Result<Option<String>> {
    compare_with_golden(&script.render()?, golden, "script")
}

/// Compares generated text (a script, a runbook) with a golden file: `None` when identical,
/// else a unified diff (golden → generated) saying which `what` drifted.
pub fn compare_with_golden(rendered: &str, golden: &Path, what: &str) -> Result<Option<String>> {
    let expected = std::fs::read_to_string(golden).map_err(|source| Error::Golden {
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

/// The text of a config written anew for `cluster` (no file of the user's to edit): the
/// compact form ([`crate::config_writer::compact`]), every table inline, under a line that
/// says where it came from. `--write-config` edits the user's file instead
/// ([`crate::config_writer::edit`]).
pub fn config_text(cluster: &Cluster) -> String {
    format!(
        "# Written by slonik-gen: the cluster's state after the operation's script has succeeded.\n{}",
        crate::config_writer::compact(cluster, crate::config_writer::Lists::Inline).text
    )
}

/// Whether any node's admin or path connection carries a password (`password`, or
/// `password` / `sslpassword` among its other libpq keywords): a config holding one is
/// never written more open than 0600.
pub fn holds_password(cluster: &Cluster) -> bool {
    let secret = |parts: &ConnectionParts| {
        parts.password.is_some()
            || parts
                .options
                .keys()
                .any(|k| k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("sslpassword"))
    };
    cluster
        .nodes
        .values()
        .any(|n| secret(&n.admin) || n.path_overrides.as_ref().is_some_and(secret))
}

/// Writes `text` (a config describing `cluster`) to `path` under a temporary name, synced
/// and with its final mode (that of `path` if it exists, narrowed to that of `like`, the
/// config it was made from; at most 0600 when `cluster` holds a password), ready for
/// [`commit_config`]. Until then `path` is untouched; dropping the result removes the
/// temporary file. See [`crate::atomic_file`].
pub fn stage_config(text: &str, cluster: &Cluster, like: Option<&Path>, path: &Path) -> Result<Staged> {
    let mode = atomic_file::Mode {
        like,
        secret: holds_password(cluster),
    };
    atomic_file::stage(path, text.as_bytes(), mode).map_err(|source| Error::WriteConfig {
        path: path.to_path_buf(),
        source,
    })
}

/// Puts a [`stage_config`] result in place of its target (after the script was written).
pub fn commit_config(staged: Staged, path: &Path) -> Result<()> {
    staged.commit().map_err(|source| Error::CommitConfig {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes the cluster as a config file (the state after an operation), atomically: on any
/// error the previous file at `path` is left as it was.
pub fn write_config(cluster: &Cluster, path: &Path) -> Result<()> {
    let staged = stage_config(&config_text(cluster), cluster, None, path)?;
    staged.commit().map_err(|source| Error::WriteConfig {
        path: path.to_path_buf(),
        source,
    })
}
