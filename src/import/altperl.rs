//! `slonik-gen import altperl FILE`: altperl's `slon_tools.conf` as a slonik-gen config.
//!
//! The file is Perl code, so it is evaluated by the system `perl` through a small embedded
//! driver (`altperl_driver.pl`) that records every `add_node` call and dumps `$CLUSTER_NAME`,
//! `$MASTERNODE`, `$SLONY_SETS` and what `start_slon` reads (`$PIDFILE_DIR`,
//! `$PIDFILE_PREFIX`, `$LOGDIR`, `$SYNC_CHECK_INTERVAL`, `$DEBUGLEVEL`, ...) as JSON.
//! Everything after that is decided here, in Rust, with altperl's meaning:
//!
//! * names without a dot are in `public` (altperl's `ensure_namespace`), `foldCase`
//!   lower-cases, and the result is read the way Slony-I reads it ([`super::names`]);
//! * `parent` becomes the node's `provider`; `noforward` means "do not forward" only when it
//!   is exactly the string `"yes"` (altperl's `slonik_subscribe_set` compares with `eq "yes"`);
//! * a set's `origin` wins over `$MASTERNODE`, which becomes `default_origin`;
//! * `pkeyedtables` get ids from the set's `table_id` upwards in list order, then
//!   `keyedtables` in sorted name order (altperl uses Perl's random hash order), sequences
//!   from `sequence_id`;
//! * slon_tools.conf says nothing about subscriptions, so every node subscribes to every
//!   set whose origin it is not (altperl's `slonik_subscribe_set` can subscribe any node);
//! * each node's slon gets the settings altperl's `start_slon` ran it with (`[daemon]`,
//!   `[slon]`, `[node.slon]`, from `options` and `config => FILE` too): see `altperl/slon.rs`.
//!
//! Each of those decisions that is not obvious from the output is written as a note.
//!
//! The config is hostile text like any other: notes and messages quote it with
//! [`visible`] (and [`redact_secrets`]), what it prints reaches stderr with its control
//! characters escaped, and a control character in a value that lands in a config field (the
//! cluster name, a node's host, dbname, user, password or sslmode, a set name, a table or
//! index name) fails the import, naming the file, the line and the item, since no config
//! may hold one. Values that are only noted (`$LOGDIR` with a control character, options
//! that cannot be read, ...) are escaped.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};

mod slon;

use super::names::altperl_name;
use super::ImportError;
use crate::escape::visible;
use crate::model::config::{ConfigFile, NodeConfig, SetConfig, SetRef, SubscriptionConfig, TableEntry};
use crate::model::conninfo::redact_secrets;
use crate::model::ids::{NodeId, SetId, MAX_ID};
use crate::model::Cluster;
use crate::version::SlonyVersion;
use slon::SlonNode;

/// The Perl driver, run with `perl -e`.
const DRIVER: &str = include_str!("altperl_driver.pl");

/// How to run an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltperlOptions {
    /// The perl to run: `$SLONIK_GEN_PERL`, else `perl` from `PATH`.
    pub perl: PathBuf,
    /// Environment changes for the perl process (`SLONYNODES`, ...): `None` removes a variable.
    /// Everything else is inherited, as when altperl runs.
    pub env: Vec<(OsString, Option<OsString>)>,
    /// The `slony_version` written into the imported config.
    pub slony_version: SlonyVersion,
    /// Schemas to rename (`public` → `geekdb`): what the scenario's operator did with `sed`,
    /// done on names instead of on script text.
    pub schema_map: BTreeMap<String, String>,
}

impl Default for AltperlOptions {
    fn default() -> Self {
        AltperlOptions {
            perl: std::env::var_os("SLONIK_GEN_PERL")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("perl")),
            env: Vec::new(),
            slony_version: SlonyVersion::default(),
            schema_map: BTreeMap::new(),
        }
    }
}

/// An imported config.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The file as the user named it.
    pub source: PathBuf,
    /// The config.
    pub config: ConfigFile,
    /// The validated cluster it describes.
    pub cluster: Cluster,
    /// Decisions and warnings, one per entry, written as `#` comments by [`Imported::to_toml`].
    pub notes: Vec<String>,
    /// What the config itself printed while perl evaluated it (its stdout and stderr).
    pub perl_output: String,
}

