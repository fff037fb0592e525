//! Reaching a node from a step: its admin conninfo (what psql and pg_dump take) and the
//! commands that start and stop its slon: the node's own `slon_start` / `slon_stop`, else
//! the ones [`SlonRun`] renders from `[daemon]` / `[node.daemon]`, which fail unless the
//! slon is confirmed running / gone.

use super::builder::Builder;
use super::plan::NodeAccess;
use crate::model::config::RunKind;
use crate::model::conninfo::{conninfo_text, ConninfoUse};
use crate::model::{Cluster, Node};
use crate::ops::{refuse, OpError, Refusal};
use crate::slon::run::{SlonRun, QUIT_WAIT};
use crate::transition::Inconsistency;

pub(super) fn access(cluster: &Cluster, operation: &'static str, node: &Node) -> Result<NodeAccess, OpError> {
    let conninfo = admin_conninfo(cluster, operation, node, node.label())?;
    Ok(NodeAccess {
        label: node.label(),
        conninfo,
    })
}

/// The node's admin conninfo for the target version; a refusal names the node as
/// `node_label`.
pub(super) fn admin_conninfo(
    cluster: &Cluster,
    operation: &'static str,
    node: &Node,
    node_label: String,
) -> Result<String, OpError> {
    conninfo_text(&node.admin.params(), ConninfoUse::Admin, cluster.version).map_err(|problems| {
        refuse(
            operation,
            Refusal::AdminConninfo {
                node: node.id,
                node_label,
                problems,
            },
        )
    })
}

/// How a node's slon is started or stopped in a runbook step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SlonStep {
    /// The shell command.
    pub command: String,
    /// How the slon runs, for the step's title: [`SlonRun::describe`], or that the node's
    /// own command is used.
    pub how: String,
    /// How the slon runs when the command is the default one; `None` when it is the
    /// node's own `slon_start` / `slon_stop`.
    pub run: Option<SlonRun>,
}

/// How `node`'s slon runs; an inconsistency for a node the cluster does not have.
fn run_of(cluster: &Cluster, operation: &'static str, node: &Node) -> Result<SlonRun, OpError> {
    SlonRun::of(cluster, node.id).ok_or_else(|| OpError::Inconsistent {
        operation,
        problem: Inconsistency::MissingNode {
            node: node.id,
            role: "the node whose slon a step starts or stops".into(),
        },
    })
}

/// The start step of a node's slon: its configured `slon_start`, else
/// [`SlonRun::start_shell`], which fails unless the slon is running afterwards.
pub(super) fn slon_start(
    cluster: &Cluster,
    operation: &'static str,
    node: &Node,
) -> Result<SlonStep, OpError> {
    if let Some(command) = &node.slon_start {
        return Ok(SlonStep {
            command: command.clone(),
            how: "with its slon_start command".into(),
            run: None,
        });
    }
    let run = run_of(cluster, operation, node)?;
    Ok(SlonStep {
        command: run.start_shell(),
        how: run.describe(),
        run: Some(run),
    })
}

/// The stop step of a node's slon: its configured `slon_stop`, else
/// [`SlonRun::stop_shell`], which fails unless the slon is gone afterwards.
pub(super) fn slon_stop(
    cluster: &Cluster,
    operation: &'static str,
    node: &Node,
) -> Result<SlonStep, OpError> {
    if let Some(command) = &node.slon_stop {
        return Ok(SlonStep {
            command: command.clone(),
            how: "with its slon_stop command".into(),
            run: None,
        });
    }
    let run = run_of(cluster, operation, node)?;
    Ok(SlonStep {
        command: run.stop_shell(),
        how: run.describe(),
        run: Some(run),
    })
}

/// The command that starts a node's slon: the configured `slon_start`, else
/// [`SlonRun::start_shell`] (`[daemon]` / `[node.daemon]`): a command that exits non-zero
/// unless the slon is running afterwards, and leaves a running one alone. The default
/// needs the node's slon config file (`slonik-gen slon-conf`) or, for a systemd slon, its
/// installed unit.
pub fn slon_start_command(cluster: &Cluster, node: &Node) -> Result<String, OpError> {
    slon_start(cluster, "slon start", node).map(|s| s.command)
}

