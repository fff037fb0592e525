//! How altperl ran each node's slon, as `[slon]`, `[node.slon]`, `[daemon]` and a node's
//! `path`: what `start_slon` in slon-tools.pm (called by `slon_start` and the watchdogs)
//! puts on slon's command line.
//!
//! `start_slon` runs, for a node without `config`,
//! `slon -p $PIDFILE_DIR/${PIDFILE_PREFIX}_node$N.pid -s $SYNC_CHECK_INTERVAL -d$DEBUGLEVEL
//! $OPTIONS[N] $CLUSTER_NAME 'DSN'` (defaults, by Perl's `||=`: 1000, 0,
//! `/var/run/slony1`, the cluster name), and for a node with `config => FILE`
//! `slon -p PIDFILE -f FILE` (no `-s`, `-d` or options: slon's own defaults apply to what
//! the file leaves out). slon applies its options in command-line order, a later one
//! replacing an earlier one, a `-f` file's settings at the place of the `-f`, and the
//! cluster name and conninfo arguments last. Output goes to
//! `$LOGDIR/node$N/$dbname-<date>.log` (or through `$APACHE_ROTATOR`).
//!
//! So the import replays that order per node: the effective settings are the pid file,
//! `-s`/`-d` (without `config`), then each option or file setting in turn; the
//! cluster-wide `[slon]` holds what every node without `config` got (`-s`, `-d`), and a
//! node's `[node.slon]` what differs from it (for a `config` node, slon's own default for
//! a `[slon]` key its file does not set).
//!
//! A relative `config` path is read relative to the current directory of the import:
//! slon_start runs slon in the directory it was started from and passes the path as
//! given, so the directory the operator runs commands from is the best stand-in; a note
//! says so.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{perl_truthy, refuse_control, scalar_text, Reader};
use crate::escape::visible;
use crate::import::slon_conf;
use crate::import::ImportError;
use crate::model::config::{DaemonConfig, NodeConfig, SlonOptions, SlonValue};
use crate::model::conninfo::{is_secret_key, parse_conninfo, ConnectionParts};
use crate::model::ids::NodeId;

/// altperl's defaults in `start_slon` and `get_pid`.
const DEFAULT_PIDFILE_DIR: &str = "/var/run/slony1";
const DEFAULT_SYNC_CHECK_INTERVAL: i64 = 1000;
const DEFAULT_DEBUGLEVEL: i64 = 0;

/// slon 2.2.11's own defaults for the keys `[slon]` may hold (`slon -h`, and the
/// configuration it logs at start-up), for nodes started without `-s`/`-d`.
const SLON_DEFAULTS: [(&str, i64); 2] = [("sync_interval", 2000), ("log_level", 0)];

/// What `start_slon` needs of one node, from its add_node call.
pub(super) struct SlonNode {
    pub(super) id: NodeId,
    /// `add_node for node 2 (file:line)`, for notes.
    pub(super) place: String,
    /// The file and line of the add_node call, for errors.
    pub(super) file: String,
    pub(super) line: Option<u32>,
    /// altperl's `$DSN[N]`.
    pub(super) dsn: String,
    /// `$OPTIONS[N]` and `$CONFIG[N]` (only when Perl-true, as add_node keeps them).
    pub(super) options: Option<String>,
    pub(super) config: Option<String>,
}

/// One slon command-line option, Getopt-style (`slon`'s optstring
/// `f:a:d:s:t:g:c:p:o:q:r:l:x:hv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Flag {
    /// `-s 500`: the option `sync_interval` with the text `500`.
    Set {
        /// The flag as written (`-s`).
        flag: char,
        /// The option it sets.
        option: &'static str,
        /// Its text.
        value: String,
    },
    /// `-f FILE`: a config file read at this point.
    File(String),
    /// `-o`, `-r`: slon 2.2.11 warns "unrecognized configuration parameter" and goes on.
    Ignored {
        /// The flag.
        flag: char,
        /// The option slon looked for.
        option: &'static str,
        /// Its text.
        value: String,
    },
}

