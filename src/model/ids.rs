//! Newtype ids, so that a set id can never be passed where a node id belongs.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        ///
        /// Its `Default` is 0, which slonik reads as "not given" and validation rejects.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// What this id names, for messages ("node", "set", ...).
            pub const WHAT: &'static str = $what;
        }

        /// A plain number is an id: what lets builders take `1` (`NodeConfig::new(1)`).
        impl From<u32> for $name {
            fn from(id: u32) -> Self {
                $name(id)
            }
        }

        impl From<$name> for u32 {
            fn from(id: $name) -> u32 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// A Slony-I node id (`no_id`).
    NodeId,
    "node"
);
id_type!(
    /// A replication set id (`set_id`).
    SetId,
    "set"
);
id_type!(
    /// A replicated table id (`tab_id`), unique across all sets of a cluster.
    TableId,
    "table"
);
id_type!(
    /// A replicated sequence id (`seq_id`), unique across all sets of a cluster.
    SequenceId,
    "sequence"
);

/// The largest id slonik can read: it parses integers with `strtol` into an int32 and
/// has no syntax for a sign, so ids are 1..=2^31-1 (0 is treated as "not given").
pub const MAX_ID: u32 = i32::MAX as u32;
