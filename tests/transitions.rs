//! The next state has one owner (`slonik_gen::transition`): a single operation and the
//! runbook doing the same thing reach the same state; and no cluster a caller can build
//! through `Cluster`'s public fields makes an operation or a runbook panic.

use slonik_gen::model::{Cluster, NodeId, SequenceId, SetId, Subscription, TableId};
use slonik_gen::ops::{self, Ddl, OpError, Operation, Refusal};
use slonik_gen::runbook::{self, Format, Prepare, Request};
use slonik_gen::{load_config_str, resolve};

fn fixture(name: &str) -> Cluster {
    let path = format!("tests/inputs/{name}.toml");
    load_config_str(&std::fs::read_to_string(&path).unwrap(), &path).unwrap_or_else(|e| panic!("{e}"))
}

/// Node 1 is the origin of set 1 and the default origin; 2 and 3 subscribe directly.
fn three() -> Cluster {
    load_config_str(
        "cluster = \"c\"\n\
         [[node]]\nid = 1\n[[node]]\nid = 2\n[[node]]\nid = 3\n\
         [[set]]\nid = 1\nname = \"s\"\ntables = [\"t\"]\nsequences = [\"q\"]\n\
         [[subscription]]\nset = 1\nreceiver = 2\nforward = true\n\
         [[subscription]]\nset = 1\nreceiver = 3\n",
        "three.toml",
    )
    .unwrap()
}

/// Node 1 is the origin of set 1 and the default origin; node 2 subscribes.
fn two() -> Cluster {
    load_config_str(
        "cluster = \"c\"\n[[node]]\nid = 1\n[[node]]\nid = 2\n\
         [[set]]\nid = 1\nname = \"s\"\ntables = [\"t\"]\n\
         [[subscription]]\nset = 1\nreceiver = 2\n",
        "two.toml",
    )
    .unwrap()
}

#[test]
fn move_set_and_the_switchover_runbook_reach_the_same_state() {
    let mut compared = 0;
    for cluster in [two(), three(), fixture("cascade"), fixture("multi_origin")] {
        let set = SetId(1);
        let origin = cluster.sets[&set].origin;
        let target = cluster
            .subscribers(set)
            .find(|s| s.provider == origin)
            .map(|s| s.receiver)
            .expect("a direct subscriber");
        let single = ops::move_set(&cluster, set, origin, target).unwrap().next;
        let plan = runbook::switchover(&cluster, &[set], target).unwrap();
        let only_set = !cluster.sets.values().any(|s| s.id != set && s.origin == origin);
        if only_set && cluster.default_origin == origin {
            assert_eq!(
                single.default_origin, target,
                "the default origin follows the only set"
            );
        }
        // The runbook also re-points subscribers to their configured provider afterwards,
        // through the same transition; where nothing needs re-pointing the states agree.
        let repointed = plan
            .steps
            .iter()
            .any(|s| s.title.starts_with("Re-point subscribers"));
        if !repointed {
            assert_eq!(plan.next, single);
            compared += 1;
        } else {
            assert_eq!(plan.next.default_origin, single.default_origin);
            assert_eq!(plan.next.sets, single.sets);
        }
    }
    assert!(compared > 0, "no cluster compared the whole state");
}

#[test]
fn move_set_keeps_the_default_origin_while_the_old_origin_has_other_sets() {
    let cluster = fixture("multi_origin");
    for set in cluster.sets.values() {
        let Some(target) = cluster
            .subscribers(set.id)
            .find(|s| s.provider == set.origin)
            .map(|s| s.receiver)
        else {
            continue;
        };
        let next = ops::move_set(&cluster, set.id, set.origin, target).unwrap().next;
        let still_origin = next.sets.values().any(|s| s.origin == cluster.default_origin);
        if still_origin {
            assert_eq!(next.default_origin, cluster.default_origin);
        } else {
            assert_eq!(next.default_origin, target);
        }
        let plan = runbook::switchover(&cluster, &[set.id], target).unwrap();
        assert_eq!(plan.next.default_origin, next.default_origin);
    }
}

#[test]
fn failover_and_the_failover_runbook_reach_the_same_state() {
    for cluster in [three(), fixture("cascade"), fixture("multi_origin")] {
        let dead = cluster.sets[&SetId(1)].origin;
        let backup = cluster
            .subscribers(SetId(1))
            .find(|s| s.provider == dead && s.forward)
            .map(|s| s.receiver)
            .expect("a forwarding direct subscriber");
        let Ok(single) = ops::failover(&cluster, &[(dead, backup)]) else {
            continue; // multi_origin: the dead node's other sets have no such backup
        };
        let single = single.next;
        let plan = runbook::failover(&cluster, &[dead], backup, false).unwrap();
        assert_eq!(plan.next, single);
    }
}

