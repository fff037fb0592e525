//! Real PostgreSQL + Slony-I clusters for end-to-end tests.
//!
//! A [`TestCluster`] owns one temporary directory holding one `initdb`'d PostgreSQL
//! instance per node (node ids `1..=N`), each listening on its own free TCP port on
//! `127.0.0.1` only, plus the `slon` daemons the test starts and a numbered copy of every
//! slonik script it runs. Clusters are fully independent, so tests can run in parallel.
//!
//! Every slon starts from a generated config file, the way an operator's would: the
//! harness writes a slonik-gen config of its own nodes ([`TestCluster::slon_model`], kept
//! as `slon-model.toml`) with `[daemon] run = "process"` and the files in `slon/etc`,
//! `slon/run` and `slon/log` of the cluster directory, renders each node's file with
//! `slonik_gen::slon::conf::render`, and runs `slon -f CONF -p PID` with the files of the
//! model's [`SlonRun`]. [`TestCluster::slon_daemon_toml`] gives tests the same `[daemon]`
//! and `[slon]` tables for their own configs, so slons that runbooks start use those
//! directories too. A started slon must list the options it read without a complaint
//! (`support::slon_log`), or the start panics.
//!
//! Everything is torn down by [`Drop`], also when the test panics: every `slon` is
//! killed (the ones the harness holds by pid, then any other slon running on a config file
//! in `slon/etc`, such as those a runbook started) and every postmaster gets an immediate
//! shutdown, by the pid the harness holds. While panicking, the tail of every log is
//! printed to stderr so CI shows why.
//!
//! Environment variables:
//! * `SLONIK_GEN_E2E=1`: missing tools make the test fail instead of being skipped.
//! * `SLONIK_GEN_KEEP=1`: keep the temporary directory (its path is printed).
//! * `SLONIK_GEN_PG_BIN=/path/to/bin`: use this PostgreSQL bin directory.
//!
//! * `SLONIK_GEN_TMPDIR=/dir`: create cluster directories there (default: `/dev/shm` when
//!   writable, which makes start-up about 3x faster than on disk, else the temp dir).
//!
//! Timing facts for writing tests (slon 2.2.11): starting 3 nodes takes ~1.3 s; every
//! operation that makes a slon restart its worker (`failover`, `subscribe set` with a new
//! provider, `resubscribe node`, `drop node`) costs a hard-coded 20 s pause in that slon's
//! watchdog, so a failover takes ~42 s and a provider change ~21 s. Give slonik runs that
//! contain them a generous timeout ([`TestCluster::slonik_with_timeout`]). The slons run
//! with a 200 ms SYNC check interval and a 1 s SYNC timeout ([`SLON_SYNC_INTERVAL`],
//! [`SLON_SYNC_INTERVAL_TIMEOUT`]).
//!
//! Besides the standard library and `tempfile`, the harness uses slonik-gen itself (the
//! model and the slon config renderer) and `toml` (to write its model's strings). When the
//! test runs as root, the servers and the harness's `slon`s are started as the `postgres`
//! OS user (`initdb`/`postgres` refuse to run as root) through
//! [`CommandExt::uid`]/[`CommandExt::gid`], so the pid held is the real process; the slon
//! directories belong to `postgres` and the config files are world-readable (they hold no
//! password). `psql` and `slonik` are plain clients and run as the current user, and so do
//! the slons a runbook's shell starts.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use slonik_gen::model::NodeId;
use slonik_gen::slon::run::SlonRun;
use slonik_gen::slon::{conf, SlonSettings};
use slonik_gen::Cluster;

use super::slon_log;

/// Default time limit for one slonik run (see [`TestCluster::slonik_with_timeout`]).
pub const SLONIK_TIMEOUT: Duration = Duration::from_secs(180);

/// `[slon] sync_interval` of every slon the harness models: milliseconds between SYNC
/// checks (slon's `-s`).
pub const SLON_SYNC_INTERVAL: u32 = 200;

/// `[slon] sync_interval_timeout`: milliseconds after which slon makes a SYNC even when
/// nothing changed (slon's `-t`).
pub const SLON_SYNC_INTERVAL_TIMEOUT: u32 = 1000;

/// `[daemon] stop_timeout`: seconds a runbook's stop waits after SIGTERM before SIGQUIT.
pub const SLON_STOP_TIMEOUT: u32 = 10;

/// How long a started slon gets to list the options it read.
const SLON_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How many trailing lines of each log are printed when a test fails.
const LOG_TAIL_LINES: usize = 60;

/// Environment variables that would redirect our clients to another server.
const PG_ENV: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGSSLMODE",
    "PGDATA",
];

/// Paths of the external programs the harness needs.
#[derive(Debug, Clone)]
pub struct Tools {
    /// PostgreSQL bin directory holding `initdb`, `postgres` and `psql`.
    pub pg_bin: PathBuf,
    /// The `slonik` binary.
    pub slonik: PathBuf,
    /// The `slon` binary.
    pub slon: PathBuf,
}

