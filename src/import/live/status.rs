//! `slonik-gen status`: one view of a running cluster, read from the catalog of every node
//! the config names (nodes, slon threads, sets, subscriptions, lag from `sl_status`,
//! pending `sl_log_*` / `sl_log_script` rows), and its text and JSON renderings.
//!
//! The types and renderers are pure data and text; only [`read_status`] (feature
//! `import-live`) talks to PostgreSQL. A node that cannot be reached is part of the status
//! (with the reason), never a hang: every connection has a connect timeout and every
//! session a statement timeout.
//!
//! Every catalog string is shown through [`visible`], every conninfo through
//! [`shown_conninfo`] (passwords as `***`), in both renderings.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

#[cfg(any(test, feature = "import-live"))]
use super::shown_conninfo;
use crate::escape::visible;

/// How [`read_status`] reads the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusOptions {
    /// How long each node may take to connect and answer every query (nodes are read
    /// at once, so this also bounds the whole read).
    pub connect_timeout: Duration,
}

impl Default for StatusOptions {
    /// 5 seconds: long enough for a loaded server, short enough for a monitoring check.
    fn default() -> Self {
        StatusOptions {
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl StatusOptions {
    /// These options with another connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

/// The cluster as its catalogs describe it now.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClusterStatus {
    /// The cluster name (from the config).
    pub cluster: String,
    /// Every node of the config that is not marked failed, by id.
    pub nodes: Vec<NodeStatus>,
    /// The node whose `sl_set` and `sl_subscribe` are shown (the lowest reachable id).
    pub read_on: Option<u32>,
    /// `sl_set`, by id.
    pub sets: Vec<SetStatus>,
    /// `sl_subscribe`, by set and receiver.
    pub subscriptions: Vec<SubscriptionStatus>,
    /// `sl_status` of every reachable node, by origin and receiver.
    pub lag: Vec<Lag>,
}

/// One node: whether it answered and what its catalog says about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeStatus {
    /// `no_id`.
    pub id: u32,
    /// The config's name for the node.
    pub name: Option<String>,
    /// The admin conninfo used, passwords as `***`.
    pub conninfo: String,
    /// Whether its catalog was read.
    pub reachable: bool,
    /// Why not (passwords removed, control characters escaped).
    pub error: Option<String>,
    /// `slonyversion()`.
    pub version: Option<String>,
    /// `sl_components`: the threads of this node's slon.
    pub slon: Vec<SlonThread>,
    /// Rows waiting in `sl_log_1`/`sl_log_2` and `sl_log_script` on this node.
    pub pending: Option<Pending>,
}

/// One `sl_components` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SlonThread {
    /// `co_actor`, e.g. `local_listen`.
    pub actor: Option<String>,
    /// `co_pid`: the slon process.
    pub pid: Option<i64>,
    /// Whether `co_connection_pid` is a live backend (`pg_stat_activity`): the thread is
    /// connected now, not a row left by a slon that stopped.
    pub connected: bool,
    /// `co_activity`.
    pub activity: Option<String>,
    /// `co_starttime`: when the activity started.
    pub since: Option<String>,
    /// `co_eventtype`.
    pub event_type: Option<String>,
}

/// Rows not yet cleaned up on a node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pending {
    /// `sl_log_1` + `sl_log_2`.
    pub log_rows: i64,
    /// `sl_log_script` (DDL of `execute script`).
    pub script_rows: i64,
}

/// One `sl_set` row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SetStatus {
    /// `set_id`.
    pub id: u32,
    /// `set_origin`.
    pub origin: u32,
    /// `set_locked` is set (a `lock set` or a `move set` in progress).
    pub locked: bool,
}

/// One `sl_subscribe` row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SubscriptionStatus {
    /// `sub_set`.
    pub set: u32,
    /// `sub_provider`.
    pub provider: u32,
    /// `sub_receiver`.
    pub receiver: u32,
    /// `sub_forward`.
    pub forward: bool,
    /// `sub_active`.
    pub active: bool,
}