/// Node 1 is the origin; node 2 receives from it; node 3 and node 4 are configured to
/// receive through node 1 and node 2.
fn wishes() -> Cluster {
    load_config_str(
        "cluster = \"c\"\n\
         [[node]]\nid = 1\n[[node]]\nid = 2\nprovider = 1\n[[node]]\nid = 3\nprovider = 1\n\
         [[node]]\nid = 4\nprovider = 2\n\
         [[set]]\nid = 1\nname = \"s\"\ntables = [\"t\"]\n\
         [[subscription]]\nset = 1\nreceiver = 2\n[[subscription]]\nset = 1\nreceiver = 3\n\
         [[subscription]]\nset = 1\nreceiver = 4\n",
        "wishes.toml",
    )
    .unwrap()
}

#[test]
fn failover_re_points_subscriptions_and_keeps_every_nodes_provider() {
    let cluster = wishes();
    let next = slonik_gen::transition::fail_over(&cluster, &[(NodeId(1), NodeId(2))]).unwrap();
    let provider = |n: u32| next.subscriptions[&(SetId(1), NodeId(n))].provider;
    assert_eq!((provider(3), provider(4)), (NodeId(2), NodeId(2)));
    for (id, node) in &cluster.nodes {
        assert_eq!(next.nodes[id].provider, node.provider, "node {id}");
    }
    // The state loads back from its config: a provider may name the failed node.
    let text = next.to_toml();
    assert_eq!(load_config_str(&text, "next.toml").unwrap(), next, "{text}");
}

#[test]
fn a_node_dropped_after_a_failover_is_kept_and_taken_back() {
    let cluster = wishes();
    let failed = slonik_gen::transition::fail_over(&cluster, &[(NodeId(1), NodeId(2))]).unwrap();
    let dropped = slonik_gen::transition::drop_node_kept(&failed, NodeId(1), NodeId(2)).unwrap();
    assert!(!dropped.nodes.contains_key(&NodeId(1)));
    assert!(!dropped.dropped_nodes[&NodeId(1)].failed);
    assert_eq!(dropped.nodes[&NodeId(3)].provider, Some(NodeId(1)));
    assert_eq!(dropped.default_origin, NodeId(2));
    let text = dropped.to_toml();
    assert!(text.contains("dropped = true"), "{text}");
    assert_eq!(load_config_str(&text, "dropped.toml").unwrap(), dropped, "{text}");
    let back = slonik_gen::transition::add_node(&dropped, cluster.nodes[&NodeId(1)].clone()).unwrap();
    assert!(back.dropped_nodes.is_empty());
    assert_eq!(back.nodes[&NodeId(1)], cluster.nodes[&NodeId(1)]);
    // The single drop-node forgets the node, and the providers that named it.
    let forgotten = slonik_gen::transition::drop_node(&failed, NodeId(1), NodeId(2)).unwrap();
    assert!(forgotten.dropped_nodes.is_empty());
    assert_eq!(forgotten.nodes[&NodeId(3)].provider, None);
}

#[test]
fn a_re_subscription_does_not_wait_for_an_initial_copy() {
    let cluster = wishes();
    let fresh = ops::subscribe_set_via(&cluster, SetId(1), NodeId(4), NodeId(1), true).unwrap();
    let text = fresh.script.render().unwrap();
    assert!(!text.contains("initial copy"), "{text}");
    assert!(text.contains("instead of node 2 (no new copy)"), "{text}");
    let mut unsubscribed = cluster.clone();
    unsubscribed.subscriptions.remove(&(SetId(1), NodeId(4)));
    let first = ops::subscribe_set(&unsubscribed, SetId(1), NodeId(4)).unwrap();
    assert!(first
        .script
        .render()
        .unwrap()
        .contains("waiting for the initial copy"));
}

#[test]
fn words_resolve_once_to_the_same_operation() {
    let cluster = fixture("cascade");
    let words = resolve::OperationArgs::MoveSet {
        set: "accounts".into(),
        from: "node1".into(),
        to: " 2".into(),
    };
    assert_eq!(
        words.resolve(&cluster).unwrap(),
        Operation::MoveSet {
            set: SetId(1),
            from: NodeId(1),
            to: NodeId(2),
        }
    );
    // An id the cluster does not have is refused by the typed operation as by the resolver.
    let typed = ops::create_set(&cluster, SetId(9)).unwrap_err();
    let worded = resolve::set(&cluster, "9").unwrap_err();
    assert_eq!(typed, worded);
    let typed = ops::restart_nodes(&cluster, &[NodeId(9)]).unwrap_err();
    assert_eq!(typed, resolve::node(&cluster, "9").unwrap_err());
}