impl Imported {
    /// The notes block on top of the imported config.
    fn header(&self) -> String {
        let mut out = format!(
            "# Imported by `slonik-gen import altperl` from {}.\n",
            crate::escape::toml::comment(&self.source.display().to_string())
        );
        if !self.notes.is_empty() {
            out.push_str("#\n# Notes on the import:\n");
            for note in &self.notes {
                out.push_str(&crate::escape::toml::bullet(note, 92));
            }
        }
        out.push('\n');
        out
    }

    /// The config as TOML in the compact form ([`crate::config_writer::compact_file`]),
    /// every table inline, with the notes as a `#` comment block on top.
    pub fn to_toml(&self) -> String {
        self.written(crate::config_writer::Lists::Inline).text
    }

    /// The config as [`Imported::to_toml`] writes it, with the tables of big sets in list
    /// files beside the config when `lists` allows it.
    pub fn written(&self, lists: crate::config_writer::Lists<'_>) -> crate::config_writer::Written {
        let mut written = crate::config_writer::compact_file(&self.config, &self.cluster, lists);
        written.text.insert_str(0, &self.header());
        written
    }
}

/// Reads a `slon_tools.conf` (evaluating it with perl) and returns the equivalent config.
pub fn import_altperl(path: &Path, options: &AltperlOptions) -> Result<Imported, ImportError> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let config_error = |message: String| ImportError::Config {
        path: path.to_path_buf(),
        line: None,
        message,
    };
    if let Err(e) = std::fs::metadata(&absolute) {
        return Err(config_error(format!("cannot read the file: {e}")));
    }
    let mut command = Command::new(&options.perl);
    command.arg("-e").arg(DRIVER).arg(&absolute);
    for (key, value) in &options.env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let output = command.output().map_err(|source| ImportError::PerlNotRun {
        perl: options.perl.clone(),
        path: path.to_path_buf(),
        source,
    })?;
    let perl_output = shown_output(&String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dump: Value = serde_json::from_str(stdout.trim()).map_err(|_| {
        config_error(format!(
            "perl ended ({}) without evaluating the config to the end{}; does the config call `exit`?",
            output.status,
            if perl_output.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", perl_output.trim().replace('\n', " | "))
            }
        ))
    })?;
    let mut reader = Reader {
        paths: Paths {
            source: path,
            absolute: &absolute,
        },
        notes: Vec::new(),
        slon_nodes: Vec::new(),
    };
    if let Some(error) = dump.get("error") {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("unknown error");
        let die_site = error.get("file").and_then(Value::as_str).zip(
            error
                .get("line")
                .and_then(Value::as_u64)
                .and_then(|l| u32::try_from(l).ok()),
        );
        return Err(reader.paths.perl_error(message, die_site));
    }
    let config = reader.config(&dump, options)?;
    let cluster = crate::validate::validate(&config).map_err(|problems| ImportError::Invalid {
        path: path.to_path_buf(),
        problems,
        hint: "(table and sequence ids come from each set's table_id and sequence_id in $SLONY_SETS, providers from add_node's parent, subscriptions are assumed for every node: fix the slon_tools.conf)".into(),
    })?;
    Ok(Imported {
        source: path.to_path_buf(),
        config,
        cluster,
        notes: reader.notes,
        perl_output,
    })
}

/// Turns the driver's JSON into a config, collecting notes.
struct Reader<'a> {
    paths: Paths<'a>,
    notes: Vec<String>,
    /// What start_slon needs of each node, in add_node order.
    slon_nodes: Vec<SlonNode>,
}

/// The imported file, for messages.
#[derive(Clone, Copy)]
struct Paths<'a> {
    source: &'a Path,
    absolute: &'a Path,
}

