//! libpq connection strings built from a node's connection parts.
//!
//! Two destinations, two sets of rules (slonik-syntax.md §5):
//! * the header's admin conninfo goes straight to `PQconnectdb`, so on 2.2 any value can be
//!   written with libpq quoting, and before 2.2 with backslash escapes (no `'` at all);
//! * a path conninfo is stored in `sl_path` through slonik's `%q`, which doubles every
//!   backslash, so it must never contain one; on 2.2 a value with spaces can be libpq-quoted,
//!   before 2.2 values must be free of whitespace and quotes.
//!
//! Reading goes the other way: [`parse_conninfo`] is the one reader of conninfo text
//! (libpq's `key=value` form and its `postgresql://` URI form), used on `--conninfo`
//! arguments and on the conninfos stored in `sl_path`; [`redact_secrets`] is the one place
//! that hides password-like values in any text printed.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::version::SlonyVersion;

/// A node's connection parts, as written in the config. Built in code with
/// [`ConnectionParts::new`] and the setters (`ConnectionParts::new().host("10.0.0.2")`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
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
    /// No parts set: every one is inherited (a path's overrides) or left to libpq.
    pub fn new() -> Self {
        ConnectionParts::default()
    }

    crate::model::config::connection_setters!();

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

    /// The parts of a conninfo as a user types it for `psql` (`host=db3 port=5432
    /// dbname=geekdb`, or a `postgresql://` URI), read by [`parse_conninfo`]: each named
    /// keyword to its part, every other keyword to `options`. Keywords and values are
    /// checked later, where a config's are ([`crate::validate`]).
    pub fn from_conninfo(text: &str) -> Result<ConnectionParts, ConninfoSyntaxError> {
        let mut parts = ConnectionParts::new();
        for (key, value) in parse_conninfo(text)? {
            match key.as_str() {
                "service" => parts.service = Some(value),
                "host" => parts.host = Some(value),
                "port" => {
                    parts.port = Some(value.parse().map_err(|_| {
                        ConninfoSyntaxError::new(format!(
                            "port `{}` is not a port number (1 to 65535)",
                            redact_secrets(&value)
                        ))
                    })?)
                }
                "dbname" => parts.dbname = Some(value),
                "user" => parts.user = Some(value),
                "password" => parts.password = Some(value),
                "passfile" => parts.passfile = Some(value),
                "sslmode" => parts.sslmode = Some(value),
                _ => {
                    parts.options.insert(key, value);
                }
            }
        }
        Ok(parts)
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

/// `value` in libpq's single quotes (`\\` and `\'` escaped): the one form that carries any
/// value through libpq's key=value parser.
pub fn quoted_value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `value` bare when libpq reads it as it is, else [`quoted_value`].
pub fn value_text(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
        value.to_string()
    } else {
        quoted_value(value)
    }
}

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
            Ok(quoted_value(value))
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

/// Why a conninfo cannot be read. The message names keywords and positions, never a value,
/// so it can be printed even when the conninfo holds a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConninfoSyntaxError {
    message: String,
}

impl ConninfoSyntaxError {
    fn new(message: impl Into<String>) -> Self {
        ConninfoSyntaxError {
            message: message.into(),
        }
    }
}

/// Whether `key` holds a secret: `password`, `sslpassword`, and any other keyword or
/// variable name ending in `password` (`PGPASSWORD`), compared without case.
pub fn is_secret_key(key: &str) -> bool {
    key.len() >= 8
        && key.is_char_boundary(key.len() - 8)
        && key[key.len() - 8..].eq_ignore_ascii_case("password")
}