/// The command that stops a node's slon: the configured `slon_stop`, else
/// [`SlonRun::stop_shell`] (`[daemon]` / `[node.daemon]`): SIGTERM, then SIGQUIT, and an
/// exit status that is non-zero unless the slon is gone, so that nothing holds the node's
/// catalog when the next step changes it. A configured `slon_stop` must keep that promise
/// too: exit non-zero unless the slon is gone.
pub fn slon_stop_command(cluster: &Cluster, node: &Node) -> Result<String, OpError> {
    slon_stop(cluster, "slon stop", node).map(|s| s.command)
}

/// What a stop step's command promises, for its Why text.
pub(super) fn stop_promise(stop: &SlonStep) -> String {
    let Some(run) = &stop.run else {
        return "The node's own slon_stop command runs instead of the default: it must exit non-zero unless that slon is gone (a slon that was not running counts as gone)".into();
    };
    let gone = match run.kind {
        RunKind::Systemd => "its unit is inactive".to_string(),
        RunKind::Process | RunKind::Debian => "its pid file is missing or names no live process".to_string(),
    };
    format!(
        "Run it on the host of {}: it only looks for the slon there. It succeeds when {gone}; otherwise it sends SIGTERM, waits up to {} seconds, sends SIGQUIT, waits up to {QUIT_WAIT} more, and fails if the slon still runs",
        run.node_label, run.stop_timeout
    )
}

/// What a start step's command promises and needs, for its Why text.
pub(super) fn start_promise(start: &SlonStep) -> String {
    let Some(run) = &start.run else {
        return "The node's own slon_start command runs instead of the default: it must exit non-zero unless that slon runs afterwards".into();
    };
    match run.kind {
        RunKind::Systemd => format!(
            "Run it on the host of {}: the unit {} must be installed there; the command fails unless the unit is active afterwards",
            run.node_label,
            run.unit.as_deref().unwrap_or("-")
        ),
        RunKind::Process | RunKind::Debian => format!(
            "Run it on the host of {}: slon reads its config file {} there (write it with `slonik-gen slon-conf`); the command leaves a slon that already runs alone and fails unless the slon runs afterwards",
            run.node_label, run.conf_file
        ),
    }
}

/// How a runbook puts a new node's slon config in place before its first start.
pub(super) enum ConfStep {
    /// A shell command that writes the file (and, for a systemd slon, installs its unit).
    Write {
        /// The command.
        command: String,
        /// What it writes, for the step's title.
        what: String,
    },
    /// Something a person must do: the node starts its slon with its own command, or the
    /// file would hold a password, which a runbook never prints.
    Manual(String),
}

