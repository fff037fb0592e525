//! The one "run slonik offline" check of the test suite (slonik-syntax.md's offline
//! method): slonik parses and checks a whole script before it runs the first statement,
//! so a script whose first statement is `exit 0;` is checked without touching a database.
//! Exit status 0 means accepted; anything else (255 for a syntax or checker error) means
//! rejected.
//!
//! Callers hand in scripts as they would be piped to slonik (header and all). The offline
//! copy ([`copy`]) points every admin conninfo of the header at a closed port
//! (`host=127.0.0.1 port=1`: should the `exit 0;` ever go missing, slonik fails to connect
//! instead of reaching a real database) and puts `exit 0;` at the end of the header's
//! last line, so every line keeps its number in slonik's messages.
//!
//! slonik runs the files it is given one after another, but the `exit 0;` ends the process
//! with the first, so one process checks one file. To stay fast (the random property test
//! checks about 16,000 scripts a run), the scripts whose offline headers are the same are
//! joined into one file: slonik's checks are per statement, so the joined file is accepted
//! exactly when every part is (the one way around that: a part left open, say an unclosed
//! quote or `try {`, that the next part closes; the parts are whole scripts, each ended by
//! a newline). Only the scripts of a rejected file are then checked one by one, to name
//! them; a rejected file whose scripts each pass is reported as a flaw of the joining. Up
//! to [`PARALLEL`] slonik processes run side by side.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use slonik_gen::SlonyVersion;

/// What every admin conninfo of an offline copy says: a port nothing listens on.
pub const CLOSED_PORT: &str = "host=127.0.0.1 port=1";

/// At most this many slonik processes at once (each lives a few milliseconds).
pub const PARALLEL: usize = 8;

/// What a check found.
#[derive(Debug, Default)]
pub struct Report {
    /// The scripts slonik rejected: their names and slonik's messages (exit status, then
    /// its output without the expected connection noise).
    pub rejected: Vec<(String, String)>,
    /// How many slonik processes ran.
    pub runs: usize,
}

/// Runs the offline check on every `(name, script)`; returns the rejected ones with
/// slonik's messages, in the order given.
pub fn rejected(slonik: &Path, scripts: &[(String, String)]) -> Vec<(String, String)> {
    check(slonik, scripts).rejected
}

/// Fails the test unless slonik accepts every script; the message names each rejected one
/// with slonik's messages and its offline copy (the line numbers are the copy's).
pub fn assert_accepted(slonik: &Path, scripts: &[(String, String)]) {
    let bad = rejected(slonik, scripts);
    if !bad.is_empty() {
        panic!("{}", rejection_report(&bad, scripts));
    }
}

/// The environment variable that names the slonik of an older release to check that
/// release's scripts with: `SLONIK_GEN_SLONIK_1_2`, `_2_0`, `_2_1` (and `_2_2`).
pub fn slonik_variable(version: SlonyVersion) -> String {
    format!("SLONIK_GEN_SLONIK_{}", version.to_string().replace('.', "_"))
}

/// The slonik named for `version` by [`slonik_variable`], when it is set.
///
/// Only slonik 2.2 is packaged, and its parser takes the older releases' statements the
/// suite emits, so by default every version's scripts go through it. An older slonik built
/// by hand (README, "Older sloniks") checks its release's scripts with that release's own
/// parser and checker, which also refuse what the release does not know.
pub fn slonik_named_for(version: SlonyVersion) -> Option<PathBuf> {
    std::env::var_os(slonik_variable(version)).map(PathBuf::from)
}

/// [`assert_accepted`] for scripts written for several versions: each one checked by the
/// slonik [`slonik_named_for`] its version, else by `default`.
pub fn assert_accepted_by_version(default: &Path, scripts: &[(String, SlonyVersion, String)]) {
    let mut by_slonik: BTreeMap<PathBuf, Vec<(String, String)>> = BTreeMap::new();
    for (name, version, text) in scripts {
        let slonik = slonik_named_for(*version).unwrap_or_else(|| default.to_path_buf());
        by_slonik
            .entry(slonik)
            .or_default()
            .push((format!("{name} [{version}]"), text.clone()));
    }
    let mut text = String::new();
    for (slonik, scripts) in &by_slonik {
        let bad = rejected(slonik, scripts);
        if !bad.is_empty() {
            text.push_str(&format!("{}: ", slonik.display()));
            text.push_str(&rejection_report(&bad, scripts));
        }
    }
    if !text.is_empty() {
        panic!("{text}");
    }
}

/// What [`assert_accepted`] prints for the rejected `bad` of `scripts`.
fn rejection_report(bad: &[(String, String)], scripts: &[(String, String)]) -> String {
    let mut text = format!("slonik rejected {} of {} scripts:\n", bad.len(), scripts.len());
    for (name, why) in bad {
        let script = scripts.iter().find(|(n, _)| n == name).map(|(_, t)| copy(t));
        text.push_str(&format!("--- {name}: {why}\n{}", script.unwrap_or_default()));
    }
    text
}