/// The `key=value` pairs of a libpq conninfo, in order, with libpq's rules
/// (slonik-syntax.md §5.1): whitespace-separated `key = value` pairs whose values are bare
/// (`\\` escapes the next character) or `'quoted'` (`\\'` and `\\\\` inside); or, when the text
/// starts with `postgresql://` or `postgres://`, a URI
/// `postgresql://[user[:password]@][host][:port][,host[:port]...][/dbname][?key=value&...]`
/// with percent-decoding, `[...]` IPv6 hosts, comma lists of hosts (given as one `host` and
/// one `port` pair, comma-separated, as libpq stores them) and `ssl=true` read as
/// `sslmode=require`. Keywords are not checked here (see [`LIBPQ_KEYWORDS`]); empty
/// values are kept.
pub fn parse_conninfo(text: &str) -> Result<Vec<(String, String)>, ConninfoSyntaxError> {
    for scheme in ["postgresql://", "postgres://"] {
        if let Some(rest) = text.strip_prefix(scheme) {
            return parse_uri(rest);
        }
    }
    parse_key_values(text)
}

fn parse_key_values(text: &str) -> Result<Vec<(String, String)>, ConninfoSyntaxError> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    let skip_space = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
    };
    loop {
        skip_space(&mut chars);
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            if chars.peek() == Some(&'=') {
                return Err(ConninfoSyntaxError::new(format!(
                    "`=` without a keyword before it (after {} parameter{}); write key=value",
                    pairs.len(),
                    if pairs.len() == 1 { "" } else { "s" }
                )));
            }
            break;
        }
        skip_space(&mut chars);
        if chars.next() != Some('=') {
            // The word may be a value the user forgot the key of: do not quote it.
            let known = LIBPQ_KEYWORDS.contains(&key.as_str());
            return Err(ConninfoSyntaxError::new(if known {
                format!("missing `=` after `{key}`; write {key}=value")
            } else {
                format!(
                    "missing `=` after word {} (not a libpq keyword); write key=value pairs separated by spaces",
                    pairs.len() + 1
                )
            }));
        }
        skip_space(&mut chars);
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(ConninfoSyntaxError::new(format!(
                            "the quoted value of `{}` is not closed: end it with `'` (write `\\'` for a quote inside)",
                            crate::escape::visible(&key)
                        )))
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// libpq's percent-decoding of one URI part (`what` names it in errors).
fn percent_decode(text: &str, what: &str) -> Result<String, ConninfoSyntaxError> {
    if !text.contains('%') {
        return Ok(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(0) => {
                return Err(ConninfoSyntaxError::new(format!(
                    "the {what} of the URI holds %00, which libpq forbids"
                )))
            }
            Some(b) => out.push(b),
            None => {
                return Err(ConninfoSyntaxError::new(format!(
                "the {what} of the URI holds a `%` not followed by two hex digits; write a literal % as %25"
            )))
            }
        }
        i += 3;
    }
    String::from_utf8(out)
        .map_err(|_| ConninfoSyntaxError::new(format!("the {what} of the URI does not decode to UTF-8 text")))
}

