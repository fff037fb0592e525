//! `slonik-gen import altperl` keeps how altperl's `start_slon` ran each slon: `$PIDFILE_DIR`,
//! `$PIDFILE_PREFIX`, `$LOGDIR` as `[daemon]`, `-s $SYNC_CHECK_INTERVAL -d$DEBUGLEVEL` as
//! `[slon]`, a node's `options` and `config => FILE` as its `[node.slon]` (and `path`), so
//! `slonik-gen slon-conf` gives the settings altperl's slon ran with.
//!
//! The expected values were checked against the real thing: `slon_start --nowatchdog N` on
//! this fixture (with `$APACHE_ROTATOR` unset) and the configuration slon 2.2.11 logs at
//! start-up give exactly the per-node values asserted below.

mod altperl_support;
mod common;

use std::path::Path;
use std::process::Command;

use altperl_support::{clean_options, import};
use slonik_gen::import::import_altperl;
use slonik_gen::model::config::SlonValue;
use slonik_gen::model::NodeId;

const FIXTURE: &str = "tests/fixtures/altperl/slon/settings.conf";

/// `slonik-gen slon-conf N` on `config`, as text.
fn slon_conf(config: &Path, node: u32) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .arg("--config")
        .arg(config)
        .args(["slon-conf", &node.to_string()])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The `name = value` lines of a slon config file, without the header.
fn settings(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with('#')).collect()
}

#[test]
fn the_fixture_imports_to_its_snapshot_and_reloads() {
    let imported = import(Path::new(FIXTURE));
    let toml = imported.to_toml();
    insta::assert_snapshot!("slon-settings", toml);
    let reloaded = slonik_gen::load_config_str(&toml, "imported.toml").unwrap();
    assert_eq!(reloaded, imported.cluster);
}

#[test]
fn slon_conf_gives_what_altperls_slon_ran_with() {
    let imported = import(Path::new(FIXTURE));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("imported.toml");
    std::fs::write(&config, imported.to_toml()).unwrap();

    // `-s 750 -d2 -s 500 -g10 -c 3 -l '2 minutes' -o 3000`: later flags win, -o is gone.
    assert_eq!(
        settings(&slon_conf(&config, 1)),
        [
            "cluster_name = 'slonset'",
            "conn_info = 'host=db1 port=5432 dbname=app user=slony'",
            "lag_interval = '2 minutes'",
            "log_level = 2",
            "sync_group_maxsize = 10",
            "sync_interval = 500",
            "vac_frequency = 3",
        ]
    );
    // `-s 750 -d2 -d4 -x '...' -a DIR -t 60000 -p FILE`: $SYNC_CHECK_INTERVAL stays.
    assert_eq!(
        settings(&slon_conf(&config, 2)),
        [
            "cluster_name = 'slonset'",
            "conn_info = 'host=db2 port=5432 dbname=app user=slony'",
            "archive_dir = '/var/spool/slony'",
            "command_on_logarchive = '/usr/local/bin/ship-archive --quiet'",
            "log_level = 4",
            "pid_file = '/run/slony/node2.pid'",
            "sync_interval = 750",
            "sync_interval_timeout = 60000",
        ]
    );
    // `slon -p PID -f node3.slon.conf`: the file's settings (its pid_file and conn_info
    // too), slon's default log level rather than $DEBUGLEVEL, and no `-s 100` from options.
    assert_eq!(
        settings(&slon_conf(&config, 3)),
        [
            "cluster_name = 'slonset'",
            "conn_info = 'host=db3-pool port=6432 dbname=app user=slony'",
            "log_level = 0",
            "log_pid = true",
            "log_timestamp_format = '%Y-%m-%d %H:%M:%S %Z'",
            "pid_file = '/run/slony/node3.pid'",
            "sql_on_connection = 'SET application_name = \\'slon #3\\''",
            "sync_group_maxsize = 50",
            "sync_interval = 3000",
            "syslog_ident = 'slon-node3'",
        ]
    );
    // An unreadable config file: slon's own defaults, and a note.
    assert_eq!(
        settings(&slon_conf(&config, 4)),
        [
            "cluster_name = 'slonset'",
            "conn_info = 'host=db4 port=5432 dbname=app user=slony'",
            "log_level = 0",
            "sync_interval = 2000",
        ]
    );
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("node4.slon.conf")
                && n.contains("the slon settings of node 4 were not imported")),
        "{:#?}",
        imported.notes
    );

    // The pid and log files are altperl's places, with $PIDFILE_PREFIX.
    let cluster = &imported.cluster;
    let run = slonik_gen::slon::run::SlonRun::of(cluster, NodeId(1)).unwrap();
    assert_eq!(
        run.pid_file.as_deref(),
        Some("/var/run/slony1-slonset/ss_node1.pid")
    );
    assert_eq!(
        run.log_file.as_deref(),
        Some("/var/log/slony1-slonset/ss_node1.log")
    );
    let run = slonik_gen::slon::run::SlonRun::of(cluster, NodeId(3)).unwrap();
    assert_eq!(run.pid_file.as_deref(), Some("/run/slony/node3.pid"));
}