fn flag_option(flag: char) -> Option<&'static str> {
    Some(match flag {
        'd' => "log_level",
        's' => "sync_interval",
        't' => "sync_interval_timeout",
        'g' => "sync_group_maxsize",
        'c' => "vac_frequency",
        'p' => "pid_file",
        'a' => "archive_dir",
        'x' => "command_on_logarchive",
        'q' => "quit_sync_provider",
        'l' => "lag_interval",
        'o' => "desired_sync_time",
        'r' => "quit_sync_finalsync",
        _ => return None,
    })
}

/// The words `/bin/sh` makes of `text` (start_slon pastes the options into a shell
/// command), for the plain words and quotes this reads; anything the shell would expand or
/// treat specially is refused, so nothing is guessed.
fn shell_words(text: &str) -> Result<Vec<String>, String> {
    const SPECIAL: &[char] = &[
        '$', '`', '\\', ';', '&', '|', '<', '>', '(', ')', '*', '?', '[', ']', '~', '{', '}', '#', '!',
    ];
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(word) = current.take() {
                    words.push(word);
                }
            }
            '\'' | '"' => {
                let word = current.get_or_insert_with(String::new);
                let mut closed = false;
                for inner in chars.by_ref() {
                    if inner == c {
                        closed = true;
                        break;
                    }
                    if c == '"' && matches!(inner, '$' | '`' | '\\') {
                        return Err(format!("`{inner}` inside double quotes is expanded by the shell"));
                    }
                    word.push(inner);
                }
                if !closed {
                    return Err(format!("the quote {c} is not closed"));
                }
            }
            c if SPECIAL.contains(&c) || crate::escape::is_control(c) => {
                return Err(format!(
                    "`{}` is special to the shell slon_start runs slon from",
                    visible(&c.to_string())
                ))
            }
            c => current.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(current);
    Ok(words)
}

/// A node's `options` as slon's getopt reads them.
pub(super) fn slon_flags(text: &str) -> Result<Vec<Flag>, String> {
    let words = shell_words(text)?;
    let mut out = Vec::new();
    let mut iter = words.into_iter();
    while let Some(word) = iter.next() {
        let Some(rest) = word.strip_prefix('-').filter(|r| !r.is_empty()) else {
            return Err(format!(
                "`{word}` is not an option: getopt moves it before the cluster name, so slon would take it as the cluster name"
            ));
        };
        if rest == "-" {
            return Err("`--` ends slon's options: what follows would be read as the cluster name".into());
        }
        let mut letters = rest.chars();
        while let Some(flag) = letters.next() {
            match flag {
                'h' | 'v' | '?' => {
                    return Err(format!(
                        "`-{flag}` makes slon print its {} and exit without replicating",
                        if flag == 'v' { "version" } else { "usage" }
                    ))
                }
                'f' | 'a' | 'd' | 's' | 't' | 'g' | 'c' | 'p' | 'o' | 'q' | 'r' | 'l' | 'x' => {
                    let attached: String = letters.by_ref().collect();
                    let value = if attached.is_empty() {
                        iter.next().ok_or_else(|| {
                            format!("`-{flag}` needs a value: slon would take the cluster name as it")
                        })?
                    } else {
                        attached
                    };
                    let option = flag_option(flag);
                    out.push(match (flag, option) {
                        ('f', _) => Flag::File(value),
                        ('o' | 'r', Some(option)) => Flag::Ignored { flag, option, value },
                        (_, Some(option)) => Flag::Set { flag, option, value },
                        _ => unreachable!("every flag with a value has an option or is -f"),
                    });
                }
                other => {
                    return Err(format!(
                        "`-{}` is not a slon option (`slon -h`): slon prints its usage and exits",
                        visible(&other.to_string())
                    ))
                }
            }
        }
    }
    Ok(out)
}

/// Where one effective setting came from, for messages.
#[derive(Clone)]
struct Source(String);

