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

/// `load(compact(c)) == c`, inline and with every list in a file beside the config.
#[test]
fn compact_config_reloads_to_the_same_cluster() {
    use slonik_gen::config_writer::{compact, Lists};
    for fixture in common::valid_fixtures() {
        let cluster = load_config_str(&fixture.text, &fixture.path).unwrap_or_else(|e| panic!("{e}"));
        let path = std::path::Path::new("/nonexistent/written.toml");
        for lists in [
            Lists::Inline,
            Lists::Beside {
                config: path,
                min_entries: 1,
            },
        ] {
            let written = compact(&cluster, lists);
            let again = written
                .load(path, None)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", fixture.path.display(), written.text));
            assert_eq!(cluster, again, "{}:\n{}", fixture.path.display(), written.text);
            // One line per table: no `[[set.tables]]` in anything written anew.
            assert!(!written.text.contains("[[set.tables]]"), "{}", written.text);
        }
    }
}

/// `load(edit(text, next)) == next` for the next state of every operation of every fixture,
/// and the edit keeps the file's comments.
#[test]
fn every_next_state_is_written_into_the_users_file() {
    let mut edited = 0;
    for fixture in common::valid_fixtures() {
        let cluster = load_config_str(&fixture.text, &fixture.path).unwrap();
        let comments: Vec<&str> = fixture
            .text
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .collect();
        for line in &fixture.ops {
            let Ok(change) = common::parse_op(line).run(&cluster) else {
                continue;
            };
            let text = slonik_gen::config_writer::edit(&fixture.text, &fixture.path, &change.next)
                .unwrap_or_else(|e| panic!("{} `{line}`: {e}", fixture.path.display()));
            let again = load_config_str(&text, &fixture.path)
                .unwrap_or_else(|e| panic!("{} `{line}`: {e}\n{text}", fixture.path.display()));
            assert_eq!(again, change.next, "{} `{line}`:\n{text}", fixture.path.display());
            if change.next == cluster {
                assert_eq!(
                    text,
                    fixture.text,
                    "{} `{line}` changes no state",
                    fixture.path.display()
                );
            }
            for comment in &comments {
                if !text.contains(comment) {
                    // A comment may only go with the table of a node, set or subscription
                    // the operation removed.
                    assert!(
                        change.next.nodes.len() < cluster.nodes.len()
                            || change.next.sets.len() < cluster.sets.len()
                            || change.next.subscriptions.len() < cluster.subscriptions.len()
                            || change
                                .next
                                .sets
                                .values()
                                .map(|s| s.tables.len() + s.sequences.len())
                                .sum::<usize>()
                                < cluster
                                    .sets
                                    .values()
                                    .map(|s| s.tables.len() + s.sequences.len())
                                    .sum::<usize>(),
                        "{} `{line}` lost the comment {comment:?}:\n{text}",
                        fixture.path.display()
                    );
                }
            }
            edited += 1;
        }
    }
    assert!(edited > 50, "only {edited} operations were edited in");
}

const TWO_SETS: &str = r#"# two sets whose ids both come from the allocator
cluster = "c"

[[node]]
id = 1
host = "a"  # the origin

[[node]]
id = 2
host = "b"

[[set]]
id = 1
tables = [
    "s.a",  # id 1
    "s.b",  # id 2
    "s.c",  # id 3
]

[[set]]
id = 2
tables = ["s.d", "s.e"]  # ids 4 and 5, after set 1's
sequences = ["s.q"]

[[subscription]]
set = 1
receiver = 2
"#;

fn two_sets() -> slonik_gen::Cluster {
    load_config_str(TWO_SETS, "two.toml").unwrap()
}

