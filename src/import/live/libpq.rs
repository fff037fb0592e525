//! Connections made the way libpq makes them, so a conninfo that works with `psql` works for
//! `import cluster`, `check-cluster` and `status`.
//!
//! The Rust client (`postgres` / `tokio-postgres`) reads none of libpq's files nor its
//! environment, and knows no TLS of its own. [`resolve`] does what libpq does before it
//! connects, in libpq's order, each step filling only the keys still unset:
//!
//! 1. the conninfo itself (`key=value` or `postgresql://` URI,
//!    [`crate::model::conninfo::parse_conninfo`]); an empty value (`host=''`) keeps the service and
//!    the environment from filling its key, then counts as unset;
//! 2. `service=NAME` (else `PGSERVICE`): section `[NAME]` of `PGSERVICEFILE` (else
//!    `~/.pg_service.conf`), else of `PGSYSCONFDIR/pg_service.conf` (else
//!    [`DEFAULT_SYSCONFDIR`]`/pg_service.conf`); a service that is in neither file is an error;
//! 3. the environment ([`ENV_KEYS`]: `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`,
//!    `PGPASSWORD`, `PGPASSFILE`, `PGSSLMODE`, ...);
//! 4. libpq's defaults: host the socket directory [`DEFAULT_SOCKET_DIR`], port 5432, user
//!    the OS user (`$USER`, else `$LOGNAME`), dbname the user;
//! 5. with no password yet, the first matching line of the passfile (`passfile`, else
//!    `~/.pgpass`), which is skipped, as libpq skips it, when it is not a plain file or is
//!    readable or writable by group or others. Why a passfile gave nothing is kept in
//!    [`Resolved::notes`] and added to a connection error. With several hosts
//!    (`host=a,b`), the line is looked up for the first one (the client takes one
//!    password), where libpq looks one up for each host it tries.
//!
//! `sslmode` is libpq's: `disable`; `allow` and `prefer` (TLS when the server offers it);
//! `require` (TLS, the server's certificate unchecked, unless the root file exists, when it
//! is checked as for `verify-ca`, as libpq does); `verify-ca` (the chain checked against
//! `sslrootcert`, default `~/.postgresql/root.crt`, not the host name); `verify-full` (chain
//! and host name); `sslrootcert=system` uses the operating system's roots and needs
//! `verify-full`. A client certificate (`sslcert`, default `~/.postgresql/postgresql.crt`,
//! with `sslkey`, default `~/.postgresql/postgresql.key`, mode 0600 or less) is sent when
//! the certificate file exists. TLS is rustls with the ring provider. `sslmode` is ignored
//! on Unix sockets, as libpq ignores it. `allow` tries TLS first (libpq tries plain first):
//! either way a server that takes both connects.
//!
//! No message here holds a password: they name keys, files and line numbers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::conninfo::{parse_conninfo, LIBPQ_KEYWORDS};

/// The Unix socket directory libpq connects to without a host (Debian's build).
pub const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// The directory of the system-wide `pg_service.conf` without `PGSYSCONFDIR` (Debian's
/// `pg_config --sysconfdir`).
pub const DEFAULT_SYSCONFDIR: &str = "/etc/postgresql-common";

/// The environment variables read for unset keys, with the key each one sets (libpq's
/// table, less the keys this client cannot use).
pub const ENV_KEYS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLSNI", "sslsni"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
];

/// Where the resolver reads environment variables: the process ([`ProcessEnv`]) or, in
/// tests, a map.
pub trait Env {
    /// The value of `name`, or `None` when unset or not UTF-8.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A conninfo with the service, environment, defaults and passfile applied.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    /// Every key set, `service` and `passfile` included (they are not sent to the server).
    pub params: BTreeMap<String, String>,
    /// What the passfile or service lookup wants the user to know (a passfile skipped for
    /// its permissions, no matching line): added to a connection error.
    pub notes: Vec<String>,
}

