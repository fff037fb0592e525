//! Starting, stopping and asking after one node's slon on this machine, the way its
//! [`SlonRun`] says it runs: `slonik-gen slon start|stop|status` and the altperl drop-ins
//! `slon_start`, `slon_kill`, `slon_status`.
//!
//! - **process** and **debian**: [`start`] writes the node's generated config (only when it
//!   is missing or differs), then runs `PROGRAM -f CONF -p PIDFILE` in its own process group
//!   with its output appended to the log, and waits until the pid file names a live
//!   process; [`stop`] sends SIGTERM to the pid in the pid file, waits
//!   [`SlonRun::stop_timeout`] seconds, sends SIGQUIT, waits [`QUIT_WAIT`] seconds, and
//!   fails if the process is still there;
//! - **systemd**: the same config write, then `systemctl start|stop UNIT`, confirmed with
//!   `systemctl is-active`.
//!
//! Signals are sent by running `kill -SIG PID` (std's [`Command`]), not through libc: the
//! library stays free of `unsafe` and of a dependency that only the binary has (feature
//! `cli`), and a stop sends two signals at most, so the cost of a fork is nothing. Whether
//! a pid is alive is read from `/proc/PID` (a zombie counts as gone) where `/proc` exists,
//! else asked with `kill -0`. A pid file naming a live process whose `/proc/PID/comm` is not
//! the program's name is never signalled: the pid has been reused by something else.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use super::run::{SlonRun, QUIT_WAIT, START_WAIT};
use super::{conf, SlonSettings};
use crate::model::config::RunKind;
use crate::Cluster;

/// How often a start or a stop looks again.
const POLL: Duration = Duration::from_millis(200);

/// Lines of the log shown when a start fails.
const LOG_TAIL_LINES: usize = 10;

