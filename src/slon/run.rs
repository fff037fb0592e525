//! How one node's slon is run: [`SlonRun`] resolves `[daemon]` with `[node.daemon]` over
//! it into the files and names a start, a stop and a status need, and renders the shell
//! commands the runbooks' slon steps run.
//!
//! Three ways are modelled, the ones operators use:
//! - **process**: a plain background `slon -f CONF -p PID` with its output appended to a
//!   log; the pid file is altperl's `<pid_dir>/<prefix>_node<N>.pid` (default
//!   `/var/run/slony1/<cluster>_node<N>.pid`), so a slon that altperl's `slon_start`
//!   started is found and stopped too;
//! - **debian**: an instance of Debian's `/etc/init.d/slony1`, which reads
//!   `/etc/slony1/<instance>/slon.conf` and keeps `/var/run/slony1/<instance>.pid` and
//!   `/var/log/slony1/slon-<instance>.log`; it is started and stopped like a process on
//!   those files, because the init script only acts on every instance at once;
//! - **systemd**: a unit that `slon-unit` writes, started and stopped with `systemctl`.
//!
//! A stop is confirmed or it fails: the commands below exit non-zero unless the slon is
//! known to be gone (its pid file absent or naming no live process, or the unit
//! inactive). slon's watchdog restarts its worker when a signal arrives during its restart
//! pause, so a stop sends SIGTERM, waits, sends SIGQUIT, waits again, and only then gives
//! up.

use crate::escape::shell::word;
use crate::model::config::{DaemonConfig, RunKind, SlonValue};
use crate::model::ids::NodeId;
use crate::Cluster;

/// The default seconds between SIGTERM and SIGQUIT in a stop.
pub const DEFAULT_STOP_TIMEOUT: u32 = 30;

/// Seconds a stop waits after SIGQUIT before it reports failure.
pub const QUIT_WAIT: u32 = 10;

/// Seconds a start waits for slon to write its pid file.
pub const START_WAIT: u32 = 10;

/// How one node's slon runs, every default filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlonRun {
    /// The node.
    pub node: NodeId,
    /// `node 2 (SlaNod)`.
    pub node_label: String,
    /// Process, Debian instance or systemd unit.
    pub kind: RunKind,
    /// The slon program.
    pub program: String,
    /// The config file slon reads (`slon -f`).
    pub conf_file: String,
    /// The pid file (process and debian): slon's `pid_file` option if the node sets it.
    pub pid_file: Option<String>,
    /// The log file slon's output is appended to (process and debian).
    pub log_file: Option<String>,
    /// The Debian instance name (debian).
    pub instance: Option<String>,
    /// The systemd unit (systemd).
    pub unit: Option<String>,
    /// The OS user a unit runs slon as (systemd).
    pub user: String,
    /// Seconds a stop waits after SIGTERM before SIGQUIT.
    pub stop_timeout: u32,
}

/// The directory `slon-conf --all --dir` would write to for the model's process and
/// systemd slons: `[daemon] conf_dir`, default `/etc/slony1/<cluster>`.
pub fn default_conf_dir(cluster: &Cluster) -> String {
    format!("/etc/slony1/{}", cluster.name)
}

