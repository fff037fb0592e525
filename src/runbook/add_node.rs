//! Adding a node to a running cluster: the admin guide's "adding a node" (addthings), from
//! an empty database to a caught-up subscriber, and the node in the config afterwards.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::builder::Builder;
use super::catalog;
use super::plan::Plan;
use super::schema_copy::copy_schema_command;
use super::slon::{admin_conninfo, push_slon_conf, push_slon_start};
use super::text::and_list;
use crate::model::config::{NodeConfig, PathConfig};
use crate::model::conninfo::ConnectionParts;
use crate::model::{Cluster, NodeId, Set, SetId};
use crate::ops::{self, known_set, refuse, OpError, Refusal};

/// The node an add-node (or upgrade-postgres) runbook brings into the cluster, as the
/// command line describes it: what a `[[node]]` of the config would say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewNode {
    /// Its Slony-I id (free in the cluster).
    pub id: NodeId,
    /// Its human name.
    pub name: Option<String>,
    /// Its `store node` comment.
    pub comment: Option<String>,
    /// Its admin connection (what slonik and the runbook's checks use).
    pub admin: ConnectionParts,
    /// What the slons use to reach it, where that differs from `admin`.
    pub path: Option<ConnectionParts>,
    /// The node it receives from (`[[node]] provider`); `None`: each set's origin.
    pub provider: Option<NodeId>,
    /// Whether it forwards what it receives (so other nodes can use it as provider and it
    /// can become an origin).
    pub forward: bool,
}

impl NewNode {
    /// The node with the connection `conninfo` (libpq's `key=value` text or a
    /// `postgresql://` URI) and, if given, a different one for the slons.
    pub fn from_conninfo(id: NodeId, conninfo: &str, path: Option<&str>) -> Result<NewNode, OpError> {
        let parse = |text: &str, what: &'static str| {
            ConnectionParts::from_conninfo(text).map_err(|e| {
                refuse(
                    OPERATION,
                    Refusal::NewNodeConninfo {
                        node: id,
                        what,
                        problem: e.to_string(),
                    },
                )
            })
        };
        Ok(NewNode {
            id,
            admin: parse(conninfo, "--conninfo")?,
            path: path.map(|p| parse(p, "--path-conninfo")).transpose()?,
            forward: true,
            ..NewNode::default()
        })
    }

    fn config(&self) -> NodeConfig {
        let a = &self.admin;
        NodeConfig {
            id: self.id,
            name: self.name.clone(),
            comment: self.comment.clone(),
            service: a.service.clone(),
            host: a.host.clone(),
            port: a.port,
            dbname: a.dbname.clone(),
            user: a.user.clone(),
            password: a.password.clone(),
            passfile: a.passfile.clone(),
            sslmode: a.sslmode.clone(),
            options: a.options.clone(),
            path: self.path.clone(),
            provider: self.provider,
            forward: self.forward,
            ..NodeConfig::default()
        }
    }
}

/// How the new node's database gets the application's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SchemaSource {
    /// Copy the schema (no data) from a live node with `pg_dump -s`, leaving out Slony-I's
    /// `"_<cluster>"` schema and its triggers; the new database must be empty.
    #[default]
    Copy,
    /// The tables are already there (restored by hand): checked, not copied.
    Present,
}

/// A `--schema` that is not `copy` or `present`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown --schema `{0}`: use copy or present")]
pub struct UnknownSchemaSource(pub String);

impl FromStr for SchemaSource {
    type Err = UnknownSchemaSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "copy" => Ok(SchemaSource::Copy),
            "present" => Ok(SchemaSource::Present),
            other => Err(UnknownSchemaSource(other.to_string())),
        }
    }
}

impl fmt::Display for SchemaSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SchemaSource::Copy => "copy",
            SchemaSource::Present => "present",
        })
    }
}

const OPERATION: &str = "add-node";

/// `runbook add-node`: check that the new database answers, has no Slony-I schema and no
/// tables (or, with [`SchemaSource::Present`], has every table of the sets with its key);
/// check that no node still holds DDL in `sl_log_script` that the new node would replay;
/// copy the schema from a live node; store the node with paths to and from every node;
/// write its slon config and start its slon; subscribe it to the sets (default: every set)
/// in id order, from its provider, each followed by a check that the subscription is
/// active; then wait until it has confirmed a SYNC of every origin and check every
/// node's catalog. The plan's next state has the node, so `--write-config` adds its
/// `[[node]]`.
pub fn add_node(
    cluster: &Cluster,
    new: &NewNode,
    sets: &[SetId],
    schema: SchemaSource,
) -> Result<Plan, OpError> {
    let sets = chosen_sets(cluster, sets)?;
    let subscriptions = sets
        .iter()
        .map(|s| {
            let origin = known_set(cluster, *s)?.origin;
            Ok((*s, new.provider.unwrap_or(origin)))
        })
        .collect::<Result<Vec<_>, OpError>>()?;
    let with_node = with_new_node(cluster, OPERATION, new)?;
    let label = with_node
        .nodes
        .get(&new.id)
        .map_or_else(|| format!("node {}", new.id), |n| n.label());
    let names = set_labels(cluster, &sets);
    let title = format!(
        "Add {label} to cluster {} as a subscriber of {names}",
        cluster.name
    );
    let mut builder = Builder::new(OPERATION, title, &with_node)?;
    add_node_steps(&mut builder, new.id, &subscriptions, schema, None)?;
    builder.finish()
}

