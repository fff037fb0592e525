//! libpq connection strings built from a node's connection parts.
//!
//! Two destinations, two sets of rules (slonik-syntax.md §5):
//! * the header's admin conninfo goes straight to `PQconnectdb`, so on 2.2 any value can be
//!   written with libpq quoting, and before 2.2 with backslash escapes (no `'` at all);
//! * a path conninfo is stored in `sl_path` through slonik's `%q`, which doubles every
//!   backslash, so it must never contain one; on 2.2 a value with spaces can be libpq-quoted,
//!   before 2.2 values must be free of whitespace and quotes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::version::SlonyVersion;

/// A node's connection parts, as written in the config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionParts {
    /// `service`: a section of `pg_service.conf`; the safe home for passwords and odd values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `host`: host name, address or socket directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `dbname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbname: Option<String>,
    /// `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `password`. Prefer `passfile` or `service`: a password here ends up in every script
    /// and in the `sl_path` catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `passfile`: a pgpass file, so no password appears in any script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passfile: Option<String>,
    /// `sslmode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sslmode: Option<String>,
    /// Any other libpq keyword (`connect_timeout`, `application_name`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl ConnectionParts {
    /// The parameters in a fixed order: the named parts first, then `options` sorted by key.
    pub fn params(&self) -> Vec<(String, String)> {
        let named: [(&str, Option<String>); 8] = [
            ("service", self.service.clone()),
            ("host", self.host.clone()),
            ("port", self.port.map(|p| p.to_string())),
            ("dbname", self.dbname.clone()),
            ("user", self.user.clone()),
            ("password", self.password.clone()),
            ("passfile", self.passfile.clone()),
            ("sslmode", self.sslmode.clone()),
        ];
        named
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .chain(self.options.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect()
    }

    /// These parts with every part that `over` sets replacing ours (a path's overrides).
    pub fn overlaid(&self, over: &ConnectionParts) -> ConnectionParts {
        let mut options = self.options.clone();
        options.extend(over.options.clone());
        ConnectionParts {
            service: over.service.clone().or_else(|| self.service.clone()),
            host: over.host.clone().or_else(|| self.host.clone()),
            port: over.port.or(self.port),
            dbname: over.dbname.clone().or_else(|| self.dbname.clone()),
            user: over.user.clone().or_else(|| self.user.clone()),
            password: over.password.clone().or_else(|| self.password.clone()),
            passfile: over.passfile.clone().or_else(|| self.passfile.clone()),
            sslmode: over.sslmode.clone().or_else(|| self.sslmode.clone()),
            options,
        }
    }
}

/// Where a conninfo string is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConninfoUse {
    /// The script header's `node N admin conninfo = '...'` (read by slonik itself).
    Admin,
    /// `store path (conninfo = '...')`, stored in `sl_path` and read by slon daemons.
    Path,
}

/// Why one parameter cannot be written for a destination.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConninfoProblem {
    /// Not a libpq keyword.
    #[error("`{key}` is not a libpq connection keyword{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownKeyword {
        /// The key as written.
        key: String,
        /// The closest known keyword.
        suggestion: Option<String>,
    },
    /// An empty value.
    #[error("`{key}` is empty; leave it out instead")]
    Empty {
        /// The parameter.
        key: String,
    },
    /// A value that this destination cannot carry on this version.
    #[error("the value of `{key}` {reason}, which cannot survive {place} on slonik {version}; use `passfile` or `service` (pg_service.conf) for such values")]
    Unrepresentable {
        /// The parameter.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
        /// `the script header` or `store path`.
        place: &'static str,
        /// The target version.
        version: SlonyVersion,
    },
}

/// libpq's connection keywords (PostgreSQL 15 and later).
pub const LIBPQ_KEYWORDS: &[&str] = &[
    "application_name",
    "channel_binding",
    "client_encoding",
    "connect_timeout",
    "dbname",
    "fallback_application_name",
    "gssdelegation",
    "gssencmode",
    "gsslib",
    "host",
    "hostaddr",
    "keepalives",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "krbsrvname",
    "load_balance_hosts",
    "options",
    "passfile",
    "password",
    "port",
    "replication",
    "require_auth",
    "requirepeer",
    "service",
    "ssl_max_protocol_version",
    "ssl_min_protocol_version",
    "sslcert",
    "sslcertmode",
    "sslcompression",
    "sslcrl",
    "sslcrldir",
    "sslkey",
    "sslmode",
    "sslpassword",
    "sslrootcert",
    "sslsni",
    "target_session_attrs",
    "tcp_user_timeout",
    "user",
];