impl Resolved {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

fn home(env: &dyn Env) -> Option<PathBuf> {
    env.var("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

fn set(env: &dyn Env, name: &str) -> Option<String> {
    env.var(name).filter(|v| !v.is_empty())
}

/// Resolves `conninfo` as libpq would (see the module docs): the conninfo's keys, then the
/// service's, then the environment's, then the defaults, then the passfile's password.
pub fn resolve(conninfo: &str, env: &dyn Env) -> Result<Resolved, String> {
    // An explicit empty value is set for libpq: neither the service nor the environment
    // fills it; then it counts as unset (the defaults, the passfile).
    let mut params = BTreeMap::new();
    for (key, value) in parse_conninfo(conninfo).map_err(|e| format!("cannot read the conninfo: {e}"))? {
        params.insert(key, value);
    }
    let mut resolved = Resolved::default();
    let service = match params.get("service") {
        Some(service) => Some(service.clone()).filter(|s| !s.is_empty()),
        None => set(env, "PGSERVICE"),
    };
    if let Some(service) = service {
        params.insert("service".into(), service.clone());
        for (key, value) in service_params(&service, env)? {
            params.entry(key).or_insert(value);
        }
    }
    for (var, key) in ENV_KEYS {
        if !params.contains_key(*key) {
            if let Some(value) = set(env, var) {
                params.insert((*key).to_string(), value);
            }
        }
    }
    params.retain(|_, value| !value.is_empty());
    if !params.contains_key("host") && !params.contains_key("hostaddr") {
        params.insert("host".into(), DEFAULT_SOCKET_DIR.into());
    }
    if !params.contains_key("user") {
        if let Some(user) = set(env, "USER").or_else(|| set(env, "LOGNAME")) {
            params.insert("user".into(), user);
        }
    }
    if !params.contains_key("dbname") {
        if let Some(user) = params.get("user").cloned() {
            params.insert("dbname".into(), user);
        }
    }
    if !params.contains_key("password") {
        let file = params
            .get("passfile")
            .map(PathBuf::from)
            .or_else(|| home(env).map(|h| h.join(".pgpass")));
        if let Some(file) = file {
            match passfile_password(&file, &params) {
                Ok(Some(password)) => {
                    params.insert("password".into(), password);
                }
                Ok(None) => {}
                Err(note) => resolved.notes.push(note),
            }
        }
    }
    resolved.params = params;
    Ok(resolved)
}

/// The keys of service `name`: the user's service file first, then the system's.
fn service_params(name: &str, env: &dyn Env) -> Result<Vec<(String, String)>, String> {
    let user_file = set(env, "PGSERVICEFILE")
        .map(PathBuf::from)
        .or_else(|| home(env).map(|h| h.join(".pg_service.conf")));
    let system_file = Path::new(&set(env, "PGSYSCONFDIR").unwrap_or_else(|| DEFAULT_SYSCONFDIR.into()))
        .join("pg_service.conf");
    let mut looked = Vec::new();
    for file in user_file.into_iter().chain([system_file]) {
        // libpq skips a service file that does not exist.
        let text = match std::fs::read(&file) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                looked.push(format!("{} (absent)", file.display()));
                continue;
            }
            Err(e) => return Err(format!("cannot read the service file {}: {e}", file.display())),
        };
        if let Some(params) =
            parse_service_file(&text, name).map_err(|e| format!("service file {}: {e}", file.display()))?
        {
            return Ok(params);
        }
        looked.push(file.display().to_string());
    }
    Err(format!(
        "definition of service \"{}\" not found (looked in {}); set PGSERVICEFILE or write a [{}] section",
        crate::escape::visible(name),
        looked.join(", "),
        crate::escape::visible(name)
    ))
}

/// The `key=value` lines of section `[name]` of a `pg_service.conf` text, with libpq's
/// rules: leading and trailing whitespace of a line ignored, `#` lines and blank lines
/// skipped, the key everything before the first `=` and the value everything after it;
/// a key that is not a libpq keyword, a line without `=` and a nested `service` are errors
/// (naming the line). `None` when the file has no such section.
pub fn parse_service_file(text: &str, name: &str) -> Result<Option<Vec<(String, String)>>, String> {
    let mut found = false;
    let mut params = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            if found {
                break;
            }
            found = section.strip_suffix(']') == Some(name);
            continue;
        }
        if !found {
            continue;
        }
        let line_no = number + 1;
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("syntax error on line {line_no}: write key=value"));
        };
        if key == "service" {
            return Err(format!(
                "line {line_no}: nested service specifications are not supported"
            ));
        }
        if !LIBPQ_KEYWORDS.contains(&key) {
            return Err(format!(
                "line {line_no}: `{}` is not a libpq connection keyword (write key=value with no spaces around `=`)",
                crate::escape::visible(key)
            ));
        }
        if !params.iter().any(|(k, _)| k == key) {
            params.push((key.to_string(), value.to_string()));
        }
    }
    Ok(found.then_some(params))
}

