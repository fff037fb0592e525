//! Helpers behind the `slonik-gen` binary that are worth testing without a process:
//! where the config comes from, file checks, golden-file comparison, writing the next state.

use std::path::{Path, PathBuf};

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
    Ok(Some(format!(
        "{} differs from the generated {what}:\n{diff}",
        golden.display()
    )))
}

/// Writes the cluster as a config file (the state after an operation).
pub fn write_config(cluster: &Cluster, path: &Path) -> Result<()> {
    let text = format!(
        "# Written by slonik-gen: the cluster's state after the operation's script has succeeded.\n{}",
        cluster.to_toml()
    );
    std::fs::write(path, text).map_err(|source| Error::WriteConfig {
        path: path.to_path_buf(),
        source,
    })
}
