//! Slony-I versions and the facts about slonik's grammar that differ between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Slony-I release line whose `slonik` grammar slonik-gen targets.
///
/// The ordering follows release order, so `version >= SlonyVersion::V2_1` reads naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub enum SlonyVersion {
    /// Slony-I 1.2 (the scenario's field notes used it).
    #[serde(rename = "1.2")]
    V1_2,
    /// Slony-I 2.0.
    #[serde(rename = "2.0")]
    V2_0,
    /// Slony-I 2.1.
    #[serde(rename = "2.1")]
    V2_1,
    /// Slony-I 2.2, the current release and the default.
    #[default]
    #[serde(rename = "2.2")]
    V2_2,
}

impl SlonyVersion {
    /// Every supported version, oldest first.
    pub const ALL: [SlonyVersion; 4] = [Self::V1_2, Self::V2_0, Self::V2_1, Self::V2_2];

    /// The version as written in configs and on the command line (`"2.2"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_2 => "1.2",
            Self::V2_0 => "2.0",
            Self::V2_1 => "2.1",
            Self::V2_2 => "2.2",
        }
    }

    /// Whether `word` is reserved by this version's scanner, so it cannot be a cluster name.
    pub fn is_keyword(self, word: &str) -> bool {
        let word = word.to_ascii_lowercase();
        let word = word.as_str();
        KEYWORDS_ALL.contains(&word)
            || (self == Self::V1_2 && KEYWORDS_1_2_ONLY.contains(&word))
            || (self >= Self::V2_0 && KEYWORDS_SINCE_2_0.contains(&word))
            || (self >= Self::V2_1 && KEYWORDS_SINCE_2_1.contains(&word))
            || (self >= Self::V2_2 && KEYWORDS_SINCE_2_2.contains(&word))
    }

    /// The longest string literal this version's scanner survives (2.1 and 2.2 overflow a
    /// heap buffer above 511 bytes and abort; see slonik-syntax.md §1.3).
    pub fn max_literal_bytes(self) -> Option<usize> {
        (self >= Self::V2_1).then_some(511)
    }

    /// Whether a `'` can be written inside a literal at all (only 2.2 unescapes `''`).
    pub fn can_quote_in_literal(self) -> bool {
        self >= Self::V2_2
    }
}

impl fmt::Display for SlonyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a version string that is not one of `1.2`, `2.0`, `2.1`, `2.2`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Slony-I version `{0}`: use one of 1.2, 2.0, 2.1, 2.2")]
pub struct UnknownVersion(pub String);

impl FromStr for SlonyVersion {
    type Err = UnknownVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| trimmed == v.as_str() || trimmed.starts_with(&format!("{}.", v.as_str())))
            .ok_or_else(|| UnknownVersion(s.to_string()))
    }
}

const KEYWORDS_ALL: &[&str] = &[
    "add",
    "admin",
    "all",
    "backup",
    "client",
    "cluster",
    "comment",
    "config",
    "confirmed",
    "conninfo",
    "connretry",
    "create",
    "drop",
    "echo",
    "error",
    "event",
    "execute",
    "exit",
    "failover",
    "false",
    "filename",
    "for",
    "forward",
    "full",
    "fully",
    "functions",
    "id",
    "init",
    "key",
    "listen",
    "lock",
    "log",
    "merge",
    "move",
    "name",
    "new",
    "no",
    "node",
    "off",
    "old",
    "on",
    "only",
    "origin",
    "path",
    "provider",
    "qualified",
    "receiver",
    "repair",
    "restart",
    "script",
    "seconds",
    "sequence",
    "server",
    "set",
    "sleep",
    "store",
    "subscribe",
    "success",
    "switch",
    "sync",
    "table",
    "timeout",
    "true",
    "try",
    "uninstall",
    "unlock",
    "unsubscribe",
    "update",
    "wait",
    "yes",
    "include",
    "define",
];
const KEYWORDS_1_2_ONLY: &[&str] = &["serial", "spoolnode", "trigger"];
const KEYWORDS_SINCE_2_0: &[&str] = &["clone", "copy", "finish", "omit", "prepare"];
const KEYWORDS_SINCE_2_1: &[&str] = &["date", "format", "sequences", "tables"];
const KEYWORDS_SINCE_2_2: &[&str] = &["resubscribe", "sql"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_grow_by_version() {
        assert!(SlonyVersion::V1_2.is_keyword("SET"));
        assert!(!SlonyVersion::V2_0.is_keyword("date"));
        assert!(SlonyVersion::V2_1.is_keyword("date"));
        assert!(!SlonyVersion::V2_1.is_keyword("sql"));
        assert!(SlonyVersion::V2_2.is_keyword("sql"));
        assert!(SlonyVersion::V1_2.is_keyword("trigger"));
        assert!(!SlonyVersion::V2_2.is_keyword("trigger"));
        assert!(!SlonyVersion::V1_2.is_keyword("clone"));
        assert!(SlonyVersion::V2_0.is_keyword("clone"));
    }

    #[test]
    fn parses_versions() {
        assert_eq!("2.2".parse(), Ok(SlonyVersion::V2_2));
        assert_eq!("2.2.11".parse(), Ok(SlonyVersion::V2_2));
        assert_eq!("1.2".parse(), Ok(SlonyVersion::V1_2));
        assert!("3.0".parse::<SlonyVersion>().is_err());
        assert!("2.22".parse::<SlonyVersion>().is_err());
    }
}
