//! The `[[subscription]]` entries and the provider graph they form.

use std::collections::{BTreeMap, BTreeSet};

use super::nodes::check_node_ref;
use super::Problem;
use crate::model::config::{ConfigFile, SetRef};
use crate::model::ids::{NodeId, SetId};
use crate::model::{Cluster, Node, Set, Subscription};

fn find_set(sets: &BTreeMap<SetId, Set>, set: &SetRef) -> Option<SetId> {
    match set {
        SetRef::Id(id) => sets.contains_key(&SetId(*id)).then_some(SetId(*id)),
        SetRef::Name(name) => sets.values().find(|s| &s.name == name).map(|s| s.id).or_else(|| {
            let id: u32 = name.strip_prefix("set")?.parse().ok()?;
            sets.contains_key(&SetId(id)).then_some(SetId(id))
        }),
    }
}

pub(super) fn build_subscriptions(
    config: &ConfigFile,
    nodes: &BTreeMap<NodeId, Node>,
    sets: &BTreeMap<SetId, Set>,
    p: &mut Vec<Problem>,
) -> BTreeMap<(SetId, NodeId), Subscription> {
    let mut subscriptions = BTreeMap::new();
    for sub in &config.subscriptions {
        let Some(set_id) = find_set(sets, &sub.set) else {
            p.push(Problem::UnknownSet {
                item: format!("subscription of node {}", sub.receiver),
                set: sub.set.to_string(),
            });
            continue;
        };
        let set = &sets[&set_id];
        let item = format!("{} subscription of node {}", set.label(), sub.receiver);
        check_node_ref(nodes, &item, sub.receiver, p);
        let Some(receiver) = nodes.get(&sub.receiver) else {
            continue;
        };
        let provider = sub.provider.or(receiver.provider).unwrap_or(set.origin);
        check_node_ref(nodes, &format!("{item} provider"), provider, p);
        if sub.receiver == set.origin {
            p.push(Problem::OriginSubscribes {
                set_label: set.label(),
                node: sub.receiver,
            });
            continue;
        }
        if provider == sub.receiver {
            p.push(Problem::SelfProvider {
                set_label: set.label(),
                receiver: sub.receiver,
            });
            continue;
        }
        let subscription = Subscription {
            set: set_id,
            receiver: sub.receiver,
            provider,
            forward: sub.forward.unwrap_or(receiver.forward),
        };
        if subscriptions
            .insert((set_id, sub.receiver), subscription)
            .is_some()
        {
            p.push(Problem::DuplicateSubscription {
                set_label: set.label(),
                receiver: sub.receiver,
            });
        }
    }
    subscriptions
}

pub(super) fn check_provider_graph(cluster: &Cluster, p: &mut Vec<Problem>) {
    let mut reported_cycles = BTreeSet::new();
    for sub in cluster.subscriptions.values() {
        let Some(set) = cluster.sets.get(&sub.set) else {
            continue;
        };
        if sub.provider != set.origin
            && cluster.nodes.contains_key(&sub.provider)
            && !cluster.can_provide(sub.set, sub.provider)
        {
            p.push(Problem::ProviderCannotForward {
                set_label: set.label(),
                receiver: sub.receiver,
                provider: sub.provider,
            });
            continue;
        }
        // Follow providers towards the origin; a repeat means a loop.
        let mut seen = vec![sub.receiver];
        let mut current = sub.provider;
        while current != set.origin {
            if let Some(pos) = seen.iter().position(|n| *n == current) {
                let mut cycle = seen[pos..].to_vec();
                let smallest = *cycle.iter().min().expect("non-empty");
                if reported_cycles.insert((sub.set, smallest)) {
                    let start = cycle.iter().position(|n| *n == smallest).expect("present");
                    cycle.rotate_left(start);
                    cycle.push(smallest);
                    p.push(Problem::ProviderCycle {
                        set_label: set.label(),
                        nodes: cycle,
                    });
                }
                break;
            }
            seen.push(current);
            match cluster.subscriptions.get(&(sub.set, current)) {
                Some(next) => current = next.provider,
                None => break,
            }
        }
    }
}