/// The host name a passfile line is matched against: `localhost` for a Unix socket.
fn passfile_host(params: &BTreeMap<String, String>) -> String {
    let host = params
        .get("host")
        .or_else(|| params.get("hostaddr"))
        .map(|h| h.split(',').next().unwrap_or_default().to_string())
        .unwrap_or_default();
    if host.is_empty() || host.starts_with('/') || host.starts_with('@') {
        "localhost".into()
    } else {
        host
    }
}

/// The password for `params` from passfile `file`, `Ok(None)` when the file is absent or
/// has no matching line, `Err` (a note, not a failure) when the file is skipped.
fn passfile_password(file: &Path, params: &BTreeMap<String, String>) -> Result<Option<String>, String> {
    let meta = match std::fs::metadata(file) {
        Ok(meta) => meta,
        Err(_) => return Ok(None),
    };
    if !meta.is_file() {
        return Err(format!(
            "the password file {} is not a plain file and was not read",
            file.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "the password file {} has group or world access and was not read, as libpq does not read it: permissions should be u=rw (0600) or less (chmod 600 it)",
                file.display()
            ));
        }
    }
    let text = std::fs::read(file)
        .map_err(|e| format!("the password file {} could not be read: {e}", file.display()))?;
    let text = String::from_utf8_lossy(&text);
    let port = params
        .get("port")
        .map(|p| p.split(',').next().unwrap_or_default().to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "5432".into());
    let wanted = [
        passfile_host(params),
        port,
        params.get("dbname").cloned().unwrap_or_default(),
        params.get("user").cloned().unwrap_or_default(),
    ];
    Ok(passfile_lookup(&text, &wanted))
}

/// The password of the first line of a passfile text matching `[host, port, dbname, user]`
/// (libpq's rules: `host:port:database:user:password`, `*` matches anything, `\:` and `\\`
/// stand for `:` and `\`, `#` lines are comments, lines with fewer fields are skipped).
pub fn passfile_lookup(text: &str, wanted: &[String; 4]) -> Option<String> {
    'line: for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut fields: Vec<String> = vec![String::new()];
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => fields.last_mut()?.extend(chars.next()),
                ':' if fields.len() < 5 => fields.push(String::new()),
                // libpq's password ends at the next unescaped `:`.
                ':' => break,
                c => fields.last_mut()?.push(c),
            }
        }
        if fields.len() < 5 {
            continue;
        }
        // A field of `*` written bare is the wildcard; `\*` is a literal star (libpq
        // compares the raw field with "*" before unescaping it).
        let raw: Vec<&str> = split_raw(line);
        for i in 0..4 {
            if raw.get(i) != Some(&"*") && fields[i] != wanted[i] {
                continue 'line;
            }
        }
        return Some(fields.swap_remove(4));
    }
    None
}

/// The first four `:`-separated fields of a passfile line as written (escapes kept).
fn split_raw(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ':' && out.len() < 4 {
            out.push(&line[start..i]);
            start = i + 1;
        }
    }
    out
}

#[cfg(feature = "import-live")]
pub use self::client::{client_config, connect, connect_with};

#[cfg(feature = "import-live")]
mod client {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::Duration;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::client::WebPkiServerVerifier;
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
    use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
    use tokio_postgres_rustls::MakeRustlsConnect;