/// Why a slon could not be started, stopped or asked after.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The node's path conninfo cannot be written, so there is no config to run slon on.
    #[error("{node}: its path connection cannot be written as a conninfo, so no slon config can be generated; `slonik-gen check` reports why")]
    NoConninfo {
        /// `node 2 (SlaNod)`.
        node: String,
    },
    /// The run has no pid file or no unit (it cannot be controlled).
    #[error("{node}: its [daemon] settings name no pid file or unit to control the slon with")]
    Incomplete {
        /// The node.
        node: String,
    },
    /// The generated config could not be written.
    #[error("{node}: cannot write the slon config {}; check the directory's permissions or set [daemon] conf_dir", path.display())]
    WriteConf {
        /// The node.
        node: String,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A directory for the pid file or the log could not be created.
    #[error("{node}: cannot create the directory {}; create it or set [daemon] pid_dir / log_dir", path.display())]
    CreateDir {
        /// The node.
        node: String,
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The log file could not be opened for appending.
    #[error("{node}: cannot open the slon log {} for appending; check its permissions or set [daemon] log_dir", path.display())]
    OpenLog {
        /// The node.
        node: String,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The pid file exists but could not be read.
    #[error("{node}: cannot read the pid file {}", path.display())]
    ReadPid {
        /// The node.
        node: String,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The pid file names a live process that is not the slon program.
    #[error("{node}: the pid file {} names pid {pid}, a live `{comm}`, not `{program}`: the pid was reused after the slon ended; nothing was signalled. If no slon of this node runs, remove the pid file", path.display())]
    PidReused {
        /// The node.
        node: String,
        /// The pid file.
        path: PathBuf,
        /// The pid in it.
        pid: u32,
        /// The live process's command name.
        comm: String,
        /// The program's name.
        program: String,
    },
    /// The slon program could not be run.
    #[error("{node}: cannot run the slon program `{program}`; install slon or set [daemon] program")]
    Spawn {
        /// The node.
        node: String,
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The slon exited, or wrote no pid, in the time it was given.
    #[error("{node}: slon did not start ({why}); the end of its log {}:\n{tail}", log.display())]
    StartFailed {
        /// The node.
        node: String,
        /// `exited with exit status: 1`, `no live pid in ... after 10 seconds`.
        why: String,
        /// The log file.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// The slon is still running after SIGTERM and SIGQUIT (or `systemctl stop`).
    #[error("{node}: the slon is still running ({what}) after {how}; look at it with ps, and stop it with kill -KILL if it must go")]
    StillRunning {
        /// The node.
        node: String,
        /// `pid 1234` or the unit.
        what: String,
        /// `SIGTERM and SIGQUIT`, `systemctl stop`.
        how: String,
    },
    /// `kill` could not be run or refused.
    #[error("{node}: cannot send {signal} to pid {pid}: {message}")]
    Signal {
        /// The node.
        node: String,
        /// The signal.
        signal: &'static str,
        /// The pid.
        pid: u32,
        /// What kill said.
        message: String,
    },
    /// `systemctl` could not be run or failed.
    #[error("{node}: `systemctl {action} {unit}` failed: {message}; see journalctl -u {unit}, and if the unit is not installed, write it with `slonik-gen slon-unit --all --dir /etc/systemd/system` and run systemctl daemon-reload")]
    Systemctl {
        /// The node.
        node: String,
        /// `start`, `stop`, `show`.
        action: &'static str,
        /// The unit.
        unit: String,
        /// Why.
        message: String,
    },
}

/// What [`start`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A slon was started; its pid (`None` for a systemd unit whose pid is not known).
    Started {
        /// The pid.
        pid: Option<u32>,
        /// Whether the config file was written (it was missing or differed).
        conf_written: bool,
    },
    /// A live slon already held the pid file (or the unit was already active): nothing done
    /// but the config write.
    AlreadyRunning {
        /// The pid.
        pid: Option<u32>,
        /// Whether the config file was written (it was missing or differed).
        conf_written: bool,
    },
}

/// What [`stop`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// A running slon was stopped.
    Stopped {
        /// Its pid (`None` for a systemd unit).
        pid: Option<u32>,
        /// The signal that ended it: `SIGTERM`, `SIGQUIT`, or `systemctl stop`.
        by: &'static str,
    },
    /// No slon was running; a stale pid file (naming no live process) was removed.
    NotRunning {
        /// Whether a stale pid file was removed.
        removed_stale: bool,
    },
}

/// What [`status`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Whether the slon runs.
    pub running: bool,
    /// Its pid, when known.
    pub pid: Option<u32>,
    /// Since when, `YYYY-MM-DD HH:MM:SS UTC` (the pid file's mtime, or systemd's
    /// ActiveEnterTimestamp as systemd prints it).
    pub since: Option<String>,
    /// How it runs ([`SlonRun::describe`]).
    pub how: String,
}

impl Status {
    /// One line for a person: `running, pid 1234 since 2026-01-02 03:04:05 UTC (a process: ...)`.
    pub fn line(&self) -> String {
        let mut out = String::from(if self.running { "running" } else { "not running" });
        if self.running {
            if let Some(pid) = self.pid {
                out.push_str(&format!(", pid {pid}"));
            }
            if let Some(since) = &self.since {
                out.push_str(&format!(" since {since}"));
            }
        }
        out.push_str(&format!(" ({})", self.how));
        out
    }
}

/// Writes `node`'s generated slon config to [`SlonRun::conf_file`] if it is missing or
/// differs (atomically; 0600 when the conninfo holds a password, else 0644; the directory
/// created). Returns whether it wrote.
pub fn write_conf(cluster: &Cluster, run: &SlonRun) -> Result<bool, ControlError> {
    let settings = SlonSettings::of(cluster, run.node).ok_or_else(|| ControlError::NoConninfo {
        node: run.node_label.clone(),
    })?;
    let text = conf::render(&settings);
    let path = PathBuf::from(&run.conf_file);
    let secret = settings.holds_password();
    let failed = |source| ControlError::WriteConf {
        node: run.node_label.clone(),
        path: path.clone(),
        source,
    };
    let same = std::fs::read(&path).is_ok_and(|old| old == text.as_bytes());
    if !same {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let mode = crate::atomic_file::Mode { like: None, secret };
        crate::atomic_file::write(&path, text.as_bytes(), mode).map_err(failed)?;
    }
    set_mode(&path, if secret { 0o600 } else { 0o644 }).map_err(failed)?;
    Ok(!same)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let now = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    if now != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Starts `run`'s slon (see the module documentation); an already running one is left
/// alone. The config is written first in every case.
pub fn start(cluster: &Cluster, run: &SlonRun) -> Result<Started, ControlError> {
    let conf_written = write_conf(cluster, run)?;
    match run.kind {
        RunKind::Systemd => {
            let unit = unit_of(run)?;
            if systemctl_active(unit) {
                return Ok(Started::AlreadyRunning {
                    pid: systemd_pid(run, unit),
                    conf_written,
                });
            }
            systemctl(run, "start", unit)?;
            if !systemctl_active(unit) {
                return Err(ControlError::Systemctl {
                    node: run.node_label.clone(),
                    action: "start",
                    unit: unit.to_string(),
                    message: "the unit is not active afterwards".into(),
                });
            }
            Ok(Started::Started {
                pid: systemd_pid(run, unit),
                conf_written,
            })
        }
        RunKind::Process | RunKind::Debian => start_process(run, conf_written),
    }
}

fn files_of(run: &SlonRun) -> Result<(PathBuf, PathBuf), ControlError> {
    match (&run.pid_file, &run.log_file) {
        (Some(pid), Some(log)) => Ok((PathBuf::from(pid), PathBuf::from(log))),
        _ => Err(ControlError::Incomplete {
            node: run.node_label.clone(),
        }),
    }
}

fn unit_of(run: &SlonRun) -> Result<&str, ControlError> {
    run.unit.as_deref().ok_or_else(|| ControlError::Incomplete {
        node: run.node_label.clone(),
    })
}

fn start_process(run: &SlonRun, conf_written: bool) -> Result<Started, ControlError> {
    let (pid_file, log_file) = files_of(run)?;
    if let Some(pid) = live_slon(run, &pid_file)? {
        return Ok(Started::AlreadyRunning {
            pid: Some(pid),
            conf_written,
        });
    }
    // A stale file would be taken for the new slon's pid.
    let _ = std::fs::remove_file(&pid_file);
    for file in [&pid_file, &log_file] {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ControlError::CreateDir {
                node: run.node_label.clone(),
                path: dir.to_path_buf(),
                source,
            })?;
        }
    }
    let open_failed = |source| ControlError::OpenLog {
        node: run.node_label.clone(),
        path: log_file.clone(),
        source,
    };
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_file)
        .map_err(open_failed)?;
    let log_err = log.try_clone().map_err(open_failed)?;
    let mut command = Command::new(&run.program);
    command
        .arg("-f")
        .arg(&run.conf_file)
        .arg("-p")
        .arg(&pid_file)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: a Ctrl-C in the terminal that started it does not end it.
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|source| ControlError::Spawn {
        node: run.node_label.clone(),
        program: run.program.clone(),
        source,
    })?;
    let deadline = Instant::now() + Duration::from_secs(START_WAIT.into());
    loop {
        if let Some(pid) = read_pid(run, &pid_file)?.filter(|&pid| alive(pid)) {
            return Ok(Started::Started {
                pid: Some(pid),
                conf_written,
            });
        }
        let why = match child.try_wait() {
            Ok(Some(status)) => Some(format!("it exited with {status}")),
            Ok(None) if Instant::now() >= deadline => Some(format!(
                "no live pid in {} after {START_WAIT} seconds; it was left running as pid {}",
                pid_file.display(),
                child.id()
            )),
            Ok(None) => None,
            Err(e) => Some(format!("cannot wait for it: {e}")),
        };
        if let Some(why) = why {
            return Err(ControlError::StartFailed {
                node: run.node_label.clone(),
                why,
                tail: log_tail(&log_file),
                log: log_file,
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Stops `run`'s slon (see the module documentation); one not running is success.
pub fn stop(run: &SlonRun) -> Result<Stopped, ControlError> {
    match run.kind {
        RunKind::Systemd => {
            let unit = unit_of(run)?;
            if !systemctl_active(unit) {
                return Ok(Stopped::NotRunning { removed_stale: false });
            }
            systemctl(run, "stop", unit)?;
            if systemctl_active(unit) {
                return Err(ControlError::StillRunning {
                    node: run.node_label.clone(),
                    what: format!("unit {unit}"),
                    how: "systemctl stop".into(),
                });
            }
            Ok(Stopped::Stopped {
                pid: None,
                by: "systemctl stop",
            })
        }
        RunKind::Process | RunKind::Debian => stop_process(run),
    }
}

fn stop_process(run: &SlonRun) -> Result<Stopped, ControlError> {
    let (pid_file, _) = files_of(run)?;
    let Some(pid) = live_slon(run, &pid_file)? else {
        let removed_stale = std::fs::remove_file(&pid_file).is_ok();
        return Ok(Stopped::NotRunning { removed_stale });
    };
    for (signal, wait) in [("TERM", run.stop_timeout), ("QUIT", QUIT_WAIT)] {
        send(run, signal, pid)?;
        let deadline = Instant::now() + Duration::from_secs(wait.into());
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        if !alive(pid) {
            // slon removes its pid file as it ends; one left behind names nothing now.
            if read_pid(run, &pid_file).ok().flatten() == Some(pid) {
                let _ = std::fs::remove_file(&pid_file);
            }
            let by = if signal == "TERM" { "SIGTERM" } else { "SIGQUIT" };
            return Ok(Stopped::Stopped { pid: Some(pid), by });
        }
    }
    Err(ControlError::StillRunning {
        node: run.node_label.clone(),
        what: format!("pid {pid}"),
        how: format!(
            "SIGTERM, {} seconds, SIGQUIT, {QUIT_WAIT} seconds",
            run.stop_timeout
        ),
    })
}

/// Whether `run`'s slon runs, with its pid and since when.
pub fn status(run: &SlonRun) -> Result<Status, ControlError> {
    let how = run.describe();
    match run.kind {
        RunKind::Systemd => {
            let unit = unit_of(run)?;
            let out = Command::new("systemctl")
                .args([
                    "show",
                    "-p",
                    "ActiveState",
                    "-p",
                    "ActiveEnterTimestamp",
                    "-p",
                    "MainPID",
                    unit,
                ])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| ControlError::Systemctl {
                    node: run.node_label.clone(),
                    action: "show",
                    unit: unit.to_string(),
                    message: e.to_string(),
                })?;
            if !out.status.success() {
                return Err(ControlError::Systemctl {
                    node: run.node_label.clone(),
                    action: "show",
                    unit: unit.to_string(),
                    message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                });
            }
            let shown = parse_show(&String::from_utf8_lossy(&out.stdout));
            let running = shown.state == "active";
            Ok(Status {
                running,
                pid: shown.pid.filter(|_| running),
                since: shown.since.filter(|_| running),
                how,
            })
        }
        RunKind::Process | RunKind::Debian => {
            let (pid_file, _) = files_of(run)?;
            let pid = live_slon(run, &pid_file)?;
            let since = pid
                .and_then(|_| std::fs::metadata(&pid_file).ok())
                .and_then(|m| m.modified().ok())
                .map(utc);
            Ok(Status {
                running: pid.is_some(),
                pid,
                since,
                how,
            })
        }
    }
}

/// The pid in the pid file if it names a live slon; `None` when the file is absent, empty,
/// or names no live process; an error when it names a live process of another program.
fn live_slon(run: &SlonRun, pid_file: &Path) -> Result<Option<u32>, ControlError> {
    let Some(pid) = read_pid(run, pid_file)? else {
        return Ok(None);
    };
    if !alive(pid) {
        return Ok(None);
    }
    let program = comm_of_program(&run.program);
    match comm(pid) {
        Some(comm) if comm != program => Err(ControlError::PidReused {
            node: run.node_label.clone(),
            path: pid_file.to_path_buf(),
            pid,
            comm,
            program,
        }),
        _ => Ok(Some(pid)),
    }
}

/// The pid a pid file holds: its first word; `None` for an absent or empty file or one that
/// holds no pid.
fn read_pid(run: &SlonRun, pid_file: &Path) -> Result<Option<u32>, ControlError> {
    match std::fs::read_to_string(pid_file) {
        Ok(text) => Ok(parse_pid(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ControlError::ReadPid {
            node: run.node_label.clone(),
            path: pid_file.to_path_buf(),
            source,
        }),
    }
}

/// The pid in a pid file's text (its first word, a positive number).
fn parse_pid(text: &str) -> Option<u32> {
    text.split_whitespace()
        .next()?
        .parse()
        .ok()
        .filter(|&pid: &u32| pid > 0)
}

/// The name the kernel gives a process running `program`: its file name, cut to the 15
/// bytes `/proc/PID/comm` holds.
fn comm_of_program(program: &str) -> String {
    let name = program.rsplit('/').next().unwrap_or(program);
    let mut end = name.len().min(15);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// `/proc/PID/comm`, where `/proc` exists.
fn comm(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(text.trim_end_matches('\n').to_string())
}

/// Whether `pid` is a live process (a zombie is not).
fn alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        return match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the command name in parentheses, which may hold anything.
            Ok(stat) => stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X"),
            Err(_) => false,
        };
    }
    Command::new("kill")
        .arg("-0")
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn send(run: &SlonRun, signal: &'static str, pid: u32) -> Result<(), ControlError> {
    let failed = |message: String| ControlError::Signal {
        node: run.node_label.clone(),
        signal: if signal == "TERM" { "SIGTERM" } else { "SIGQUIT" },
        pid,
        message,
    };
    let out = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run kill: {e}")))?;
    // It may have ended between the check and the signal: that is what was wanted.
    if out.status.success() || !alive(pid) {
        Ok(())
    } else {
        Err(failed(String::from_utf8_lossy(&out.stderr).trim().to_string()))
    }
}

fn systemctl(run: &SlonRun, action: &'static str, unit: &str) -> Result<(), ControlError> {
    let failed = |message: String| ControlError::Systemctl {
        node: run.node_label.clone(),
        action,
        unit: unit.to_string(),
        message,
    };
    let out = Command::new("systemctl")
        .arg(action)
        .arg(unit)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run systemctl: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failed(String::from_utf8_lossy(&out.stderr).trim().to_string()))
    }
}

fn systemctl_active(unit: &str) -> bool {
    Command::new("systemctl")
        .args(["is-active", "--quiet", unit])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn systemd_pid(run: &SlonRun, _unit: &str) -> Option<u32> {
    status(run).ok().and_then(|s| s.pid)
}

/// What `systemctl show` said.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shown {
    state: String,
    since: Option<String>,
    pid: Option<u32>,
}

fn parse_show(text: &str) -> Shown {
    let mut shown = Shown::default();
    for line in text.lines() {
        match line.split_once('=') {
            Some(("ActiveState", v)) => shown.state = v.trim().to_string(),
            Some(("ActiveEnterTimestamp", v)) if !v.trim().is_empty() => {
                shown.since = Some(v.trim().to_string())
            }
            Some(("MainPID", v)) => shown.pid = parse_pid(v),
            _ => {}
        }
    }
    shown
}

/// The last [`LOG_TAIL_LINES`] lines of the log (of its last 64 kB), or why it cannot be read.
fn log_tail(path: &Path) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => tail_lines(&text, LOG_TAIL_LINES),
        Err(e) => format!("(cannot read it: {e})"),
    }
}

