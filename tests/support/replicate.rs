//! A test's config built for real on a [`TestCluster`] with the library's own scripts.
#![allow(dead_code)]

use std::path::PathBuf;

use slonik_gen::Cluster;

use super::cluster::TestCluster;

/// A config written to its own directory and the cluster it describes, now replicating.
pub struct Replicated {
    /// The directory holding the config (removed when this is dropped).
    pub dir: tempfile::TempDir,
    /// The config file.
    pub config_path: PathBuf,
    /// The cluster the config describes, as loaded.
    pub planned: Cluster,
    /// The state after the last subscription.
    pub state: Cluster,
}

impl Replicated {
    /// The config file's path as text, for `--config`.
    pub fn config(&self) -> &str {
        self.config_path
            .to_str()
            .expect("the temporary directory's path is UTF-8")
    }
}

/// Writes `config_text` to `<tempdir>/geekdb.toml`, loads it, and builds the cluster it
/// describes on `c`: `init-cluster`, `create-set` for every set, the harness's slon on
/// every node, then `subscribe-set` for every subscription, each from the state the
/// previous one left. The application tables must exist already. Panics on any failure.
pub fn replicate(c: &mut TestCluster, config_text: &str) -> Replicated {
    let dir = tempfile::tempdir().expect("a temporary directory for the config");
    let config_path = dir.path().join("geekdb.toml");
    std::fs::write(&config_path, config_text).expect("write the config");
    let planned = slonik_gen::load_config(&config_path, None)
        .unwrap_or_else(|e| panic!("the test config is invalid: {e}\n{config_text}"));
    c.slonik_ok(&render("init-cluster", slonik_gen::ops::init_cluster(&planned)));
    for &set in planned.sets.keys() {
        c.slonik_ok(&render("create-set", slonik_gen::ops::create_set(&planned, set)));
    }
    for &node in planned.nodes.keys() {
        c.start_slon(&planned.name, node.0);
    }
    let mut state = planned.clone();
    let subscriptions: Vec<_> = planned.subscriptions.keys().copied().collect();
    for (set, receiver) in subscriptions {
        let change = slonik_gen::ops::subscribe_set(&state, set, receiver)
            .unwrap_or_else(|e| panic!("subscribe-set {set} {receiver}: {e}"));
        c.slonik_ok(&change.script.render().expect("the script renders"));
        state = change.next;
    }
    Replicated {
        dir,
        config_path,
        planned,
        state,
    }
}

fn render(what: &str, change: Result<slonik_gen::ops::Change, slonik_gen::ops::OpError>) -> String {
    change
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .script
        .render()
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}