/// [`rejected`], also counting the slonik processes.
pub fn check(slonik: &Path, scripts: &[(String, String)]) -> Report {
    let dir = tempfile::tempdir().expect("a temporary directory for the offline copies");
    let split: Vec<(String, &str)> = scripts.iter().map(|(_, text)| split(text)).collect();
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (header, _)) in split.iter().enumerate() {
        groups.entry(header).or_default().push(i);
    }
    let groups: Vec<(&str, Vec<usize>)> = groups.into_iter().collect();
    let joined: Vec<String> = groups
        .iter()
        .map(|(header, members)| {
            let mut text = header.to_string();
            for &i in members {
                text.push_str(split[i].1);
                if !text.ends_with('\n') {
                    text.push('\n');
                }
            }
            text
        })
        .collect();
    let verdicts = run_all(slonik, dir.path(), "joined", &joined);
    let mut report = Report {
        rejected: Vec::new(),
        runs: joined.len(),
    };

    // Each script of a rejected file alone; a file of one script needs no second run.
    let mut found: BTreeMap<usize, String> = BTreeMap::new();
    let mut suspects: Vec<&[usize]> = Vec::new();
    for ((_, members), verdict) in groups.iter().zip(verdicts) {
        match (verdict, members.as_slice()) {
            (None, _) => {}
            (Some(why), [i]) => {
                found.insert(*i, why);
            }
            (Some(_), members) => suspects.push(members),
        }
    }
    let singles: Vec<usize> = suspects.iter().flat_map(|m| m.iter().copied()).collect();
    let copies: Vec<String> = singles
        .iter()
        .map(|&i| format!("{}{}", split[i].0, split[i].1))
        .collect();
    report.runs += copies.len();
    for (i, verdict) in singles
        .into_iter()
        .zip(run_all(slonik, dir.path(), "single", &copies))
    {
        if let Some(why) = verdict {
            found.insert(i, why);
        }
    }
    report.rejected = found
        .iter()
        .map(|(&i, why)| (scripts[i].0.clone(), why.clone()))
        .collect();
    for members in suspects {
        if !members.iter().any(|i| found.contains_key(i)) {
            let names: Vec<&str> = members.iter().map(|&i| scripts[i].0.as_str()).collect();
            report.rejected.push((
                format!("the joined file of {}", names.join(", ")),
                "slonik rejected the joined scripts but accepted each alone (a flaw of the joining in tests/common/offline.rs)".into(),
            ));
        }
    }
    report
}

/// The offline copy of a script: what [`rejected`] gives slonik for it.
pub fn copy(script: &str) -> String {
    let (header, body) = split(script);
    header + body
}

/// The offline header (every line up to the script's last header line, the admin
/// conninfos on [`CLOSED_PORT`], `exit 0;` at the end) and the rest of the script.
///
/// The header is the run of `cluster name` and `node N admin conninfo` lines the script
/// starts with; blank and `#` comment lines may stand between them. A script without one
/// gets `exit 0;` on a line of its own before its first line.
fn split(script: &str) -> (String, &str) {
    let mut header = String::new();
    let mut header_end = 0;
    let mut offset = 0;
    for line in script.split_inclusive('\n') {
        let lower = line.trim().to_ascii_lowercase();
        if lower.starts_with("cluster name") {
            header.push_str(&script[header_end..offset]);
            header.push_str(line.trim_end());
        } else if lower.starts_with("node ") && lower.contains("admin conninfo") {
            let node = lower.split_whitespace().nth(1).unwrap_or_default();
            header.push_str(&script[header_end..offset]);
            header.push_str(&format!("node {node} admin conninfo = '{CLOSED_PORT}';"));
        } else if lower.is_empty() || lower.starts_with('#') {
            offset += line.len();
            continue;
        } else {
            break;
        }
        // The comments and blank lines before this header line were copied above.
        header.push('\n');
        offset += line.len();
        header_end = offset;
    }
    if header.is_empty() {
        return ("exit 0;\n".to_string(), script);
    }
    header.pop();
    header.push_str(" exit 0;\n");
    (header, &script[header_end..])
}

/// Runs slonik on each text (written to `dir/{kind}{i}.slonik`), at most [`PARALLEL`] at
/// once; `None` for an accepted text, else slonik's messages.
fn run_all(slonik: &Path, dir: &Path, kind: &str, texts: &[String]) -> Vec<Option<String>> {
    let mut verdicts = Vec::with_capacity(texts.len());
    let mut running: std::collections::VecDeque<Child> = std::collections::VecDeque::new();
    for (i, text) in texts.iter().enumerate() {
        if running.len() == PARALLEL {
            verdicts.push(verdict(running.pop_front().expect("a running slonik")));
        }
        let file = dir.join(format!("{kind}{i}.slonik"));
        std::fs::write(&file, text).expect("writes the offline copy");
        running.push_back(
            Command::new(slonik)
                .arg(&file)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{} does not start: {e}", slonik.display())),
        );
    }
    verdicts.extend(running.into_iter().map(verdict));
    verdicts
}

/// Waits for slonik: `None` when it accepted the file, else its exit status and messages
/// without the lines about the closed port (it tries to connect before it runs `exit 0;`
/// and goes on when it cannot).
fn verdict(child: Child) -> Option<String> {
    let out = child.wait_with_output().expect("slonik runs");
    if out.status.success() {
        return None;
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let messages: Vec<&str> = text
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !l.contains("connection refused") && !l.contains("is the server running")
        })
        .collect();
    Some(format!("exit {:?}: {}", out.status.code(), messages.join("\n")))
}
