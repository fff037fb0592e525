//! `slonik-gen slon-conf`: snapshots of the file, `--all --dir`, errors, the config round
//! trip with `[slon]` / `[node.slon]`, and the real slon reading the generated files.

mod common;
mod support;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{mode_of, slonik_gen, text};
use support::slon_log;

const EXAMPLE: &str = "examples/geekdb.toml";
const OPTIONS: &str = "tests/fixtures/slon/options.toml";

fn slon_conf(config: &str, node: &str) -> String {
    let out = slonik_gen(&["--config", config, "slon-conf", node]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn geekdb_node_1() {
    insta::assert_snapshot!("geekdb_node1", slon_conf(EXAMPLE, "1"));
}

#[test]
fn every_option_node_1_and_2() {
    insta::assert_snapshot!("options_node1", slon_conf(OPTIONS, "1"));
    insta::assert_snapshot!("options_node2", slon_conf(OPTIONS, "node2"));
}

#[test]
fn help_shows_an_example_that_runs() {
    let out = slonik_gen(&["slon-conf", "--help"]);
    let help = text(&out.stdout);
    let line = "Example: slonik-gen --config examples/geekdb.toml slon-conf 1";
    assert!(help.contains(line), "{help}");
    let words: Vec<&str> = line["Example: slonik-gen ".len()..].split(' ').collect();
    let run = slonik_gen(&words);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(text(&run.stdout).starts_with("# slon config for cluster replication, node 1 (MasNod)"));
}

#[test]
fn errors_print_nothing_on_stdout() {
    let out = slonik_gen(&["--config", EXAMPLE, "slon-conf", "9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let config = std::fs::read_to_string(EXAMPLE).unwrap().replace(
        "[[node]]\nid = 2",
        "[node.slon]\nsync_intervall = 100\n\n[[node]]\nid = 2",
    );
    std::fs::write(&bad, config).unwrap();
    let out = slonik_gen(&["--config", bad.to_str().unwrap(), "slon-conf", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains("node 1 [node.slon]: `sync_intervall` is not a slon option of Slony-I 2.2"),
        "{err}"
    );
    let out = slonik_gen(&["--config", EXAMPLE, "slon-conf", "--all"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn all_writes_one_file_per_node_private_when_it_holds_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = slonik_gen(&[
        "--config",
        OPTIONS,
        "slon-conf",
        "--all",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    for node in ["1", "2"] {
        let file = dir.path().join(format!("node{node}.conf"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), slon_conf(OPTIONS, node));
    }
    assert_eq!(
        mode_of(&dir.path().join("node2.conf")) & 0o077,
        0,
        "node 2's conn_info has a password"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}

#[test]
fn slon_settings_round_trip_through_the_config_writer() {
    let text = std::fs::read_to_string(OPTIONS).unwrap();
    let cluster = slonik_gen::load_config_str(&text, OPTIONS).unwrap();
    assert_eq!(cluster.slon.len(), 29);
    let compact = slonik_gen::config_writer::compact(&cluster, slonik_gen::config_writer::Lists::Inline).text;
    assert_eq!(slonik_gen::load_config_str(&compact, OPTIONS).unwrap(), cluster);

    let mut next = cluster.clone();
    next.slon.insert("sync_interval".into(), 3000.into());
    next.slon.remove("syslog_ident");
    let node = next.nodes.get_mut(&2.into()).unwrap();
    node.slon.insert("log_level".into(), 1.into());
    let edited = slonik_gen::config_writer::edit(&text, Path::new(OPTIONS), &next).unwrap();
    assert_eq!(slonik_gen::load_config_str(&edited, OPTIONS).unwrap(), next);
    // Unchanged settings leave the file as written, comments included.
    assert_eq!(
        slonik_gen::config_writer::edit(&text, Path::new(OPTIONS), &cluster).unwrap(),
        text
    );
}

#[test]
fn a_config_without_slon_settings_writes_as_before() {
    let text = std::fs::read_to_string(EXAMPLE).unwrap();
    let cluster = slonik_gen::load_config_str(&text, EXAMPLE).unwrap();
    let compact = slonik_gen::config_writer::compact(&cluster, slonik_gen::config_writer::Lists::Inline).text;
    assert!(
        !compact.contains("[slon]") && !compact.contains("[node.slon]"),
        "{compact}"
    );
}

// ---- the real slon -------------------------------------------------------------------

/// The installed slon, or `None` (printing why) when it is missing; with
/// `SLONIK_GEN_E2E=1` a missing slon is a failure.
fn slon_or_skip(test: &str) -> Option<PathBuf> {
    let slon = PathBuf::from("/usr/bin/slon");
    if slon.is_file() {
        return Some(slon);
    }
    if std::env::var("SLONIK_GEN_E2E").as_deref() == Ok("1") {
        panic!("{test}: SLONIK_GEN_E2E=1 but /usr/bin/slon is missing: apt-get install slony1-2-bin");
    }
    eprintln!("skipping {test}: needs the real slon (apt-get install slony1-2-bin); set SLONIK_GEN_E2E=1 to make this a failure");
    None
}

/// A running slon and its process group, killed (watchdog and worker) when dropped, so a
/// failing assertion never leaves one running.
struct Slon {
    child: Child,
}

impl Drop for Slon {
    fn drop(&mut self) {
        // slon forks a worker under its watchdog; both are in the group made at spawn.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id").args(args).output().ok()?;
    text(&out.stdout).trim().parse().ok()
}

/// Runs `slon -f file` in `dir` (as `postgres` when root: slon refuses to run as root)
/// until it reports the failed connection to the closed port, or 3 s; returns its log.
fn run_slon(slon: &Path, dir: &Path, file: &Path) -> String {
    let log_path = dir.join("slon.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut cmd = Command::new(slon);
    cmd.arg("-f")
        .arg(file)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .env("LC_ALL", "C")
        .process_group(0);
    if id(&["-u"]) == Some(0) {
        let (uid, gid) = (id(&["-u", "postgres"]).unwrap(), id(&["-g", "postgres"]).unwrap());
        cmd.uid(uid).gid(gid).env("HOME", dir);
    }
    let guard = Slon {
        child: cmd.spawn().expect("slon starts"),
    };
    let start = Instant::now();
    let mut seen = String::new();
    while start.elapsed() < Duration::from_secs(3) {
        seen.clear();
        std::fs::File::open(&log_path)
            .unwrap()
            .read_to_string(&mut seen)
            .unwrap();
        if seen.contains("Cannot connect") || !slon_log::config_complaints(&seen).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(guard);
    seen
}

fn assert_parsed_cleanly(log: &str, what: &str) {
    slon_log::assert_read_its_config(log, what);
    assert!(
        log.contains("Cannot connect"),
        "{what}: slon never got to connecting:\n{log}"
    );
}

/// A temporary directory the `postgres` user can enter, holding `file` (readable by it).
fn slon_dir(contents: &str) -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let file = dir.path().join("slon.conf");
    std::fs::write(&file, contents).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    (dir, file)
}

#[test]
fn the_real_slon_reads_every_generated_option() {
    let Some(slon) = slon_or_skip("the_real_slon_reads_every_generated_option") else {
        return;
    };
    let example = slon_conf(EXAMPLE, "1").replace("host=MasNod port=5432", "host=127.0.0.1 port=1");
    let (dir, file) = slon_dir(&example);
    assert_parsed_cleanly(&run_slon(&slon, dir.path(), &file), "geekdb node 1");

    let (dir, file) = slon_dir(&slon_conf(OPTIONS, "1"));
    let log = run_slon(&slon, dir.path(), &file);
    assert_parsed_cleanly(&log, "every option");
    // slon dumps what it read: the quoted values came back exactly.
    for read in [
        "String option pid_file = slon-o'brien\\1.pid",
        "String option archive_dir = archive #1",
        "String option sql_on_connection = SET application_name = 'slon # replication'",
        "String option log_timestamp_format = %Y-%m-%d %H:%M:%S %Z",
        "Integer option sync_interval = 1000",
        "Integer option log_level = 4",
        "Boolean option tcp_keepalive = 1",
    ] {
        assert!(log.contains(read), "slon did not read `{read}`:\n{log}");
    }
}

#[test]
fn the_real_slon_reports_an_unknown_option() {
    let Some(slon) = slon_or_skip("the_real_slon_reports_an_unknown_option") else {
        return;
    };
    let (dir, file) =
        slon_dir("cluster_name = 'c'\nconn_info = 'host=127.0.0.1 port=1'\nsync_intervall = 100\n");
    let log = run_slon(&slon, dir.path(), &file);
    assert!(
        log.contains("unrecognized configuration parameter \"sync_intervall\""),
        "{log}"
    );
    // The check the harness makes after every start catches it.
    let complaints = slon_log::config_complaints(&log);
    assert_eq!(complaints.len(), 1, "{log}");
    assert!(
        complaints[0].contains("conf option sync_intervall not found"),
        "{log}"
    );
}
