//! Turns a [`ConfigFile`] into a checked [`Cluster`], reporting every problem at once.
//!
//! One file per part of the config: `problems` holds what is reported, `nodes`,
//! `relations` (tables, sequences and their ids), `subscriptions` and `literals` (the text
//! rules) the checks; this module runs them in the order their problems are reported.

mod hash;
mod literals;
mod nodes;
mod paths;
mod problems;
mod relations;
mod slon;
mod subscriptions;

use crate::model::config::ConfigFile;
use crate::model::ids::{NodeId, MAX_ID};
use crate::model::Cluster;

use literals::{check_cluster_name, check_control_characters, check_literals};
use nodes::{build_nodes, check_node_ref};
pub use problems::{Problem, Problems};
use relations::{build_sets, Entries, SetEntries};
use subscriptions::{build_subscriptions, check_provider_graph};

/// Checks a config and builds the cluster it describes, or returns every problem found.
pub fn validate(config: &ConfigFile) -> Result<Cluster, Problems> {
    let relations = config
        .sets
        .iter()
        .map(|s| SetEntries {
            tables: Entries::Borrowed(&s.tables),
            sequences: Entries::Borrowed(&s.sequences),
        })
        .collect();
    validate_entries(config, relations)
}

/// Like [`validate`], but takes the config so that the names of its tables and sequences
/// move into the cluster instead of being copied; what loading a config file uses.
pub fn validate_owned(mut config: ConfigFile) -> Result<Cluster, Problems> {
    let relations = config
        .sets
        .iter_mut()
        .map(|s| SetEntries {
            tables: Entries::Owned(std::mem::take(&mut s.tables)),
            sequences: Entries::Owned(std::mem::take(&mut s.sequences)),
        })
        .collect();
    validate_entries(&config, relations)
}

/// `relations[i]` holds the tables and sequences of `config.sets[i]`; the lists inside
/// `config.sets` are not read, because [`validate_owned`] has moved them out.
fn validate_entries(config: &ConfigFile, relations: Vec<SetEntries<'_>>) -> Result<Cluster, Problems> {
    let mut p = Vec::new();
    let version = config.slony_version;
    check_cluster_name(&config.cluster, version, &mut p);
    if config.wait_timeout > MAX_ID {
        p.push(Problem::BadWaitTimeout {
            value: config.wait_timeout,
        });
    }

    check_control_characters(config, &mut p);
    let (nodes, dropped_nodes) = build_nodes(config, &mut p);
    let default_origin = config
        .default_origin
        .or_else(|| nodes.keys().next().copied())
        .unwrap_or(NodeId(1));
    if config.default_origin.is_some() {
        check_node_ref(&nodes, "default_origin", default_origin, &mut p);
    }
    let (sets, suspects) = build_sets(config, relations, &nodes, default_origin, &mut p);
    let subscriptions = build_subscriptions(config, &nodes, &sets, &mut p);
    let paths = paths::build_paths(config, &nodes, &dropped_nodes, &mut p);

    let cluster = Cluster {
        name: config.cluster.clone(),
        version,
        default_origin,
        wait_timeout: config.wait_timeout,
        slon: config.slon.clone(),
        daemon: config.daemon.clone(),
        nodes,
        dropped_nodes,
        sets,
        subscriptions,
        paths,
    };
    check_provider_graph(&cluster, &mut p);
    paths::check_paths(&cluster, &mut p);
    check_literals(&cluster, &suspects, &mut p);
    slon::check_slon(&cluster, &mut p);
    // A dropped node is not a node of the cluster to the checks above; say why.
    for problem in &mut p {
        if let Problem::UnknownNode { item, node } = problem {
            if cluster.dropped_nodes.contains_key(node) {
                *problem = Problem::DroppedNode {
                    item: std::mem::take(item),
                    node: *node,
                };
            }
        }
    }
    if p.is_empty() {
        Ok(cluster)
    } else {
        Err(Problems(p))
    }
}

fn check_id(item: &str, what: &'static str, value: u64, p: &mut Vec<Problem>) {
    if id_out_of_range(value) {
        p.push(Problem::IdOutOfRange {
            item: item.to_string(),
            what,
            value,
        });
    }
}

fn id_out_of_range(value: u64) -> bool {
    value == 0 || value > u64::from(MAX_ID)
}

#[cfg(test)]
mod test_support {
    use super::*;

    /// Validates both ways, checking that they agree, and returns the result.
    pub(super) fn check(text: &str) -> Result<Cluster, Vec<String>> {
        let config: ConfigFile = toml::from_str(text).expect("test configs parse");
        let borrowed = validate(&config);
        assert_eq!(
            borrowed,
            validate_owned(config),
            "validate and validate_owned differ"
        );
        borrowed.map_err(|problems| problems.0.iter().map(ToString::to_string).collect())
    }

    pub(super) fn messages(text: &str) -> Vec<String> {
        check(text).expect_err("the config has problems")
    }

    pub(super) const NODE: &str = "cluster = \"c\"\n[[node]]\nid = 1\nhost = \"127.0.0.1\"\n";
}