/// The URI form, `rest` being the text after `postgresql://` (libpq's
/// `conninfo_uri_parse_options`).
fn parse_uri(rest: &str) -> Result<Vec<(String, String)>, ConninfoSyntaxError> {
    let mut pairs = Vec::new();
    let mut p = rest;
    // user[:password]@ : libpq looks for `@` before the first `/`.
    if let Some(at) = p.find(['@', '/']).filter(|&i| p.as_bytes()[i] == b'@') {
        let userinfo = &p[..at];
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            pairs.push(("user".to_string(), percent_decode(user, "user name")?));
        }
        if let Some(password) = password {
            pairs.push(("password".to_string(), percent_decode(password, "password")?));
        }
        p = &p[at + 1..];
    }
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    loop {
        let host;
        if let Some(inner) = p.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or_else(|| ConninfoSyntaxError::new("an IPv6 host in the URI has no closing `]`"))?;
            host = &inner[..close];
            if host.is_empty() {
                return Err(ConninfoSyntaxError::new(
                    "an IPv6 host in the URI is empty: write [::1] or leave the brackets out",
                ));
            }
            p = &inner[close + 1..];
            if !(p.is_empty() || p.starts_with([':', '/', '?', ','])) {
                return Err(ConninfoSyntaxError::new(
                    "unexpected character after an IPv6 host `[...]` in the URI (expected `:`, `/`, `?` or `,`)",
                ));
            }
        } else {
            let end = p.find([':', '/', '?', ',']).unwrap_or(p.len());
            host = &p[..end];
            p = &p[end..];
        }
        let mut port = "";
        if let Some(after) = p.strip_prefix(':') {
            let end = after.find(['/', '?', ',']).unwrap_or(after.len());
            port = &after[..end];
            p = &after[end..];
        }
        hosts.push(percent_decode(host, "host")?);
        ports.push(percent_decode(port, "port")?);
        match p.strip_prefix(',') {
            Some(after) => p = after,
            None => break,
        }
    }
    let hosts = hosts.join(",");
    if !hosts.is_empty() {
        pairs.push(("host".to_string(), hosts));
    }
    let ports = ports.join(",");
    if !ports.is_empty() {
        pairs.push(("port".to_string(), ports));
    }
    if let Some(after) = p.strip_prefix('/') {
        let end = after.find('?').unwrap_or(after.len());
        let dbname = percent_decode(&after[..end], "database name")?;
        if !dbname.is_empty() {
            pairs.push(("dbname".to_string(), dbname));
        }
        p = &after[end..];
    }
    if let Some(query) = p.strip_prefix('?') {
        for (n, param) in query.split('&').enumerate() {
            if param.is_empty() {
                continue;
            }
            let Some((key, value)) = param.split_once('=') else {
                return Err(ConninfoSyntaxError::new(format!(
                    "query parameter {} of the URI has no `=`; write ?key=value&key=value",
                    n + 1
                )));
            };
            if value.contains('=') {
                return Err(ConninfoSyntaxError::new(format!(
                    "query parameter {} of the URI has a second `=`; write `=` in a value as %3D",
                    n + 1
                )));
            }
            let key = percent_decode(key, "query parameter name")?;
            let value = percent_decode(value, &format!("value of `{}`", crate::escape::visible(&key)))?;
            if key == "ssl" {
                if value != "true" {
                    return Err(ConninfoSyntaxError::new(
                        "the URI query parameter `ssl` can only be `true` (libpq reads it as sslmode=require)",
                    ));
                }
                pairs.push(("sslmode".to_string(), "require".to_string()));
            } else {
                pairs.push((key, value));
            }
        }
    } else if !p.is_empty() {
        return Err(ConninfoSyntaxError::new(
            "unexpected text after the host list of the URI (expected `/dbname` or `?key=value`)",
        ));
    }
    Ok(pairs)
}

/// Where a value to be hidden ends, the value starting at byte `start` of `text` and not
/// quoted: at whitespace, at `end_at` (URI separators), or at a single quote character
/// (`'`, `"` or `` ` ``) that is followed by the end, whitespace or closing punctuation, as
/// when the value ends a slonik literal, a JSON string or inline code. A `\\` takes the
/// next character along; a doubled `''` (slonik's escape) is part of the value.
fn bare_value_end(text: &str, start: usize, end_at: &[char]) -> usize {
    let mut chars = text[start..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() || end_at.contains(&c) {
            return start + i;
        }
        match c {
            '\\' => {
                chars.next();
            }
            '\'' if chars.peek().map(|&(_, n)| n) == Some('\'') => {
                chars.next();
            }
            '\'' | '"' | '`' => {
                let next = chars.peek().map(|&(_, n)| n);
                if next.is_none_or(|n| {
                    n.is_whitespace() || matches!(n, ';' | ',' | ')' | ']' | '}' | '\'' | '"' | '`' | '&')
                }) {
                    return start + i;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// The end of a quoted value whose body starts at `start`: at the closing `quote`
/// (`\\` escapes the next character), else at the end of the line.
fn quoted_value_end(text: &str, start: usize, quote: char) -> usize {
    let mut chars = text[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '\n' => return start + i,
            c if c == quote => return start + i,
            _ => {}
        }
    }
    text.len()
}

/// The end of a value quoted with slonik's doubled quotes (`''a b''` inside a slonik literal
/// is the libpq value `'a b'`): at the closing `''`, at a single `'` (the end of the
/// literal) or at the end of the line.
fn doubled_value_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                // `\''` is libpq's `\'` with slonik's doubling: skip the whole escape.
                i += if bytes.get(i + 1..i + 3) == Some(b"''") {
                    3
                } else {
                    2
                };
            }
            b'\'' | b'\n' => return i,
            _ => i += 1,
        }
    }
    text.len().min(i)
}