/// The step that writes `node`'s slon config file where [`SlonRun`] says slon reads it:
/// through a temporary file in the same directory and a rename, mode 0644 (the file holds
/// no password; one that would gets a manual step naming `slon-conf --output` instead).
/// A systemd slon also gets its unit installed and systemd reloaded.
pub(super) fn conf_step(
    cluster: &Cluster,
    operation: &'static str,
    node: &Node,
) -> Result<ConfStep, OpError> {
    use crate::escape::shell::word;
    if node.slon_start.is_some() {
        return Ok(ConfStep::Manual(format!(
            "{} starts its slon with its own slon_start command: make sure that slon has its config (`slonik-gen slon-conf {}` prints it) before the next step.",
            node.label(),
            node.id
        )));
    }
    let run = run_of(cluster, operation, node)?;
    let settings = crate::slon::SlonSettings::of(cluster, node.id).ok_or_else(|| OpError::Inconsistent {
        operation,
        problem: Inconsistency::MissingNode {
            node: node.id,
            role: "the node whose slon config a step writes".into(),
        },
    })?;
    if settings.holds_password() {
        return Ok(ConfStep::Manual(format!(
            "On the host of {}, write its slon config with `slonik-gen slon-conf {} --output {}` (it holds the node's password, so this runbook does not print it; better, move the password to a passfile).",
            node.label(),
            node.id,
            run.conf_file
        )));
    }
    let text = crate::slon::conf::render(&settings);
    let install = |path: &str, content: &str, mode: &str| {
        let dir = path
            .rsplit_once('/')
            .map_or(".", |(dir, _)| if dir.is_empty() { "/" } else { dir });
        format!(
            "  mkdir -p {dir}\n  tmp=$(mktemp {template})\n  printf '%s' {content} >\"$tmp\"\n  chmod {mode} \"$tmp\"\n  mv -f \"$tmp\" {path}\n",
            dir = word(dir),
            template = word(&format!("{dir}/.slonik-gen.XXXXXX")),
            content = word(content),
            path = word(path),
        )
    };
    let mut command = String::from("(\n  set -e\n");
    command.push_str(&install(&run.conf_file, &text, "0644"));
    let mut what = format!("its config {}", run.conf_file);
    if let (RunKind::Systemd, Some(unit)) = (run.kind, &run.unit) {
        let unit_text = crate::slon::unit::render(cluster, node.id).unwrap_or_default();
        let path = format!("/etc/systemd/system/{unit}");
        command.push_str(&install(&path, &unit_text, "0644"));
        command.push_str("  systemctl daemon-reload\n");
        what.push_str(&format!(" and its unit {path}"));
    }
    command.push(')');
    Ok(ConfStep::Write { command, what })
}

/// Appends the step that stops the slon of `node` as `cluster` runs it: the title says how
/// it runs; the why is `why`, what the command promises ([`stop_promise`]), then `then`
/// when it is not empty. With `may_fail`, the runbook goes on when the command fails.
pub(super) fn push_slon_stop(
    builder: &mut Builder,
    cluster: &Cluster,
    node: &Node,
    why: &str,
    then: &str,
    may_fail: bool,
) -> Result<(), OpError> {
    let stop = slon_stop(cluster, builder.operation(), node)?;
    let promise = stop_promise(&stop);
    builder.shell(
        format!("Stop the slon of {} — {}", node.label(), stop.how),
        if then.is_empty() {
            format!("{why} {promise}")
        } else {
            format!("{why} {promise}. {then}")
        },
        node.id,
        stop.command,
        may_fail,
    );
    Ok(())
}

/// Appends the step that starts the slon of `node` as `cluster` runs it; the why is `why`
/// and what the command promises ([`start_promise`]). The runbook stops if it fails.
pub(super) fn push_slon_start(
    builder: &mut Builder,
    cluster: &Cluster,
    node: &Node,
    why: &str,
) -> Result<(), OpError> {
    let start = slon_start(cluster, builder.operation(), node)?;
    builder.shell(
        format!("Start the slon of {} — {}", node.label(), start.how),
        format!("{why} {}", start_promise(&start)),
        node.id,
        start.command,
        false,
    );
    Ok(())
}

/// Appends the step that puts a new node's slon config in place ([`conf_step`]): a
/// command that writes it, or what a person must do.
pub(super) fn push_slon_conf(builder: &mut Builder, cluster: &Cluster, node: &Node) -> Result<(), OpError> {
    let (label, id) = (node.label(), node.id);
    match conf_step(cluster, builder.operation(), node)? {
        ConfStep::Write { command, what } => builder.shell(
            format!("Write the slon config of {label}"),
            format!("Node {id}'s slon reads {what}; the file is written whole (a temporary file renamed into place), from the same model as every other node's"),
            id,
            command,
            false,
        ),
        ConfStep::Manual(instruction) => builder.manual(
            format!("Put the slon config of {label} in place"),
            "The slon of the new node needs its config before it starts",
            instruction,
        ),
    }
    Ok(())
}