/// One `sl_status` row: how far `receiver` is behind `origin`'s events.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Lag {
    /// `st_origin`.
    pub origin: u32,
    /// `st_received`.
    pub receiver: u32,
    /// `st_lag_num_events`.
    pub events: Option<i64>,
    /// `st_lag_time` in seconds.
    pub seconds: Option<f64>,
    /// `st_last_event_ts`: the origin's newest event.
    pub last_event_at: Option<String>,
    /// `st_last_received_ts`: when the receiver confirmed its last one.
    pub last_received_at: Option<String>,
}

impl ClusterStatus {
    /// The nodes whose catalog could not be read.
    pub fn unreachable(&self) -> Vec<&NodeStatus> {
        self.nodes.iter().filter(|n| !n.reachable).collect()
    }

    /// The `sl_status` rows whose lag time is over `max` while the receiver still misses
    /// events. `st_lag_time` is the age of the last event the receiver confirmed, so an
    /// origin whose own slon is stopped makes no new events and its row ages with nothing
    /// to receive: that is not lag (the "no slon is connected" warning covers it). An
    /// unknown lag (NULL) is not over: an unreadable value is shown, not alarmed on.
    pub fn over_lag(&self, max: Duration) -> Vec<&Lag> {
        let max = max.as_secs_f64();
        self.lag
            .iter()
            .filter(|l| l.seconds.is_some_and(|s| s > max) && l.events != Some(0))
            .collect()
    }

    /// The outcome of a check with `max_lag` (none: only reachability counts): a node
    /// that could not be read first, then lag over the threshold.
    pub fn verdict(&self, max_lag: Option<Duration>) -> Verdict {
        if !self.unreachable().is_empty() {
            Verdict::Unreadable
        } else if max_lag.is_some_and(|max| !self.over_lag(max).is_empty()) {
            Verdict::OverLag
        } else {
            Verdict::Ok
        }
    }

    /// One line for a monitoring system (Nagios/Icinga style): `STATUS OK ...`,
    /// `STATUS ERROR ...` naming the unreachable nodes, or `STATUS LAG ...` naming every
    /// receiver over `max_lag`.
    pub fn check_line(&self, max_lag: Option<Duration>) -> String {
        match self.verdict(max_lag) {
            Verdict::Unreadable => {
                let nodes: Vec<String> = self
                    .unreachable()
                    .iter()
                    .map(|n| format!("node {}", n.id))
                    .collect();
                format!("STATUS ERROR: cannot read {}", nodes.join(", "))
            }
            Verdict::OverLag => {
                let max = max_lag.unwrap_or_default();
                let over: Vec<String> = self
                    .over_lag(max)
                    .iter()
                    .map(|l| {
                        format!(
                            "node {} is {:.1} s behind node {}",
                            l.receiver,
                            l.seconds.unwrap_or(0.0),
                            l.origin
                        )
                    })
                    .collect();
                format!("STATUS LAG: {} (over {} s)", over.join(", "), max.as_secs_f64())
            }
            Verdict::Ok => {
                let worst = self.lag.iter().filter_map(|l| l.seconds).fold(0.0_f64, f64::max);
                format!(
                    "STATUS OK: {} nodes read, largest lag {worst:.1} s",
                    self.nodes.len()
                )
            }
        }
    }