/// The byte ranges of the password values of a URI whose scheme ends at `start`; returns
/// them and where the URI ends.
fn uri_secret_ranges(text: &str, start: usize, ranges: &mut Vec<(usize, usize)>) -> usize {
    let end = bare_value_end(text, start, &[]);
    let uri = &text[start..end];
    // user:password@ : up to the last `@` before the first `/` (libpq takes the first `@`
    // before a `/`; the last one also hides a password that holds a raw `@`).
    let authority = &uri[..uri.find('/').unwrap_or(uri.len())];
    let mut query_from = 0;
    if let Some(at) = authority.rfind('@') {
        if let Some(colon) = authority[..at].find(':') {
            if colon + 1 < at {
                ranges.push((start + colon + 1, start + at));
            }
        }
        query_from = at + 1;
    }
    if let Some(q) = uri[query_from..].find('?') {
        let mut pos = query_from + q + 1;
        for param in uri[pos..].split('&') {
            if let Some((key, value)) = param.split_once('=') {
                let key = percent_decode(key, "").unwrap_or_else(|_| key.to_string());
                if is_secret_key(&key) && !value.is_empty() {
                    let value_start = start + pos + key_len(param);
                    ranges.push((value_start, value_start + value.len()));
                }
            }
            pos += param.len() + 1;
        }
    }
    end
}

/// The length of `key=` in a `key=value` query parameter.
fn key_len(param: &str) -> usize {
    param.find('=').map_or(param.len(), |i| i + 1)
}