#[test]
fn refusals_can_be_matched() {
    let cluster = three();
    let error = ops::move_set(&cluster, SetId(1), NodeId(2), NodeId(3)).unwrap_err();
    assert_eq!(
        error.refusal(),
        Some(&Refusal::NotTheOrigin {
            set: SetId(1),
            name: "s".into(),
            node: NodeId(2),
            origin: NodeId(1),
        })
    );
    assert_eq!(
        error.to_string(),
        "move-set: the origin of set 1 (s) is node 1, not node 2: FROM must be the current origin"
    );
    let failed = ops::failover(&cluster, &[(NodeId(1), NodeId(2))]).unwrap().next;
    let error = ops::store_node(&failed, NodeId(1), None).unwrap_err();
    assert!(matches!(
        error.refusal(),
        Some(Refusal::NodeFailed { node: NodeId(1) })
    ));
    assert!(matches!(
        error,
        OpError::Refusal {
            operation: "store-node",
            ..
        }
    ));
}

/// Clusters no config validates to, built by editing the public fields.
fn inconsistent_clusters() -> Vec<(&'static str, Cluster)> {
    let mut clusters = Vec::new();
    for base in [three(), fixture("cascade")] {
        let mut c = base.clone();
        c.sets.get_mut(&SetId(1)).unwrap().origin = NodeId(99);
        clusters.push(("set origin not a node", c));

        let mut c = base.clone();
        c.subscriptions.insert(
            (SetId(77), NodeId(2)),
            Subscription {
                set: SetId(77),
                receiver: NodeId(2),
                provider: NodeId(1),
                forward: true,
            },
        );
        clusters.push(("subscription of an unknown set", c));

        let mut c = base.clone();
        c.subscriptions.insert(
            (SetId(1), NodeId(88)),
            Subscription {
                set: SetId(1),
                receiver: NodeId(88),
                provider: NodeId(1),
                forward: true,
            },
        );
        clusters.push(("subscription of an unknown receiver", c));

        let mut c = base.clone();
        for sub in c.subscriptions.values_mut() {
            sub.provider = NodeId(99);
        }
        clusters.push(("provider not a node", c));

        let mut c = base.clone();
        c.default_origin = NodeId(99);
        clusters.push(("default origin missing", c));

        let mut c = base.clone();
        let origin = c.sets[&SetId(1)].origin;
        c.nodes.get_mut(&origin).unwrap().failed = true;
        clusters.push(("failed origin", c));

        let mut c = base.clone();
        c.nodes.remove(&NodeId(2));
        clusters.push(("a subscriber removed from the nodes", c));

        let mut c = base.clone();
        let origin = c.sets[&SetId(1)].origin;
        c.nodes.remove(&origin);
        clusters.push(("the origin removed from the nodes", c));

        let mut c = base.clone();
        for node in c.nodes.values_mut() {
            node.provider = Some(NodeId(99));
        }
        clusters.push(("node provider not a node", c));

        let mut c = base.clone();
        let node = c.nodes[&NodeId(2)].clone();
        c.dropped_nodes.insert(NodeId(2), node);
        clusters.push(("a node both member and dropped", c));

        let mut c = base.clone();
        if let Some(node) = c.nodes.remove(&NodeId(2)) {
            c.dropped_nodes.insert(NodeId(2), node);
        }
        clusters.push(("a subscriber among the dropped nodes", c));

        let mut c = base;
        c.sets.clear();
        clusters.push(("no set", c));
    }
    clusters
}

