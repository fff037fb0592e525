//! What a real cluster's Slony catalog must show after a plan: its next state.
#![allow(dead_code)]

use std::time::Duration;

use slonik_gen::Cluster;

use super::cluster::TestCluster;

/// Waits (up to 60 s) until the catalog of every node of `nodes` shows `next`: sets with
/// their origins, active subscriptions with their providers, nodes with their active flag.
/// Read independently of the plan's own last check. `at` gives the harness instance of a
/// Slony node (the identity where node N runs on instance N).
pub fn assert_matches(c: &TestCluster, nodes: &[u32], next: &Cluster, at: impl Fn(u32) -> u32) {
    let sets = next
        .sets
        .values()
        .map(|s| format!("{}|{}", s.id, s.origin))
        .collect::<Vec<_>>()
        .join("\n");
    let subscriptions = next
        .subscriptions
        .values()
        .map(|s| format!("{}|{}|{}|t", s.set, s.provider, s.receiver))
        .collect::<Vec<_>>()
        .join("\n");
    let node_list = next
        .nodes
        .values()
        .map(|n| format!("{}|{}", n.id, if n.failed { "f" } else { "t" }))
        .collect::<Vec<_>>()
        .join("\n");
    let schema = format!("_{}", next.name);
    let shows = |n: u32, sql: &str, want: &str| c.psql(at(n), sql).ok().as_deref() == Some(want);
    for &n in nodes {
        c.wait_until(
            &format!("the catalog on node {n} matches the plan's next state"),
            Duration::from_secs(60),
            || {
                shows(
                    n,
                    &format!("SELECT set_id, set_origin FROM {schema}.sl_set ORDER BY 1"),
                    &sets,
                ) && shows(
                    n,
                    &format!("SELECT sub_set, sub_provider, sub_receiver, sub_active FROM {schema}.sl_subscribe ORDER BY 1, 3"),
                    &subscriptions,
                ) && shows(
                    n,
                    &format!("SELECT no_id, no_active FROM {schema}.sl_node ORDER BY 1"),
                    &node_list,
                )
            },
        );
    }
}