fn edited(next: &slonik_gen::Cluster) -> String {
    let text = slonik_gen::config_writer::edit(TWO_SETS, std::path::Path::new("two.toml"), next)
        .unwrap_or_else(|e| panic!("{e}"));
    let again = load_config_str(&text, "two.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(&again, next, "{text}");
    assert!(text.starts_with("# two sets"), "{text}");
    text
}

#[test]
fn dropping_an_allocated_table_keeps_every_later_id() {
    let next = ops::drop_table(&two_sets(), TableId(2), SetId(1)).unwrap().next;
    let text = edited(&next);
    assert!(!text.contains("\"s.b\""), "{text}");
    assert!(
        text.contains("\"s.a\",  # id 1"),
        "comments stay on their line: {text}"
    );
    assert!(text.contains("id = 3 },  # id 3"), "{text}");
    assert!(
        !text.contains("# id 2"),
        "the dropped line's comment goes with it: {text}"
    );
    assert!(
        text.contains("first_table_id = 4"),
        "set 2's ids move back: {text}"
    );
    assert!(
        text.contains("tables = [\"s.d\", \"s.e\"]  # ids 4 and 5"),
        "{text}"
    );
    assert_eq!(next.sets[&SetId(2)].tables[0].id, TableId(4));
}

#[test]
fn nodes_and_sets_can_be_added_and_dropped() {
    let mut next = two_sets();
    let mut node = next.nodes[&NodeId(2)].clone();
    node.id = NodeId(3);
    node.admin.host = Some("c".into());
    next.nodes.insert(NodeId(3), node);
    let mut set = next.sets[&SetId(2)].clone();
    set.id = SetId(9);
    set.name = "set9".into();
    let tables = std::sync::Arc::make_mut(&mut set.tables);
    for (i, t) in tables.iter_mut().enumerate() {
        t.id = TableId(40 + i as u32);
        t.name.name = format!("nine{i}");
    }
    set.sequences = std::sync::Arc::new(Vec::new());
    next.sets.insert(SetId(9), set);
    let text = edited(&next);
    assert!(text.contains("id = 3"), "{text}");
    let without = {
        let mut n = next.clone();
        n.sets.remove(&SetId(1));
        n.subscriptions.clear();
        n.nodes.remove(&NodeId(2));
        n
    };
    let _ = edited(&without);
}

#[test]
fn merged_sets_are_written() {
    let base = two_sets();
    let mut cluster = base.clone();
    cluster.subscriptions.insert(
        (SetId(2), NodeId(2)),
        slonik_gen::model::Subscription {
            set: SetId(2),
            receiver: NodeId(2),
            provider: NodeId(1),
            forward: true,
        },
    );
    let text = slonik_gen::config_writer::edit(TWO_SETS, std::path::Path::new("two.toml"), &cluster).unwrap();
    let cluster = load_config_str(&text, "two.toml").unwrap();
    let merged = ops::merge_sets(&cluster, NodeId(1), SetId(1), SetId(2))
        .unwrap()
        .next;
    let again = slonik_gen::config_writer::edit(&text, std::path::Path::new("two.toml"), &merged).unwrap();
    assert_eq!(load_config_str(&again, "two.toml").unwrap(), merged, "{again}");
}

#[test]
fn a_list_file_entry_dropped_writes_the_list_inline_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("set1.tables"), "s.a\ns.b\ns.c\n").unwrap();
    let text = TWO_SETS.replace(
        "tables = [\n    \"s.a\",  # id 1\n    \"s.b\",  # id 2\n    \"s.c\",  # id 3\n]",
        "tables_file = \"set1.tables\"",
    );
    assert_ne!(text, TWO_SETS);
    let path = dir.path().join("two.toml");
    let cluster = load_config_str(&text, &path).unwrap();
    assert_eq!(cluster, two_sets());
    let next = ops::drop_table(&cluster, TableId(2), SetId(1)).unwrap().next;
    let after = slonik_gen::config_writer::edit(&text, &path, &next).unwrap();
    assert!(!after.contains("tables_file"), "{after}");
    assert_eq!(load_config_str(&after, &path).unwrap(), next, "{after}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("set1.tables")).unwrap(),
        "s.a\ns.b\ns.c\n"
    );
    // Appending keeps the file.
    let mut more = cluster.clone();
    let set = more.sets.get_mut(&SetId(1)).unwrap();
    let mut extra = set.tables[0].clone();
    extra.id = TableId(6);
    extra.name.name = "z".into();
    std::sync::Arc::make_mut(&mut set.tables).push(extra);
    let after = slonik_gen::config_writer::edit(&text, &path, &more).unwrap();
    assert!(after.contains("tables_file = \"set1.tables\""), "{after}");
    assert_eq!(load_config_str(&after, &path).unwrap(), more, "{after}");
}