    use super::{home, Env, ProcessEnv, Resolved};

    /// Keys handed to the Rust client as they are.
    const CLIENT_KEYS: &[&str] = &[
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "options",
        "application_name",
        "connect_timeout",
        "tcp_user_timeout",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "target_session_attrs",
        "channel_binding",
        "load_balance_hosts",
        "sslnegotiation",
    ];

    /// Keys this module reads itself, or that change nothing for this client.
    const OWN_KEYS: &[&str] = &[
        "service",
        "passfile",
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslsni",
        "keepalives_count",
        "fallback_application_name",
        // Compression is gone from PostgreSQL; there is no GSSAPI here, so no Kerberos name.
        "sslcompression",
        "krbsrvname",
        "gsslib",
    ];

    /// Connects through `conninfo` as libpq would ([`super::resolve`] with the process
    /// environment, TLS per `sslmode`). `connect_timeout`, when given, replaces the
    /// conninfo's. The error says why, with the passfile notes, and names no password.
    pub fn connect(conninfo: &str, connect_timeout: Option<Duration>) -> Result<postgres::Client, String> {
        connect_with(conninfo, &ProcessEnv, connect_timeout)
    }

    /// [`connect`] with the environment read from `env`.
    pub fn connect_with(
        conninfo: &str,
        env: &dyn Env,
        connect_timeout: Option<Duration>,
    ) -> Result<postgres::Client, String> {
        let resolved = super::resolve(conninfo, env)?;
        let (mut config, tls) = client_config(&resolved, env)?;
        if let Some(timeout) = connect_timeout {
            config.connect_timeout(timeout);
        }
        config.connect(tls).map_err(|e| {
            let mut message = format!("cannot connect: {}", super::super::with_causes(&e));
            if !resolved.params.contains_key("user") {
                message.push_str(" (no user: set user= in the conninfo, PGUSER, or USER)");
            }
            if !resolved.params.contains_key("password") && message.contains("password") {
                message.push_str(
                    " (no password found: none in the conninfo, PGPASSWORD, the service or a matching passfile line)",
                );
            }
            for note in &resolved.notes {
                message.push_str(&format!(" ({note})"));
            }
            message
        })
    }

