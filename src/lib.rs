//! # slonik-gen
//!
//! Model a Slony-I cluster (nodes, paths, sets, tables, sequences, subscriptions, origins)
//! and generate `slonik` scripts that the real `slonik` accepts, for Slony-I 1.2, 2.0, 2.1
//! and 2.2 — the job the Perl "altperl" tools (`slonik_create_set`, `slonik_failover`, ...)
//! used to do, without their quoting bugs, random table ids and 2.2 syntax errors.
//!
//! Data flows one way: config (TOML) → [`validate`] → [`Cluster`] → [`ops`] → [`Script`]
//! (typed [`statement`]s) → text: each statement lowered for the target version, the header
//! through the askama template `templates/header.slonik`, the lines streamed in blocks.
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
//!     tables = ["files", "additional_roll"]
//! "#;
//! let cluster = slonik_gen::load_config_str(toml, "example.toml").unwrap();
//! // Operations take ids; command-line words (`set1`, `node2`) become ids in `resolve`.
//! let set1 = slonik_gen::resolve::set(&cluster, "set1").unwrap();
//! let change = slonik_gen::ops::create_set(&cluster, set1).unwrap();
//! let script = change.script.render().unwrap();
//! assert!(script.contains(r#"fully qualified name = '"geekdb"."additional_roll"'"#));
//! // Operations that move origins or subscriptions also give the cluster's next state.
//! let (dead, backup) = (slonik_gen::model::NodeId(1), slonik_gen::model::NodeId(2));
//! let moved = slonik_gen::ops::failover(&cluster, &[(dead, backup)]);
//! assert!(moved.is_err()); // node 2 does not subscribe to set 1 yet
//! ```
//!
//! The same cluster built in code, without TOML text ([`model::config`] has a builder for
//! every part of the file); it is checked exactly like a file, and `?` turns its
//! [`validate::Problems`] into an [`Error`]:
//!
//! ```
//! use slonik_gen::model::config::{ConfigFile, NodeConfig, SetConfig};
//!
//! # fn main() -> slonik_gen::Result<()> {
//! let config = ConfigFile::new("replication")
//!     .node(NodeConfig::new(1).host("MasNod").dbname("geekdb"))
//!     .node(NodeConfig::new(2).host("SlaNod").dbname("geekdb"))
//!     .set(SetConfig::new(1, "set1").default_schema("geekdb").tables(["files", "additional_roll"]));
//! let cluster = slonik_gen::validate::validate(&config)?;
//! assert_eq!(cluster.sets[&1.into()].tables[1].name.quoted(), r#""geekdb"."additional_roll""#);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
// docs.rs builds with `--cfg docsrs`: each feature-gated item says which feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod atomic_file;
pub mod config_writer;
pub mod error;
pub mod escape;
#[cfg(feature = "cli")]
pub mod frontend;
#[cfg(feature = "import")]
pub mod import;
pub mod literal;
pub mod load;
pub mod model;
pub mod ops;
pub mod render;
pub mod resolve;
pub mod runbook;
pub mod show;
pub mod slon;
pub mod statement;
mod suggest;
pub mod transition;
pub mod validate;
pub mod version;

/// The README's Rust examples run as doctests, so the documented API cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use error::{Error, Result};
pub use model::config::ConfigFile;
pub use model::Cluster;
pub use render::Script;
pub use version::SlonyVersion;

pub use load::{load_config, load_config_str, load_config_str_for, LoadError};
