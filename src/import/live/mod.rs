//! `slonik-gen import cluster` and `check-cluster`: the config of a running cluster, read
//! from its Slony-I catalog (`sl_node`, `sl_path`, `sl_set`, `sl_table`, `sl_sequence`,
//! `sl_subscribe`) on one node, and the differences between a config and that catalog.
//!
//! The catalog knows where every set's origin really is after failovers and moves done by
//! hand, which subscriber receives from which provider, and the table ids Slony assigned.
//! It does not know what slon_tools.conf knew only by convention (set names, `$MASTERNODE`)
//! nor the admin connections of the script header: the import takes the conninfo each node
//! is reached at by the slons (`sl_path`) as its connection, and says so.
//!
//! Passwords stored in `sl_path` (`password`, `sslpassword`, the password of a
//! `postgresql://user:password@...` URI) are never printed: they are dropped, and a note
//! says the node needs a `passfile` or `service`. Every conninfo shown (the `--conninfo`
//! in the header and in errors, other paths in notes) goes through
//! [`redact_secrets`].
//!
//! Text from the catalog never reaches a terminal or a comment raw: notes and messages
//! quote it with [`visible`]. A control character in a value the
//! config needs (a table's name, a node's host, dbname, user...) fails the import, naming
//! the node or table; one in a value the config can do without (a comment, an
//! `application_name`) leaves that value out with a note.
//!
//! The importer's own catalog queries pin `search_path` to `pg_catalog, pg_temp` first and
//! name every function and relation with its schema, so a `search_path` set on the
//! connection (`options=-c search_path=...`) cannot substitute them.

mod catalog;
#[cfg(feature = "import-live")]
pub mod compare;
mod convert;
mod diff;
#[cfg(feature = "import-live")]
pub mod discover;
pub mod libpq;
pub mod status;

#[cfg(feature = "import-live")]
pub use catalog::read_catalog;
pub use catalog::{Catalog, CatalogNode, CatalogRelation, CatalogSubscription};
pub use convert::{config_from_catalog, CatalogProblem};
pub use diff::differences;

#[cfg(feature = "import-live")]
use super::ImportError;
use crate::escape::visible;
use crate::model::config::ConfigFile;
use crate::model::conninfo::redact_secrets;
use crate::model::Cluster;
#[cfg(feature = "import-live")]
use crate::version::SlonyVersion;

/// A cluster read from its catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveImport {
    /// The config describing the cluster as it is.
    pub config: ConfigFile,
    /// The validated cluster.
    pub cluster: Cluster,
    /// What the catalog could not say, and what was left out (passwords).
    pub notes: Vec<String>,
    /// The conninfo it was read through, passwords removed and control characters escaped
    /// ([`shown_conninfo`]).
    pub source: String,
}

impl LiveImport {
    /// The config as TOML with the notes as a `#` block on top.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# Imported by `slonik-gen import cluster` from the Slony-I catalog of cluster {} ({}).\n",
            crate::escape::toml::comment(&self.config.cluster),
            crate::escape::toml::comment(&self.source)
        );
        if !self.notes.is_empty() {
            out.push_str("#\n# Notes on the import:\n");
            for note in &self.notes {
                out.push_str(&crate::escape::toml::bullet(note, 92));
            }
        }
        out.push('\n');
        out.push_str(&crate::config_writer::compact_text(&self.config, &self.cluster));
        out
    }
}

/// A conninfo as shown in messages, headers and notes: password-like values replaced by
/// `***` ([`redact_secrets`]) and control characters escaped ([`visible`]).
pub fn shown_conninfo(conninfo: &str) -> String {
    visible(&redact_secrets(conninfo)).into_owned()
}

/// The `key=value` pairs of a conninfo in either libpq form, or none when it cannot be read
/// (the lenient form of [`crate::model::conninfo::parse_conninfo`], kept for callers that
/// only compare conninfos).
pub fn parse_conninfo(text: &str) -> Vec<(String, String)> {
    crate::model::conninfo::parse_conninfo(text).unwrap_or_default()
}

/// An error with its causes, `: `-separated (the client's top message alone says little).
#[cfg(feature = "import-live")]
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// `slonik-gen import cluster`: the config of the cluster as its catalog describes it now.
#[cfg(feature = "import-live")]
pub fn import_cluster(
    conninfo: &str,
    cluster: &str,
    version: Option<SlonyVersion>,
) -> Result<LiveImport, ImportError> {
    let catalog = read_catalog(conninfo, cluster)?;
    let (config, notes) = config_from_catalog(&catalog, version).map_err(|problem| ImportError::Live {
        conninfo: shown_conninfo(conninfo),
        message: format!("cluster {}: {problem}", visible(&catalog.cluster)),
    })?;
    let cluster = crate::validate::validate(&config).map_err(|problems| ImportError::Invalid {
        path: format!("cluster {} at {}", visible(&catalog.cluster), shown_conninfo(conninfo)).into(),
        problems,
        hint: "(these come from the catalog as it is: finish or repair the pending change, e.g. drop a failed node, and import again)".into(),
    })?;
    Ok(LiveImport {
        config,
        cluster,
        notes,
        source: shown_conninfo(conninfo),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_conninfos_hide_passwords_and_escape_control_characters() {
        assert_eq!(
            shown_conninfo("host=a password=x user=u"),
            "host=a password=*** user=u"
        );
        assert_eq!(shown_conninfo("host=a password='a b'"), "host=a password='***'");
        assert_eq!(
            shown_conninfo("postgresql://u:secret@h/db"),
            "postgresql://u:***@h/db"
        );
        assert_eq!(
            shown_conninfo("postgresql://u@h/db?password=secret&application_name=\u{1b}x"),
            "postgresql://u@h/db?password=***&application_name=\\u{001B}x"
        );
    }
}
