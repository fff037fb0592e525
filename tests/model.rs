//! The model: config round trip, stable ids, deterministic rendering, next states.

mod common;

use slonik_gen::model::{NodeId, SetId, TableId};
use slonik_gen::{load_config_str, load_config_str_for, ops, SlonyVersion};

#[test]
fn config_round_trips_through_the_model() {
    for fixture in common::valid_fixtures() {
        let cluster = load_config_str(&fixture.text, &fixture.path).unwrap_or_else(|e| panic!("{e}"));
        let written = cluster.to_toml();
        let again = load_config_str(&written, "written.toml").unwrap_or_else(|e| panic!("{e}\n{written}"));
        assert_eq!(
            cluster,
            again,
            "{} does not survive a round trip:\n{written}",
            fixture.path.display()
        );
        assert_eq!(written, again.to_toml());
    }
}

#[test]
fn rendering_twice_gives_the_same_bytes() {
    for fixture in common::valid_fixtures() {
        let a = load_config_str(&fixture.text, &fixture.path).unwrap();
        let b = load_config_str(&fixture.text, &fixture.path).unwrap();
        for line in &fixture.ops {
            let op = common::parse_op(line);
            let first = op.run(&a).map(|c| c.script.render());
            let second = op.run(&b).map(|c| c.script.render());
            assert_eq!(first, second, "{line}");
        }
    }
}

#[test]
fn table_ids_follow_file_order_and_do_not_move_when_tables_are_appended() {
    let base = std::fs::read_to_string("examples/geekdb.toml").unwrap();
    let cluster = load_config_str(&base, "geekdb.toml").unwrap();
    let ids = |c: &slonik_gen::Cluster| {
        c.sets[&SetId(1)]
            .tables
            .iter()
            .map(|t| (t.name.to_string(), t.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&cluster),
        vec![
            ("geekdb.files".to_string(), TableId(1)),
            ("geekdb.additional_roll".to_string(), TableId(2))
        ]
    );
    let appended = base.replace(
        r#"tables = ["files", "additional_roll"]"#,
        r#"tables = ["files", "additional_roll", "audit"]"#,
    );
    let grown = load_config_str(&appended, "geekdb.toml").unwrap();
    assert_eq!(ids(&grown)[..2], ids(&cluster)[..]);
    assert_eq!(ids(&grown)[2].1, TableId(3));
}

#[test]
fn implicit_ids_skip_explicit_ones_across_sets() {
    let cluster = load_config_str(
        &std::fs::read_to_string("tests/inputs/keyed.toml").unwrap(),
        "keyed.toml",
    )
    .unwrap();
    let set1: Vec<u32> = cluster.sets[&SetId(1)].tables.iter().map(|t| t.id.0).collect();
    let set2: Vec<u32> = cluster.sets[&SetId(2)].tables.iter().map(|t| t.id.0).collect();
    assert_eq!(set1, vec![10, 11, 50, 12]);
    assert_eq!(set2, vec![13, 14]);
    let seqs: Vec<u32> = cluster
        .sets
        .values()
        .flat_map(|s| s.sequences.iter().map(|q| q.id.0))
        .collect();
    assert_eq!(seqs, vec![3, 1, 2]);
}

fn cascade() -> slonik_gen::Cluster {
    load_config_str(
        &std::fs::read_to_string("tests/inputs/cascade.toml").unwrap(),
        "cascade.toml",
    )
    .unwrap()
}

#[test]
fn failover_next_state_moves_the_origin_and_repoints_cascades() {
    let next = ops::failover(&cascade(), &[(NodeId(1), NodeId(2))]).unwrap().next;
    let set = &next.sets[&SetId(1)];
    assert_eq!(set.origin, NodeId(2));
    assert!(next.nodes[&NodeId(1)].failed);
    assert!(
        !next.subscriptions.contains_key(&(SetId(1), NodeId(2))),
        "the new origin no longer subscribes"
    );
    assert_eq!(next.subscriptions[&(SetId(1), NodeId(3))].provider, NodeId(2));
    assert_eq!(next.default_origin, NodeId(2));
    // The next state is a valid config again: it reloads.
    load_config_str(&next.to_toml(), "next.toml").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn move_set_next_state_swaps_origin_and_subscriber() {
    let next = ops::move_set(&cascade(), SetId(1), NodeId(1), NodeId(2))
        .unwrap()
        .next;
    assert_eq!(next.sets[&SetId(1)].origin, NodeId(2));
    let old = next.subscriptions[&(SetId(1), NodeId(1))];
    assert_eq!((old.provider, old.forward), (NodeId(2), true));
    assert!(!next.subscriptions.contains_key(&(SetId(1), NodeId(2))));
    load_config_str(&next.to_toml(), "next.toml").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn subscribe_unsubscribe_drop_and_merge_update_the_state() {
    let multi = load_config_str(
        &std::fs::read_to_string("tests/inputs/multi_origin.toml").unwrap(),
        "m.toml",
    )
    .unwrap();
    let merged = ops::merge_sets(&multi, NodeId(1), SetId(1), SetId(2))
        .unwrap()
        .next;
    assert!(!merged.sets.contains_key(&SetId(2)));
    let names: Vec<String> = merged.sets[&SetId(1)]
        .tables
        .iter()
        .map(|t| t.name.name.clone())
        .collect();
    assert_eq!(names, ["users", "groups", "preferences"]);
    assert!(merged.subscribers(SetId(2)).next().is_none());

    let dropped = ops::drop_set(&multi, SetId(2)).unwrap().next;
    assert!(!dropped.sets.contains_key(&SetId(2)));

    let c = cascade();
    let unsub = ops::unsubscribe_set(&c, SetId(1), NodeId(4)).unwrap().next;
    assert!(!unsub.subscriptions.contains_key(&(SetId(1), NodeId(4))));
    let resub = ops::subscribe_set(&unsub, SetId(1), NodeId(4)).unwrap().next;
    assert_eq!(resub, c);
    let without4 = ops::drop_node(&unsub, NodeId(4), NodeId(1)).unwrap().next;
    assert!(!without4.nodes.contains_key(&NodeId(4)));
}

#[test]
fn operations_refuse_what_slony_would_reject() {
    let c = cascade();
    fn refused<T: std::fmt::Debug>(r: Result<T, ops::OpError>) -> String {
        r.expect_err("must be refused").to_string()
    }
    assert!(refused(ops::drop_node(&c, NodeId(2), NodeId(2))).contains("itself as event node"));
    assert!(refused(ops::drop_node(&c, NodeId(1), NodeId(2))).contains("origin of set 1"));
    assert!(refused(ops::drop_node(&c, NodeId(2), NodeId(1))).contains("receives set 1 from node 2"));
    assert!(refused(ops::move_set(&c, SetId(1), NodeId(2), NodeId(3)))
        .contains("FROM must be the current origin"));
    assert!(refused(ops::subscribe_set(&c, SetId(1), NodeId(1))).contains("origin"));
    assert!(refused(ops::failover(&c, &[(NodeId(1), NodeId(1))])).contains("its own backup"));
    assert!(refused(slonik_gen::resolve::node(&c, "node9")).contains("no node `node9`"));
    let old = load_config_str_for(
        &std::fs::read_to_string("tests/inputs/cascade.toml").unwrap(),
        "c",
        Some(SlonyVersion::V2_1),
    )
    .unwrap();
    assert!(refused(ops::failover(
        &old,
        &[(NodeId(1), NodeId(2)), (NodeId(3), NodeId(2))]
    ))
    .contains("needs Slony-I 2.2"));
}