impl Paths<'_> {
    /// A file as the user knows it: the config by the name they gave, files next to it
    /// relative to that name's directory.
    fn display_path(&self, file: &str) -> PathBuf {
        let file = Path::new(file);
        if file == self.absolute {
            return self.source.to_path_buf();
        }
        let beside = self
            .absolute
            .parent()
            .and_then(|dir| file.strip_prefix(dir).ok())
            .zip(self.source.parent());
        match beside {
            Some((relative, shown_dir)) => shown_dir.join(relative),
            None => file.to_path_buf(),
        }
    }

    /// An error at `file:line`; `message` is shown with passwords redacted and control
    /// characters escaped (it quotes the config).
    fn error_at(&self, file: Option<&str>, line: Option<u32>, message: String) -> ImportError {
        self.error_with_hint(file, line, &message, "")
    }

    /// [`Paths::error_at`] followed by a hint of ours (which may hold line breaks).
    fn error_with_hint(
        &self,
        file: Option<&str>,
        line: Option<u32>,
        message: &str,
        hint: &str,
    ) -> ImportError {
        ImportError::Config {
            path: file.map_or_else(|| self.source.to_path_buf(), |f| self.display_path(f)),
            line,
            message: format!("{}{hint}", visible(&redact_secrets(message))),
        }
    }

    /// A Perl `die` or compile error: the first `at FILE line N` is where it happened, else
    /// the site the driver saw the `die` at (a message ending in a newline has no location).
    fn perl_error(&self, message: &str, die_site: Option<(&str, u32)>) -> ImportError {
        let message = message.trim();
        let mut message = message.to_string();
        let mut hint = "";
        if let Some(start) = message.find(" (@INC contains: ") {
            if let Some(len) = message[start..].find(')') {
                message.replace_range(start..start + len + 1, "");
            }
            hint = "\n(perl looks a relative `require` up in @INC, which has no `.` since Perl 5.26, under altperl too: require an absolute path, e.g. `use File::Basename; my $dir = dirname(__FILE__); require \"$dir/file.pl\";`)";
        }
        let message = message.as_str();
        let location = perl_location(message).or_else(|| die_site.map(|(f, l)| (f.to_string(), l)));
        let text = format!(
            "perl stopped evaluating the config: {}",
            self.shown_paths_in(message)
        );
        match location {
            Some((file, line)) => self.error_with_hint(Some(&file), Some(line), &text, hint),
            None => self.error_with_hint(None, None, &text, hint),
        }
    }

    /// A Perl message with the config's absolute path (and its directory's) written the
    /// way the user named them.
    fn shown_paths_in(&self, message: &str) -> String {
        let mut text = message.replace(
            &self.absolute.display().to_string(),
            &self.source.display().to_string(),
        );
        if let (Some(dir), Some(shown)) = (self.absolute.parent(), self.source.parent()) {
            let shown = shown.display().to_string();
            let shown = if shown.is_empty() {
                shown
            } else {
                format!("{shown}/")
            };
            text = text.replace(&format!("{}/", dir.display()), &shown);
        }
        text
    }
}

