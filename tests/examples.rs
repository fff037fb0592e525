//! The runnable examples do what their docs say. The example's own functions are compiled
//! in here, so the test checks the code `cargo run --example cascade` runs, without
//! depending on cargo having built the example binary first.

mod common;

#[path = "../examples/cascade.rs"]
#[allow(dead_code)] // its `main` runs only as the example
mod cascade;

use slonik_gen::model::{NodeId, SetId};

fn printed(life: &[(&str, slonik_gen::ops::Change)]) -> String {
    let mut out = Vec::new();
    cascade::write(life, &mut out).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn the_cascade_example_prints_its_operations_in_order() {
    let life = cascade::cascade().unwrap_or_else(|e| panic!("{e}"));
    let text = printed(&life);

    let headers: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("# --- ")).collect();
    let operations: Vec<&str> = life.iter().map(|(operation, _)| *operation).collect();
    assert_eq!(headers, operations);
    assert!(text.ends_with(";\n") && !text.ends_with("\n\n"), "{text}");

    let mut rest = text.as_str();
    for statement in [
        "init cluster (id = 1",
        "create set (id = 1, origin = 1",
        "subscribe set (id = 1, provider = 1, receiver = 2, forward = yes)",
        "subscribe set (id = 1, provider = 2, receiver = 3, forward = no)",
        "move set (id = 1, old origin = 1, new origin = 2)",
        "failover (id = 2, backup node = 1)",
    ] {
        let at = rest
            .find(statement)
            .unwrap_or_else(|| panic!("`{statement}` missing or out of order in:\n{text}"));
        rest = &rest[at + statement.len()..];
    }
}

#[test]
fn the_cascade_example_ends_with_node_1_the_origin_again() {
    let life = cascade::cascade().unwrap_or_else(|e| panic!("{e}"));
    let (_, failover) = life.last().expect("operations");
    let end = &failover.next;
    assert_eq!(end.sets[&SetId(1)].origin, NodeId(1));
    assert!(end.nodes[&NodeId(2)].failed);
    // Slony-I hands the dead node's subscribers to the backup.
    assert_eq!(end.subscriptions[&(SetId(1), NodeId(3))].provider, NodeId(1));
    // slonik would try to reach the dead node and stop.
    assert!(failover.script.admin.iter().all(|(node, _)| *node != NodeId(2)));
}

#[test]
fn every_script_of_the_cascade_example_passes_the_real_slonik() {
    let Some(slonik) = common::slonik_or_skip("every_script_of_the_cascade_example_passes_the_real_slonik")
    else {
        return;
    };
    let scripts: Vec<(String, String)> = cascade::cascade()
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|(operation, change)| (operation.to_string(), change.script.render().expect("renders")))
        .collect();
    common::offline::assert_accepted(&slonik, &scripts);
}