/// Builds the libpq conninfo text (before slonik literal escaping) or lists every problem.
pub fn conninfo_text(
    params: &[(String, String)],
    destination: ConninfoUse,
    version: SlonyVersion,
) -> Result<String, Vec<ConninfoProblem>> {
    let mut parts = Vec::with_capacity(params.len());
    let mut problems = Vec::new();
    for (key, value) in params {
        if !LIBPQ_KEYWORDS.contains(&key.as_str()) {
            problems.push(ConninfoProblem::UnknownKeyword {
                key: key.clone(),
                suggestion: crate::suggest::closest(key, LIBPQ_KEYWORDS.iter().copied()),
            });
            continue;
        }
        match encode_value(key, value, destination, version) {
            Ok(v) => parts.push(format!("{key}={v}")),
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() {
        Ok(parts.join(" "))
    } else {
        Err(problems)
    }
}

fn encode_value(
    key: &str,
    value: &str,
    destination: ConninfoUse,
    version: SlonyVersion,
) -> Result<String, ConninfoProblem> {
    if value.is_empty() {
        return Err(ConninfoProblem::Empty { key: key.into() });
    }
    let place = match destination {
        ConninfoUse::Admin => "the script header",
        ConninfoUse::Path => "store path",
    };
    let refuse = |reason| ConninfoProblem::Unrepresentable {
        key: key.into(),
        reason,
        place,
        version,
    };
    let has_space = value.chars().any(char::is_whitespace);
    let plain = !has_space && !value.contains(['\'', '\\']);
    match (destination, version >= SlonyVersion::V2_2) {
        _ if plain => Ok(value.to_string()),
        (ConninfoUse::Admin, true) => {
            // libpq quoting; the slonik literal layer then doubles the quotes.
            Ok(format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'")))
        }
        (ConninfoUse::Admin, false) => {
            if value.contains('\'') {
                return Err(refuse("contains a single quote"));
            }
            let mut out = String::with_capacity(value.len() + 4);
            for c in value.chars() {
                if c.is_whitespace() || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            Ok(out)
        }
        (ConninfoUse::Path, _) if value.contains('\\') => Err(refuse(
            "contains a backslash (slonik doubles it when storing the path)",
        )),
        (ConninfoUse::Path, true) => {
            if !has_space && !value.starts_with('\'') {
                Ok(value.to_string())
            } else if value.contains('\'') {
                Err(refuse("contains both whitespace and a single quote"))
            } else {
                Ok(format!("'{value}'"))
            }
        }
        (ConninfoUse::Path, false) => Err(refuse(if has_space {
            "contains whitespace"
        } else {
            "contains a single quote"
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SlonyVersion::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plain_values_are_bare_everywhere() {
        let params = p(&[("host", "MasNod"), ("dbname", "geekdb"), ("user", "postgres")]);
        for v in SlonyVersion::ALL {
            for d in [ConninfoUse::Admin, ConninfoUse::Path] {
                assert_eq!(
                    conninfo_text(&params, d, v).unwrap(),
                    "host=MasNod dbname=geekdb user=postgres"
                );
            }
        }
    }

    #[test]
    fn admin_2_2_uses_libpq_quoting() {
        let params = p(&[("dbname", "a'b c"), ("password", "x\\y")]);
        assert_eq!(
            conninfo_text(&params, ConninfoUse::Admin, V2_2).unwrap(),
            "dbname='a\\'b c' password='x\\\\y'"
        );
    }

    #[test]
    fn admin_before_2_2_uses_backslash_escapes() {
        let params = p(&[("dbname", "a b")]);
        assert_eq!(
            conninfo_text(&params, ConninfoUse::Admin, V2_1).unwrap(),
            "dbname=a\\ b"
        );
        let quote = p(&[("password", "it's")]);
        assert!(conninfo_text(&quote, ConninfoUse::Admin, V2_0).is_err());
    }

    #[test]
    fn path_rules() {
        let spaced = p(&[("password", "se cret!")]);
        assert_eq!(
            conninfo_text(&spaced, ConninfoUse::Path, V2_2).unwrap(),
            "password='se cret!'"
        );
        assert!(conninfo_text(&spaced, ConninfoUse::Path, V2_1).is_err());
        let inner_quote = p(&[("application_name", "it's")]);
        assert_eq!(
            conninfo_text(&inner_quote, ConninfoUse::Path, V2_2).unwrap(),
            "application_name=it's"
        );
        let backslash = p(&[("password", "a\\b")]);
        let err = conninfo_text(&backslash, ConninfoUse::Path, V2_2).unwrap_err();
        assert!(err[0].to_string().contains("passfile"), "{}", err[0]);
    }

    #[test]
    fn unknown_keyword_gets_a_suggestion() {
        let err = conninfo_text(&p(&[("dbnme", "x")]), ConninfoUse::Admin, V2_2).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "`dbnme` is not a libpq connection keyword (did you mean `dbname`?)"
        );
    }
}