impl Reader<'_> {
    fn error_at(&self, file: Option<&str>, line: Option<u32>, message: String) -> ImportError {
        self.paths.error_at(file, line, message)
    }

    /// Records a note, passwords redacted and control characters escaped (notes quote the
    /// config).
    fn note(&mut self, text: String) {
        self.notes.push(visible(&redact_secrets(&text)).into_owned());
    }

    fn config(&mut self, dump: &Value, options: &AltperlOptions) -> Result<ConfigFile, ImportError> {
        let cluster = match dump.get("cluster_name").and_then(scalar_text) {
            Some(name) if !name.is_empty() => {
                refuse_control("$CLUSTER_NAME", &name, false).map_err(|m| self.error_at(None, None, m))?;
                name
            }
            _ => {
                return Err(self.error_at(
                    None,
                    None,
                    "the config sets no $CLUSTER_NAME: add `$CLUSTER_NAME = 'name';`".into(),
                ))
            }
        };
        if dump.get("direct_set").and_then(Value::as_bool) == Some(true) {
            return Err(self.error_at(None, None, "the config assigns $TABLE_ID, $SET_ID, @PKEYEDTABLES or @SEQUENCES directly (the old $SLONYSET style); slonik-gen reads sets from $SLONY_SETS only: describe the set there".into()));
        }
        let nodes = self.nodes(dump.get("nodes"))?;
        let default_origin = match dump.get("master_node") {
            Some(v) if perl_truthy(v) => {
                Some(NodeId(positive_id(v).map_err(|e| {
                    self.error_at(None, None, format!("$MASTERNODE {e}"))
                })?))
            }
            _ => {
                self.note("$MASTERNODE is not set: the lowest node id is the default origin".into());
                None
            }
        };
        let mut nodes = nodes;
        let (slon, daemon) = self.slon(dump, &cluster, &mut nodes)?;
        let sets = self.sets(dump.get("sets"), &options.schema_map)?;
        if !options.schema_map.is_empty() {
            let mapped: Vec<String> = options
                .schema_map
                .iter()
                .map(|(from, to)| format!("{from} -> {to}"))
                .collect();
            self.note(format!(
                "schemas renamed as asked (--map-schema): {}",
                mapped.join(", ")
            ));
        }
        let subscriptions = assumed_subscriptions(&nodes, &sets, default_origin);
        if !subscriptions.is_empty() {
            self.note(
                "slon_tools.conf does not say which node subscribes to which set: every node subscribes to every set it is not the origin of, from its `parent` (else the origin). Remove the [[subscription]] entries that do not exist, or use `slonik-gen import cluster` to read the real ones from a running cluster."
                    .into(),
            );
        }
        Ok(ConfigFile {
            cluster,
            slony_version: options.slony_version,
            default_origin,
            wait_timeout: crate::model::config::default_wait_timeout(),
            slon,
            daemon,
            nodes,
            sets,
            subscriptions,
            paths: Vec::new(),
        })
    }

    fn nodes(&mut self, calls: Option<&Value>) -> Result<Vec<NodeConfig>, ImportError> {
        let calls = calls
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if calls.is_empty() {
            return Err(self.error_at(None, None, "the config calls add_node for no node (is the add_node part inside an `if ($ENV{...})` whose variable is not set here?): add one add_node(...) per node".into()));
        }
        let mut nodes: Vec<NodeConfig> = Vec::new();
        let mut seen: BTreeMap<NodeId, u32> = BTreeMap::new();
        for call in calls {
            let file = call
                .get("file")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let line = call
                .get("line")
                .and_then(Value::as_u64)
                .and_then(|l| u32::try_from(l).ok());
            let paths = self.paths;
            let at = |message: String| paths.error_at(Some(&file), line, format!("add_node: {message}"));
            let field = |key: &str| call.get(key).and_then(scalar_text);
            let id = NodeId(
                positive_id(call.get("node").unwrap_or(&Value::Null)).map_err(|e| at(format!("node {e}")))?,
            );
            if let Some(first) = seen.insert(id, line.unwrap_or(0)) {
                return Err(at(format!(
                    "node {id} is added a second time (first at line {first}); altperl would print two admin conninfo lines for it, which slonik rejects: keep one add_node per node"
                )));
            }
            let shown = self.paths.display_path(&file);
            let place = match line {
                Some(line) => format!("add_node for node {id} ({}:{line})", shown.display()),
                None => format!("add_node for node {id}"),
            };
            let port = match call.get("port").and_then(scalar_text) {
                Some(text) => Some(
                    text.trim()
                        .parse::<u16>()
                        .map_err(|_| at(format!("port `{text}` of node {id} is not a port number")))?,
                ),
                None => None,
            };
            let provider = match call.get("parent") {
                Some(v) if perl_truthy(v) => Some(NodeId(
                    positive_id(v).map_err(|e| at(format!("parent of node {id} {e}")))?,
                )),
                _ => None,
            };
            let noforward = call.get("noforward").filter(|v| perl_truthy(v));
            let forward = match noforward.and_then(scalar_text) {
                Some(text) if text == "yes" => false,
                Some(text) => {
                    self.note(format!(
                        "{place}: noforward => '{text}' has no effect in altperl (slonik_subscribe_set only honours the exact string \"yes\"), so node {id} keeps forward = true as under altperl; set `forward = false` on the node if it must not forward"
                    ));
                    true
                }
                None => true,
            };
            if field("password").is_some() {
                self.note(format!(
                    "{place}: the password is imported as `password`, so it appears in every script header and in sl_path, as with altperl; prefer `passfile` (a pgpass file) or `service`"
                ));
            }
            self.slon_nodes.push(SlonNode {
                id,
                place: place.clone(),
                file: file.clone(),
                line,
                dsn: field("dsn").unwrap_or_default(),
                options: field("options"),
                config: field("config"),
            });
            let unknown: Vec<String> = call
                .get("unknown_keys")
                .and_then(Value::as_array)
                .map(|keys| keys.iter().filter_map(scalar_text).collect())
                .unwrap_or_default();
            if !unknown.is_empty() {
                self.note(unknown_keys_note(&place, &unknown));
            }
            for key in ["host", "dbname", "user", "password", "sslmode"] {
                if let Some(value) = field(key) {
                    refuse_control(&format!("{key} of node {id}"), &value, key == "password").map_err(at)?;
                }
            }
            let host = field("host");
            let dbname = field("dbname");
            nodes.push(NodeConfig {
                id,
                name: None,
                // altperl's comment for `init cluster` and `store node`.
                comment: Some(format!(
                    "Node {id} - {}@{}",
                    dbname.clone().unwrap_or_default(),
                    host.clone().unwrap_or_default()
                )),
                service: None,
                host,
                port,
                dbname,
                user: field("user").filter(|u| !u.is_empty()),
                password: field("password"),
                passfile: None,
                sslmode: field("sslmode"),
                options: BTreeMap::new(),
                path: None,
                provider,
                forward,
                failed: false,
                dropped: false,
                slon_start: None,
                slon_stop: None,
                slon: Default::default(),
                daemon: Default::default(),
            });
        }
        Ok(nodes)
    }

    fn sets(
        &mut self,
        sets: Option<&Value>,
        schema_map: &BTreeMap<String, String>,
    ) -> Result<Vec<SetConfig>, ImportError> {
        let sets = match sets {
            None | Some(Value::Null) => {
                self.note("the config defines no $SLONY_SETS: no sets imported".into());
                return Ok(Vec::new());
            }
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(self.error_at(
                    None,
                    None,
                    "$SLONY_SETS must be a hash reference: $SLONY_SETS = { \"set1\" => { ... } };".into(),
                ))
            }
        };
        let mut out: Vec<SetConfig> = Vec::new();
        for (name, body) in sets {
            out.push(self.set(name, body, schema_map)?);
        }
        out.sort_by_key(|s| s.id);
        for pair in out.windows(2) {
            if pair[0].id == pair[1].id {
                return Err(self.error_at(None, None, format!(
                    "$SLONY_SETS entries `{}` and `{}` both have set_id {}: altperl picks one of them at random when a set is named by number; give each set its own set_id",
                    pair[0].name.clone().unwrap_or_default(),
                    pair[1].name.clone().unwrap_or_default(),
                    pair[0].id
                )));
            }
        }
        Ok(out)
    }

    fn set(
        &mut self,
        name: &str,
        body: &Value,
        schema_map: &BTreeMap<String, String>,
    ) -> Result<SetConfig, ImportError> {
        let what = format!("$SLONY_SETS->{{\"{name}\"}}");
        let paths = self.paths;
        let fail = |message: String| paths.error_at(None, None, format!("{what}: {message}"));
        refuse_control("the set name", name, false).map_err(&fail)?;
        let Value::Object(body) = body else {
            return Err(fail(
                "must be a hash reference: \"name\" => { \"set_id\" => 1, ... }".into(),
            ));
        };
        const KNOWN: [&str; 9] = [
            "set_id",
            "origin",
            "foldCase",
            "table_id",
            "sequence_id",
            "pkeyedtables",
            "keyedtables",
            "sequences",
            "serialtables",
        ];
        let set_id = positive_id(body.get("set_id").unwrap_or(&Value::Null))
            .map_err(|e| fail(format!("set_id {e}; altperl cannot use a set without one")))?;
        let origin = match body.get("origin") {
            Some(v) if perl_truthy(v) => {
                Some(NodeId(positive_id(v).map_err(|e| fail(format!("origin {e}")))?))
            }
            _ => None,
        };
        let first_id = |key: &str| -> Result<u32, ImportError> {
            match body.get(key) {
                Some(v) if perl_truthy(v) => positive_id(v)
                    .or_else(|e| {
                        if perl_number(v).is_some_and(|n| n < 1.0) {
                            Ok(1)
                        } else {
                            Err(e)
                        }
                    })
                    .map_err(|e| fail(format!("{key} {e}"))),
                // altperl: `$TABLE_ID = 1 if $TABLE_ID < 1;`
                _ => Ok(1),
            }
        };
        let table_id = first_id("table_id")?;
        let sequence_id = first_id("sequence_id")?;
        let fold_case = body.get("foldCase").is_some_and(perl_truthy);
        if body
            .get("serialtables")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            return Err(fail("lists serialtables: Slony-I 2 no longer supports keys generated by Slony (altperl refuses them too); give those tables a primary key and list them in pkeyedtables".into()));
        }
        let unknown: Vec<&str> = body
            .keys()
            .map(String::as_str)
            .filter(|k| !KNOWN.contains(k))
            .collect();
        if !unknown.is_empty() {
            self.note(unknown_keys_note(&what, &unknown));
        }
        let entry = |text: &str, id: u32, key: Option<String>| -> Result<TableEntry, ImportError> {
            refuse_control("a table or sequence name", text, false).map_err(&fail)?;
            if let Some(key) = &key {
                refuse_control(&format!("the index name of `{text}`"), key, false).map_err(&fail)?;
            }
            let mut qname = altperl_name(text, fold_case).map_err(&fail)?;
            if let Some(to) = schema_map.get(&qname.schema) {
                qname.schema = to.clone();
            }
            Ok(TableEntry {
                schema: Some(qname.schema),
                name: qname.name,
                id: Some(id),
                key,
                comment: None,
            })
        };
        let mut tables = Vec::new();
        let mut next = table_id;
        for text in string_list(body.get("pkeyedtables")).map_err(|e| fail(format!("pkeyedtables {e}")))? {
            tables.push(entry(&text, next, None)?);
            next = next.saturating_add(1);
        }
        let keyed = string_map(body.get("keyedtables")).map_err(|e| fail(format!("keyedtables {e}")))?;
        if keyed.len() > 1 {
            let ids: Vec<String> = keyed
                .keys()
                .zip(next..)
                .map(|(table, id)| format!("{table} = {id}"))
                .collect();
            self.note(format!(
                "set {set_id} ({name}): keyedtables is a Perl hash, so altperl numbers those tables in a random order that changes from run to run; here they get ids in sorted name order ({}). If the set already exists, compare with sl_table (`slonik-gen import cluster`).",
                ids.join(", ")
            ));
        }
        for (text, key) in keyed {
            if key.is_empty() {
                return Err(fail(format!("keyedtables: table `{text}` has no index name")));
            }
            tables.push(entry(&text, next, Some(key))?);
            next = next.saturating_add(1);
        }
        let mut sequences = Vec::new();
        for (text, id) in string_list(body.get("sequences"))
            .map_err(|e| fail(format!("sequences {e}")))?
            .into_iter()
            .zip(sequence_id..)
        {
            sequences.push(entry(&text, id, None)?);
        }
        Ok(SetConfig {
            id: SetId(set_id),
            name: Some(name.to_string()),
            origin,
            comment: None,
            tables,
            sequences,
            ..SetConfig::default()
        })
    }
}