    /// Warnings a person should act on: DDL waiting in `sl_log_script` (a new node cannot
    /// be subscribed until it is cleaned up), locked sets, inactive subscriptions.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for node in &self.nodes {
            if let Some(p) = node.pending.filter(|p| p.script_rows > 0) {
                out.push(format!(
                    "node {}: {} sl_log_script row{} (DDL events) not yet cleaned up: a new node cannot be subscribed until they are",
                    node.id,
                    p.script_rows,
                    plural(p.script_rows)
                ));
            }
            if node.reachable && !node.slon.iter().any(|t| t.connected) {
                out.push(format!("node {}: no slon is connected", node.id));
            }
        }
        for set in self.sets.iter().filter(|s| s.locked) {
            out.push(format!(
                "set {} is locked on its origin node {}",
                set.id, set.origin
            ));
        }
        for sub in self.subscriptions.iter().filter(|s| !s.active) {
            out.push(format!(
                "set {} is not yet active on node {} (subscription in progress or stuck)",
                sub.set, sub.receiver
            ));
        }
        out
    }

    /// The status for a person: one line per node, set, subscription and lag row, then the
    /// warnings. Catalog text escaped, passwords as `***`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let reachable = self.nodes.iter().filter(|n| n.reachable).count();
        let _ = writeln!(
            out,
            "cluster {}: {} node{}, {} reachable",
            visible(&self.cluster),
            self.nodes.len(),
            plural(self.nodes.len() as i64),
            reachable
        );
        out.push_str("\nnodes:\n");
        for node in &self.nodes {
            let label = match &node.name {
                Some(name) => format!("node {} ({})", node.id, visible(name)),
                None => format!("node {}", node.id),
            };
            if !node.reachable {
                let _ = writeln!(
                    out,
                    "  {label}: UNREACHABLE at {}: {}",
                    node.conninfo,
                    visible(node.error.as_deref().unwrap_or("unknown error"))
                );
                continue;
            }
            let connected = node.slon.iter().filter(|t| t.connected).count();
            let slon = if connected == 0 {
                "no slon connected".to_string()
            } else {
                format!("slon connected ({connected} thread{})", plural(connected as i64))
            };
            let last = node
                .slon
                .iter()
                .filter(|t| t.connected)
                .filter_map(|t| t.since.as_deref().map(|s| (s, t)))
                .max_by(|a, b| a.0.cmp(b.0));
            let last = match last {
                Some((since, t)) => format!(
                    ", last activity {} {} at {}",
                    visible(t.actor.as_deref().unwrap_or("?")),
                    visible(t.activity.as_deref().unwrap_or("?")),
                    visible(since)
                ),
                None => String::new(),
            };
            let version = node
                .version
                .as_deref()
                .map(|v| format!(", Slony-I {}", visible(v)))
                .unwrap_or_default();
            let pending = node
                .pending
                .map(|p| format!(", pending sl_log {} sl_log_script {}", p.log_rows, p.script_rows))
                .unwrap_or_default();
            let _ = writeln!(out, "  {label}: reachable{version}, {slon}{last}{pending}");
        }
        match self.read_on {
            Some(node) => {
                let _ = writeln!(out, "\nsets (read on node {node}):");
            }
            None => out.push_str("\nsets (no node reachable):\n"),
        }
        for set in &self.sets {
            let _ = writeln!(
                out,
                "  set {}: origin node {}, {}",
                set.id,
                set.origin,
                if set.locked { "LOCKED" } else { "not locked" }
            );
        }
        none_if_empty(&mut out, self.sets.is_empty());
        out.push_str("\nsubscriptions:\n");
        for sub in &self.subscriptions {
            let _ = writeln!(
                out,
                "  set {}: node {} -> node {}, {}, {}",
                sub.set,
                sub.provider,
                sub.receiver,
                if sub.forward { "forward" } else { "no forward" },
                if sub.active { "active" } else { "NOT ACTIVE" }
            );
        }
        none_if_empty(&mut out, self.subscriptions.is_empty());
        out.push_str("\nlag (sl_status):\n");
        for lag in &self.lag {
            let events = lag
                .events
                .map_or("? events".to_string(), |e| format!("{e} event{}", plural(e)));
            let time = lag.seconds.map_or("? s".to_string(), |s| format!("{s:.1} s"));
            // Only an origin's own slon copies the receivers' confirmations into its
            // sl_confirm: without it, its rows age whatever the receivers do.
            let stale = self
                .nodes
                .iter()
                .any(|n| n.id == lag.origin && n.reachable && !n.slon.iter().any(|t| t.connected));
            let note = if stale {
                format!(
                    " (node {}'s slon is not connected: its confirmations are not up to date)",
                    lag.origin
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  node {} -> node {}: {events}, {time}{note}",
                lag.origin, lag.receiver
            );
        }
        none_if_empty(&mut out, self.lag.is_empty());
        let warnings = self.warnings();
        if !warnings.is_empty() {
            out.push_str("\nwarnings:\n");
            for w in warnings {
                let _ = writeln!(out, "  - {}", visible(&w));
            }
        }
        out
    }

    /// The status as pretty JSON, fields in declaration order. Strings are the escaped
    /// forms of the text rendering, so a terminal showing the JSON is as safe.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.escaped()).unwrap_or_else(|e| {
            // Serializing plain structs of strings and numbers cannot fail; say so if it did.
            format!("{{\"error\": {:?}}}", e.to_string())
        });
        text.push('\n');
        text
    }

    /// A copy with every catalog string passed through [`visible`].
    fn escaped(&self) -> ClusterStatus {
        let v = |s: &Option<String>| s.as_deref().map(|s| visible(s).into_owned());
        let mut copy = self.clone();
        copy.cluster = visible(&self.cluster).into_owned();
        for node in &mut copy.nodes {
            node.name = v(&node.name);
            node.conninfo = visible(&node.conninfo).into_owned();
            node.error = v(&node.error);
            node.version = v(&node.version);
            for t in &mut node.slon {
                t.actor = v(&t.actor);
                t.activity = v(&t.activity);
                t.since = v(&t.since);
                t.event_type = v(&t.event_type);
            }
        }
        for lag in &mut copy.lag {
            lag.last_event_at = v(&lag.last_event_at);
            lag.last_received_at = v(&lag.last_received_at);
        }
        copy
    }
}

