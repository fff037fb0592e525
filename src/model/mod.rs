//! The cluster model: the config file's types and the checked [`Cluster`].

pub mod cluster;
pub mod config;
pub mod conninfo;
pub mod ids;
pub mod names;
pub mod paths;
pub mod table_list;

pub use cluster::{Cluster, Node, Sequence, Set, Subscription, Table};
pub use ids::{NodeId, SequenceId, SetId, TableId};
pub use names::QualifiedName;
pub use paths::Paths;