/// Every node subscribes to every set it is not the origin of (provider and forwarding
/// come from the node: `parent` and `noforward`).
fn assumed_subscriptions(
    nodes: &[NodeConfig],
    sets: &[SetConfig],
    default_origin: Option<NodeId>,
) -> Vec<SubscriptionConfig> {
    let fallback_origin = default_origin.or_else(|| nodes.iter().map(|n| n.id).min());
    let mut ids: Vec<NodeId> = nodes.iter().map(|n| n.id).collect();
    ids.sort();
    let mut out = Vec::new();
    for set in sets {
        let origin = set.origin.or(fallback_origin);
        for &receiver in &ids {
            if Some(receiver) != origin {
                out.push(SubscriptionConfig {
                    set: SetRef::Name(set.name.clone().unwrap_or_else(|| format!("set{}", set.id))),
                    receiver,
                    provider: None,
                    forward: None,
                });
            }
        }
    }
    out
}

/// Refuses a config value holding a control character, which no config may hold; the
/// message names `what`, and quotes the value (escaped) unless it is `secret`.
fn refuse_control(what: &str, value: &str, secret: bool) -> Result<(), String> {
    match crate::escape::control_character(value) {
        None => Ok(()),
        Some((at, c)) => Err(format!(
            "{what}{} holds the control character {} at byte {at}, which no slonik-gen config may hold: remove it from the slon_tools.conf",
            if secret {
                String::new()
            } else {
                format!(" (`{}`)", visible(value))
            },
            crate::escape::describe_control(c)
        )),
    }
}