impl Tools {
    /// Locates PostgreSQL (`$SLONIK_GEN_PG_BIN`, `pg_config --bindir`,
    /// `/usr/lib/postgresql/15/bin`, then any `/usr/lib/postgresql/*/bin`) and
    /// `slonik`/`slon` (`PATH`, `/usr/bin`, the PostgreSQL bin directory).
    ///
    /// A PostgreSQL bin directory is only accepted when it has `initdb`, `postgres` and
    /// `psql` and its `pg_config --pkglibdir` holds Slony's `slony1_funcs*.so` module.
    /// The error says what is missing.
    pub fn find() -> Result<Tools, String> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(dir) = std::env::var_os("SLONIK_GEN_PG_BIN") {
            candidates.push(PathBuf::from(dir));
        }
        if let Some(dir) = command_stdout(Command::new("pg_config").arg("--bindir")) {
            candidates.push(PathBuf::from(dir));
        }
        candidates.push(PathBuf::from("/usr/lib/postgresql/15/bin"));
        if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
            let mut more: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect();
            more.sort();
            more.reverse();
            candidates.extend(more);
        }
        let mut problems = Vec::new();
        let mut pg_bin = None;
        for dir in candidates {
            match check_pg_bin(&dir) {
                Ok(()) => {
                    pg_bin = Some(dir);
                    break;
                }
                Err(e) => problems.push(e),
            }
        }
        let slonik = find_program("slonik", pg_bin.as_deref());
        let slon = find_program("slon", pg_bin.as_deref());
        match (pg_bin, slonik, slon) {
            (Some(pg_bin), Some(slonik), Some(slon)) => Ok(Tools { pg_bin, slonik, slon }),
            (pg_bin, slonik, slon) => {
                if pg_bin.is_none() {
                    if problems.is_empty() {
                        problems.push("no PostgreSQL bin directory found".to_string());
                    }
                } else {
                    problems.clear();
                }
                if slonik.is_none() {
                    problems.push("slonik not found on PATH".to_string());
                }
                if slon.is_none() {
                    problems.push("slon not found on PATH".to_string());
                }
                Err(problems.join("; "))
            }
        }
    }

    /// Path of a program in the PostgreSQL bin directory.
    pub fn pg(&self, program: &str) -> PathBuf {
        self.pg_bin.join(program)
    }
}

/// Returns the tools, or `None` (after printing one "skipping" line) when they are
/// missing. With `SLONIK_GEN_E2E=1` a missing tool is a test failure instead.
pub fn tools_or_skip(test_name: &str) -> Option<Tools> {
    match Tools::find() {
        Ok(tools) => Some(tools),
        Err(why) => {
            if std::env::var("SLONIK_GEN_E2E").as_deref() == Ok("1") {
                panic!(
                    "{test_name}: SLONIK_GEN_E2E=1 but the real-cluster tools are missing ({why}); \
                     install them with: apt-get install postgresql-15 slony1-2-bin postgresql-15-slony1-2"
                );
            }
            eprintln!(
                "skipping {test_name}: real-cluster tests need PostgreSQL 15 + Slony-I 2.2 \
                 (apt-get install slony1-2-bin postgresql-15-slony1-2); \
                 set SLONIK_GEN_E2E=1 to make this a failure"
            );
            None
        }
    }
}

fn check_pg_bin(dir: &Path) -> Result<(), String> {
    for program in ["initdb", "postgres", "psql", "pg_config"] {
        if !dir.join(program).is_file() {
            return Err(format!("{} has no {program}", dir.display()));
        }
    }
    let pkglibdir = command_stdout(Command::new(dir.join("pg_config")).arg("--pkglibdir"))
        .ok_or_else(|| format!("{}/pg_config --pkglibdir failed", dir.display()))?;
    let has_slony = fs::read_dir(&pkglibdir)
        .map(|entries| {
            entries.filter_map(|e| e.ok()).any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("slony1_funcs") && name.ends_with(".so")
            })
        })
        .unwrap_or(false);
    if has_slony {
        Ok(())
    } else {
        Err(format!(
            "no Slony-I server module (slony1_funcs*.so) in {pkglibdir}"
        ))
    }
}

fn find_program(name: &str, pg_bin: Option<&Path>) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/usr/bin"));
    dirs.push(PathBuf::from("/usr/local/bin"));
    if let Some(dir) = pg_bin {
        dirs.push(dir.to_path_buf());
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Runs a command and returns its trimmed stdout if it exited 0.
fn command_stdout(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Result of one slonik run.
#[derive(Debug, Clone)]
pub struct SlonikRun {
    /// Sequence number of the run within its cluster (1, 2, ...).
    pub number: u32,
    /// Where the script was written (kept until the temp dir is removed).
    pub script_path: PathBuf,
    /// The script text.
    pub script: String,
    /// Exit code; `None` when slonik was killed (by a signal or the time limit).
    pub code: Option<i32>,
    /// Whether the harness killed slonik because it exceeded its time limit.
    pub timed_out: bool,
    /// Everything slonik wrote to stdout.
    pub stdout: String,
    /// Everything slonik wrote to stderr.
    pub stderr: String,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl SlonikRun {
    /// True when slonik exited with status 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// stdout followed by stderr.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl fmt::Display for SlonikRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match (self.code, self.timed_out) {
            (_, true) => "killed after time limit".to_string(),
            (Some(c), _) => format!("exit {c}"),
            (None, _) => "killed by a signal".to_string(),
        };
        writeln!(
            f,
            "=== slonik run #{} ({}) {status} in {:.1}s ===",
            self.number,
            self.script_path.display(),
            self.elapsed.as_secs_f64()
        )?;
        writeln!(f, "--- script ---\n{}", self.script.trim_end())?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}

/// Where cluster directories are created: `$SLONIK_GEN_TMPDIR`, else `/dev/shm` when it
/// is a writable directory (tmpfs: `initdb` and data-dir copies are several times faster
/// than on disk), else the system temp dir.
fn scratch_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("SLONIK_GEN_TMPDIR") {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    let writable = fs::metadata(shm)
        .map(|m| m.is_dir() && !m.permissions().readonly())
        .unwrap_or(false);
    if writable && tempfile::tempdir_in(shm).is_ok() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Who child processes of the server side run as.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// `Some` when we are root and must switch to the `postgres` user.
fn run_as() -> Result<Option<RunAs>, String> {
    let euid = fs::metadata("/proc/self")
        .map(|m| m.uid())
        .map_err(|e| format!("cannot stat /proc/self: {e}"))?;
    if euid != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    for line in passwd.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() >= 4 && fields[0] == "postgres" {
            let uid = fields[2].parse().map_err(|_| "bad uid".to_string())?;
            let gid = fields[3].parse().map_err(|_| "bad gid".to_string())?;
            return Ok(Some(RunAs { uid, gid }));
        }
    }
    Err("running as root but there is no `postgres` user to run the servers as".to_string())
}

/// Builds a command that runs as `postgres` when we are root.
fn server_command(program: &Path, run_as: Option<RunAs>, cwd: &Path) -> Command {
    let mut cmd = Command::new(program);
    if let Some(r) = run_as {
        // std also drops supplementary groups (setgroups(0)) when root sets a uid.
        cmd.uid(r.uid).gid(r.gid);
        cmd.env("HOME", cwd)
            .env("USER", "postgres")
            .env("LOGNAME", "postgres");
    }
    cmd.current_dir(cwd).stdin(Stdio::null());
    for var in PG_ENV {
        cmd.env_remove(var);
    }
    cmd.env("LC_ALL", "C");
    cmd
}

/// Ports handed out in this process, so parallel tests never pick the same one.
fn used_ports() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A free TCP port on 127.0.0.1 not yet handed out by this process.
fn free_port() -> Result<u16, String> {
    for _ in 0..50 {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("local_addr: {e}"))?
            .port();
        drop(listener);
        let mut used = used_ports().lock().unwrap_or_else(|p| p.into_inner());
        if used.insert(port) {
            return Ok(port);
        }
    }
    Err("no free port found".to_string())
}

/// Sends a signal by name (`TERM`, `QUIT`, `KILL`, ...) with `/usr/bin/kill`.
fn send_signal(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Waits for a child to exit; returns `None` on timeout.
fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => return None,
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Pids of the direct children of `pid` (from `/proc`).
fn child_pids(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let Some(child) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // The command name is in parentheses and may contain spaces: skip past ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            out.push(child);
        }
    }
    out
}