/// What a status check concludes, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Verdict {
    /// Every node read, no lag over the threshold.
    Ok,
    /// At least one node could not be read.
    Unreadable,
    /// Every node read, and some receiver's lag is over the threshold.
    OverLag,
}

/// An empty section says so, so a blank reads as "nothing there", not "not read".
fn none_if_empty(out: &mut String, empty: bool) {
    if empty {
        out.push_str("  (none)\n");
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The admin conninfo of `node` for the Rust client, as configured (`passfile` and
/// `service` included: [`super::libpq`] reads them as libpq does).
#[cfg(any(test, feature = "import-live"))]
pub(super) fn admin_conninfo(node: &crate::model::Node) -> String {
    node.admin
        .params()
        .into_iter()
        .map(|(k, v)| format!("{k}={}", crate::model::conninfo::value_text(&v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the status of `cluster` from every node of the config that is not marked failed,
/// all nodes at once. Never fails as a whole and never waits longer than
/// `options.connect_timeout` (plus a moment): a node that cannot be read, or does not
/// answer in time (a server that accepts the connection and then says nothing, a query
/// stuck behind a lock), is in the result with the reason. The reader of a node that did
/// not answer is left to finish on its own thread.
#[cfg(feature = "import-live")]
pub fn read_status(cluster: &crate::Cluster, options: StatusOptions) -> ClusterStatus {
    use std::sync::mpsc;
    use std::time::Instant;
    // Instant + Duration panics on overflow: a day is longer than any check should wait.
    let options = StatusOptions {
        connect_timeout: options.connect_timeout.min(Duration::from_secs(86_400)),
    };
    let nodes: Vec<&crate::model::Node> = cluster.active_nodes().collect();
    let started = Instant::now();
    let (sender, receiver) = mpsc::channel();
    let mut results: Vec<Option<Result<NodeRead, String>>> = Vec::with_capacity(nodes.len());
    for (index, node) in nodes.iter().enumerate() {
        let conninfo = admin_conninfo(node);
        let name = cluster.name.clone();
        let sender = sender.clone();
        // The client's connect timeout covers the TCP connect only, not the startup
        // exchange: a thread and a deadline are what bound a silent server.
        let spawned = std::thread::Builder::new()
            .name(format!("status-node-{}", node.id))
            .spawn(move || {
                let _ = sender.send((index, read_node(&conninfo, &name, options)));
            });
        results.push(match spawned {
            Ok(_) => None,
            Err(e) => Some(Err(format!("cannot start a thread to read it: {e}"))),
        });
    }
    drop(sender);
    let deadline = started + options.connect_timeout + Duration::from_millis(500);
    while results.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok((index, read)) => results[index] = Some(read),
            Err(_) => break,
        }
    }
    let mut status = ClusterStatus {
        cluster: cluster.name.clone(),
        ..ClusterStatus::default()
    };
    for (node, read) in nodes.iter().zip(results) {
        let mut shown = NodeStatus {
            id: node.id.0,
            name: node.name.clone(),
            conninfo: shown_conninfo(&admin_conninfo(node)),
            ..NodeStatus::default()
        };
        let read = read.unwrap_or_else(|| {
            Err(format!(
                "no answer within {} s (the server does not answer, or the connection or a catalog query hangs)",
                options.connect_timeout.as_secs_f64()
            ))
        });
        match read {
            Ok(read) => {
                shown.reachable = true;
                shown.version = read.version;
                shown.slon = read.slon;
                shown.pending = Some(read.pending);
                status.lag.extend(read.lag);
                if status.read_on.is_none() {
                    status.read_on = Some(node.id.0);
                    status.sets = read.sets;
                    status.subscriptions = read.subscriptions;
                }
            }
            Err(message) => {
                shown.error = Some(visible(&crate::model::conninfo::redact_secrets(&message)).into_owned());
            }
        }
        status.nodes.push(shown);
    }
    status.lag.sort_by_key(|l| (l.origin, l.receiver));
    status
}

/// What one node's catalog says.
#[cfg(feature = "import-live")]
struct NodeRead {
    version: Option<String>,
    slon: Vec<SlonThread>,
    pending: Pending,
    sets: Vec<SetStatus>,
    subscriptions: Vec<SubscriptionStatus>,
    lag: Vec<Lag>,
}

#[cfg(feature = "import-live")]
fn read_node(conninfo: &str, cluster: &str, options: StatusOptions) -> Result<NodeRead, String> {
    use super::with_causes;
    let mut client = super::libpq::connect(conninfo, Some(options.connect_timeout))?;
    // A query stuck behind a lock would hang a monitoring check: bound each one.
    let timeout_ms = options
        .connect_timeout
        .as_millis()
        .clamp(1, i32::MAX as u128)
        .to_string();
    client
        .execute(
            "select pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false), \
             pg_catalog.set_config('statement_timeout', $1, false)",
            &[&timeout_ms],
        )
        .map_err(|e| format!("cannot pin the search_path: {}", with_causes(&e)))?;
    let schema = format!("_{cluster}");
    let exists = client
        .query_one(
            "select pg_catalog.count(*) from pg_catalog.pg_namespace where nspname = $1",
            &[&schema],
        )
        .and_then(|r| r.try_get::<_, i64>(0))
        .map_err(|e| with_causes(&e))?;
    if exists == 0 {
        return Err(format!(
            "this database has no Slony-I cluster `{cluster}` (no schema \"{schema}\")"
        ));
    }
    let ns = crate::model::names::quote_ident(&schema);
    let mut query = |sql: String| {
        client
            .query(&sql, &[])
            .map_err(|e| format!("reading the catalog: {}", with_causes(&e)))
    };
    // Every column is read as an Option: any catalog value may be NULL or odd, and one odd
    // row must not end the check.
    fn text(r: &postgres::Row, i: usize) -> Option<String> {
        r.try_get::<_, Option<String>>(i).ok().flatten()
    }
    fn int(r: &postgres::Row, i: usize) -> Option<i64> {
        r.try_get::<_, Option<i64>>(i).ok().flatten()
    }
    fn id(r: &postgres::Row, i: usize) -> u32 {
        int(r, i).and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
    }
    fn flag(r: &postgres::Row, i: usize) -> bool {
        r.try_get::<_, Option<bool>>(i).ok().flatten().unwrap_or(false)
    }
    let version = query(format!("select {ns}.slonyversion()::pg_catalog.text"))?
        .first()
        .and_then(|r| text(r, 0));
    let slon = query(format!(
        "select co_actor::pg_catalog.text, co_pid::pg_catalog.int8, \
         exists (select 1 from pg_catalog.pg_stat_activity a where a.pid = c.co_connection_pid), \
         co_activity::pg_catalog.text, co_starttime::pg_catalog.text, co_eventtype::pg_catalog.text \
         from {ns}.sl_components c order by co_actor"
    ))?
    .iter()
    .map(|r| SlonThread {
        actor: text(r, 0),
        pid: int(r, 1),
        connected: flag(r, 2),
        activity: text(r, 3),
        since: text(r, 4),
        event_type: text(r, 5),
    })
    .collect();
    let pending = query(format!(
        "select (select pg_catalog.count(*) from {ns}.sl_log_1) + (select pg_catalog.count(*) from {ns}.sl_log_2), \
         (select pg_catalog.count(*) from {ns}.sl_log_script)"
    ))?
    .first()
    .map(|r| Pending {
        log_rows: int(r, 0).unwrap_or(0),
        script_rows: int(r, 1).unwrap_or(0),
    })
    .unwrap_or_default();
    let sets = query(format!(
        "select set_id::pg_catalog.int8, set_origin::pg_catalog.int8, set_locked is not null from {ns}.sl_set order by set_id"
    ))?
    .iter()
    .map(|r| SetStatus {
        id: id(r, 0),
        origin: id(r, 1),
        locked: flag(r, 2),
    })
    .collect();
    let subscriptions = query(format!(
        "select sub_set::pg_catalog.int8, sub_provider::pg_catalog.int8, sub_receiver::pg_catalog.int8, sub_forward, sub_active \
         from {ns}.sl_subscribe order by sub_set, sub_receiver"
    ))?
    .iter()
    .map(|r| SubscriptionStatus {
        set: id(r, 0),
        provider: id(r, 1),
        receiver: id(r, 2),
        forward: flag(r, 3),
        active: flag(r, 4),
    })
    .collect();
    let lag = query(format!(
        "select st_origin::pg_catalog.int8, st_received::pg_catalog.int8, st_lag_num_events::pg_catalog.int8, \
         pg_catalog.date_part('epoch', st_lag_time)::pg_catalog.float8, \
         st_last_event_ts::pg_catalog.text, st_last_received_ts::pg_catalog.text \
         from {ns}.sl_status order by st_origin, st_received"
    ))?
    .iter()
    .map(|r| Lag {
        origin: id(r, 0),
        receiver: id(r, 1),
        events: int(r, 2),
        seconds: r.try_get::<_, Option<f64>>(3).ok().flatten(),
        last_event_at: text(r, 4),
        last_received_at: text(r, 5),
    })
    .collect();
    Ok(NodeRead {
        version,
        slon,
        pending,
        sets,
        subscriptions,
        lag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ClusterStatus {
        ClusterStatus {
            cluster: "replication".into(),
            nodes: vec![
                NodeStatus {
                    id: 1,
                    name: Some("MasNod".into()),
                    conninfo: shown_conninfo("host=db1 dbname=geekdb user=postgres password=sekrit"),
                    reachable: true,
                    error: None,
                    version: Some("2.2.11".into()),
                    slon: vec![
                        SlonThread {
                            actor: Some("local_sync".into()),
                            pid: Some(4242),
                            connected: true,
                            activity: Some("thread main loop".into()),
                            since: Some("2026-12-02 01:00:00+00".into()),
                            event_type: Some("n/a".into()),
                        },
                        SlonThread {
                            actor: Some("remote listener\u{1b}[2J".into()),
                            pid: None,
                            connected: true,
                            activity: None,
                            since: Some("2026-12-02 01:00:05+00".into()),
                            event_type: None,
                        },
                    ],
                    pending: Some(Pending {
                        log_rows: 12,
                        script_rows: 1,
                    }),
                },
                NodeStatus {
                    id: 2,
                    name: Some("SlaNod".into()),
                    conninfo: shown_conninfo("host=db2 dbname=geekdb user=postgres"),
                    reachable: true,
                    error: None,
                    version: Some("2.2.11".into()),
                    slon: vec![],
                    pending: Some(Pending::default()),
                },
                NodeStatus {
                    id: 3,
                    name: None,
                    conninfo: shown_conninfo("host=db3 port=1 password='a b'"),
                    reachable: false,
                    error: Some("cannot connect: error connecting to server: Connection refused".into()),
                    ..NodeStatus::default()
                },
            ],
            read_on: Some(1),
            sets: vec![
                SetStatus {
                    id: 1,
                    origin: 1,
                    locked: false,
                },
                SetStatus {
                    id: 2,
                    origin: 1,
                    locked: true,
                },
            ],
            subscriptions: vec![SubscriptionStatus {
                set: 1,
                provider: 1,
                receiver: 2,
                forward: true,
                active: true,
            }],
            lag: vec![
                Lag {
                    origin: 1,
                    receiver: 2,
                    events: Some(37),
                    seconds: Some(12.5),
                    last_event_at: Some("2026-12-02 01:00:10+00".into()),
                    last_received_at: None,
                },
                Lag {
                    origin: 2,
                    receiver: 1,
                    events: Some(0),
                    seconds: None,
                    ..Lag::default()
                },
            ],
        }
    }

    #[test]
    fn text_rendering() {
        let text = sample().to_text();
        assert!(!text.contains("sekrit"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn json_rendering() {
        let json = sample().to_json();
        assert!(!json.contains("sekrit"), "{json}");
        assert!(!json.contains("\\u001b"), "{json}");
        insta::assert_snapshot!(json);
    }

    #[test]
    fn over_lag_is_strictly_over_and_ignores_unknown_lag() {
        let status = sample();
        let over: Vec<(u32, u32)> = status
            .over_lag(Duration::from_secs(12))
            .iter()
            .map(|l| (l.origin, l.receiver))
            .collect();
        assert_eq!(over, vec![(1, 2)]);
        assert!(status.over_lag(Duration::from_millis(12_500)).is_empty());
        assert!(status.over_lag(Duration::from_secs(60)).is_empty());
        assert!(ClusterStatus::default().over_lag(Duration::ZERO).is_empty());
        let mut idle = status.clone();
        idle.lag[1].seconds = Some(100.0);
        let over: Vec<u32> = idle
            .over_lag(Duration::from_secs(60))
            .iter()
            .map(|l| l.origin)
            .collect();
        assert_eq!(
            over,
            Vec::<u32>::new(),
            "no events missing: an idle origin, not lag"
        );
        idle.lag[1].events = None;
        let over: Vec<u32> = idle
            .over_lag(Duration::from_secs(60))
            .iter()
            .map(|l| l.origin)
            .collect();
        assert_eq!(over, vec![2], "unknown event count: the time decides");
    }

    #[test]
    fn verdicts_and_check_lines() {
        let mut status = sample();
        assert_eq!(status.verdict(None), Verdict::Unreadable);
        assert_eq!(status.check_line(None), "STATUS ERROR: cannot read node 3");
        status.nodes.pop();
        assert_eq!(status.verdict(None), Verdict::Ok);
        assert_eq!(status.verdict(Some(Duration::from_secs(60))), Verdict::Ok);
        assert_eq!(
            status.check_line(Some(Duration::from_secs(60))),
            "STATUS OK: 2 nodes read, largest lag 12.5 s"
        );
        assert_eq!(status.verdict(Some(Duration::from_secs(2))), Verdict::OverLag);
        assert_eq!(
            status.check_line(Some(Duration::from_secs(2))),
            "STATUS LAG: node 2 is 12.5 s behind node 1 (over 2 s)"
        );
    }

    #[test]
    fn unreachable_nodes_and_warnings() {
        let status = sample();
        let ids: Vec<u32> = status.unreachable().iter().map(|n| n.id).collect();
        assert_eq!(ids, vec![3]);
        let warnings = status.warnings();
        assert!(
            warnings[0].starts_with("node 1: 1 sl_log_script row (DDL events)"),
            "{warnings:?}"
        );
        assert!(warnings.contains(&"node 2: no slon is connected".to_string()));
        assert!(warnings.contains(&"set 2 is locked on its origin node 1".to_string()));
    }

    #[test]
    fn admin_conninfo_keeps_the_passfile() {
        let cluster = crate::load_config_str(
            "cluster = \"c\"\n[[node]]\nid = 1\nhost = \"h\"\npassfile = \"/p\"\nuser = \"u\"\n",
            "t.toml",
        )
        .expect("loads");
        let node = &cluster.nodes[&crate::model::NodeId(1)];
        assert_eq!(admin_conninfo(node), "host=h user=u passfile=/p");
    }
}