    /// The Rust client's configuration and TLS connector for a resolved conninfo.
    pub fn client_config(
        resolved: &Resolved,
        env: &dyn Env,
    ) -> Result<(postgres::Config, MakeRustlsConnect), String> {
        let p = &resolved.params;
        let mut parts = Vec::new();
        for (key, value) in p {
            if CLIENT_KEYS.contains(&key.as_str()) {
                parts.push((key.as_str(), value.as_str()));
            } else if key == "keepalives_count" {
                parts.push(("keepalives_retries", value.as_str()));
            } else if key == "client_encoding" {
                if !matches!(
                    value.to_ascii_lowercase().as_str(),
                    "utf8" | "utf-8" | "unicode" | "auto"
                ) {
                    return Err(
                        "client_encoding: the importer's client speaks UTF8 only; leave it out".into(),
                    );
                }
            } else if key == "gssencmode" {
                if value == "require" {
                    return Err(
                        "gssencmode=require: the importer's client has no GSSAPI encryption; use sslmode"
                            .into(),
                    );
                }
            } else if !OWN_KEYS.contains(&key.as_str()) {
                return Err(format!(
                    "`{}` is not supported by the importer's client (it takes host, hostaddr, port, dbname, user, password, passfile, service, options, application_name, connect_timeout, tcp_user_timeout, keepalives*, target_session_attrs, channel_binding, load_balance_hosts, sslmode, sslnegotiation, sslrootcert, sslcert, sslkey, sslsni)",
                    crate::escape::visible(key)
                ));
            }
        }
        if !p.contains_key("application_name") {
            if let Some(name) = p.get("fallback_application_name") {
                parts.push(("application_name", name.as_str()));
            }
        }
        // A TCP connection by address alone: the address is the name TLS checks.
        if !p.contains_key("host") {
            if let Some(addr) = p.get("hostaddr") {
                parts.push(("host", addr.as_str()));
            }
        }
        let mode = p.get("sslmode").map(String::as_str).unwrap_or("prefer");
        let unix_only = !p.contains_key("hostaddr")
            && p.get("host")
                .is_some_and(|h| h.split(',').all(|h| h.starts_with('/') || h.starts_with('@')));
        let client_mode = match mode {
            _ if unix_only => "disable",
            "disable" => "disable",
            "allow" | "prefer" => "prefer",
            "require" | "verify-ca" | "verify-full" => "require",
            _ => {
                return Err(format!(
                    "sslmode `{}` is not one of disable, allow, prefer, require, verify-ca, verify-full",
                    crate::escape::visible(mode)
                ))
            }
        };
        parts.push(("sslmode", client_mode));
        let text = parts
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::model::conninfo::quoted_value(v)))
            .collect::<Vec<_>>()
            .join(" ");
        let config: postgres::Config = text
            .parse()
            .map_err(|e| format!("cannot use the conninfo: {e}"))?;
        let tls = if client_mode == "disable" {
            // Never used, but the client takes one connector type.
            MakeRustlsConnect::new(tls_config(Verify::None, None, true)?)
        } else {
            tls_connector(resolved, mode, env)?
        };
        Ok((config, tls))
    }

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    enum Verify {
        None,
        Chain(RootCertStore),
        Full(RootCertStore),
    }

    fn default_file(env: &dyn Env, name: &str) -> Option<PathBuf> {
        home(env).map(|h| h.join(".postgresql").join(name))
    }

    fn tls_connector(resolved: &Resolved, mode: &str, env: &dyn Env) -> Result<MakeRustlsConnect, String> {
        let p = &resolved.params;
        let root = p
            .get("sslrootcert")
            .map(PathBuf::from)
            .or_else(|| default_file(env, "root.crt"));
        let verify = if p.get("sslrootcert").is_some_and(|r| r == "system") {
            if mode != "verify-full" {
                return Err(format!(
                    "weak sslmode `{mode}` may not be used with sslrootcert=system (use verify-full)"
                ));
            }
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(
                    "sslrootcert=system: the system has no trusted root certificates that could be read"
                        .into(),
                );
            }
            Verify::Full(roots)
        } else {
            match root.filter(|r| r.exists()) {
                Some(root) => {
                    let roots = read_roots(&root)?;
                    if mode == "verify-full" {
                        Verify::Full(roots)
                    } else {
                        Verify::Chain(roots)
                    }
                }
                None if mode.starts_with("verify") => {
                    return Err(format!(
                        "sslmode={mode}: root certificate file {} does not exist: provide it (sslrootcert=FILE), use the system's roots with sslrootcert=system, or use sslmode=require to leave the server's certificate unchecked",
                        p.get("sslrootcert")
                            .map(|r| crate::escape::visible(r).into_owned())
                            .or_else(|| default_file(env, "root.crt").map(|f| f.display().to_string()))
                            .unwrap_or_else(|| "~/.postgresql/root.crt".into())
                    ))
                }
                None => Verify::None,
            }
        };
        let cert = p
            .get("sslcert")
            .map(PathBuf::from)
            .or_else(|| default_file(env, "postgresql.crt"));
        let client = match cert.filter(|c| c.is_file()) {
            None => None,
            Some(cert) => {
                let key = p
                    .get("sslkey")
                    .map(PathBuf::from)
                    .or_else(|| default_file(env, "postgresql.key"))
                    .ok_or("sslcert without sslkey")?;
                Some(read_client_cert(&cert, &key)?)
            }
        };
        let sni = p.get("sslsni").is_none_or(|s| s != "0");
        Ok(MakeRustlsConnect::new(tls_config(verify, client, sni)?))
    }

    fn read_roots(file: &Path) -> Result<RootCertStore, String> {
        let certs = CertificateDer::pem_file_iter(file)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("cannot read the root certificate file {}: {e}", file.display()))?;
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!(
                "the root certificate file {} holds no usable certificate",
                file.display()
            ));
        }
        Ok(roots)
    }

    type ClientCert = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

    fn read_client_cert(cert: &Path, key: &Path) -> Result<ClientCert, String> {
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("cannot read the client certificate file {}: {e}", cert.display()))?;
        let meta = std::fs::metadata(key).map_err(|e| {
            format!(
                "certificate {} present, but not its private key file {}: {e}",
                cert.display(),
                key.display()
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let mode = meta.permissions().mode();
            let allowed = if meta.uid() == 0 { 0o640 } else { 0o600 };
            if mode & 0o777 & !allowed != 0 {
                return Err(format!(
                    "the private key file {} has group or world access: permissions should be u=rw (0600) or less (u=rw,g=r (0640) if owned by root)",
                    key.display()
                ));
            }
        }
        let _ = meta;
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
            format!("cannot read the private key file {} (an encrypted key, which needs sslpassword, is not supported): {e}", key.display())
        })?;
        Ok((certs, key))
    }

    fn tls_config(
        verify: Verify,
        client: Option<ClientCert>,
        sni: bool,
    ) -> Result<rustls::ClientConfig, String> {
        let provider = provider();
        let verifier: Arc<dyn ServerCertVerifier> = match verify {
            Verify::None => Arc::new(NoVerify(provider.clone())),
            Verify::Chain(roots) => Arc::new(ChainOnly(webpki(roots, &provider)?)),
            Verify::Full(roots) => webpki(roots, &provider)?,
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match client {
            None => builder.with_no_client_auth(),
            Some((certs, key)) => builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("cannot use the client certificate: {e}"))?,
        };
        config.enable_sni = sni;
        // What libpq 17 sends, and what `sslnegotiation=direct` needs.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(config)
    }

    fn webpki(
        roots: RootCertStore,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<WebPkiServerVerifier>, String> {
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("cannot use the root certificates: {e}"))
    }

    /// `sslmode=require` (and `prefer`, `allow`) without a root file: the connection is
    /// encrypted, the certificate not checked; the handshake's signatures still are.
    #[derive(Debug)]
    struct NoVerify(Arc<CryptoProvider>);

    impl ServerCertVerifier for NoVerify {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    /// `verify-ca`: the chain is checked against the roots, the host name is not (webpki
    /// checks the name last, after the chain, so a name mismatch means the chain passed).
    #[derive(Debug)]
    struct ChainOnly(Arc<WebPkiServerVerifier>);

    impl ServerCertVerifier for ChainOnly {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp_response: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            match self
                .0
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            {
                Err(Error::InvalidCertificate(
                    CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
                )) => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.0.verify_tls12_signature(message, cert, dss)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.0.verify_tls13_signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.supported_verify_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("writes");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path.display().to_string()
    }

    fn wanted(h: &str, p: &str, d: &str, u: &str) -> [String; 4] {
        [h.into(), p.into(), d.into(), u.into()]
    }

    #[test]
    fn service_files_are_read_with_libpq_rules() {
        let text = "# comment\n[other]\nhost=x\n\n  [main]  \n  host=db1  \ndbname=a b\nport=5433\nhost=ignored\n[next]\nuser=z\n";
        assert_eq!(
            parse_service_file(text, "main").unwrap(),
            Some(vec![
                ("host".to_string(), "db1".to_string()),
                ("dbname".to_string(), "a b".to_string()),
                ("port".to_string(), "5433".to_string()),
            ])
        );
        assert_eq!(parse_service_file(text, "mai").unwrap(), None);
        assert_eq!(parse_service_file(text, "absent").unwrap(), None);
        let nested = parse_service_file("[s]\nservice=t\n", "s").unwrap_err();
        assert!(nested.contains("line 2") && nested.contains("nested"), "{nested}");
        let spaced = parse_service_file("[s]\nhost = h\n", "s").unwrap_err();
        assert!(
            spaced.contains("line 2") && spaced.contains("`host `"),
            "{spaced}"
        );
        let bare = parse_service_file("[s]\npassword secret\n", "s").unwrap_err();
        assert!(bare.contains("line 2") && !bare.contains("secret"), "{bare}");
    }

    #[test]
    fn passfile_lines_match_with_wildcards_and_escapes() {
        let text = "# h:5432:d:u:comment\nother:*:*:*:no\nh:5432:d:u\n*:5432:d\\:b:u:colon\\:pw\\\\x:rest\nh:*:*:u:first\nh:*:*:u:second\n\\*:1:d:u:star\n";
        assert_eq!(
            passfile_lookup(text, &wanted("h", "5432", "d:b", "u")).as_deref(),
            Some("colon:pw\\x")
        );
        assert_eq!(
            passfile_lookup(text, &wanted("h", "9", "x", "u")).as_deref(),
            Some("first")
        );
        assert_eq!(passfile_lookup(text, &wanted("h", "5432", "d", "v")), None);
        // `\*` is a literal star, not a wildcard.
        assert_eq!(passfile_lookup(text, &wanted("q", "1", "d", "u")), None);
        assert_eq!(
            passfile_lookup(text, &wanted("*", "1", "d", "u")).as_deref(),
            Some("star")
        );
        assert_eq!(
            passfile_lookup("h:1:d:u:\r\n", &wanted("h", "1", "d", "u")).as_deref(),
            Some("")
        );
    }

    #[test]
    fn explicit_keys_beat_the_service_which_beats_the_environment_and_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let services = write(
            dir.path(),
            "services.conf",
            "[main]\nhost=service-host\nport=6000\ndbname=service-db\n",
            0o644,
        );
        let e = env(&[
            ("PGSERVICEFILE", &services),
            ("PGHOST", "env-host"),
            ("PGPORT", "7000"),
            ("PGUSER", "env-user"),
            ("PGSSLMODE", "require"),
            ("USER", "os-user"),
            ("HOME", "/nonexistent"),
        ]);
        let r = resolve("service=main port=5555", &e).unwrap();
        assert_eq!(r.get("host"), Some("service-host"));
        assert_eq!(r.get("port"), Some("5555"));
        assert_eq!(r.get("dbname"), Some("service-db"));
        assert_eq!(r.get("user"), Some("env-user"));
        assert_eq!(r.get("sslmode"), Some("require"));
        // PGSERVICE names the service when the conninfo does not.
        let mut with_service = e.clone();
        with_service.insert("PGSERVICE".into(), "main".into());
        assert_eq!(
            resolve("", &with_service).unwrap().get("host"),
            Some("service-host")
        );
        // Without a service: the environment, then the defaults.
        let r = resolve(
            "dbname=x",
            &env(&[("LOGNAME", "logname"), ("HOME", "/nonexistent")]),
        )
        .unwrap();
        assert_eq!(r.get("host"), Some(DEFAULT_SOCKET_DIR));
        assert_eq!(r.get("user"), Some("logname"));
        assert_eq!(r.get("dbname"), Some("x"));
        let r = resolve("user=u", &env(&[("PGHOST", "h")])).unwrap();
        assert_eq!((r.get("host"), r.get("dbname")), (Some("h"), Some("u")));
        // An explicit empty value keeps the service's and the environment's out, then
        // gets the default, as in libpq.
        let r = resolve(
            "user=u host='' port=''",
            &env(&[("PGHOST", "h"), ("PGPORT", "1")]),
        )
        .unwrap();
        assert_eq!((r.get("host"), r.get("port")), (Some(DEFAULT_SOCKET_DIR), None));
        let r = resolve("service=main dbname=''", &e).unwrap();
        assert_eq!(
            (r.get("host"), r.get("dbname")),
            (Some("service-host"), Some("env-user"))
        );
    }

    #[test]
    fn a_missing_service_is_an_error_naming_the_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let services = write(dir.path(), "s.conf", "[other]\nhost=h\n", 0o600);
        let e = env(&[
            ("PGSERVICEFILE", &services),
            ("PGSYSCONFDIR", &dir.path().join("etc").display().to_string()),
        ]);
        let err = resolve("service=main", &e).unwrap_err();
        assert!(
            err.contains("\"main\" not found") && err.contains(&services),
            "{err}"
        );
        // The system file is read when the user's has no such service.
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        write(
            &dir.path().join("etc"),
            "pg_service.conf",
            "[main]\nhost=system\n",
            0o644,
        );
        assert_eq!(resolve("service=main", &e).unwrap().get("host"), Some("system"));
    }

    #[test]
    fn the_passfile_gives_the_password_unless_others_can_read_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = "localhost:5432:db:alice:sock-pw\n127.0.0.1:5433:*:alice:tcp-pw\n";
        let private = write(dir.path(), "private", text, 0o600);
        let open = write(dir.path(), "open", text, 0o644);
        let e = env(&[("PGPASSFILE", &private), ("PGUSER", "alice")]);
        // A Unix socket matches `localhost`.
        let r = resolve("host=/tmp dbname=db", &e).unwrap();
        assert_eq!(r.get("password"), Some("sock-pw"));
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        let r = resolve("host=127.0.0.1 port=5433 dbname=db", &e).unwrap();
        assert_eq!(r.get("password"), Some("tcp-pw"));
        // An explicit password wins over the file; an explicit passfile over PGPASSFILE.
        let r = resolve("host=/tmp dbname=db password=given", &e).unwrap();
        assert_eq!(r.get("password"), Some("given"));
        let r = resolve(&format!("host=/tmp dbname=db passfile={open}"), &e).unwrap();
        assert_eq!(r.get("password"), None);
        assert_eq!(r.notes.len(), 1);
        assert!(
            r.notes[0].contains("group or world access") && r.notes[0].contains(&open),
            "{:?}",
            r.notes
        );
        assert!(
            !r.notes[0].contains("sock-pw") && !r.notes[0].contains("tcp-pw"),
            "{:?}",
            r.notes
        );
        // ~/.pgpass without PGPASSFILE.
        write(dir.path(), ".pgpass", "*:*:*:*:home-pw\n", 0o600);
        let home = dir.path().display().to_string();
        let r = resolve("host=h user=bob", &env(&[("HOME", &home)])).unwrap();
        assert_eq!(r.get("password"), Some("home-pw"));
    }

    #[cfg(feature = "import-live")]
    #[test]
    fn client_configs_refuse_what_they_cannot_honour() {
        let e = env(&[("HOME", "/nonexistent"), ("USER", "u")]);
        let config = |conninfo: &str| {
            let resolved = resolve(conninfo, &e).unwrap();
            client_config(&resolved, &e).map(|(c, _)| c)
        };
        let err = config("host=h sslmode=bogus password=hidden").unwrap_err();
        assert!(
            err.contains("sslmode `bogus`") && !err.contains("hidden"),
            "{err}"
        );
        let err = config("host=h sslmode=verify-full").unwrap_err();
        assert!(
            err.contains("root certificate file") && err.contains("/nonexistent/.postgresql/root.crt"),
            "{err}"
        );
        let err = config("host=h sslmode=require sslrootcert=system").unwrap_err();
        assert!(err.contains("verify-full"), "{err}");
        let err = config("host=h requirepeer=postgres").unwrap_err();
        assert!(err.contains("`requirepeer` is not supported"), "{err}");
        // sslmode is ignored on a Unix socket, as libpq ignores it.
        let c = config("host=/tmp sslmode=verify-full").unwrap();
        assert_eq!(c.get_ssl_mode(), postgres::config::SslMode::Disable);
        let c = config("host=h sslmode=require keepalives_count=3 fallback_application_name=f").unwrap();
        assert_eq!(c.get_ssl_mode(), postgres::config::SslMode::Require);
        assert_eq!(c.get_application_name(), Some("f"));
        let c = config("hostaddr=127.0.0.1").unwrap();
        assert_eq!(c.get_ssl_mode(), postgres::config::SslMode::Prefer);
        assert_eq!(c.get_user(), Some("u"));
    }
}