/// Pids of live processes whose working directory or command line mentions `dir`.
///
/// PostgreSQL backends run with the data directory as their working directory and the
/// harness starts `slon` inside the cluster directory, so after a [`TestCluster`] is
/// dropped this must be empty. (Reading other users' `/proc/PID/cwd` needs root or the
/// same user; unreadable entries are only matched by command line.)
pub fn processes_using_dir(dir: &Path) -> Vec<u32> {
    let exact = dir.to_string_lossy().to_string();
    let inside = format!("{exact}/");
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        // Ourselves, and zombies (exited, not yet reaped), do not count.
        if pid == std::process::id() || !process_alive(pid) {
            continue;
        }
        let cwd = cwd_of(pid)
            .map(|p| p.to_string_lossy().to_string())
            .unwrap_or_default();
        if cwd == exact || cwd.starts_with(&inside) || cmdline_of(pid).contains(&inside) {
            out.push(pid);
        }
    }
    out
}

/// Last `n` lines of a file (or a note that it cannot be read).
fn tail(path: &Path, n: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(n);
            lines[start..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// One node: a PostgreSQL instance and optionally its slon.
#[derive(Debug)]
struct Node {
    id: u32,
    port: u16,
    data_dir: PathBuf,
    log: PathBuf,
    postmaster: Option<Child>,
    /// The slon the harness started (its watchdog).
    slon: Option<Child>,
    /// The log of the last slon the harness started for this node.
    slon_log: Option<PathBuf>,
    /// The config file that slon reads.
    slon_conf: Option<PathBuf>,
}

/// Where the slons of a cluster keep their files (`[daemon]` of the harness's model).
#[derive(Debug, Clone)]
struct SlonDirs {
    /// `conf_dir`: the `slon -f` files, `node<N>.conf`.
    conf: PathBuf,
    /// `pid_dir`: `<cluster>_node<N>.pid`.
    pid: PathBuf,
    /// `log_dir`: `<cluster>_node<N>.log`.
    log: PathBuf,
}

/// A set of real PostgreSQL instances (one per node) in one temporary directory.
///
/// See the module docs. Node ids are `1..=N`.
pub struct TestCluster {
    tools: Tools,
    run_as: Option<RunAs>,
    /// `None` once the directory was kept (`SLONIK_GEN_KEEP=1`).
    tempdir: Option<tempfile::TempDir>,
    dir: PathBuf,
    dbname: String,
    nodes: Vec<Node>,
    slonik_runs: Mutex<u32>,
    slonik_log: PathBuf,
    slon_dirs: SlonDirs,
}

impl fmt::Debug for TestCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCluster")
            .field("dir", &self.dir)
            .field("dbname", &self.dbname)
            .field("ports", &self.nodes.iter().map(|n| n.port).collect::<Vec<_>>())
            .finish()
    }
}