/// What perl printed, for the terminal: every line with its control characters escaped
/// and passwords redacted.
fn shown_output(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let (body, end) = match line.strip_suffix('\n') {
                Some(body) => (body, "\n"),
                None => (line, ""),
            };
            format!("{}{end}", visible(&redact_secrets(body)))
        })
        .collect()
}

/// The first `at FILE line N` of a Perl message.
fn perl_location(message: &str) -> Option<(String, u32)> {
    let mut rest = message;
    while let Some(at) = rest.find(" at ") {
        let after = &rest[at + 4..];
        if let Some(pos) = after.find(" line ") {
            let file = &after[..pos];
            let digits: String = after[pos + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !file.contains('\n') && !digits.is_empty() {
                if let Ok(line) = digits.parse() {
                    return Some((file.to_string(), line));
                }
            }
        }
        rest = after;
    }
    None
}

/// A Perl scalar as text (numbers as Perl prints them); `None` for undef and references.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1".into() } else { String::new() }),
        _ => None,
    }
}

/// Perl's truth: undef, `""`, `"0"` and 0 are false.
fn perl_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty() && s != "0",
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn perl_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A slonik id: an integer from 1 to 2^31-1, written as a number or a string of digits.
fn positive_id(value: &Value) -> Result<u32, String> {
    let text = scalar_text(value).unwrap_or_default();
    match text.trim().parse::<u64>() {
        Ok(id) if (1..=u64::from(MAX_ID)).contains(&id) => Ok(id as u32),
        _ if value.is_null() => Err("is not set".into()),
        _ => Err(format!("`{text}` is not an id (an integer from 1 to {MAX_ID})")),
    }
}

