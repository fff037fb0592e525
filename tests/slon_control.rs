//! `slonik-gen slon start|stop|status` and the altperl drop-ins `slon_start`, `slon_kill`,
//! `slon_status` on real processes, no PostgreSQL needed: the installed `/usr/bin/slon`
//! pointed at `host=127.0.0.1 port=1` keeps running (it retries its connection every 10
//! seconds), and shell scripts stand in for a slon that ignores SIGTERM (or SIGQUIT too) or
//! that fails at once. Every process a test starts is SIGKILLed when the test ends, also
//! when it panics ([`Reaper`]).
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_slonik-gen");
const SLON: &str = "/usr/bin/slon";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A tempdir whose processes are killed when it goes: every pid it was told of, and every
/// process whose command line names the directory (slon's worker, a fake slon).
struct Reaper {
    dir: tempfile::TempDir,
    pids: Vec<u32>,
}

impl Reaper {
    fn new() -> Reaper {
        Reaper {
            dir: tempfile::tempdir().unwrap(),
            pids: Vec::new(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Remembers the pid in `pid_file`, if it holds one.
    fn note(&mut self, pid_file: impl AsRef<Path>) {
        let pid = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok());
        self.pids.extend(pid);
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        let mut pids = self.pids.clone();
        pids.extend(processes_naming(self.path()));
        for pid in pids {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// Live processes whose `/proc/PID/cmdline` contains `needle`'s text.
fn processes_naming(needle: &Path) -> Vec<u32> {
    let needle = needle.display().to_string();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(&needle) && alive(pid) {
            found.push(pid);
        }
    }
    found
}

/// Whether `pid` is a live process (not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

/// A config for one node reached at port 1 (nothing listens), with every daemon file in
/// `dir`; `daemon` and `node` add keys to `[daemon]` and the node.
fn config(dir: &Path, daemon: &str, node: &str) -> PathBuf {
    let d = dir.display();
    let path = dir.join("cluster.toml");
    std::fs::write(
        &path,
        format!(
            "cluster = \"ctl\"\n[daemon]\npid_dir = \"{d}/run\"\nlog_dir = \"{d}/log\"\nconf_dir = \"{d}/etc\"\n{daemon}\n\
             [[node]]\nid = 1\nname = \"MasNod\"\nhost = \"127.0.0.1\"\nport = 1\ndbname = \"geekdb\"\n{node}\n"
        ),
    )
    .unwrap();
    path
}

fn run(config: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn pid_in(file: &Path) -> u32 {
    std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .trim()
        .parse()
        .unwrap()
}

/// An executable shell script `name` in `dir` that writes its pid to the `-p` file and
/// sleeps, after `prelude` (a `trap`, say).
fn fake_slon(dir: &Path, name: &str, prelude: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n{prelude}\npidfile=\nwhile [ $# -gt 0 ]; do\n  case $1 in -p) pidfile=$2; shift ;; esac\n  shift\ndone\necho $$ > \"$pidfile\"\nwhile :; do sleep 1; done\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_real_slon_is_started_reported_and_stopped_with_its_worker() {
    let mut reaper = Reaper::new();
    let dir = reaper.path().to_path_buf();
    let config = config(&dir, "", "");
    let pid_file = dir.join("run/ctl_node1.pid");
    let conf = dir.join("etc/node1.conf");

    let out = run(&config, &["slon", "start", "1"]);
    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
        reaper.pids.extend(pid.trim().parse::<u32>());
    }
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pid = pid_in(&pid_file);
    assert!(alive(pid), "slon {pid} is not running");
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout,
        format!(
            "node 1 (MasNod): slon started, pid {pid}; wrote its config {}\n",
            conf.display()
        )
    );
    // slon runs as whoever runs the tests, root too: it is only a client.
    let expected = run(&config, &["slon-conf", "1"]);
    assert_eq!(std::fs::read(&conf).unwrap(), expected.stdout);
    assert_eq!(
        std::fs::metadata(&conf).unwrap().permissions().mode() & 0o777,
        0o644
    );

    let status = run(&config, &["slon", "status", "node1"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let line = text(&status.stdout);
    assert!(
        line.starts_with(&format!("node 1 (MasNod): slon running, pid {pid} since 20"))
            && line.contains(" UTC (a process: config "),
        "{line}"
    );

    let again = run(&config, &["slon", "start", "1"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        format!("node 1 (MasNod): slon already running, pid {pid}\n")
    );
    assert_eq!(pid_in(&pid_file), pid);

    let stop = run(&config, &["slon", "stop", "1"]);
    assert_eq!(stop.status.code(), Some(0), "{}", text(&stop.stderr));
    assert_eq!(
        text(&stop.stdout),
        format!("node 1 (MasNod): slon stopped, pid {pid} (SIGTERM)\n")
    );
    assert!(!alive(pid));
    assert_eq!(
        processes_naming(&conf),
        Vec::<u32>::new(),
        "slon's worker outlived it"
    );
    assert!(!pid_file.exists());

    let status = run(&config, &["slon", "status", "1"]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status.stderr));
    assert!(text(&status.stdout).starts_with("node 1 (MasNod): slon not running ("));
    let stop = run(&config, &["slon", "stop", "--all"]);
    assert_eq!(stop.status.code(), Some(0));
    assert_eq!(text(&stop.stdout), "node 1 (MasNod): slon not running\n");
}

#[test]
fn a_config_with_a_password_is_written_0600() {
    let mut reaper = Reaper::new();
    let dir = reaper.path().to_path_buf();
    let config = config(
        &dir,
        &format!("program = \"{}\"", fake_slon(&dir, "fake-slon", "").display()),
        "password = \"s3cret\"",
    );
    let out = run(&config, &["slon", "start", "1"]);
    reaper.note(dir.join("run/ctl_node1.pid"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let conf = dir.join("etc/node1.conf");
    assert_eq!(
        std::fs::metadata(&conf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(std::fs::read_to_string(&conf).unwrap().contains("s3cret"));
    let stop = run(&config, &["slon", "stop", "1"]);
    assert_eq!(stop.status.code(), Some(0), "{}", text(&stop.stderr));
}

/// Starts, with `slon start 1` and `stop_timeout = 1`, a fake slon that runs `traps` first;
/// returns the config, the pid file and the pid.
fn start_fake(reaper: &mut Reaper, traps: &str) -> (PathBuf, PathBuf, u32) {
    let dir = reaper.path().to_path_buf();
    let fake = fake_slon(&dir, "fake-slon", traps);
    let config = config(
        &dir,
        &format!("program = \"{}\"\nstop_timeout = 1", fake.display()),
        "",
    );
    let out = run(&config, &["slon", "start", "1"]);
    let pid_file = dir.join("run/ctl_node1.pid");
    reaper.note(&pid_file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pid = pid_in(&pid_file);
    (config, pid_file, pid)
}

#[test]
fn a_slon_ignoring_sigterm_is_ended_by_sigquit() {
    let mut reaper = Reaper::new();
    let (config, pid_file, pid) = start_fake(&mut reaper, "trap '' TERM");
    let started = Instant::now();
    let stop = run(&config, &["slon", "stop", "1"]);
    assert_eq!(stop.status.code(), Some(0), "{}", text(&stop.stderr));
    assert_eq!(
        text(&stop.stdout),
        format!("node 1 (MasNod): slon stopped, pid {pid} (SIGQUIT)\n")
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "SIGQUIT before stop_timeout"
    );
    assert!(!alive(pid));
    assert!(!pid_file.exists(), "the stale pid file was left");
}

#[test]
fn a_slon_ignoring_sigterm_and_sigquit_is_still_running_exit_1() {
    let mut reaper = Reaper::new();
    let (config, _pid_file, pid) = start_fake(&mut reaper, "trap '' TERM QUIT");
    let stop = run(&config, &["slon", "stop", "1"]);
    assert_eq!(stop.status.code(), Some(1), "{}", text(&stop.stderr));
    assert!(stop.stdout.is_empty(), "{}", text(&stop.stdout));
    let err = text(&stop.stderr);
    assert!(err.contains(&format!("still running (pid {pid})")), "{err}");
    assert!(alive(pid), "it was meant to survive");
    // The reaper SIGKILLs it.
}

#[test]
fn a_slon_that_exits_at_once_fails_the_start_with_its_log() {
    let reaper = Reaper::new();
    let dir = reaper.path();
    let fake = dir.join("broken-slon");
    std::fs::write(&fake, "#!/bin/sh\necho 'FATAL  slon: cannot go on' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = config(dir, &format!("program = \"{}\"", fake.display()), "");
    let out = run(&config, &["slon", "start", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("node 1 (MasNod): slon did not start (it exited with exit status: 1)"),
        "{err}"
    );
    assert!(err.contains("FATAL  slon: cannot go on"), "{err}");
    assert!(
        err.contains(&dir.join("log/ctl_node1.log").display().to_string()),
        "{err}"
    );
}

#[test]
fn a_pid_file_naming_another_program_is_not_signalled() {
    let mut reaper = Reaper::new();
    let dir = reaper.path().to_path_buf();
    let config = config(&dir, "", "");
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    reaper.pids.push(sleeper.id());
    std::fs::create_dir_all(dir.join("run")).unwrap();
    std::fs::write(dir.join("run/ctl_node1.pid"), format!("{}\n", sleeper.id())).unwrap();
    for command in ["stop", "start", "status"] {
        let out = run(&config, &["slon", command, "1"]);
        assert_eq!(out.status.code(), Some(1), "{command}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("names pid {}, a live `sleep`, not `slon`", sleeper.id())),
            "{err}"
        );
    }
    assert!(sleeper.try_wait().unwrap().is_none(), "sleep was signalled");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn unknown_and_failed_nodes_act_on_nothing() {
    let reaper = Reaper::new();
    let dir = reaper.path();
    let config = config(
        dir,
        "",
        "[[node]]\nid = 2\nhost = \"127.0.0.1\"\nport = 1\nfailed = true\n",
    );
    let out = run(&config, &["slon", "start", "1", "7"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("no node `7`"), "{}", text(&out.stderr));
    let out = run(&config, &["slon", "status", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("node 2 has failed"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !dir.join("run").exists() && !dir.join("etc").exists(),
        "something was started"
    );
    let out = run(&config, &["slon", "status"]);
    assert_eq!(out.status.code(), Some(2), "no node is a usage error");
}

#[test]
fn the_altperl_drop_ins_start_report_and_kill_through_their_links() {
    let mut reaper = Reaper::new();
    let dir = reaper.path().to_path_buf();
    let links = dir.join("bin");
    let out = Command::new(BIN)
        .arg("install-links")
        .arg(&links)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for name in ["slon_start", "slon_kill", "slon_status"] {
        assert!(links.join(name).is_symlink(), "{name} not linked");
    }
    let fake = fake_slon(&dir, "fake-slon", "");
    let config = config(&dir, &format!("program = \"{}\"", fake.display()), "");
    let link = |name: &str, args: &[&str]| {
        Command::new(links.join(name))
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap()
    };
    let status = link("slon_status", &["node1"]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status.stderr));
    assert_eq!(
        text(&status.stdout),
        "slon is not running for the 'ctl' cluster on node1.\n"
    );

    let start = link("slon_start", &["node1"]);
    let pid_file = dir.join("run/ctl_node1.pid");
    reaper.note(&pid_file);
    assert_eq!(start.status.code(), Some(0), "{}", text(&start.stderr));
    let pid = pid_in(&pid_file);
    assert_eq!(
        text(&start.stdout),
        format!("Slon successfully started for cluster ctl, node node1\nPID [{pid}]\n")
    );
    assert!(
        text(&start.stderr).contains("starts no slon_watchdog"),
        "{}",
        text(&start.stderr)
    );
    let quiet = link("slon_start", &["--nowatchdog", "--sleep=5", "1"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
    assert!(text(&quiet.stdout).starts_with("Slon is already running for the 'ctl' cluster"));

    let status = link("slon_status", &["1"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    assert_eq!(
        text(&status.stdout),
        format!("Slon is running for the 'ctl' cluster on node1.\nPID [{pid}]\n")
    );

    let watchdogs = link("slon_kill", &["-w"]);
    assert_eq!(watchdogs.status.code(), Some(0));
    assert!(
        text(&watchdogs.stdout).ends_with("No watchdogs found\n"),
        "{}",
        text(&watchdogs.stdout)
    );
    assert!(alive(pid), "-w stopped the slon");

    let kill = link("slon_kill", &["--only-node=1"]);
    assert_eq!(kill.status.code(), Some(0), "{}", text(&kill.stderr));
    assert!(
        text(&kill.stdout).ends_with(&format!(
            "2. Kill slon processes\nslon for cluster ctl node 1 killed - PID [{pid}]\n"
        )),
        "{}",
        text(&kill.stdout)
    );
    assert!(!alive(pid));
    let kill = link("slon_kill", &[]);
    assert_eq!(kill.status.code(), Some(0));
    assert!(text(&kill.stdout)
        .ends_with("No slon is running for the cluster ctl, node 1!\nNo slon processes found\n"));

    let usage = link("slon_start", &[]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(usage.stdout.is_empty());
    assert!(text(&usage.stderr).contains("Usage: slon_start [--config file] [--watchdog|--nowatchdog]"));
}

#[test]
fn slon_is_installed_for_these_tests() {
    // The first test needs the real slon; say so plainly when it is missing.
    assert!(Path::new(SLON).is_file(), "{SLON} is not installed");
}

/// A `systemctl` on PATH that keeps a unit's state in a file beside it, logging each call.
fn fake_systemctl(bin: &Path, state: &Path) {
    std::fs::create_dir_all(bin).unwrap();
    let path = bin.join("systemctl");
    let s = state.display();
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{s}.calls'\ncase $1 in\n\
             start) [ \"$2\" = broken.service ] && {{ echo 'Unit broken.service not found.' >&2; exit 5; }}; echo 4242 > '{s}' ;;\n\
             stop) rm -f '{s}' ;;\n\
             is-active) test -e '{s}' ;;\n\
             show) if [ -e '{s}' ]; then printf 'MainPID=4242\\nActiveState=active\\nActiveEnterTimestamp=Wed 2026-12-02 03:00:00 UTC\\n'; \
             else printf 'MainPID=0\\nActiveState=inactive\\nActiveEnterTimestamp=\\n'; fi ;;\n\
             *) exit 1 ;;\nesac\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_systemd_slon_is_driven_through_systemctl() {
    let reaper = Reaper::new();
    let dir = reaper.path();
    let bin = dir.join("bin");
    let state = dir.join("unit-state");
    fake_systemctl(&bin, &state);
    let config = config(dir, "run = \"systemd\"", "");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let slon = |args: &[&str]| {
        Command::new(BIN)
            .env("PATH", &path)
            .arg("--config")
            .arg(&config)
            .arg("slon")
            .args(args)
            .output()
            .unwrap()
    };
    let status = slon(&["status", "1"]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status.stderr));
    assert_eq!(
        text(&status.stdout),
        format!(
            "node 1 (MasNod): slon not running (systemd unit slon-ctl-node1.service (config {}/etc/node1.conf))\n",
            dir.display()
        )
    );
    let start = slon(&["start", "1"]);
    assert_eq!(start.status.code(), Some(0), "{}", text(&start.stderr));
    assert!(
        text(&start.stdout).starts_with("node 1 (MasNod): slon started, pid 4242; wrote its config "),
        "{}",
        text(&start.stdout)
    );
    assert!(dir.join("etc/node1.conf").is_file());
    let status = slon(&["status", "1"]);
    assert_eq!(status.status.code(), Some(0));
    assert!(
        text(&status.stdout).starts_with(
            "node 1 (MasNod): slon running, pid 4242 since Wed 2026-12-02 03:00:00 UTC (systemd unit"
        ),
        "{}",
        text(&status.stdout)
    );
    let stop = slon(&["stop", "1"]);
    assert_eq!(stop.status.code(), Some(0), "{}", text(&stop.stderr));
    assert_eq!(
        text(&stop.stdout),
        "node 1 (MasNod): slon stopped (systemctl stop)\n"
    );
    let calls = std::fs::read_to_string(dir.join("unit-state.calls")).unwrap();
    assert!(
        calls.contains("start slon-ctl-node1.service\n") && calls.contains("stop slon-ctl-node1.service\n"),
        "{calls}"
    );

    // A unit systemd does not know: the start fails, saying how to install it.
    let config = self::config(dir, "run = \"systemd\"\nunit = \"broken.service\"", "");
    let out = Command::new(BIN)
        .env("PATH", &path)
        .arg("--config")
        .arg(&config)
        .args(["slon", "start", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains("`systemctl start broken.service` failed: Unit broken.service not found.")
            && err.contains("slonik-gen slon-unit"),
        "{err}"
    );
}