impl TestCluster {
    /// Creates `nodes` PostgreSQL instances (node ids `1..=nodes`) in a fresh temporary
    /// directory, starts them on free ports of 127.0.0.1 with durability turned off for
    /// speed, and creates database `dbname` in each. Panics with the logs on failure.
    ///
    /// Node 1 is `initdb`'d (`-A trust -U postgres`); the other nodes are copies of its
    /// data directory, which is several times faster than running `initdb` again.
    pub fn start(tools: &Tools, nodes: u32, dbname: &str) -> TestCluster {
        assert!(nodes >= 1, "a cluster needs at least one node");
        let run_as = run_as().unwrap_or_else(|e| panic!("TestCluster::start: {e}"));
        let tempdir = tempfile::Builder::new()
            .prefix("slonik-gen-e2e-")
            .tempdir_in(scratch_root())
            .unwrap_or_else(|e| panic!("TestCluster::start: cannot create a temp dir: {e}"));
        let dir = tempdir.path().to_path_buf();
        if let Some(r) = run_as {
            std::os::unix::fs::chown(&dir, Some(r.uid), Some(r.gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", dir.display()));
        }
        let slon_dirs = SlonDirs {
            conf: dir.join("slon/etc"),
            pid: dir.join("slon/run"),
            log: dir.join("slon/log"),
        };
        for d in [
            dir.join("slon"),
            slon_dirs.conf.clone(),
            slon_dirs.pid.clone(),
            slon_dirs.log.clone(),
        ] {
            fs::create_dir(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
            if let Some(r) = run_as {
                std::os::unix::fs::chown(&d, Some(r.uid), Some(r.gid))
                    .unwrap_or_else(|e| panic!("chown {}: {e}", d.display()));
            }
        }
        let mut cluster = TestCluster {
            tools: tools.clone(),
            run_as,
            tempdir: Some(tempdir),
            slonik_log: dir.join("slonik.log"),
            dir,
            dbname: dbname.to_string(),
            nodes: Vec::new(),
            slonik_runs: Mutex::new(0),
            slon_dirs,
        };
        for id in 1..=nodes {
            let data_dir = cluster.dir.join(format!("n{id}"));
            cluster.nodes.push(Node {
                id,
                port: 0,
                log: cluster.dir.join(format!("n{id}.log")),
                data_dir,
                postmaster: None,
                slon: None,
                slon_log: None,
                slon_conf: None,
            });
        }
        // From here on, Drop cleans up whatever was started if something panics.
        cluster.init_data_dirs();
        for id in 1..=nodes {
            cluster.spawn_postmaster_on_free_port(id);
        }
        for id in 1..=nodes {
            cluster.wait_ready(id);
        }
        let create = format!("CREATE DATABASE {}", quote_ident(dbname));
        for id in 1..=nodes {
            if let Err(e) = cluster.psql_db(id, "postgres", &create) {
                panic!("node {id}: {create} failed: {e}");
            }
        }
        cluster
    }

    fn init_data_dirs(&self) {
        let first = &self.nodes[0];
        let mut initdb = server_command(&self.tools.pg("initdb"), self.run_as, &self.dir);
        initdb
            .arg("-D")
            .arg(&first.data_dir)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = initdb
            .output()
            .unwrap_or_else(|e| panic!("cannot run initdb: {e}"));
        if !out.status.success() {
            panic!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for node in &self.nodes[1..] {
            let out = server_command(Path::new("cp"), self.run_as, &self.dir)
                .arg("-a")
                .arg(&first.data_dir)
                .arg(&node.data_dir)
                .output()
                .unwrap_or_else(|e| panic!("cannot run cp: {e}"));
            if !out.status.success() {
                panic!(
                    "copying the data directory for node {} failed: {}",
                    node.id,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }

    fn node(&self, id: u32) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("no node {id} in this cluster"))
    }

    fn node_mut(&mut self, id: u32) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("no node {id} in this cluster"))
    }

    /// Starts the postmaster of `id` on its current port (without waiting).
    fn spawn_postmaster(&mut self, id: u32) {
        let run_as = self.run_as;
        let dir = self.dir.clone();
        let postgres = self.tools.pg("postgres");
        let node = self.node_mut(id);
        let _ = fs::remove_file(node.data_dir.join("postmaster.pid"));
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", node.log.display()));
        let log2 = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot dup log fd: {e}"));
        let mut cmd = server_command(&postgres, run_as, &dir);
        cmd.arg("-D")
            .arg(&node.data_dir)
            .arg("-p")
            .arg(node.port.to_string())
            .arg("-k")
            .arg(&dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .args(["-c", "wal_level=minimal"])
            .args(["-c", "max_wal_senders=0"])
            .args(["-c", "shared_buffers=32MB"])
            .args(["-c", "max_connections=40"])
            .args(["-c", "autovacuum=off"])
            .args(["-c", "log_line_prefix=%m [%p] %q%u@%d "])
            .args(["-c", "log_min_messages=warning"])
            .args(["-c", "lc_messages=C"])
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("node {id}: cannot start postgres: {e}"));
        node.postmaster = Some(child);
    }

    /// Starts node `id` on a fresh free port, retrying when the port was taken meanwhile.
    fn spawn_postmaster_on_free_port(&mut self, id: u32) {
        for attempt in 1..=5 {
            let port = free_port().unwrap_or_else(|e| panic!("node {id}: {e}"));
            self.node_mut(id).port = port;
            self.spawn_postmaster(id);
            // A port clash makes the postmaster exit almost at once; look briefly.
            let mut lost_port = false;
            let deadline = Instant::now() + Duration::from_millis(300);
            while Instant::now() < deadline {
                let node = self.node_mut(id);
                if let Some(child) = node.postmaster.as_mut() {
                    if let Ok(Some(_)) = child.try_wait() {
                        node.postmaster = None;
                        let log = fs::read_to_string(&node.log).unwrap_or_default();
                        lost_port = log.contains("could not bind")
                            || log.contains("Address already in use")
                            || log.contains("could not create any TCP/IP sockets");
                        if !lost_port {
                            panic!("node {id}: postgres exited at start:\n{log}");
                        }
                        break;
                    }
                }
                if self.postmaster_ready(id) {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
            if !lost_port {
                return;
            }
            eprintln!("node {id}: port {port} was taken (attempt {attempt}), retrying");
        }
        panic!("node {id}: could not find a usable port after 5 attempts");
    }

    fn postmaster_ready(&self, id: u32) -> bool {
        let node = self.node(id);
        fs::read_to_string(node.data_dir.join("postmaster.pid"))
            .map(|s| s.lines().nth(7).map(str::trim) == Some("ready"))
            .unwrap_or(false)
    }

    /// Waits until the postmaster of `id` accepts connections (panics after 60 s).
    fn wait_ready(&mut self, id: u32) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.postmaster_ready(id) {
                return;
            }
            let node = self.node_mut(id);
            if let Some(child) = node.postmaster.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    node.postmaster = None;
                    panic!(
                        "node {id}: postgres exited ({status}) before accepting connections:\n{}",
                        tail(&node.log, LOG_TAIL_LINES)
                    );
                }
            } else {
                panic!("node {id}: postgres is not running");
            }
            if Instant::now() >= deadline {
                panic!("node {id}: postgres not ready after 60 s");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// TCP port of node `id`.
    pub fn port(&self, node: u32) -> u16 {
        self.node(node).port
    }

    /// Name of the database created on every node.
    pub fn dbname(&self) -> &str {
        &self.dbname
    }

    /// The cluster's temporary directory (data dirs, logs, slonik scripts).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Node ids, `1..=N`.
    pub fn node_ids(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    /// libpq conninfo of node `node`: `host=127.0.0.1 port=P dbname=D user=postgres`.
    pub fn conninfo(&self, node: u32) -> String {
        format!(
            "host=127.0.0.1 port={} dbname={} user=postgres",
            self.port(node),
            self.dbname
        )
    }

    /// The data directory of node `node` (to edit `pg_hba.conf`, for example).
    pub fn data_dir(&self, node: u32) -> PathBuf {
        self.nodes
            .iter()
            .find(|n| n.id == node)
            .unwrap_or_else(|| panic!("no node {node}"))
            .data_dir
            .clone()
    }

    /// Hands `path` to the OS user the servers and slons run as (`postgres` when the
    /// tests run as root), so they can read it (a passfile, for example).
    pub fn give_to_server_user(&self, path: &Path) {
        if let Some(r) = self.run_as {
            std::os::unix::fs::chown(path, Some(r.uid), Some(r.gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        }
    }

    /// A slonik preamble: `cluster name = NAME;` plus one admin conninfo line per node
    /// in `nodes`.
    pub fn slonik_header(&self, cluster_name: &str, nodes: &[u32]) -> String {
        let mut s = format!("cluster name = {cluster_name};\n");
        for &n in nodes {
            s.push_str(&format!("node {n} admin conninfo = '{}';\n", self.conninfo(n)));
        }
        s
    }

    /// Runs SQL with `psql -X -At -v ON_ERROR_STOP=1` on node `node`'s database (fed on
    /// stdin, so several statements are fine). Returns stdout, trimmed, or the error
    /// output. A statement gets at most 120 s (`statement_timeout`).
    pub fn psql(&self, node: u32, sql: &str) -> Result<String, String> {
        self.psql_db(node, &self.dbname.clone(), sql)
    }

    fn psql_db(&self, node: u32, dbname: &str, sql: &str) -> Result<String, String> {
        let conninfo = format!(
            "host=127.0.0.1 port={} dbname={} user=postgres connect_timeout=10",
            self.port(node),
            dbname
        );
        let mut cmd = Command::new(self.tools.pg("psql"));
        for var in PG_ENV {
            cmd.env_remove(var);
        }
        cmd.env("PGOPTIONS", "-c statement_timeout=120s")
            .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
            .arg("-d")
            .arg(&conninfo)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("cannot run psql: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(sql.as_bytes())
                .map_err(|e| format!("writing to psql: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(format!(
                "psql on node {node} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim(),
                String::from_utf8_lossy(&out.stdout).trim()
            ))
        }
    }

    /// Like [`psql`](Self::psql) but panics (the logs are printed by `Drop`) on error.
    pub fn sql(&self, node: u32, sql: &str) -> String {
        match self.psql(node, sql) {
            Ok(out) => out,
            Err(e) => panic!("SQL on node {node} failed:\n{sql}\n{e}"),
        }
    }

    /// Runs the same SQL on every node (panics on the first failure).
    pub fn sql_all(&self, sql: &str) {
        for id in self.node_ids() {
            self.sql(id, sql);
        }
    }

    /// Runs a slonik script with the default time limit ([`SLONIK_TIMEOUT`]).
    pub fn slonik(&self, script: &str) -> SlonikRun {
        self.slonik_with_timeout(script, SLONIK_TIMEOUT)
    }

    /// Writes `script` to `slonik-NNN.slonik` in the cluster directory (kept), runs
    /// slonik on it, and appends script and output to `slonik.log`. slonik is killed
    /// when it runs longer than `timeout` (then `timed_out` is set and `code` is `None`).
    pub fn slonik_with_timeout(&self, script: &str, timeout: Duration) -> SlonikRun {
        let number = {
            let mut n = self.slonik_runs.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            *n
        };
        let script_path = self.dir.join(format!("slonik-{number:03}.slonik"));
        let out_path = self.dir.join(format!("slonik-{number:03}.out"));
        let err_path = self.dir.join(format!("slonik-{number:03}.err"));
        let io = |r: std::io::Result<File>, p: &Path| {
            r.unwrap_or_else(|e| panic!("cannot create {}: {e}", p.display()))
        };
        fs::write(&script_path, script)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", script_path.display()));
        let stdout = io(File::create(&out_path), &out_path);
        let stderr = io(File::create(&err_path), &err_path);
        let mut cmd = Command::new(&self.tools.slonik);
        for var in PG_ENV {
            cmd.env_remove(var);
        }
        cmd.arg(&script_path)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr));
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.tools.slonik.display()));
        let (code, timed_out) = match wait_child(&mut child, timeout) {
            Some(status) => (status.code(), false),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                (None, true)
            }
        };
        let run = SlonikRun {
            number,
            script_path,
            script: script.to_string(),
            code,
            timed_out,
            stdout: fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: fs::read_to_string(&err_path).unwrap_or_default(),
            elapsed: started.elapsed(),
        };
        if let Ok(mut log) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.slonik_log)
        {
            let _ = writeln!(log, "{run}\n");
        }
        run
    }

    /// Runs a slonik script and panics (printing script and output) unless it exits 0.
    pub fn slonik_ok(&self, script: &str) -> SlonikRun {
        let run = self.slonik(script);
        if !run.success() {
            panic!("slonik failed:\n{run}");
        }
        run
    }

    /// The `[daemon]` and `[slon]` tables of the harness's slons, for a test's own config
    /// (place it after the top-level keys): slon run as a process, `program` the slon
    /// found ([`Tools::slon`]), its config, pid and log files in the cluster directory's
    /// `slon/etc`, `slon/run` and `slon/log`, a [`SLON_STOP_TIMEOUT`] stop and the fast
    /// SYNC timings ([`SLON_SYNC_INTERVAL`], [`SLON_SYNC_INTERVAL_TIMEOUT`]). The slons
    /// a runbook starts from such a config use the same files as the harness's would,
    /// and [`Drop`] stops them too.
    pub fn slon_daemon_toml(&self) -> String {
        let path = |p: &Path| toml::Value::String(p.to_string_lossy().into_owned()).to_string();
        format!(
            "[daemon]\nrun = \"process\"\nprogram = {}\nconf_dir = {}\npid_dir = {}\nlog_dir = {}\nstop_timeout = {SLON_STOP_TIMEOUT}\n\n\
             [slon]\nsync_interval = {SLON_SYNC_INTERVAL}\nsync_interval_timeout = {SLON_SYNC_INTERVAL_TIMEOUT}\n",
            path(&self.tools.slon),
            path(&self.slon_dirs.conf),
            path(&self.slon_dirs.pid),
            path(&self.slon_dirs.log),
        )
    }

    /// The slonik-gen model of this cluster's slons for Slony cluster `cluster_name`:
    /// [`slon_daemon_toml`](Self::slon_daemon_toml) and one `[[node]]` per node at its
    /// [`conninfo`](Self::conninfo). Its text is kept as `slon-model.toml` in the
    /// cluster directory. Panics if it does not load.
    pub fn slon_model(&self, cluster_name: &str) -> Cluster {
        let string = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut text = format!(
            "# The slons of the test cluster in {}, as the harness starts them.\ncluster = {}\n\n{}",
            self.dir.display(),
            string(cluster_name),
            self.slon_daemon_toml()
        );
        for n in &self.nodes {
            text.push_str(&format!(
                "\n[[node]]\nid = {}\nhost = \"127.0.0.1\"\nport = {}\ndbname = {}\nuser = \"postgres\"\n",
                n.id,
                n.port,
                string(&self.dbname)
            ));
        }
        let path = self.dir.join("slon-model.toml");
        fs::write(&path, &text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        slonik_gen::load_config_str(&text, &path)
            .unwrap_or_else(|e| panic!("the harness's slon model does not load: {e}\n{text}"))
    }

    /// How the slon of `node` runs in `model` (a process: config, pid and log file).
    /// Panics for a node the model lacks or a slon that is not a process.
    pub fn slon_run(model: &Cluster, node: u32) -> SlonRun {
        let run = SlonRun::of(model, NodeId(node))
            .unwrap_or_else(|| panic!("node {node} is not in the model of cluster {}", model.name));
        assert!(
            run.pid_file.is_some() && run.log_file.is_some(),
            "node {node}: the harness only runs slon as a process, not {:?}",
            run.kind
        );
        run
    }

    /// Writes the `slon -f` file of `node` in `model` where the model's [`SlonRun`] has it,
    /// rendered by the library's one renderer (`slonik_gen::slon::conf::render`), readable
    /// by the slon's OS user. Panics if the node has no settings or they hold a password.
    fn write_slon_conf(&self, model: &Cluster, node: u32) -> PathBuf {
        let settings = SlonSettings::of(model, NodeId(node))
            .unwrap_or_else(|| panic!("node {node}: no slon settings in the harness's model"));
        assert!(
            !settings.holds_password(),
            "node {node}: the harness's slon config would hold a password"
        );
        let path = PathBuf::from(Self::slon_run(model, node).conf_file);
        fs::write(&path, conf::render(&settings))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        self.give_to_server_user(&path);
        path
    }

    /// Starts the slon of `node` for Slony cluster `cluster_name` from a generated config
    /// file: the node's file of [`slon_model`](Self::slon_model) is written, then
    /// `slon -f CONF -p PID` runs (as `postgres` when root) with its output appended to the
    /// model's log file, and the start waits until slon has listed the options it read.
    /// Panics if a slon already runs on this node's config file, if slon exits first, or
    /// if it complained about the file (`support::slon_log`).
    pub fn start_slon(&mut self, cluster_name: &str, node: u32) {
        let model = self.slon_model(cluster_name);
        let run = Self::slon_run(&model, node);
        let conf = self.write_slon_conf(&model, node);
        let running = slon_pids_on(&conf);
        if !running.is_empty() {
            panic!(
                "node {node}: a slon already runs on {} (pids {running:?})",
                conf.display()
            );
        }
        let pid_file = PathBuf::from(run.pid_file.as_deref().unwrap_or_default());
        let log_path = PathBuf::from(run.log_file.as_deref().unwrap_or_default());
        let run_as = self.run_as;
        let dir = self.dir.clone();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", log_path.display()));
        let offset = log.metadata().map(|m| m.len()).unwrap_or(0);
        let log2 = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot dup log fd: {e}"));
        let mut child = server_command(Path::new(&run.program), run_as, &dir)
            .arg("-f")
            .arg(&conf)
            .arg("-p")
            .arg(&pid_file)
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .unwrap_or_else(|e| panic!("node {node}: cannot start {}: {e}", run.program));
        // Wait until slon has read the file; the child is stopped if it does not.
        let deadline = Instant::now() + SLON_READ_TIMEOUT;
        let read = loop {
            let text = read_from(&log_path, offset);
            if slon_log::listed_its_options(&text) || !slon_log::config_complaints(&text).is_empty() {
                break Ok(text);
            }
            if let Ok(Some(status)) = child.try_wait() {
                break Err(format!(
                    "slon exited ({status}) before listing the options it read"
                ));
            }
            if Instant::now() >= deadline {
                break Err(format!(
                    "slon did not list the options it read within {} s",
                    SLON_READ_TIMEOUT.as_secs()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        };
        let n = self.node_mut(node);
        n.slon_log = Some(log_path.clone());
        n.slon_conf = Some(conf.clone());
        let what = format!("node {node}: slon -f {}", conf.display());
        match read {
            Ok(text) if slon_log::config_complaints(&text).is_empty() => {
                n.slon = Some(child);
                slon_log::assert_read_its_config(&text, &what);
                let timing = format!("Integer option sync_interval = {SLON_SYNC_INTERVAL}\n");
                assert!(
                    text.contains(&timing),
                    "{what}: slon did not take `{}` from its file:\n{text}",
                    timing.trim_end()
                );
            }
            Ok(text) => {
                stop_slon_child(child, &conf);
                slon_log::assert_read_its_config(&text, &what);
            }
            Err(why) => {
                stop_slon_child(child, &conf);
                panic!("{what}: {why}:\n{}", read_from(&log_path, offset));
            }
        }
    }

    /// Whether the slon of `node` is running.
    pub fn slon_running(&mut self, node: u32) -> bool {
        let n = self.node_mut(node);
        match n.slon.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Stops the slon of `node` that the harness started, and any other slon running on
    /// that node's config file (watchdog and worker; see `stop_slon_child`); returns once
    /// they are gone. Does nothing if none is running.
    pub fn stop_slon(&mut self, node: u32) {
        let n = self.node_mut(node);
        let conf = n.slon_conf.clone();
        let child = n.slon.take();
        match (child, conf) {
            (Some(child), Some(conf)) => stop_slon_child(child, &conf),
            (None, Some(conf)) => stop_slon_processes(slon_pids_on(&conf)),
            _ => {}
        }
    }

    /// Every slon running on a config file in this cluster's `slon/etc` (the harness's
    /// and those a runbook started), watchdogs and workers.
    pub fn slon_pids(&self) -> Vec<u32> {
        slon_pids_in(&self.slon_dirs.conf)
    }

    /// Panics unless every slon log in `slon/log` (the harness's slons and those runbooks
    /// started from [`slon_daemon_toml`](Self::slon_daemon_toml)'s files) shows slon
    /// listing the options it read, with no complaint about its config file; returns how
    /// many logs were checked.
    pub fn assert_slon_logs_read_their_config(&self) -> usize {
        let logs = self.slon_logs();
        for log in &logs {
            let text = fs::read_to_string(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
            slon_log::assert_read_its_config(&text, &log.display().to_string());
        }
        logs.len()
    }

    /// The files in `slon/log`, sorted.
    fn slon_logs(&self) -> Vec<PathBuf> {
        let mut logs: Vec<PathBuf> = fs::read_dir(&self.slon_dirs.log)
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        logs.sort();
        logs
    }

    /// Immediate shutdown of node `node`'s postmaster (SIGQUIT, like
    /// `pg_ctl -m immediate stop`): a crash-like outage. Waits until it is gone.
    pub fn stop_node_immediate(&mut self, node: u32) {
        if let Some(child) = self.node_mut(node).postmaster.take() {
            stop_postmaster(child);
        }
    }

    /// Starts node `node` again on its old port (after [`stop_node_immediate`](Self::stop_node_immediate))
    /// and waits until it accepts connections.
    pub fn start_node(&mut self, node: u32) {
        if self.node_running(node) {
            panic!("node {node} is already running");
        }
        self.spawn_postmaster(node);
        self.wait_ready(node);
    }

    /// Whether the postmaster of `node` is running.
    pub fn node_running(&mut self, node: u32) -> bool {
        let n = self.node_mut(node);
        match n.postmaster.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Pids of every process the harness started and still holds (postmasters, slons).
    pub fn pids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .flat_map(|n| [n.postmaster.as_ref(), n.slon.as_ref()])
            .flatten()
            .map(Child::id)
            .collect()
    }

    /// Polls `f` every 200 ms until it returns true; panics with `what` after `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
        let started = Instant::now();
        loop {
            if f() {
                return;
            }
            if started.elapsed() >= timeout {
                panic!(
                    "timed out after {:.1}s waiting until {what}",
                    timeout.as_secs_f64()
                );
            }
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Row count and an md5 over all rows of `table_fqn` (as text, in `order_by` order),
    /// for comparing a table's content across nodes. Panics on SQL errors.
    pub fn table_fingerprint(&self, node: u32, table_fqn: &str, order_by: &str) -> (i64, String) {
        let out = self.sql(
            node,
            &format!(
                "SELECT count(*) || '|' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY {order_by})), '') FROM {table_fqn} t"
            ),
        );
        let (count, md5) = out
            .split_once('|')
            .unwrap_or_else(|| panic!("unexpected fingerprint output {out:?}"));
        let count = count
            .parse()
            .unwrap_or_else(|_| panic!("unexpected row count {count:?}"));
        (count, md5.to_string())
    }

    /// Every log of the cluster (postgres, slon, slonik) with its last `lines` lines.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        let mut logs: Vec<PathBuf> = Vec::new();
        for n in &self.nodes {
            logs.push(n.log.clone());
        }
        logs.extend(self.slon_logs());
        if self.slonik_log.exists() {
            logs.push(self.slonik_log.clone());
        }
        for log in logs {
            out.push_str(&format!(
                "----- last {lines} lines of {} -----\n{}\n",
                log.display(),
                tail(&log, lines)
            ));
        }
        out
    }

    /// The log of the last slon the harness started for `node` so far ("" before one).
    pub fn slon_log(&self, node: u32) -> String {
        self.node(node)
            .slon_log
            .as_ref()
            .and_then(|p| fs::read_to_string(p).ok())
            .unwrap_or_default()
    }
}

/// Stops a slon. slon is a watchdog process plus a worker it forks. SIGQUIT makes the
/// watchdog SIGKILL its worker and exit at once. (SIGTERM is not enough: when it arrives
/// during the watchdog's hard-coded 20 s pause before restarting a worker, e.g. after a
/// failover, the watchdog forks a fresh worker anyway and keeps running.) Any worker
/// left over (snapshot of the children, plus any process still running on `conf`, the
/// node's config file) is stopped the same way, SIGKILL last; returns once all are gone.
fn stop_slon_child(mut child: Child, conf: &Path) {
    let pid = child.id();
    let mut leftovers = child_pids(pid);
    if let Ok(None) = child.try_wait() {
        if !send_signal(pid, "QUIT") {
            let _ = child.kill();
        }
        if wait_child(&mut child, Duration::from_secs(5)).is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    leftovers.extend(slon_pids_on(conf));
    stop_slon_processes(leftovers);
}

/// SIGQUIT to each of `pids` still alive, up to 5 s for them to go, then SIGKILL; returns
/// once none is alive (or after 5 s more).
fn stop_slon_processes(pids: Vec<u32>) {
    let alive = |pids: &[u32]| {
        pids.iter()
            .copied()
            .filter(|p| process_alive(*p))
            .collect::<Vec<_>>()
    };
    for (signal, wait) in [("QUIT", 5), ("KILL", 5)] {
        let left = alive(&pids);
        if left.is_empty() {
            return;
        }
        for p in &left {
            send_signal(*p, signal);
        }
        let deadline = Instant::now() + Duration::from_secs(wait);
        while !alive(&pids).is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Live processes whose command line has `-f CONF` with `conf` exactly (slons on that
/// file: the watchdog and its worker share the command line).
fn slon_pids_on(conf: &Path) -> Vec<u32> {
    let needle = format!(" -f {} ", conf.display());
    live_pids_where(|cmdline| cmdline.contains(&needle))
}

/// Live processes whose command line has `-f DIR/...`: slons on a config file in `dir`.
fn slon_pids_in(dir: &Path) -> Vec<u32> {
    let needle = format!(" -f {}/", dir.display());
    live_pids_where(|cmdline| cmdline.contains(&needle))
}

/// Live processes (not ourselves, not zombies) whose command line, NULs read as spaces,
/// satisfies `matches`.
fn live_pids_where(matches: impl Fn(&str) -> bool) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<u32> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|&pid| pid != std::process::id() && process_alive(pid) && matches(&cmdline_of(pid)))
        .collect();
    out.sort_unstable();
    out
}

/// The text of `path` from byte `offset` on ("" if unreadable).
fn read_from(path: &Path, offset: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// Working directory of a process, if readable.
fn cwd_of(pid: u32) -> Option<PathBuf> {
    fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

/// Command line of a process with NULs turned into spaces ("" if unreadable).
fn cmdline_of(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Whether `pid` exists and is not a zombie.
fn process_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .map(|i| stat[i + 1..].split_whitespace().next() != Some("Z"))
            .unwrap_or(false),
        Err(_) => false,
    }
}

fn stop_postmaster(mut child: Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let pid = child.id();
    if !send_signal(pid, "QUIT") {
        let _ = child.kill();
    }
    if wait_child(&mut child, Duration::from_secs(10)).is_none() {
        let backends = child_pids(pid);
        let _ = child.kill();
        let _ = child.wait();
        for b in backends {
            send_signal(b, "KILL");
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let (Some(child), Some(conf)) = (node.slon.take(), node.slon_conf.as_ref()) {
                stop_slon_child(child, conf);
            }
        }
        // The slons the harness does not hold: those a runbook started from the files of
        // `slon_daemon_toml` (as whichever user ran the runbook).
        stop_slon_processes(slon_pids_in(&self.slon_dirs.conf));
        for node in &mut self.nodes {
            if let Some(child) = node.postmaster.take() {
                stop_postmaster(child);
            }
        }
        // Safety net: nothing may outlive the cluster. Whatever still runs in (or names)
        // the cluster directory is SIGKILLed.
        for _ in 0..3 {
            let strays = processes_using_dir(&self.dir);
            if strays.is_empty() {
                break;
            }
            eprintln!(
                "TestCluster {}: killing leftover processes {strays:?}",
                self.dir.display()
            );
            for pid in strays {
                send_signal(pid, "KILL");
            }
            thread::sleep(Duration::from_millis(100));
        }
        let keep = std::env::var("SLONIK_GEN_KEEP").as_deref() == Ok("1");
        if thread::panicking() {
            eprintln!(
                "===== test failed; logs of the cluster in {} =====\n{}",
                self.dir.display(),
                self.log_tails(LOG_TAIL_LINES)
            );
        }
        if let Some(tempdir) = self.tempdir.take() {
            if keep {
                let path = tempdir.keep();
                eprintln!("SLONIK_GEN_KEEP=1: kept {}", path.display());
            }
            // Otherwise dropping the TempDir removes it.
        }
    }
}

/// Quotes a SQL identifier (`"..."`, doubling embedded quotes).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