impl SlonRun {
    /// How `node`'s slon runs in `cluster`; `None` for a node not in it.
    pub fn of(cluster: &Cluster, node: NodeId) -> Option<SlonRun> {
        let n = cluster.nodes.get(&node)?;
        let daemon: DaemonConfig = cluster.daemon.overlaid(&n.daemon);
        let kind = daemon.run.unwrap_or(RunKind::Process);
        let prefix = daemon.file_prefix.clone().unwrap_or_else(|| cluster.name.clone());
        let stem = format!("{prefix}_node{node}");
        let conf_dir = daemon
            .conf_dir
            .clone()
            .unwrap_or_else(|| default_conf_dir(cluster));
        let conf_in_dir = format!("{conf_dir}/node{node}.conf");
        // slon's own `pid_file` option wins: that is where slon writes its pid.
        let pid_option = n
            .slon
            .get("pid_file")
            .or_else(|| cluster.slon.get("pid_file"))
            .and_then(|v| match v {
                SlonValue::Text(t) => Some(t.clone()),
                _ => None,
            });
        let stop_timeout = daemon.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT);
        let user = daemon.user.clone().unwrap_or_else(|| "postgres".to_string());
        let base = SlonRun {
            node,
            node_label: n.label(),
            kind,
            program: daemon.program.clone().unwrap_or_else(|| "slon".to_string()),
            conf_file: conf_in_dir,
            pid_file: None,
            log_file: None,
            instance: None,
            unit: None,
            user,
            stop_timeout,
        };
        Some(match kind {
            RunKind::Process => {
                let pid_dir = daemon
                    .pid_dir
                    .clone()
                    .unwrap_or_else(|| "/var/run/slony1".to_string());
                let log_dir = daemon
                    .log_dir
                    .clone()
                    .unwrap_or_else(|| "/var/log/slony1".to_string());
                SlonRun {
                    pid_file: Some(pid_option.unwrap_or_else(|| format!("{pid_dir}/{stem}.pid"))),
                    log_file: Some(format!("{log_dir}/{stem}.log")),
                    ..base
                }
            }
            RunKind::Debian => {
                let instance = daemon.instance.clone().unwrap_or_else(|| stem.clone());
                SlonRun {
                    program: daemon
                        .program
                        .clone()
                        .unwrap_or_else(|| "/usr/bin/slon".to_string()),
                    conf_file: format!("/etc/slony1/{instance}/slon.conf"),
                    pid_file: Some(pid_option.unwrap_or_else(|| format!("/var/run/slony1/{instance}.pid"))),
                    log_file: Some(format!("/var/log/slony1/slon-{instance}.log")),
                    instance: Some(instance),
                    ..base
                }
            }
            RunKind::Systemd => SlonRun {
                unit: Some(daemon.unit.clone().unwrap_or_else(|| {
                    format!(
                        "slon-{}-node{node}.service",
                        crate::escape::systemd::unit_name_part(&cluster.name)
                    )
                })),
                ..base
            },
        })
    }

    /// One line saying how this slon runs, for `show` and runbook texts.
    pub fn describe(&self) -> String {
        match self.kind {
            RunKind::Process => format!(
                "a process: config {}, pid file {}, log {}",
                self.conf_file,
                self.pid_file.as_deref().unwrap_or("-"),
                self.log_file.as_deref().unwrap_or("-")
            ),
            RunKind::Debian => format!(
                "Debian init-script instance {} (config {}, pid file {})",
                self.instance.as_deref().unwrap_or("-"),
                self.conf_file,
                self.pid_file.as_deref().unwrap_or("-")
            ),
            RunKind::Systemd => format!(
                "systemd unit {} (config {})",
                self.unit.as_deref().unwrap_or("-"),
                self.conf_file
            ),
        }
    }

    /// The shell command that starts this slon and fails unless it is running afterwards:
    /// one already running is left alone. The config file must exist (`slon-conf`).
    pub fn start_shell(&self) -> String {
        let who = format!("the slon of {}", self.node_label);
        match (self.kind, &self.unit, &self.pid_file, &self.log_file) {
            (RunKind::Systemd, Some(unit), _, _) => {
                let failed = word(&format!(
                    "{who} did not start: see journalctl -u {}",
                    self.unit.as_deref().unwrap_or("")
                ));
                let unit = word(unit);
                format!(
                    "(\n  systemctl start {unit} || true\n  \
                     if ! systemctl is-active --quiet {unit}; then echo {failed} >&2; exit 1; fi\n)"
                )
            }
            (_, _, Some(pid), Some(log)) => {
                let conf = word(&self.conf_file);
                let missing = word(&format!(
                    "{who}: its config {} is missing; write it with slonik-gen slon-conf --all --dir DIR",
                    self.conf_file
                ));
                let failed = word(&format!("{who} did not start: see {log}"));
                let pid_q = word(pid);
                // A pid file left by a slon that was killed (slon removes its own only on a
                // clean exit) must not pass for the new slon's.
                format!(
                    "(\n  {ALIVE}\n  \
                     if [ ! -r {conf} ]; then echo {missing} >&2; exit 1; fi\n  \
                     if [ -s {pid_q} ] && alive \"$(cat {pid_q})\"; then exit 0; fi\n  \
                     rm -f {pid_q}\n  \
                     mkdir -p {} {}\n  \
                     nohup {} -f {conf} -p {pid_q} >>{} 2>&1 </dev/null &\n  \
                     n=0; while [ ! -s {pid_q} ] && [ \"$n\" -lt {} ]; do sleep 0.2; n=$((n + 1)); done\n  \
                     if ! {{ [ -s {pid_q} ] && alive \"$(cat {pid_q})\"; }}; then echo {failed} >&2; exit 1; fi\n)",
                    word(&parent(pid)),
                    word(&parent(log)),
                    word(&self.program),
                    word(log),
                    START_WAIT * 5,
                )
            }
            _ => "false".to_string(),
        }
    }

    /// The shell command that stops this slon and exits non-zero unless it is gone:
    /// SIGTERM, [`SlonRun::stop_timeout`] seconds, SIGQUIT, [`QUIT_WAIT`] seconds. A pid file
    /// that is missing or names no live process means the slon is gone.
    pub fn stop_shell(&self) -> String {
        let who = format!("the slon of {}", self.node_label);
        match (self.kind, &self.unit, &self.pid_file) {
            (RunKind::Systemd, Some(unit), _) => {
                let still = word(&format!(
                    "{who} is still running ({})",
                    self.unit.as_deref().unwrap_or("")
                ));
                let unit = word(unit);
                // A unit that is not installed is not running either.
                format!(
                    "(\n  systemctl stop {unit} || true\n  \
                     if systemctl is-active --quiet {unit}; then echo {still} >&2; exit 1; fi\n)"
                )
            }
            (_, _, Some(pid)) => {
                let pid_q = word(pid);
                let still = word(&format!("{who} is still running after SIGTERM and SIGQUIT: pid"));
                // The signals may race the slon's own exit; the checks after them decide.
                format!(
                    "(\n  {ALIVE}\n  \
                     pid=$(cat {pid_q} 2>/dev/null) || exit 0\n  \
                     alive \"$pid\" || exit 0\n  \
                     kill -TERM \"$pid\" 2>/dev/null || true\n  \
                     n=0; while alive \"$pid\" && [ \"$n\" -lt {} ]; do sleep 0.2; n=$((n + 1)); done\n  \
                     alive \"$pid\" || exit 0\n  \
                     kill -QUIT \"$pid\" 2>/dev/null || true\n  \
                     n=0; while alive \"$pid\" && [ \"$n\" -lt {} ]; do sleep 0.2; n=$((n + 1)); done\n  \
                     if alive \"$pid\"; then echo {still} \"$pid\" >&2; exit 1; fi\n)",
                    self.stop_timeout * 5,
                    QUIT_WAIT * 5,
                )
            }
            _ => "false".to_string(),
        }
    }
}

