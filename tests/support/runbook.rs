//! Running a generated runbook's shell script against the harness's nodes: with the
//! harness's `slonik` and `psql` (SLONIK, PSQL, PATH), output kept in the cluster's
//! directory, killed after a timeout.
#![allow(dead_code)]

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::cluster::Tools;

/// How long one runbook may run before it is killed.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(900);

/// Writes `script` to `dir/NAME.sh` and runs it with bash; returns whether it succeeded,
/// its output (stdout and stderr, in `dir/NAME.out`) and its wall time.
pub fn bash(script: &str, dir: &Path, name: &str, tools: &Tools) -> (bool, String, Duration) {
    let path = dir.join(format!("{name}.sh"));
    fs::write(&path, script).expect("write the runbook");
    let out_path = dir.join(format!("{name}.out"));
    let out = fs::File::create(&out_path).expect("create the output file");
    let err = out.try_clone().expect("dup");
    let started = Instant::now();
    let mut child = Command::new("bash")
        .arg(&path)
        .current_dir(dir)
        .env("SLONIK", &tools.slonik)
        .env("PSQL", tools.pg("psql"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                tools.pg_bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("run bash");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for bash") {
            break Some(status);
        }
        if started.elapsed() > SCRIPT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(200));
    };
    let elapsed = started.elapsed();
    let output = fs::read_to_string(&out_path).unwrap_or_default();
    (status.is_some_and(|s| s.success()), output, elapsed)
}