/// The sets named (resolved by the caller), or every set; sorted, each known.
fn chosen_sets(cluster: &Cluster, sets: &[SetId]) -> Result<Vec<SetId>, OpError> {
    let mut sets: Vec<SetId> = if sets.is_empty() {
        cluster.sets.keys().copied().collect()
    } else {
        sets.to_vec()
    };
    sets.sort();
    sets.dedup();
    if sets.is_empty() {
        return Err(refuse(OPERATION, Refusal::NoSetToSubscribe));
    }
    for set in &sets {
        ops::live_origin(cluster, OPERATION, known_set(cluster, *set)?)?;
    }
    Ok(sets)
}

fn set_labels(cluster: &Cluster, sets: &[SetId]) -> String {
    and_list(
        &sets
            .iter()
            .map(|s| cluster.sets.get(s).map_or_else(|| format!("set {s}"), Set::label))
            .collect::<Vec<_>>(),
    )
}

/// `cluster` with the new node in it, checked exactly as a config file's `[[node]]` is
/// (names, connection keywords and values, control characters, the provider).
pub(super) fn with_new_node(
    cluster: &Cluster,
    operation: &'static str,
    new: &NewNode,
) -> Result<Cluster, OpError> {
    if cluster.nodes.contains_key(&new.id) {
        return Err(refuse(operation, Refusal::NodeIdTaken { node: new.id }));
    }
    if cluster.dropped_nodes.contains_key(&new.id) {
        return Err(refuse(operation, Refusal::NodeIdDropped { node: new.id }));
    }
    let mut config = cluster.to_config();
    config.nodes.push(new.config());
    // With explicit paths the new node gets what store-node gives it in the mesh: a path
    // to and from every live node (drop-path removes the ones it does not need).
    if !config.paths.is_empty() {
        for other in cluster.active_nodes() {
            config.paths.push(PathConfig::new(new.id, other.id));
            config.paths.push(PathConfig::new(other.id, new.id));
        }
    }
    crate::validate::validate_owned(config).map_err(|problems| {
        refuse(
            operation,
            Refusal::NewNodeInvalid {
                node: new.id,
                problems: problems.to_string(),
            },
        )
    })
}

