//! Runbooks: multi-step plans generated from the cluster model.
//!
//! The scenario behind slonik-gen (`docs/runbooks.md`) took 14 manual steps on two hosts:
//! stopping slons, preparing a database, editing a Perl config twice, piping altperl
//! output through `sed`, discovering errors live. A [`Plan`] is that procedure as data:
//! an ordered list of [`Step`]s, each saying why it is there, and the cluster's state once
//! the plan has run ([`Plan::next`]). Plans are built from the same [`crate::ops`] that
//! print single scripts, chained through their `next` state, so a runbook and a one-off
//! script can never disagree about the cluster.
//!
//! A plan renders three ways ([`Format`]): a numbered Markdown runbook for a person, one
//! bash script that runs the whole plan and stops at the first failure, and JSON for other
//! tools. [`crate::config_writer::edit`] writes the state after the plan into the user's own
//! config file, keeping its comments and layout.
//!
//! ```
//! let toml = r#"
//!     cluster = "replication"
//!     [[node]]
//!     id = 1
//!     host = "MasNod"
//!     dbname = "geekdb"
//!     [[node]]
//!     id = 2
//!     host = "SlaNod"
//!     dbname = "geekdb"
//!     [[set]]
//!     id = 1
//!     name = "set1"
//!     default_schema = "geekdb"
//!     tables = ["files"]
//!     [[subscription]]
//!     set = "set1"
//!     receiver = 2
//! "#;
//! use slonik_gen::runbook::{Format, Request};
//! let cluster = slonik_gen::load_config_str(toml, "example.toml").unwrap();
//! let plan = Request::Failover { dead: vec!["1".into()], backup: "2".into(), drop_dead: false }
//!     .run(&cluster)
//!     .unwrap();
//! assert_eq!(plan.next.sets[&slonik_gen::model::SetId(1)].origin, slonik_gen::model::NodeId(2));
//! let script = plan.render(Format::Shell).unwrap();
//! assert!(script.starts_with("#!/usr/bin/env bash\n"));
//! ```

mod add_node;
mod add_tables;
mod builder;
pub(crate) mod catalog;
mod clone;
mod failover;
mod markdown;
mod paths;
mod plan;
mod rebuild;
mod request;
mod retire;
mod schema_copy;
mod shell;
mod slon;
mod switchover;
pub(crate) mod text;
mod upgrade;
mod upgrade_by_reinstall;

pub use add_node::{add_node, NewNode, SchemaSource, UnknownSchemaSource};
pub use add_tables::add_tables;
pub use clone::clone_node;
pub use failover::failover;
pub use plan::{Action, Format, NodeAccess, Plan, PlanError, Probe, Recovery, Step, UnknownFormat};
pub use rebuild::{failback, rebuild_node, Prepare};
pub use request::{NewNodeArgs, Request};
pub use retire::retire_node;
pub use slon::{slon_start_command, slon_stop_command};
pub use switchover::switchover;
pub use upgrade::{upgrade_postgres, upgrade_slony};