fn every_operation(cluster: &Cluster) -> Vec<Operation> {
    let mut nodes: Vec<NodeId> = cluster.nodes.keys().copied().collect();
    nodes.extend([NodeId(88), NodeId(99)]);
    let mut sets: Vec<SetId> = cluster.sets.keys().copied().collect();
    sets.push(SetId(77));
    let mut ops = vec![
        Operation::PrintPreamble,
        Operation::InitCluster,
        Operation::UninstallNodes,
        Operation::UpdateNodes,
        Operation::RestartNodes { nodes: Vec::new() },
        Operation::RestartNodes { nodes: nodes.clone() },
        Operation::Failover { pairs: Vec::new() },
    ];
    for &a in &nodes {
        ops.push(Operation::StoreNode {
            node: a,
            event_node: None,
        });
        ops.push(Operation::UninstallNode { node: a });
        for &b in &nodes {
            ops.push(Operation::StoreNode {
                node: a,
                event_node: Some(b),
            });
            ops.push(Operation::DropNode {
                node: a,
                event_node: b,
            });
            ops.push(Operation::Failover { pairs: vec![(a, b)] });
            ops.push(Operation::DropNodes {
                nodes: vec![a, b],
                event_node: b,
            });
            ops.push(Operation::Resubscribe {
                node: a,
                provider: b,
                sets: Vec::new(),
            });
            ops.push(Operation::Resubscribe {
                node: a,
                provider: b,
                sets: sets.clone(),
            });
            for &set in &sets {
                ops.push(Operation::MoveSet { set, from: a, to: b });
                ops.push(Operation::RepairConfig {
                    set,
                    event_node: Some(a),
                    only_on: Some(b),
                });
            }
        }
    }
    for &set in &sets {
        ops.push(Operation::CreateSet { set });
        ops.push(Operation::RepairConfig {
            set,
            event_node: None,
            only_on: None,
        });
        ops.push(Operation::DropSet { set });
        ops.push(Operation::DropTable {
            table_id: TableId(1),
            set,
        });
        ops.push(Operation::DropSequence {
            sequence_id: SequenceId(1),
            set,
        });
        for &node in &nodes {
            ops.push(Operation::SubscribeSet {
                set,
                node,
                omit_copy: false,
            });
            ops.push(Operation::SubscribeSet {
                set,
                node,
                omit_copy: true,
            });
            ops.push(Operation::UnsubscribeSet { set, node });
            ops.push(Operation::ExecuteScript {
                set,
                ddl: Ddl::Sql("select 1;".into()),
                node: Some(node),
                only_on: vec![node],
            });
            for &source in &sets {
                ops.push(Operation::MergeSets {
                    node,
                    target: set,
                    source,
                });
            }
        }
        ops.push(Operation::ExecuteScript {
            set,
            ddl: Ddl::File("x.sql".into()),
            node: None,
            only_on: Vec::new(),
        });
    }
    ops
}

fn every_request(cluster: &Cluster) -> Vec<Request> {
    let mut words: Vec<String> = cluster.nodes.keys().map(|n| n.to_string()).collect();
    words.extend(["88".into(), "99".into()]);
    let mut set_words: Vec<String> = cluster.sets.keys().map(|s| s.to_string()).collect();
    set_words.push("77".into());
    let mut requests = Vec::new();
    for node in &words {
        requests.push(Request::Switchover {
            sets: Vec::new(),
            from: Some(node.clone()),
            to: node.clone(),
        });
        for other in &words {
            requests.push(Request::Switchover {
                sets: Vec::new(),
                from: Some(node.clone()),
                to: other.clone(),
            });
            for drop_dead in [false, true] {
                requests.push(Request::Failover {
                    dead: vec![node.clone()],
                    backup: other.clone(),
                    drop_dead,
                });
            }
        }
        for prepare in [Prepare::DropSchema, Prepare::Recreate] {
            requests.push(Request::RebuildNode {
                node: node.clone(),
                sets: Vec::new(),
                prepare,
            });
            requests.push(Request::Failback {
                node: node.clone(),
                sets: Vec::new(),
                prepare,
            });
        }
        for set in &set_words {
            requests.push(Request::Switchover {
                sets: vec![set.clone()],
                from: None,
                to: node.clone(),
            });
            requests.push(Request::Failback {
                node: node.clone(),
                sets: vec![set.clone()],
                prepare: Prepare::DropSchema,
            });
        }
    }
    for set in &set_words {
        requests.push(Request::AddTables {
            set: set.clone(),
            tables: vec!["new_table".into()],
            sequences: vec!["new_seq".into()],
        });
    }
    requests
}

#[test]
fn no_operation_or_runbook_panics_on_an_inconsistent_cluster() {
    for (what, cluster) in inconsistent_clusters() {
        for op in every_operation(&cluster) {
            // Err or Ok, never a panic; what renders must render without one too.
            if let Ok(change) = op.run(&cluster) {
                let _ = change.script.render();
            }
        }
        for request in every_request(&cluster) {
            if let Ok(plan) = request.run(&cluster) {
                for format in [Format::Markdown, Format::Shell, Format::Json] {
                    let _ = plan.render(format);
                }
            }
        }
        let error = runbook::failover(&cluster, &[NodeId(1)], NodeId(2), false);
        if what == "default origin missing" {
            assert!(
                matches!(error, Err(OpError::Inconsistent { .. })),
                "{what}: {error:?}"
            );
        }
    }
}