/// `text` with every password-like value replaced by `***`, wherever a conninfo or a
/// setting appears in it: libpq `key=value` text (bare, `'quoted'`, or inside a slonik
/// literal with doubled quotes: `password=''x y''`), `postgresql://user:password@...` and
/// `postgres://` URIs (the userinfo password and every `?...password=` parameter), shell
/// assignments (`PGPASSWORD=...`), TOML, Perl and JSON settings (`password = "..."`,
/// `password => '...'`, `"password": "..."`). A key is password-like when it ends in
/// `password` (see [`is_secret_key`]). Works on arbitrary text (error messages, script lines,
/// unified diffs) line by line: a value never runs past the end of its line.
///
/// Where the end of a value is ambiguous the redaction errs on hiding more: a bare value
/// runs to whitespace, or to a quote that closes the surrounding literal.
pub fn redact_secrets(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("password") && !lower.contains("postgres") {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        let word_start = i == 0 || !is_word(bytes[i - 1]);
        if word_start {
            let scheme = ["postgresql://", "postgres://"]
                .into_iter()
                .find(|s| lower.as_bytes()[i..].starts_with(s.as_bytes()));
            if let Some(scheme) = scheme {
                i = uri_secret_ranges(text, i + scheme.len(), &mut ranges);
                continue;
            }
        }
        if !(word_start && is_word(bytes[i])) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && is_word(bytes[j]) {
            j += 1;
        }
        if !is_secret_key(&text[i..j]) {
            i = j;
            continue;
        }
        // A JSON key (`"password": ...`) or a key followed by `=`, `=>` or `:`.
        let json_key = i > 0 && bytes[i - 1] == b'"' && bytes.get(j) == Some(&b'"');
        let mut k = if json_key { j + 1 } else { j };
        while k < bytes.len() && (bytes[k] == b' ' || bytes[k] == b'\t') {
            k += 1;
        }
        let separator = match bytes.get(k) {
            Some(b'=') if bytes.get(k + 1) == Some(&b'>') => 2,
            Some(b'=') => 1,
            Some(b':') if json_key => 1,
            _ => 0,
        };
        if separator == 0 {
            i = j;
            continue;
        }
        k += separator;
        while k < bytes.len() && (bytes[k] == b' ' || bytes[k] == b'\t') {
            k += 1;
        }
        let (from, to) = if text[k..].starts_with("''") {
            (k + 2, doubled_value_end(text, k + 2))
        } else if let Some(quote) = text[k..].chars().next().filter(|c| matches!(c, '\'' | '"')) {
            (k + 1, quoted_value_end(text, k + 1, quote))
        } else {
            (k, bare_value_end(text, k, &[]))
        };
        if from < to {
            ranges.push((from, to));
        }
        i = to.max(j);
    }
    ranges.retain(|&(from, to)| &text[from..to] != "***");
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (from, to) in ranges {
        if from < copied {
            continue;
        }
        out.push_str(&text[copied..from]);
        out.push_str("***");
        copied = to;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
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

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_conninfo(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn key_value_form_follows_libpq() {
        assert_eq!(
            pairs(r"host = a dbname='x \'y\' z' user=u\ v password="),
            p(&[
                ("host", "a"),
                ("dbname", "x 'y' z"),
                ("user", "u v"),
                ("password", "")
            ])
        );
        assert_eq!(pairs("  "), p(&[]));
        assert_eq!(pairs("application_name=a'b"), p(&[("application_name", "a'b")]));
        for bad in ["host", "host=a 'secret'", "dbname='open", "=x"] {
            let err = parse_conninfo(bad).unwrap_err().to_string();
            assert!(!err.contains("secret") && !err.contains("open"), "{bad}: {err}");
        }
        assert!(parse_conninfo("host")
            .unwrap_err()
            .to_string()
            .contains("missing `=` after `host`"));
    }

    /// libpq's conninfo parser (`conninfo_parse` in fe-connect.c) skips white space after
    /// `=`, ends a bare value at white space, lets a backslash escape the next character, and starts a
    /// quoted value at a leading `'`: so an empty value, white space, a quote or a backslash
    /// needs quoting, and `#`, `@`, `=` do not.
    #[test]
    fn one_value_quoter_reads_back_through_libpq_rules() {
        let long = "v".repeat(512);
        let cases = [
            ("plain", "plain"),
            ("O'Brien", "'O\\'Brien'"),
            ("''", "'\\'\\''"),
            ("a\\b", "'a\\\\b'"),
            ("a b", "'a b'"),
            ("tab\tin", "'tab\tin'"),
            ("", "''"),
            ("#not-a-comment", "#not-a-comment"),
            ("@macro", "@macro"),
            ("a=b", "a=b"),
            (long.as_str(), long.as_str()),
        ];
        for (value, written) in cases {
            assert_eq!(value_text(value), written, "{value:?}");
            for text in [value_text(value), quoted_value(value)] {
                assert_eq!(
                    pairs(&format!("application_name={text} user=u")),
                    p(&[("application_name", value), ("user", "u")]),
                    "{value:?} as {text}"
                );
            }
        }
        let long_quoted = format!("{long} '\\");
        assert_eq!(
            pairs(&format!("password={}", value_text(&long_quoted))),
            p(&[("password", long_quoted.as_str())])
        );
    }

    #[test]
    fn uri_form_follows_libpq() {
        assert_eq!(
            pairs("postgresql://us%40er:se%2Fcret@db.example:5433/geek%20db?sslmode=require&application_name=a%26b"),
            p(&[
                ("user", "us@er"),
                ("password", "se/cret"),
                ("host", "db.example"),
                ("port", "5433"),
                ("dbname", "geek db"),
                ("sslmode", "require"),
                ("application_name", "a&b"),
            ])
        );
        assert_eq!(
            pairs("postgres://[::1]:5432,h2:5433,[fe80::1%25eth0]/db?ssl=true"),
            p(&[
                ("host", "::1,h2,fe80::1%eth0"),
                ("port", "5432,5433,"),
                ("dbname", "db"),
                ("sslmode", "require"),
            ])
        );
        assert_eq!(pairs("postgresql://"), p(&[]));
        assert_eq!(
            pairs("postgresql:///geekdb?host=/var/run/postgresql"),
            p(&[("dbname", "geekdb"), ("host", "/var/run/postgresql")])
        );
        assert_eq!(pairs("postgresql://u@h"), p(&[("user", "u"), ("host", "h")]));
        for bad in [
            "postgresql://u:s%zzecret@h/db",
            "postgresql://u:s%00ecret@h/db",
            "postgresql://[::1/db",
            "postgresql://[]/db",
            "postgresql://[::1]x/db",
            "postgresql://h/db?password",
            "postgresql://h/db?password=a=secret",
            "postgresql://h/db?ssl=secret",
            "postgresql://u:s%C3ecret@h",
        ] {
            let err = parse_conninfo(bad).expect_err(bad).to_string();
            assert!(!err.contains("ecret"), "{bad}: {err}");
        }
    }

    #[test]
    fn secret_keys() {
        for key in ["password", "sslpassword", "PGPASSWORD", "Password"] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["passfile", "pass", "user", "passwordx", "é"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn redacts_every_form_of_password() {
        let cases = [
            ("host=a password=x user=u", "host=a password=*** user=u"),
            ("host=a password='a b\\' c' user=u", "host=a password='***' user=u"),
            ("host=a sslpassword = k", "host=a sslpassword = ***"),
            (
                "node 1 admin conninfo = 'host=a password=''x y''';",
                "node 1 admin conninfo = 'host=a password=''***''';",
            ),
            (
                "node 1 admin conninfo = 'host=a password=''it\\''s x'' user=u';",
                "node 1 admin conninfo = 'host=a password=''***'' user=u';",
            ),
            (
                "store path (server = 1, client = 2, conninfo = 'dbname=g password=it''s');",
                "store path (server = 1, client = 2, conninfo = 'dbname=g password=***');",
            ),
            (
                "-node 2 admin conninfo = 'host=b password=old';\n+node 2 admin conninfo = 'host=b password=new';\n",
                "-node 2 admin conninfo = 'host=b password=***';\n+node 2 admin conninfo = 'host=b password=***';\n",
            ),
            ("postgresql://u:secret@h/db", "postgresql://u:***@h/db"),
            ("postgres://u:p@ss@h:1/db", "postgres://u:***@h:1/db"),
            (
                "x 'postgresql://h/db?user=u&password=s1&sslpassword=s2&sslmode=require';",
                "x 'postgresql://h/db?user=u&password=***&sslpassword=***&sslmode=require';",
            ),
            ("POSTGRESQL://h/db?pass%77ord=s1", "POSTGRESQL://h/db?pass%77ord=***"),
            ("PGPASSWORD=s3cret psql -h a", "PGPASSWORD=*** psql -h a"),
            ("password = \"s\\\"x\"\nuser = \"u\"", "password = \"***\"\nuser = \"u\""),
            ("add_node(password => 'pw', host => 'h');", "add_node(password => '***', host => 'h');"),
            ("{\"password\": \"pw\", \"user\": \"u\"}", "{\"password\": \"***\", \"user\": \"u\"}"),
            ("`host=a password=pw`", "`host=a password=***`"),
            ("password=it's", "password=***"),
            ("password=''''", "password=''''"),
            ("password=***", "password=***"),
            ("ünï password=é€ x", "ünï password=*** x"),
        ];
        for (text, redacted) in cases {
            assert_eq!(redact_secrets(text), redacted, "{text}");
        }
        for plain in [
            "host=a user=u",
            "node 1: sl_path stores a password for it",
            "the password is imported as `password`, so",
            "passfile=/x",
            "postgresql://u@h/db",
            "",
        ] {
            assert!(matches!(redact_secrets(plain), Cow::Borrowed(_)), "{plain}");
        }
    }

    #[test]
    fn redaction_never_panics_on_cut_text() {
        let texts = [
            "é password=''ü\\''x'' postgres://ü:é@[::1]?password=é&x",
            "password=\\",
            "password='\\",
            "password=''\\'",
            "\"password\":",
            "postgresql://:@?&=",
        ];
        for text in texts {
            for (cut, _) in text.char_indices().chain([(text.len(), ' ')]) {
                let _ = redact_secrets(&text[..cut]);
                let _ = parse_conninfo(&text[..cut]);
            }
        }
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