#[test]
fn unset_variables_keep_altperls_defaults() {
    let imported = import(Path::new("tests/fixtures/altperl/cascade.conf"));
    assert_eq!(
        imported.cluster.slon.get("sync_interval"),
        Some(&SlonValue::Int(1000))
    );
    assert_eq!(imported.cluster.slon.get("log_level"), Some(&SlonValue::Int(0)));
    assert!(imported.config.daemon.is_empty());
    // Every node has a config file: nothing passed -s/-d, so no [slon].
    let debian = import(Path::new("tests/fixtures/altperl/debian-sample.conf"));
    assert!(debian.cluster.slon.is_empty(), "{:?}", debian.cluster.slon);
    assert!(debian.cluster.nodes.values().all(|n| n.slon.is_empty()));
}

/// Imports `text` written as a slon_tools.conf in a temporary directory (with `files`
/// beside it): the TOML, or the error message.
fn import_text(text: &str, files: &[(&str, &str)]) -> Result<slonik_gen::import::Imported, String> {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let path = dir.path().join("slon_tools.conf");
    let text = text.replace("@@DIR@@", &dir.path().display().to_string());
    std::fs::write(&path, text).unwrap();
    import_altperl(&path, &clean_options()).map_err(|e| e.to_string())
}

const HEAD: &str = "$CLUSTER_NAME = 'c';\n$MASTERNODE = 1;\n";

fn node(extra: &str) -> String {
    format!("{HEAD}add_node(node => 1, host => 'h', dbname => 'd', port => 5432, user => 'u'{extra});\n1;\n")
}

#[test]
fn what_cannot_be_imported_faithfully_fails_naming_the_item() {
    for (text, files, needles) in [
        (
            format!("$PIDFILE_DIR = 'run';\n{}", node("")),
            vec![],
            vec!["$PIDFILE_DIR (`run`) is a relative path", "set $PIDFILE_DIR to the absolute directory"],
        ),
        (
            node(", options => '-s 5'"),
            vec![],
            vec!["slon_tools.conf:3: add_node for node 1: options => '-s 5': -s 5 (sync_interval): 5 is out of range: slon accepts 10 to 60000"],
        ),
        (
            node(", options => '-z 1'"),
            vec![],
            vec!["add_node for node 1: options => '-z 1': `-z` is not a slon option", "write the slon options as plain"],
        ),
        (
            node(", options => '-s $SYNC'"),
            vec![],
            vec!["options => '-s $SYNC': `$` is special to the shell"],
        ),
        (
            node(", options => '-p run/x.pid'"),
            vec![],
            vec!["the pid file `run/x.pid` (-p in options) is a relative path"],
        ),
        (
            format!("$SYNC_CHECK_INTERVAL = 'fast';\n{}", node("")),
            vec![],
            vec!["$SYNC_CHECK_INTERVAL (`fast`, passed to every slon as `-s`): `fast` is not an integer"],
        ),
        (
            node(", config => '@@DIR@@/n1.conf'"),
            vec![("n1.conf", "cluster_name = 'c'\n\ndesired_sync_time = 60000\n")],
            vec!["n1.conf:3: `desired_sync_time` is not a slon option of Slony-I 2.2", "(the slon config file of node 1"],
        ),
        (
            node(", config => '@@DIR@@/n1.conf'"),
            vec![("n1.conf", "cluster_name = 'other'\n")],
            vec!["n1.conf:1: cluster_name is `other`, but the slon_tools.conf's $CLUSTER_NAME is `c`"],
        ),
        (
            node(", config => '@@DIR@@/n1.conf'"),
            vec![("n1.conf", "cluster_name = 'c'\npid_file = /run/x.pid\n")],
            vec!["n1.conf:2: `/` at column 12 cannot start a value", "slon ignores a file it cannot parse"],
        ),
        (
            node(", config => '@@DIR@@/n1.conf'"),
            vec![("n1.conf", "log_pid = maybe\n")],
            vec!["n1.conf:1: `log_pid`: `maybe` is not a boolean"],
        ),
    ] {
        let err = match import_text(&text, &files) {
            Ok(imported) => panic!("{text}: imported:\n{}", imported.to_toml()),
            Err(e) => e,
        };
        for needle in needles {
            assert!(err.contains(needle), "{text}: missing {needle:?} in {err}");
        }
    }
}