/// The add-node steps on a builder whose state already has the node (not yet stored):
/// `subscriptions` are (set, provider) in the order they are made; the schema is copied
/// from `schema_from`, else from the first provider.
pub(super) fn add_node_steps(
    builder: &mut Builder,
    id: NodeId,
    subscriptions: &[(SetId, NodeId)],
    schema: SchemaSource,
    schema_from: Option<NodeId>,
) -> Result<(), OpError> {
    let op = builder.operation();
    let state = builder.state().clone();
    let node = ops::known_node(&state, id)?.clone();
    let label = node.label();
    let cluster_schema = format!("_{}", state.name);
    let Some(&(_, first_provider)) = subscriptions.first() else {
        return Err(refuse(op, Refusal::NoSetToSubscribe));
    };
    let source = schema_from.unwrap_or(first_provider);
    let source_node = ops::active_node(&state, op, source)?.clone();
    let sets: Vec<SetId> = subscriptions.iter().map(|(s, _)| *s).collect();

    // Checks first: nothing below changes anything until they all pass.
    builder.check(
        format!("Check that the database of {label} answers"),
        "Everything below needs it; better to stop here than after the node has been stored",
        id,
        "select 1".to_string(),
        "1",
        0,
    );
    builder.check(
        format!("Check that {label} has no Slony-I schema {cluster_schema}"),
        format!("`store node` installs a fresh {} there and fails if one is left (a database copied from another node, or an earlier attempt): if this check fails, make sure node {id} is not in use by the cluster, then drop schema {} cascade on it and run the runbook again", catalog::schema(&state), catalog::schema(&state)),
        id,
        catalog::schema_exists(&cluster_schema),
        "0",
        0,
    );
    let tables: Vec<(String, String, Option<String>)> = sets
        .iter()
        .filter_map(|s| state.sets.get(s))
        .flat_map(|s| s.tables.iter())
        .map(|t| (t.name.schema.clone(), t.name.name.clone(), t.key.clone()))
        .collect();
    let sequences: Vec<(String, String)> = sets
        .iter()
        .filter_map(|s| state.sets.get(s))
        .flat_map(|s| s.sequences.iter())
        .map(|q| (q.name.schema.clone(), q.name.name.clone()))
        .collect();
    match schema {
        SchemaSource::Copy => builder.check(
            format!("Check that the database of {label} holds no tables yet"),
            format!("The schema is copied from node {source} next and the copy stops at the first object that already exists; a database with tables in it may be the wrong one. Use --schema present if the tables were restored there on purpose"),
            id,
            catalog::user_relations(),
            "0",
            0,
        ),
        SchemaSource::Present => {
            if !tables.is_empty() {
                builder.check(
                    format!("Check that the {} tables of the sets are on {label} with their keys", tables.len()),
                    "Slony-I copies data into existing tables and needs the same primary key (or the unique index named as key) as on the origin; create what is missing (pg_dump -s from the origin) and run the runbook again",
                    id,
                    catalog::tables_ready(&tables),
                    tables.len().to_string(),
                    0,
                );
            }
            if !sequences.is_empty() {
                builder.check(
                    format!("Check that the {} sequences of the sets are on {label}", sequences.len()),
                    "Slony-I sets replicated sequences on every subscriber, which fails for a sequence that does not exist",
                    id,
                    catalog::sequences_ready(&sequences),
                    sequences.len().to_string(),
                    0,
                );
            }
        }
    }
    // sl_log_script (Slony-I 2.2) keeps execute-script's DDL; before 2.2 DDL travels as
    // an event, which a node stored later never receives.
    let others: Vec<NodeId> = if state.version >= crate::version::SlonyVersion::V2_2 {
        state.active_nodes().map(|n| n.id).filter(|n| *n != id).collect()
    } else {
        Vec::new()
    };
    for &other in &others {
        builder.check(
            format!("Check that node {other} holds no DDL waiting in sl_log_script"),
            "DDL that execute-script ran stays in sl_log_script until every node has confirmed it and slon's cleanup (every cleanup_interval, 10 minutes by default) removes it; a new node replays what is left there against a schema that already has it, and its slon then loops on errors such as \"column already exists\". If this check fails, wait until `slonik-gen status` shows every node caught up and the next cleanup has run, then run the runbook again",
            other,
            catalog::pending_ddl(&state),
            "0",
            0,
        );
    }

    if schema == SchemaSource::Copy {
        let node_conninfo = admin_conninfo(&state, op, &node, label.clone())?;
        let source_conninfo = admin_conninfo(&state, op, &source_node, source_node.label())?;
        builder.shell(
            format!("Copy the schema (only) from {} to {label}", source_node.label()),
            format!("The tables must exist on node {id} before it subscribes; the data comes with the subscription. The dump leaves out Slony-I's own schema {} (`-N`), and Slony's triggers on the application tables, which call functions in that schema and would not restore. Run it with the pg_dump and pg_restore of the newer PostgreSQL of the two servers (they read older servers, not newer ones)", catalog::schema(&state)),
            id,
            copy_schema_command(&state.name, &source_conninfo, &node_conninfo),
            false,
        );
    }

    let event = state
        .sets
        .get(&sets[0])
        .map(|s| s.origin)
        .unwrap_or(state.default_origin);
    let stored = ops::store_node(&state, id, Some(event))?;
    builder.change(
        format!("Store {label}, with paths to and from every node"),
        format!("Installs Slony-I's catalog on node {id} and tells every node how to reach it; the event node is node {event}, the origin of the first set"),
        stored,
    )?;

    let current = builder.state().clone();
    push_slon_conf(builder, &current, &node)?;
    push_slon_start(
        builder,
        &current,
        &node,
        &format!("Node {id} needs its own slon to copy and then apply its subscriptions."),
    )?;

    for &(set, provider) in subscriptions {
        let forward = builder.state().nodes.get(&id).is_none_or(|n| n.forward);
        let subscribed = ops::subscribe_set_via(builder.state(), set, id, provider, forward)?;
        let next = subscribed.next.clone();
        let set_label = known_set(&next, set)?.label();
        builder.change(
            format!("Subscribe {label} to {set_label} from node {provider}"),
            format!("The initial copy fills node {id}'s tables of {set_label} from node {provider}; the script waits until node {id} has confirmed a SYNC issued after the subscription, bounded by wait_timeout (a timeout does not stop the copy)"),
            subscribed,
        )?;
        builder.check(
            format!("Check that the subscription of {label} to {set_label} is active"),
            "sub_active turns true once the initial copy has finished; the next set (or the end of the runbook) waits for it",
            id,
            catalog::active_subscriptions(&next, &[set], id, Some(provider)),
            "1",
            next.wait_timeout,
        );
    }

    let state = builder.state().clone();
    let mut origins: Vec<NodeId> = sets
        .iter()
        .filter_map(|s| state.sets.get(s))
        .map(|s| s.origin)
        .collect();
    origins.sort();
    origins.dedup();
    let mut script = ops::script_for(&state, op, &[])?;
    for &origin in &origins {
        script.push(ops::echo(format!(
            "Waiting until {label} has applied everything node {origin} committed so far"
        )));
        script.extend(ops::sync_and_wait(
            &state,
            origin,
            crate::statement::NodeOrAll::Node(id),
        ));
    }
    script.push(ops::echo(format!("{label} is caught up")));
    builder.slonik(
        format!("Wait until {label} has caught up with {}", and_list(&origins.iter().map(|o| format!("node {o}")).collect::<Vec<_>>())),
        "A SYNC on each origin, confirmed by the new node: it then holds everything committed before this step, and can be read from, fail over to, or feed other nodes",
        script,
        None,
    )?;
    Ok(())
}