fn tail_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(count);
    let tail = lines[from..].join("\n");
    if tail.is_empty() {
        "(empty)".to_string()
    } else {
        tail
    }
}

/// `time` as `YYYY-MM-DD HH:MM:SS UTC` (whole seconds; a time before 1970 as 1970's start).
pub fn utc(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(dir: &Path, extra: &str, conninfo_extra: &str) -> Cluster {
        let d = dir.display();
        crate::load_config_str(
            &format!(
                "cluster = \"geek\"\n[daemon]\npid_dir = \"{d}/run\"\nlog_dir = \"{d}/log\"\nconf_dir = \"{d}/etc\"\n{extra}\n[[node]]\nid = 1\nhost = \"127.0.0.1\"\n{conninfo_extra}\n"
            ),
            "test.toml",
        )
        .unwrap()
    }

    #[test]
    fn utc_dates_are_gregorian() {
        let at = |s: u64| utc(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(at(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(at(1_709_210_096), "2024-02-29 12:34:56 UTC");
        assert_eq!(at(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }

    #[test]
    fn pid_files_and_comm_names_are_read_strictly() {
        assert_eq!(parse_pid("1234\n"), Some(1234));
        assert_eq!(parse_pid("  77 extra"), Some(77));
        assert_eq!(parse_pid(""), None);
        assert_eq!(parse_pid("0"), None);
        assert_eq!(parse_pid("-5"), None);
        assert_eq!(parse_pid("abc"), None);
        assert_eq!(comm_of_program("/usr/bin/slon"), "slon");
        assert_eq!(comm_of_program("slon"), "slon");
        assert_eq!(
            comm_of_program("/opt/a-very-long-program-name"),
            "a-very-long-pro"
        );
    }

    #[test]
    fn this_process_is_alive_and_a_free_pid_is_not() {
        assert!(alive(std::process::id()));
        // pid_max is at most 2^22.
        assert!(!alive(4_194_305));
    }

    #[test]
    fn log_tails_keep_the_last_lines() {
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let tail = tail_lines(&text, 10);
        assert!(
            tail.starts_with("line 21\n") && tail.ends_with("line 30"),
            "{tail}"
        );
        assert_eq!(tail_lines("", 10), "(empty)");
    }

    #[test]
    fn systemctl_show_is_parsed() {
        let shown =
            parse_show("ActiveState=active\nActiveEnterTimestamp=Wed 2026-12-02 03:00:00 UTC\nMainPID=42\n");
        assert_eq!(shown.state, "active");
        assert_eq!(shown.since.as_deref(), Some("Wed 2026-12-02 03:00:00 UTC"));
        assert_eq!(shown.pid, Some(42));
        let shown = parse_show("ActiveState=inactive\nActiveEnterTimestamp=\nMainPID=0\n");
        assert_eq!(
            shown,
            Shown {
                state: "inactive".into(),
                since: None,
                pid: None
            }
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_config_is_written_once_with_the_mode_its_password_asks_for() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let c = cluster(dir.path(), "", "");
        let run = SlonRun::of(&c, 1.into()).unwrap();
        assert!(write_conf(&c, &run).unwrap());
        assert!(!write_conf(&c, &run).unwrap(), "an unchanged config is rewritten");
        let meta = std::fs::metadata(&run.conf_file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
        let text = std::fs::read_to_string(&run.conf_file).unwrap();
        assert_eq!(text, conf::render(&SlonSettings::of(&c, 1.into()).unwrap()));

        let c = cluster(dir.path(), "", "password = \"s3cret\"");
        let run = SlonRun::of(&c, 1.into()).unwrap();
        assert!(write_conf(&c, &run).unwrap());
        let meta = std::fs::metadata(&run.conf_file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_stale_pid_file_is_not_running_and_is_removed_by_stop() {
        let dir = tempfile::tempdir().unwrap();
        let c = cluster(dir.path(), "", "");
        let run = SlonRun::of(&c, 1.into()).unwrap();
        let pid_file = PathBuf::from(run.pid_file.clone().unwrap());
        assert!(!status(&run).unwrap().running);
        assert_eq!(stop(&run).unwrap(), Stopped::NotRunning { removed_stale: false });
        std::fs::create_dir_all(pid_file.parent().unwrap()).unwrap();
        std::fs::write(&pid_file, "4194305\n").unwrap();
        let s = status(&run).unwrap();
        assert!(!s.running && s.pid.is_none(), "{s:?}");
        assert!(
            s.line().starts_with("not running (a process: config "),
            "{}",
            s.line()
        );
        assert_eq!(stop(&run).unwrap(), Stopped::NotRunning { removed_stale: true });
        assert!(!pid_file.exists());
    }

    #[test]
    fn a_pid_file_naming_another_program_is_refused_not_signalled() {
        let dir = tempfile::tempdir().unwrap();
        let c = cluster(dir.path(), "", "");
        let run = SlonRun::of(&c, 1.into()).unwrap();
        let pid_file = PathBuf::from(run.pid_file.clone().unwrap());
        std::fs::create_dir_all(pid_file.parent().unwrap()).unwrap();
        // This test process is alive and is not `slon`.
        std::fs::write(&pid_file, format!("{}\n", std::process::id())).unwrap();
        if comm(std::process::id()).is_none() {
            return; // no /proc: nothing to compare with
        }
        for err in [stop(&run).unwrap_err(), status(&run).unwrap_err()] {
            let text = err.to_string();
            assert!(matches!(err, ControlError::PidReused { .. }), "{text}");
            assert!(
                text.contains("not `slon`") && text.contains("remove the pid file"),
                "{text}"
            );
        }
        assert!(pid_file.exists());
    }
}