#[test]
fn notes_and_perl_truth_follow_start_slon() {
    // `$X ||= default`: 0 and '' mean the default, as in start_slon.
    let imported = import_text(
        &format!(
            "$SYNC_CHECK_INTERVAL = 0;\n$DEBUGLEVEL = '';\n$LOGDIR = 'logs';\n$PIDFILE_PREFIX = 'c';\n{}",
            node(", options => '-r 5'")
        ),
        &[],
    )
    .unwrap();
    assert_eq!(
        imported.cluster.slon.get("sync_interval"),
        Some(&SlonValue::Int(1000))
    );
    assert_eq!(imported.cluster.slon.get("log_level"), Some(&SlonValue::Int(0)));
    // A prefix equal to the cluster name is the default; a relative $LOGDIR is a note.
    assert!(imported.config.daemon.is_empty(), "{:?}", imported.config.daemon);
    let notes = imported.notes.join("\n");
    assert!(notes.contains("$LOGDIR (logs) is a relative path"), "{notes}");
    assert!(
        notes.contains("-r 5 sets `quit_sync_finalsync`, which slon 2.2.11 no longer has"),
        "{notes}"
    );

    // A config file whose conn_info is the DSN changes nothing; a relative config path
    // is read from the current directory (the crate root here), with a note.
    let imported = import_text(
        &node(", config => 'tests/fixtures/altperl/slon/node3.slon.conf'")
            .replace("$CLUSTER_NAME = 'c'", "$CLUSTER_NAME = 'slonset'"),
        &[],
    )
    .unwrap();
    let n1 = &imported.config.nodes[0];
    assert_eq!(n1.slon.get("sync_interval"), Some(&SlonValue::Int(3000)));
    assert!(n1.path.is_some());
    assert!(imported
        .notes
        .iter()
        .any(|n| n.contains("is a relative path: read from the current directory")));

    let imported = import_text(
        &node(", config => '@@DIR@@/n1.conf'"),
        &[(
            "n1.conf",
            "cluster_name 'c'\nconn_info 'port=5432 host=h user=u dbname=d'\nsync_interval 0x100\n",
        )],
    )
    .unwrap();
    let n1 = &imported.config.nodes[0];
    assert_eq!(n1.path, None);
    assert_eq!(n1.slon.get("sync_interval"), Some(&SlonValue::Int(256)));
    // Only config nodes: no [slon] at all, so slon's defaults need no override.
    assert!(imported.config.slon.is_empty());
    assert!(!n1.slon.contains_key("log_level"));

    // Another conn_info becomes the path; a password in it is never quoted in a note.
    let imported = import_text(
        &node(", config => '@@DIR@@/n1.conf'"),
        &[(
            "n1.conf",
            "cluster_name = 'c'\nconn_info = 'host=pool dbname=d password=sekrit'\n",
        )],
    )
    .unwrap();
    let path = imported.config.nodes[0].path.as_ref().expect("a path");
    assert_eq!(path.host.as_deref(), Some("pool"));
    assert_eq!(path.password.as_deref(), Some("sekrit"));
    let notes = imported.notes.join("\n");
    assert!(notes.contains("it becomes the node's `path`"), "{notes}");
    assert!(!notes.contains("sekrit"), "{notes}");

    // `-f FILE` in options is read where it stands: after -s, before a later -g.
    let imported = import_text(
        &node(", options => '-f @@DIR@@/n1.conf -g 7'"),
        &[(
            "n1.conf",
            "sync_group_maxsize = 3\nsync_interval = 900\ncluster_name = 'ignored'\n",
        )],
    )
    .unwrap();
    let n1 = &imported.config.nodes[0];
    assert_eq!(n1.slon.get("sync_interval"), Some(&SlonValue::Int(900)));
    assert_eq!(n1.slon.get("sync_group_maxsize"), Some(&SlonValue::Int(7)));
    // No error although the file names another cluster: the cluster name argument after
    // the options replaces the file's (slon sets it from argv last).
    assert_eq!(imported.cluster.name, "c");
}