/// A shell function: whether the pid runs and is not a zombie (an exited slon whose parent,
/// in a container often an init that never reaps, has not collected it yet).
const ALIVE: &str =
    "alive() { kill -0 \"$1\" 2>/dev/null && ! ps -o stat= -p \"$1\" 2>/dev/null | grep -q '^Z'; }";

/// The directory part of an absolute path (`/` for a file at the root).
fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => path[..i].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(extra: &str) -> Cluster {
        crate::load_config_str(&format!(
            "cluster = \"geek\"\n{extra}\n[[node]]\nid = 1\nhost = \"127.0.0.1\"\n[[node]]\nid = 2\nhost = \"127.0.0.1\"\n[node.daemon]\nrun = \"debian\"\n"
        ), "test.toml")
        .unwrap()
    }

    #[test]
    fn defaults_are_altperls_files_and_debians_instance() {
        let c = cluster("");
        let one = SlonRun::of(&c, 1.into()).unwrap();
        assert_eq!(one.kind, RunKind::Process);
        assert_eq!(one.pid_file.as_deref(), Some("/var/run/slony1/geek_node1.pid"));
        assert_eq!(one.log_file.as_deref(), Some("/var/log/slony1/geek_node1.log"));
        assert_eq!(one.conf_file, "/etc/slony1/geek/node1.conf");
        let two = SlonRun::of(&c, 2.into()).unwrap();
        assert_eq!(two.conf_file, "/etc/slony1/geek_node2/slon.conf");
        assert_eq!(two.pid_file.as_deref(), Some("/var/run/slony1/geek_node2.pid"));
        assert_eq!(
            two.log_file.as_deref(),
            Some("/var/log/slony1/slon-geek_node2.log")
        );
        assert!(SlonRun::of(&c, 3.into()).is_none());
    }

    #[test]
    fn node_keys_replace_cluster_keys_and_pid_file_option_wins() {
        let c = cluster(
            "[slon]\npid_file = \"/srv/slon one.pid\"\n[daemon]\npid_dir = \"/srv/run\"\nlog_dir = \"/srv/log\"\nfile_prefix = \"p\"\nstop_timeout = 5\n",
        );
        let one = SlonRun::of(&c, 1.into()).unwrap();
        assert_eq!(one.pid_file.as_deref(), Some("/srv/slon one.pid"));
        assert_eq!(one.log_file.as_deref(), Some("/srv/log/p_node1.log"));
        assert_eq!(one.stop_timeout, 5);
        assert!(one.stop_shell().contains("'/srv/slon one.pid'"));
        assert!(one.start_shell().contains("mkdir -p /srv /srv/log"));
    }

    #[test]
    fn systemd_units_are_named_per_cluster_and_node() {
        let c = cluster("[daemon]\nrun = \"systemd\"\n");
        let one = SlonRun::of(&c, 1.into()).unwrap();
        assert_eq!(one.unit.as_deref(), Some("slon-geek-node1.service"));
        assert!(one
            .stop_shell()
            .contains("systemctl stop slon-geek-node1.service || true"));
        // node 2 says debian, which replaces the cluster's systemd.
        assert_eq!(SlonRun::of(&c, 2.into()).unwrap().kind, RunKind::Debian);
    }

    #[test]
    fn bad_daemon_keys_are_problems() {
        let err = crate::load_config_str(
            "cluster = \"c\"\n[daemon]\npid_dir = \"run\"\nunit = \"slon\"\nprogram = \"bin/slon\"\nstop_timeout = 0\n[[node]]\nid = 1\nhost = \"h\"\n[node.daemon]\ninstance = \"a/b\"\nrun = \"init\"\n",
            "test.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown variant `init`"), "{err}");
        let err = crate::load_config_str(
            "cluster = \"c\"\n[daemon]\npid_dir = \"run\"\nunit = \"slon\"\nprogram = \"bin/slon\"\nstop_timeout = 0\n[[node]]\nid = 1\nhost = \"h\"\n[node.daemon]\ninstance = \"a/b\"\nlog_dir = \"/x\\ty\"\n",
            "test.toml",
        )
        .unwrap_err()
        .to_string();
        for needle in [
            "[daemon] pid_dir: must be an absolute path",
            "[daemon] unit: must be a systemd service unit name",
            "[daemon] program: must be a program name",
            "[daemon] stop_timeout: must be at least 1 second",
            "node 1 [node.daemon] instance: must be one file name",
            "node 1 [node.daemon] log_dir contains the control character",
        ] {
            assert!(err.contains(needle), "{needle} not in {err}");
        }
    }
}
