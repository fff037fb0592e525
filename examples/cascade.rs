//! A three-node cascade built in code, without TOML text, taken through a short life:
//! node 1 is the origin, node 2 subscribes from node 1 and forwards, node 3 subscribes from
//! node 2. Each operation runs on the state the one before it leaves ([`Change::next`]),
//! so no script is written against a cluster that no longer exists.
//!
//! `cargo run --example cascade` prints every slonik script after a `# --- operation` line
//! (a slonik comment, so the output stays readable as slonik). `tests/examples.rs` runs the
//! same [`cascade`] and hands each script to the real slonik.

use std::io::Write;
use std::process::ExitCode;

use slonik_gen::error::Report;
use slonik_gen::model::config::{ConfigFile, NodeConfig, SetConfig};
use slonik_gen::model::{NodeId, SetId};
use slonik_gen::ops::{self, Change};
use slonik_gen::render::WriteError;

/// The cluster's life, in order: each operation as the CLI would name it, with its script
/// and the cluster once that script has run.
pub fn cascade() -> slonik_gen::Result<Vec<(&'static str, Change)>> {
    let (alpha, beta, gamma) = (NodeId(1), NodeId(2), NodeId(3));
    let shop = SetId(1);
    // No [[subscription]]: the cluster starts with nobody subscribed, and `provider` (altperl's
    // `parent`) tells subscribe-set where each node receives from.
    let config = ConfigFile::new("replication")
        .node(NodeConfig::new(alpha).name("alpha").host("alpha").dbname("shop"))
        .node(
            NodeConfig::new(beta)
                .name("beta")
                .host("beta")
                .dbname("shop")
                .provider(alpha),
        )
        // A leaf feeds nobody: without forwarding it keeps none of the log a provider (or a
        // failover target) needs, which is why node 1, not node 3, is the backup below.
        .node(
            NodeConfig::new(gamma)
                .name("gamma")
                .host("gamma")
                .dbname("shop")
                .provider(beta)
                .forward(false),
        )
        .set(
            SetConfig::new(shop, "shop")
                .origin(alpha)
                .default_schema("shop")
                .tables(["customers", "orders"])
                .sequence("orders_id_seq"),
        );
    // Checked exactly like a file; `?` turns the problems into the crate's error.
    let cluster = slonik_gen::validate::validate(&config)?;

    let init = ops::init_cluster(&cluster)?;
    let create = ops::create_set(&init.next, shop)?;
    let subscribe_beta = ops::subscribe_set(&create.next, shop, beta)?;
    // Node 3's provider must already have the set and forward it, hence after node 2.
    let subscribe_gamma = ops::subscribe_set(&subscribe_beta.next, shop, gamma)?;
    // A planned switchover, say to take node 1 down for maintenance: the move leaves node 1
    // subscribed to node 2, forwarding...
    let moved = ops::move_set(&subscribe_gamma.next, shop, alpha, beta)?;
    // ...which makes it the backup when node 2 then dies: it receives the set directly from
    // the dead origin, and node 3, whose provider was node 2, is handed over to it.
    let failover = ops::failover(&moved.next, &[(beta, alpha)])?;
    Ok(vec![
        ("init-cluster", init),
        ("create-set shop", create),
        ("subscribe-set shop 2", subscribe_beta),
        ("subscribe-set shop 3", subscribe_gamma),
        ("move-set shop 1 2", moved),
        ("failover 2 1", failover),
    ])
}

/// Writes each script after its `# --- operation` line.
pub fn write(life: &[(&str, Change)], out: &mut impl Write) -> Result<(), WriteError> {
    for (operation, change) in life {
        writeln!(out, "# --- {operation}").map_err(WriteError::Io)?;
        change.write_to(out)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match cascade().and_then(|life| Ok(write(&life, &mut std::io::stdout().lock())?)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", Report(&error));
            ExitCode::FAILURE
        }
    }
}
