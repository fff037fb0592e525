//! Adding tables to a live set: Slony-I cannot add a table to a set that has subscribers,
//! so the tables go into a temporary set with the same subscribers, which is then merged.

use std::collections::BTreeSet;

use super::builder::Builder;
use super::catalog;
use super::plan::Plan;
use super::text::and_list;
use crate::model::config::TableEntry;
use crate::model::names::identifier_problem;
use crate::model::{
    Cluster, NodeId, QualifiedName, Sequence, SequenceId, Set, SetId, Subscription, Table, TableId,
};
use crate::ops::{self, inconsistent, known_set, refuse, OpError, Refusal};

/// `add-tables --set SET TABLE... [--sequence SEQ]...`: checks that the tables exist with a
/// primary key on every node that carries the set and that the new ids are free; creates a
/// temporary set with them (ids one past the highest table and sequence ids of all sets),
/// subscribes it along the same providers as SET, waits until every subscription is
/// active, and merges it into SET. The next state has the tables in SET.
///
/// The tables and sequences are new names (`schema.table` or `table`), not ids.
pub fn add_tables(
    cluster: &Cluster,
    set: SetId,
    tables: &[&str],
    sequences: &[&str],
) -> Result<Plan, OpError> {
    const OP: &str = "add-tables";
    let target_id = set;
    let target = known_set(cluster, target_id)?.clone();
    let origin = ops::live_origin(cluster, OP, &target)?;
    if tables.is_empty() && sequences.is_empty() {
        return Err(refuse(OP, Refusal::NothingToAdd));
    }
    let mut seen: BTreeSet<QualifiedName> = BTreeSet::new();
    let mut parse =
        |arg: &str, what: &'static str| -> Result<QualifiedName, OpError> {
            let entry = TableEntry::from_short(arg.trim());
            let name = QualifiedName::new(
                entry.schema.unwrap_or_else(|| target.default_schema.clone()),
                entry.name,
            );
            for part in [&name.schema, &name.name] {
                if let Some(reason) = identifier_problem(part) {
                    return Err(refuse(
                        OP,
                        Refusal::BadRelationName {
                            what,
                            arg: arg.to_string(),
                            part: part.clone(),
                            reason,
                        },
                    ));
                }
            }
            if let Some(owner) = cluster.sets.values().find(|s| {
                s.tables.iter().any(|t| t.name == name) || s.sequences.iter().any(|q| q.name == name)
            }) {
                return Err(refuse(
                    OP,
                    Refusal::AlreadyReplicated {
                        relation: name,
                        set: owner.id,
                        name: owner.name.clone(),
                    },
                ));
            }
            if !seen.insert(name.clone()) {
                return Err(refuse(OP, Refusal::NamedTwice { relation: name }));
            }
            Ok(name)
        };
    let table_names: Vec<QualifiedName> = tables
        .iter()
        .map(|t| parse(t, "table"))
        .collect::<Result<_, _>>()?;
    let sequence_names: Vec<QualifiedName> = sequences
        .iter()
        .map(|s| parse(s, "sequence"))
        .collect::<Result<_, _>>()?;

    let first_table = cluster
        .sets
        .values()
        .flat_map(|s| s.tables.iter().map(|t| t.id.0))
        .max()
        .unwrap_or(0)
        + 1;
    let first_sequence = cluster
        .sets
        .values()
        .flat_map(|s| s.sequences.iter().map(|q| q.id.0))
        .max()
        .unwrap_or(0)
        + 1;
    let new_tables: Vec<Table> = table_names
        .iter()
        .enumerate()
        .map(|(i, name)| Table {
            id: TableId(first_table + i as u32),
            name: name.clone(),
            key: None,
            comment: None,
        })
        .collect();
    let new_sequences: Vec<Sequence> = sequence_names
        .iter()
        .enumerate()
        .map(|(i, name)| Sequence {
            id: SequenceId(first_sequence + i as u32),
            name: name.clone(),
            comment: None,
        })
        .collect();
    let temp_id = SetId(cluster.sets.keys().map(|s| s.0).max().unwrap_or(0) + 1);
    let mut temp_name = format!("{}_add_{}", target.name, temp_id);
    while cluster.sets.values().any(|s| s.name == temp_name) {
        temp_name.push('_');
    }

    let names: Vec<String> = table_names
        .iter()
        .chain(&sequence_names)
        .map(ToString::to_string)
        .collect();
    let title = format!("Add {} to {}", and_list(&names), target.label());
    let mut builder = Builder::new(OP, title, cluster)?;

    let table_ids: Vec<u32> = new_tables.iter().map(|t| t.id.0).collect();
    let sequence_ids: Vec<u32> = new_sequences.iter().map(|s| s.id.0).collect();
    builder.check(
        format!("Check that set id {temp_id} is free"),
        format!("The new tables travel in a temporary set {temp_id}; the config knows no set with that id, and neither may the cluster"),
        origin,
        catalog::set_ids_taken(cluster, &[temp_id]),
        "0",
        0,
    );
    if !table_ids.is_empty() {
        builder.check(
            format!("Check that {} free", ids_phrase("table", &table_ids)),
            "Table ids are unique across all sets; slonik-gen takes the next ones after the highest in the config, and the cluster must not use them already",
            origin,
            catalog::table_ids_taken(cluster, &table_ids),
            "0",
            0,
        );
    }
    if !sequence_ids.is_empty() {
        builder.check(
            format!("Check that {} free", ids_phrase("sequence", &sequence_ids)),
            "Sequence ids are unique across all sets, like table ids",
            origin,
            catalog::sequence_ids_taken(cluster, &sequence_ids),
            "0",
            0,
        );
    }
    let carriers: Vec<NodeId> = std::iter::once(origin)
        .chain(cluster.subscribers(target_id).map(|s| s.receiver))
        .collect();
    let table_specs: Vec<(String, String, Option<String>)> = table_names
        .iter()
        .map(|n| (n.schema.clone(), n.name.clone(), None))
        .collect();
    let sequence_specs: Vec<(String, String)> = sequence_names
        .iter()
        .map(|n| (n.schema.clone(), n.name.clone()))
        .collect();
    for &node in &carriers {
        let label = ops::referenced_node(cluster, OP, node, || {
            format!("a node that carries set {target_id}")
        })?
        .label();
        if !table_specs.is_empty() {
            builder.check(
                format!("Check that the new tables exist with a primary key on {label}"),
                "Slony-I replicates only into tables that already exist on every node that carries the set, and needs a primary key to identify rows; create them (the same DDL on every node) before running this runbook",
                node,
                catalog::tables_ready(&table_specs),
                table_specs.len().to_string(),
                0,
            );
        }
        if !sequence_specs.is_empty() {
            builder.check(
                format!("Check that the new sequences exist on {label}"),
                "Slony-I replicates only into sequences that already exist on every node that carries the set",
                node,
                catalog::sequences_ready(&sequence_specs),
                sequence_specs.len().to_string(),
                0,
            );
        }
    }

    let with_temp = crate::transition::add_set(
        builder.state(),
        Set {
            id: temp_id,
            name: temp_name.clone(),
            origin,
            comment: Some(format!(
                "slonik-gen add-tables: new tables for {}, merged into it when subscribed",
                target.label()
            )),
            default_schema: target.default_schema.clone(),
            tables: new_tables.clone().into(),
            sequences: new_sequences.clone().into(),
        },
    )
    .map_err(inconsistent(OP))?;
    builder.set_state(with_temp);
    let created = ops::create_set(builder.state(), temp_id)?;
    builder.change(
        format!("Create the temporary set {temp_id} ({temp_name}) with the new tables"),
        format!("Slony-I adds tables only to a set nobody subscribes to yet; {} has subscribers, so the tables go into a new set first. If a table is missing the script drops the set again, leaving nothing half-created", target.label()),
        created,
    )?;

    for sub in providers_first(cluster, target_id, origin) {
        let subscribed =
            ops::subscribe_set_via(builder.state(), temp_id, sub.receiver, sub.provider, sub.forward)?;
        builder.change(
            format!("Subscribe node {} to the temporary set from node {}", sub.receiver, sub.provider),
            format!("`merge set` needs both sets to have exactly the same subscribers; node {} receives {} from node {}, so it receives the new tables the same way", sub.receiver, target.label(), sub.provider),
            subscribed,
        )?;
        let state = builder.state().clone();
        builder.check(
            format!("Check that the subscription of node {} to the temporary set is active", sub.receiver),
            "Merging while a subscription is still copying fails; sub_active turns true once the copy is done",
            sub.receiver,
            catalog::active_subscriptions(&state, &[temp_id], sub.receiver, Some(sub.provider)),
            "1",
            state.wait_timeout,
        );
    }

    let merged = ops::merge_sets(builder.state(), origin, target_id, temp_id)?;
    builder.change(
        format!("Merge the temporary set into {}", target.label()),
        "One set again, as the config describes it; the new tables keep the ids they were given",
        merged,
    )?;
    if !table_ids.is_empty() {
        let state = builder.state().clone();
        builder.check(
            format!("Check that the new tables belong to {}", target.label()),
            "Proves the merge happened (the temporary set is gone)",
            origin,
            catalog::tables_in_set(&state, target_id, &table_ids),
            table_ids.len().to_string(),
            state.wait_timeout,
        );
    }
    builder.finish()
}

/// The subscriptions of `set`, every provider before the nodes it feeds.
fn providers_first(cluster: &Cluster, set: SetId, origin: NodeId) -> Vec<Subscription> {
    let mut remaining: Vec<Subscription> = cluster.subscribers(set).copied().collect();
    let mut placed: Vec<NodeId> = vec![origin];
    let mut ordered = Vec::new();
    while !remaining.is_empty() {
        let (ready, rest): (Vec<Subscription>, Vec<Subscription>) =
            remaining.into_iter().partition(|s| placed.contains(&s.provider));
        if ready.is_empty() {
            // Validation rules out provider cycles; keep the rest in id order regardless.
            ordered.extend(rest);
            break;
        }
        placed.extend(ready.iter().map(|s| s.receiver));
        ordered.extend(ready);
        remaining = rest;
    }
    ordered
}

/// `table id 3 is` / `table ids 3 and 4 are`
fn ids_phrase(what: &str, ids: &[u32]) -> String {
    if ids.len() == 1 {
        format!("{what} id {} is", ids[0])
    } else {
        format!("{what} ids {} are", and_list(ids))
    }
}