fn string_list(value: Option<&Value>) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| scalar_text(v).ok_or_else(|| "must list names (strings)".to_string()))
            .collect(),
        Some(_) => Err("must be a list: [\"schema.table\", ...]".into()),
    }
}

fn string_map(value: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map_strings(map),
        Some(_) => Err("must be a hash: { \"schema.table\" => \"index_name\", ... }".into()),
    }
}

fn map_strings(map: &Map<String, Value>) -> Result<BTreeMap<String, String>, String> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), scalar_text(v).unwrap_or_default())))
        .collect()
}

/// The note for keys altperl would silently ignore (on an `add_node` call or a set).
fn unknown_keys_note(place: &str, unknown: &[impl AsRef<str>]) -> String {
    let (plural, pronoun) = if unknown.len() == 1 {
        ("", "it")
    } else {
        ("s", "them")
    };
    let keys = unknown
        .iter()
        .map(|k| format!("`{}`", k.as_ref()))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{place}: unknown key{plural} {keys} ignored, as altperl ignores {pronoun}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn perl_truth_matches_perl() {
        for falsy in [json!(null), json!(""), json!("0"), json!(0), json!(0.0)] {
            assert!(!perl_truthy(&falsy), "{falsy}");
        }
        for truthy in [json!("yes"), json!("0.0"), json!(1), json!("00"), json!([])] {
            assert!(perl_truthy(&truthy), "{truthy}");
        }
    }

    #[test]
    fn ids_accept_numbers_and_digit_strings_only() {
        assert_eq!(positive_id(&json!(3)), Ok(3));
        assert_eq!(positive_id(&json!("12")), Ok(12));
        assert!(positive_id(&json!("node1")).unwrap_err().contains("not an id"));
        assert!(positive_id(&json!(0)).is_err());
        assert_eq!(positive_id(&json!(null)), Err("is not set".into()));
    }

    #[test]
    fn finds_the_first_perl_location() {
        let msg = "Can't locate x.pl in @INC at /etc/a.conf line 3.\nCompilation failed in require at /etc/b.conf line 9.";
        assert_eq!(perl_location(msg), Some(("/etc/a.conf".into(), 3)));
        assert_eq!(
            perl_location("syntax error at /tmp/x.conf line 12, near \"= ;\""),
            Some(("/tmp/x.conf".into(), 12))
        );
        assert_eq!(perl_location("no location here"), None);
    }
}