impl Reader<'_> {
    /// `[slon]`, `[daemon]` and each node's `[node.slon]` (and `path`, from a config
    /// file's `conn_info`) from the variables start_slon reads.
    pub(super) fn slon(
        &mut self,
        dump: &Value,
        cluster: &str,
        nodes: &mut [NodeConfig],
    ) -> Result<(SlonOptions, DaemonConfig), ImportError> {
        let vars = dump.get("slon");
        // Perl's `$X ||= default`: only a true value counts.
        let var = |key: &str| {
            vars.and_then(|v| v.get(key))
                .filter(|v| perl_truthy(v))
                .and_then(scalar_text)
        };
        let paths = self.paths;
        let fail = move |message: String| paths.error_at(None, None, message);
        let mut daemon = DaemonConfig::default();

        let pid_dir = match var("pidfile_dir") {
            Some(dir) => {
                refuse_control("$PIDFILE_DIR", &dir, false).map_err(&fail)?;
                if !dir.starts_with('/') {
                    return Err(fail(format!(
                        "$PIDFILE_DIR (`{dir}`) is a relative path: slon_start resolved it against the directory it was run from, which the import cannot know, and a wrong pid directory means slonik-gen neither finds nor stops the running slons (and would start second ones): set $PIDFILE_DIR to the absolute directory the pid files are in"
                    )));
                }
                daemon.pid_dir = Some(dir.clone());
                dir
            }
            None => DEFAULT_PIDFILE_DIR.to_string(),
        };
        let prefix = match var("pidfile_prefix") {
            Some(prefix) => {
                refuse_control("$PIDFILE_PREFIX", &prefix, false).map_err(&fail)?;
                if prefix.contains('/') || prefix == "." || prefix == ".." {
                    return Err(fail(format!(
                        "$PIDFILE_PREFIX (`{prefix}`) holds a `/`: slonik-gen's file_prefix is one file name; move the directory part into $PIDFILE_DIR"
                    )));
                }
                if prefix != cluster {
                    daemon.file_prefix = Some(prefix.clone());
                }
                prefix
            }
            None => cluster.to_string(),
        };
        let logdir = dump
            .get("logdir")
            .filter(|v| perl_truthy(v))
            .and_then(scalar_text);
        if let Some(logdir) = &logdir {
            if let Some((_, c)) = crate::escape::control_character(logdir) {
                self.note(format!(
                    "$LOGDIR ({logdir}) holds the control character {}, which no config may hold: not imported, so slonik-gen logs to /var/log/slony1; set [daemon] log_dir",
                    crate::escape::describe_control(c)
                ));
            } else if !logdir.starts_with('/') {
                // The log place matters less than the pid file's: a note, not an error.
                self.note(format!(
                    "$LOGDIR ({logdir}) is a relative path: slon_start resolved it against the directory it was run from, which the import cannot know, so it is not imported and slonik-gen logs to /var/log/slony1; set [daemon] log_dir to the absolute directory"
                ));
            } else {
                daemon.log_dir = Some(logdir.clone());
                self.note(format!(
                    "$LOGDIR ({logdir}) becomes [daemon] log_dir: altperl's per-node dated logs ($LOGDIR/node<N>/<dbname>-<date>.log, a new file each start) become one file per node that each start appends to, {logdir}/{prefix}_node<N>.log"
                ));
            }
        }
        if let Some(rotator) = var("apache_rotator") {
            self.note(format!(
                "$APACHE_ROTATOR ({rotator}): slon_start piped each slon's output through it (rotating at 10M); slonik-gen does not model a log pipe, it appends to the log file: rotate those files with logrotate (copytruncate) instead"
            ));
        }
        if let Some(suffix) = var("log_name_suffix") {
            self.note(format!(
                "$LOG_NAME_SUFFIX ({suffix}) named altperl's dated log files; slonik-gen writes one log file per node (not modelled)"
            ));
        }

        let int_var = |key: &str,
                       variable: &str,
                       option: &str,
                       default: i64|
         -> Result<(SlonValue, bool), ImportError> {
            match var(key) {
                None => Ok((SlonValue::Int(default), false)),
                Some(text) => {
                    let option = crate::slon::option(option).expect("in the option table");
                    slon_conf::typed(option, text.trim())
                        .map(|v| (v, true))
                        .map_err(|e| {
                            fail(format!(
                                "{variable} (`{text}`, passed to every slon as `-{}`): {e}; correct it in the slon_tools.conf",
                                if variable == "$DEBUGLEVEL" { "d" } else { "s" }
                            ))
                        })
                }
            }
        };
        let (sync, sync_set) = int_var(
            "sync_check_interval",
            "$SYNC_CHECK_INTERVAL",
            "sync_interval",
            DEFAULT_SYNC_CHECK_INTERVAL,
        )?;
        let (level, level_set) = int_var("debuglevel", "$DEBUGLEVEL", "log_level", DEFAULT_DEBUGLEVEL)?;

        let slon_nodes = std::mem::take(&mut self.slon_nodes);
        let mut cluster_slon = SlonOptions::new();
        if slon_nodes.iter().any(|n| n.config.is_none()) {
            cluster_slon.insert("sync_interval".into(), sync.clone());
            cluster_slon.insert("log_level".into(), level.clone());
            let unset = match (sync_set, level_set) {
                (true, true) => String::new(),
                (false, false) => {
                    " ($SYNC_CHECK_INTERVAL and $DEBUGLEVEL are unset: these are its defaults)".into()
                }
                (false, true) => " ($SYNC_CHECK_INTERVAL is unset: 1000 is its default)".into(),
                (true, false) => " ($DEBUGLEVEL is unset: 0 is its default)".into(),
            };
            self.note(format!(
                "slon_start passes `-s {sync} -d{level}` to every slon it starts without a config file{unset}; written as [slon] sync_interval = {sync} and log_level = {level} to keep that (slon's own default sync_interval is 2000)"
            ));
        }

        for slon_node in &slon_nodes {
            let Some(node) = nodes.iter_mut().find(|n| n.id == slon_node.id) else {
                continue;
            };
            let default_pid = format!("{pid_dir}/{prefix}_node{}.pid", slon_node.id);
            let mut effective: BTreeMap<String, (SlonValue, Source)> = BTreeMap::new();
            effective.insert(
                "pid_file".into(),
                (
                    SlonValue::Text(default_pid.clone()),
                    Source("altperl's -p".into()),
                ),
            );
            let place = slon_node.place.clone();
            let mut read = false;
            if let Some(config) = &slon_node.config {
                let config = &self.shown_file(config);
                if let Some(options) = &slon_node.options {
                    self.note(format!(
                        "{place}: options => '{options}' are not passed to slon, since the node has config => '{config}' (start_slon then runs `slon -p PIDFILE -f FILE` only): not imported"
                    ));
                }
                let file = slon_node.config.as_deref().unwrap_or_default();
                read = self.slon_file(slon_node, file, cluster, true, node, &mut effective)?;
            } else {
                effective.insert("sync_interval".into(), (sync.clone(), Source("-s".into())));
                effective.insert("log_level".into(), (level.clone(), Source("-d".into())));
                if let Some(options) = &slon_node.options {
                    let flags = slon_flags(options).map_err(|e| {
                        self.node_error(
                            slon_node,
                            format!(
                                "options => '{options}': {e}; write the slon options as plain `-s 500 -g 10` words, or move them into a slon config file (config => FILE)"
                            ),
                        )
                    })?;
                    for flag in flags {
                        match flag {
                            Flag::Set { flag, option, value } => {
                                let known = crate::slon::option(option).expect("flags map to known options");
                                let typed = slon_conf::typed(known, &value).map_err(|e| {
                                    self.node_error(
                                        slon_node,
                                        format!("options => '{options}': -{flag} {value} ({option}): {e}; correct it in the slon_tools.conf"),
                                    )
                                })?;
                                effective.insert(option.into(), (typed, Source(format!("-{flag} in options"))));
                            }
                            Flag::Ignored { flag, option, value } => self.note(format!(
                                "{place}: options => '{options}': -{flag} {value} sets `{option}`, which slon 2.2.11 no longer has (it logs \"unrecognized configuration parameter\" and goes on), so it had no effect: not imported; remove it from the slon_tools.conf"
                            )),
                            Flag::File(file) => {
                                self.slon_file(slon_node, &file, cluster, false, node, &mut effective)?;
                            }
                        }
                    }
                }
            }
            for (name, (value, source)) in effective {
                if name == "pid_file" {
                    let SlonValue::Text(path) = &value else { continue };
                    if *path == default_pid {
                        continue;
                    }
                    if !path.starts_with('/') {
                        return Err(self.node_error(
                            slon_node,
                            format!(
                                "the pid file `{path}` ({}) is a relative path, which slon resolved against the directory slon_start ran in: make it absolute",
                                source.0
                            ),
                        ));
                    }
                    self.note(format!(
                        "{place}: slon wrote its pid to {path} ({}), not to {default_pid} where altperl's slon_start, slon_kill and the watchdog look for it (so slon_start reported that it failed to start); slonik-gen uses {path}",
                        source.0
                    ));
                }
                if cluster_slon.get(&name) != Some(&value) {
                    node.slon.insert(name, value);
                }
            }
            let mut defaults = Vec::new();
            if let Some(config) = &slon_node.config {
                let config = self.shown_file(config);
                for (name, default) in SLON_DEFAULTS {
                    let value = SlonValue::Int(default);
                    if !node.slon.contains_key(name) && cluster_slon.get(name).is_some_and(|v| *v != value) {
                        defaults.push(format!("{name} = {default}"));
                        node.slon.insert(name.into(), value);
                    }
                }
                if !defaults.is_empty() {
                    self.note(format!(
                        "{place}: with config => '{config}' start_slon passes no -s/-d, so slon used its own default for what the file does not set{}: [node.slon] {} keeps that against [slon]",
                        if read { "" } else { " (the file could not be read: if it sets these, copy its values)" },
                        defaults.join(", ")
                    ));
                }
            } else if let Some(options) = &slon_node.options {
                let set: Vec<String> = node.slon.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                self.note(format!(
                    "{place}: options => '{options}' are slon command-line options, passed after -s/-d: imported into [node.slon]{}",
                    if set.is_empty() {
                        " (nothing differs from [slon])".to_string()
                    } else {
                        format!(" ({})", set.join(", "))
                    }
                ));
            }
        }
        Ok((cluster_slon, daemon))
    }

    /// A slon config file as messages show it: beside the slon_tools.conf, by the name the
    /// user gave that (so messages do not depend on where the checkout is).
    fn shown_file(&self, file: &str) -> String {
        self.paths.display_path(file).display().to_string()
    }

    /// An error at a node's add_node call.
    fn node_error(&self, node: &SlonNode, message: String) -> ImportError {
        self.error_at(
            Some(&node.file),
            node.line,
            format!("add_node for node {}: {message}", node.id),
        )
    }

    /// Reads the slon config file `file` of `slon_node` into `effective`: `Ok(false)` with
    /// a note when it cannot be read. `own` is true for `config => FILE` (slon takes the
    /// cluster name and conninfo from it) and false for a `-f` in options (the
    /// command-line arguments replace them).
    fn slon_file(
        &mut self,
        slon_node: &SlonNode,
        file: &str,
        cluster: &str,
        own: bool,
        node: &mut NodeConfig,
        effective: &mut BTreeMap<String, (SlonValue, Source)>,
    ) -> Result<bool, ImportError> {
        let place = slon_node.place.clone();
        let shown = self.shown_file(file);
        let what = if own {
            format!("config => '{shown}'")
        } else {
            format!("-f {shown} in options")
        };
        let relative = !file.starts_with('/');
        let text = match std::fs::read(file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    self.note(format!(
                        "{place}: {what}: the slon config file is not UTF-8 text, so the slon settings of node {} were not imported: copy them into its [node.slon]",
                        slon_node.id
                    ));
                    return Ok(false);
                }
            },
            Err(e) => {
                self.note(format!(
                    "{place}: {what}: the slon config file cannot be read here ({e}{}), so the slon settings of node {} were not imported: run the import where the file is readable, or copy its settings into the node's [node.slon]",
                    if relative { "; a relative path is read from the current directory, as slon read it from slon_start's" } else { "" },
                    slon_node.id
                ));
                return Ok(false);
            }
        };
        if relative {
            self.note(format!(
                "{place}: {what} is a relative path: read from the current directory, as slon read it from the directory slon_start ran in; make it absolute in the slon_tools.conf"
            ));
        }
        let file_error = |line: Option<u32>, message: String| ImportError::Config {
            path: std::path::PathBuf::from(&shown),
            line,
            message: format!(
                "{} (the slon config file of node {}, {place})",
                visible(&crate::model::conninfo::redact_secrets(&message)),
                slon_node.id
            ),
        };
        let entries = slon_conf::read(&text).map_err(|e| {
            file_error(
                Some(e.line),
                format!("{}: slon ignores a file it cannot parse; correct it", e.message),
            )
        })?;
        let mut cluster_name = None;
        let mut conn_info = None;
        for entry in entries {
            match entry.name.as_str() {
                "cluster_name" => cluster_name = Some((entry.value, entry.line)),
                "conn_info" => conn_info = Some((entry.value, entry.line)),
                name => {
                    // The slon that read this file is a 2.2 one (altperl's own `-f`): an
                    // option only older slons had is as unknown to it as a typo.
                    let known =
                        crate::slon::option(name).filter(|o| o.exists_in(crate::version::SlonyVersion::V2_2));
                    let Some(option) = known else {
                        return Err(file_error(
                            Some(entry.line),
                            format!(
                                "`{name}` is not a slon option of Slony-I 2.2 (slon logs \"unrecognized configuration parameter\" and ignores it and every setting after it): remove it or correct its name"
                            ),
                        ));
                    };
                    let value = slon_conf::typed(option, &entry.value)
                        .map_err(|e| file_error(Some(entry.line), format!("`{name}`: {e}; correct it")))?;
                    effective.insert(
                        name.to_string(),
                        (value, Source(format!("{}:{}", shown, entry.line))),
                    );
                }
            }
        }
        if !own {
            return Ok(true);
        }
        match cluster_name {
            Some((name, line)) if name != cluster => {
                return Err(file_error(
                    Some(line),
                    format!(
                        "cluster_name is `{name}`, but the slon_tools.conf's $CLUSTER_NAME is `{cluster}`: this slon served another cluster; make them agree"
                    ),
                ))
            }
            Some(_) => {}
            None => self.note(format!(
                "{place}: {what} sets no cluster_name, so slon could not start with it under altperl; slonik-gen writes the cluster name into the slon config it generates"
            )),
        }
        match conn_info {
            None => self.note(format!(
                "{place}: {what} sets no conn_info, so slon could not start with it under altperl; slonik-gen writes the node's path connection into the slon config it generates"
            )),
            Some((text, _)) => self.file_conninfo(slon_node, &what, &text, node),
        }
        Ok(true)
    }

    /// A config file's `conn_info` against the node's DSN: the same connection, nothing;
    /// another one becomes the node's `path`, which is what slonik-gen's slon connects with.
    fn file_conninfo(&mut self, slon_node: &SlonNode, what: &str, text: &str, node: &mut NodeConfig) {
        let place = slon_node.place.clone();
        let sorted =
            |pairs: Vec<(String, String)>| -> BTreeMap<String, String> { pairs.into_iter().collect() };
        let file_pairs = match parse_conninfo(text) {
            Ok(pairs) => pairs,
            Err(e) => {
                self.note(format!(
                    "{place}: {what}: its conn_info `{text}` cannot be read as a conninfo ({e}): not imported, so slonik-gen's slon connects with the node's connection (`{}`)",
                    slon_node.dsn
                ));
                return;
            }
        };
        let dsn_pairs = parse_conninfo(&slon_node.dsn).unwrap_or_default();
        if sorted(file_pairs.clone()) == sorted(dsn_pairs.clone()) {
            return;
        }
        let mut parts = ConnectionParts::new();
        for (key, value) in &file_pairs {
            if let Some((_, c)) = crate::escape::control_character(value) {
                self.note(format!(
                    "{place}: {what}: its conn_info sets `{key}` to a value holding the control character {}, which no config may hold: the conn_info is not imported",
                    crate::escape::describe_control(c)
                ));
                return;
            }
            match key.as_str() {
                "service" => parts.service = Some(value.clone()),
                "host" => parts.host = Some(value.clone()),
                "port" => match value.parse() {
                    Ok(port) => parts.port = Some(port),
                    Err(_) => {
                        parts.options.insert(key.clone(), value.clone());
                    }
                },
                "dbname" => parts.dbname = Some(value.clone()),
                "user" => parts.user = Some(value.clone()),
                "password" => parts.password = Some(value.clone()),
                "passfile" => parts.passfile = Some(value.clone()),
                "sslmode" => parts.sslmode = Some(value.clone()),
                _ => {
                    parts.options.insert(key.clone(), value.clone());
                }
            }
        }
        let inherited: Vec<String> = dsn_pairs
            .iter()
            .filter(|(k, _)| !file_pairs.iter().any(|(f, _)| f == k))
            .map(|(k, v)| {
                if is_secret_key(k) {
                    format!("{k}=***")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        self.note(format!(
            "{place}: {what}: its conn_info (`{text}`) differs from the node's connection (`{}`); slon connected with the file's, so it becomes the node's `path`, which slonik-gen's slon connects with and `store path` also stores for the other nodes' slons (altperl stored the connection){}",
            slon_node.dsn,
            if inherited.is_empty() {
                String::new()
            } else {
                format!(
                    "; the path takes what the file leaves out from the node's connection ({}), which slon did not use: set those in [node.path] if that matters",
                    inherited.join(" ")
                )
            }
        ));
        node.path = Some(parts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(flag: char, option: &'static str, value: &str) -> Flag {
        Flag::Set {
            flag,
            option,
            value: value.into(),
        }
    }

    #[test]
    fn flags_are_read_as_getopt_reads_them() {
        assert_eq!(
            slon_flags("-s 500 -g10 -d2 -l '10 minutes' -x \"/bin/archive it\" -p/run/a.pid").unwrap(),
            [
                set('s', "sync_interval", "500"),
                set('g', "sync_group_maxsize", "10"),
                set('d', "log_level", "2"),
                set('l', "lag_interval", "10 minutes"),
                set('x', "command_on_logarchive", "/bin/archive it"),
                set('p', "pid_file", "/run/a.pid"),
            ]
        );
        assert_eq!(
            slon_flags("-f /etc/x.conf").unwrap(),
            [Flag::File("/etc/x.conf".into())]
        );
        assert_eq!(
            slon_flags("-o 3000").unwrap(),
            [Flag::Ignored {
                flag: 'o',
                option: "desired_sync_time",
                value: "3000".into()
            }]
        );
        // A flag's value is the rest of its word, as getopt has it.
        assert_eq!(slon_flags("-d2s500").unwrap(), [set('d', "log_level", "2s500")]);
        assert!(slon_flags("").unwrap().is_empty());
    }

    #[test]
    fn what_cannot_be_read_is_refused() {
        for (text, needle) in [
            ("-z 1", "not a slon option"),
            ("-s", "needs a value"),
            ("500", "not an option"),
            ("-s $X", "special to the shell"),
            ("-l '10 min", "not closed"),
            ("-v", "version"),
            ("-- -s 1", "ends slon's options"),
            ("-x \"a`b`\"", "expanded by the shell"),
        ] {
            let err = slon_flags(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
