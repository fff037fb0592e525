//! `slonik-gen import cluster` and `check-cluster` against a real two-node Slony-I 2.2
//! cluster (tests/support/cluster.rs): the import reproduces the state our scripts built,
//! then the state after a move and a failover done with plain slonik, as the library's
//! `move-set` and `failover` predicted it; `check-cluster` reports the drifted config.

mod common;
mod support;

use std::process::{Command, Output};
use std::time::Duration;

use common::assert_loads;
use slonik_gen::import::live::{differences, import_cluster};
use slonik_gen::model::{NodeId, SetId};
use support::cluster::{tools_or_skip, TestCluster};
use support::replicate::replicate;

const CLUSTER: &str = "replication";
/// Stored in node 2's paths; must never appear in any output.
const PASSWORD: &str = "sekrit_pw_42";

fn config_toml(c: &TestCluster) -> String {
    format!(
        r#"cluster = "{CLUSTER}"
wait_timeout = 120

[[node]]
id = 1
name = "MasNod"
host = "127.0.0.1"
port = {p1}
dbname = "geekdb"
user = "postgres"

[[node]]
id = 2
name = "SlaNod"
host = "127.0.0.1"
port = {p2}
dbname = "geekdb"
user = "postgres"
password = "{PASSWORD}"

[[set]]
id = 1
name = "set1"
default_schema = "geekdb"
tables = ["files", {{ name = "additional_roll", key = "additional_roll_id_key" }}]
sequences = ["files_id_seq"]

[[subscription]]
set = "set1"
receiver = 2
"#,
        p1 = c.port(1),
        p2 = c.port(2)
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn slonik_gen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .args(args)
        .output()
        .expect("runs")
}

fn set_origin_on(c: &TestCluster, node: u32) -> String {
    c.sql(
        node,
        &format!("select set_origin from \"_{CLUSTER}\".sl_set where set_id = 1"),
    )
}

#[test]
fn e2e_import_and_check_follow_a_real_cluster_through_a_move_and_a_failover() {
    let Some(tools) =
        tools_or_skip("e2e_import_and_check_follow_a_real_cluster_through_a_move_and_a_failover")
    else {
        return;
    };
    let mut c = TestCluster::start(&tools, 2, "geekdb");
    c.sql_all(
        "create schema geekdb;
         create table geekdb.files (id serial primary key, name text);
         create table geekdb.additional_roll (id int not null unique, note text);",
    );
    // Build the cluster with our own scripts.
    let config_text = config_toml(&c);
    let built = replicate(&mut c, &config_text);
    let (config_arg, planned) = (built.config(), &built.planned);

    // 1. The import reproduces the config.
    let live = import_cluster(&c.conninfo(1), CLUSTER, None).expect("imports");
    assert_eq!(differences(planned, &live.cluster), Vec::<String>::new());
    let set = &live.cluster.sets[&SetId(1)];
    assert_eq!(set.name, "set1", "read back from the create-set comment");
    assert_eq!(set.tables[1].key.as_deref(), Some("additional_roll_id_key"));
    assert_eq!(set.tables[0].key, None, "the primary key is not written as a key");
    let toml = live.to_toml();
    assert_loads(&toml, "the first import");
    assert!(!toml.contains(PASSWORD), "{toml}");
    assert!(toml.contains("node 2: sl_path stores a password"), "{toml}");

    let out = slonik_gen(&[
        "import",
        "cluster",
        "--conninfo",
        &c.conninfo(2),
        "--cluster",
        CLUSTER,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(PASSWORD) && !text(&out.stderr).contains(PASSWORD));
    let reloaded = assert_loads(&text(&out.stdout), "import cluster");
    assert_eq!(differences(planned, &reloaded), Vec::<String>::new());

    let out = slonik_gen(&[
        "--config",
        config_arg,
        "check-cluster",
        "--conninfo",
        &c.conninfo(1),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("matches cluster replication"),
        "{}",
        text(&out.stdout)
    );

    // 2. A move done with plain slonik, as an operator would type it.
    let header = c.slonik_header(CLUSTER, &[1, 2]);
    c.slonik_ok(&format!(
        "{header}lock set (id = 1, origin = 1);\nsync (id = 1);\n\
         wait for event (origin = 1, confirmed = 2, wait on = 1, timeout = 120);\n\
         move set (id = 1, old origin = 1, new origin = 2);\n\
         wait for event (origin = 1, confirmed = 2, wait on = 1, timeout = 120);\n"
    ));
    c.wait_until(
        "node 1 sees set 1 moved to node 2",
        Duration::from_secs(60),
        || set_origin_on(&c, 1) == "2",
    );
    let moved = import_cluster(&c.conninfo(1), CLUSTER, None).expect("imports");
    assert_loads(&moved.to_toml(), "the import after the move");
    assert_eq!(moved.cluster.sets[&SetId(1)].origin, NodeId(2));
    let predicted = slonik_gen::ops::move_set(
        planned,
        slonik_gen::model::SetId(1),
        slonik_gen::model::NodeId(1),
        slonik_gen::model::NodeId(2),
    )
    .unwrap()
    .next;
    assert_eq!(
        differences(&predicted, &moved.cluster),
        Vec::<String>::new(),
        "slonik-gen's move-set predicts the state plain slonik left"
    );
    let out = slonik_gen(&[
        "--config",
        config_arg,
        "check-cluster",
        "--conninfo",
        &c.conninfo(1),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    for needle in [
        "set 1 (set1): the origin is node 2 in the cluster but node 1 in the config",
        "set 1: node 1 subscribes from node 2 in the cluster but not in the config",
        "set 1: node 2 subscribes (from node 1) in the config but not in the cluster",
    ] {
        assert!(report.contains(needle), "missing `{needle}` in:\n{report}");
    }
    assert!(!report.contains(PASSWORD) && !text(&out.stderr).contains(PASSWORD));

    // 3. The new origin dies; failover with plain slonik on the survivor.
    c.stop_slon(2);
    c.stop_node_immediate(2);
    let run = c.slonik_with_timeout(
        &format!(
            "{}try {{\n    failover (id = 2, backup node = 1);\n}} on error {{\n    exit 1;\n}}\n",
            c.slonik_header(CLUSTER, &[1])
        ),
        Duration::from_secs(300),
    );
    assert!(run.success(), "failover failed:\n{}", run.output());
    c.wait_until("node 1 is the origin again", Duration::from_secs(120), || {
        set_origin_on(&c, 1) == "1"
    });
    let failed_over = import_cluster(&c.conninfo(1), CLUSTER, None).unwrap_or_else(|e| {
        panic!(
            "imports after the failover: {e}\n{}\n{}",
            c.sql(1, &format!("select * from \"_{CLUSTER}\".sl_node")),
            c.sql(1, &format!("select * from \"_{CLUSTER}\".sl_path"))
        )
    });
    assert_loads(&failed_over.to_toml(), "the import after the failover");
    assert!(
        failed_over.cluster.nodes[&NodeId(2)].failed,
        "{}",
        failed_over.to_toml()
    );
    assert_eq!(failed_over.cluster.sets[&SetId(1)].origin, NodeId(1));
    let predicted = slonik_gen::ops::failover(
        &predicted,
        &[(slonik_gen::model::NodeId(2), slonik_gen::model::NodeId(1))],
    )
    .unwrap()
    .next;
    assert_eq!(
        differences(&predicted, &failed_over.cluster),
        Vec::<String>::new(),
        "slonik-gen's failover predicts the state plain slonik left:\n{}",
        failed_over.to_toml()
    );
    let out = slonik_gen(&[
        "--config",
        config_arg,
        "check-cluster",
        "--conninfo",
        &c.conninfo(1),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("node 2 has failed over in the cluster"),
        "{report}"
    );
    assert!(!report.contains(PASSWORD));
    // The imported config gives scripts for the next steps (drop the failed node).
    let drop = slonik_gen::ops::drop_node(
        &failed_over.cluster,
        slonik_gen::model::NodeId(2),
        slonik_gen::model::NodeId(1),
    )
    .expect("drop-node of the failed node");
    assert!(drop
        .script
        .render()
        .unwrap()
        .contains("drop node (id = 2, event node = 1);"));
}

#[test]
fn e2e_wrong_cluster_names_and_unreachable_nodes_are_clear_errors() {
    let Some(tools) = tools_or_skip("e2e_wrong_cluster_names_and_unreachable_nodes_are_clear_errors") else {
        return;
    };
    let c = TestCluster::start(&tools, 1, "geekdb");
    let err = import_cluster(&c.conninfo(1), "nosuch", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no Slony-I cluster `nosuch`"), "{err}");
    let out = slonik_gen(&[
        "import",
        "cluster",
        "--conninfo",
        &format!("host=127.0.0.1 port=1 dbname=x user=postgres password={PASSWORD}"),
        "--cluster",
        CLUSTER,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot connect") && stderr.contains("password=***"),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    // The URI form, with the password in the userinfo and in the query.
    let out = slonik_gen(&[
        "import",
        "cluster",
        "--conninfo",
        &format!("postgresql://postgres:{PASSWORD}@127.0.0.1:1/x?sslmode=disable&password={PASSWORD}"),
        "--cluster",
        CLUSTER,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("postgresql://postgres:***@127.0.0.1:1/x?sslmode=disable&password=*** ")
            || stderr.contains("postgresql://postgres:***@127.0.0.1:1/x?sslmode=disable&password=***:"),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    // A conninfo that cannot be read: the error does not quote it raw.
    let out = slonik_gen(&[
        "import",
        "cluster",
        "--conninfo",
        &format!("host=127.0.0.1 password='{PASSWORD}"),
        "--cluster",
        CLUSTER,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(!text(&out.stderr).contains(PASSWORD), "{}", text(&out.stderr));
}

/// Secrets of the hostile-catalog test: none may appear in any output.
const SECRETS: [&str; 3] = ["cli_pw_secret", "uri_pw_secret", "ssl_pw_secret"];

fn assert_no_secret(out: &Output) {
    for secret in SECRETS {
        assert!(
            !text(&out.stdout).contains(secret) && !text(&out.stderr).contains(secret),
            "{secret} printed:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

#[test]
fn e2e_hostile_catalogs_and_uri_conninfos_import_safely() {
    let Some(tools) = tools_or_skip("e2e_hostile_catalogs_and_uri_conninfos_import_safely") else {
        return;
    };
    let c = TestCluster::start(&tools, 2, "geekdb");
    let config = slonik_gen::load_config_str(
        &format!(
            "cluster = \"{CLUSTER}\"\n\
             [[node]]\nid = 1\nhost = \"127.0.0.1\"\nport = {}\ndbname = \"geekdb\"\nuser = \"postgres\"\n\
             [[node]]\nid = 2\nhost = \"127.0.0.1\"\nport = {}\ndbname = \"geekdb\"\nuser = \"postgres\"\n",
            c.port(1),
            c.port(2)
        ),
        "two.toml",
    )
    .unwrap();
    c.slonik_ok(
        &slonik_gen::ops::init_cluster(&config)
            .unwrap()
            .script
            .render()
            .unwrap(),
    );
    // What an operator (or an attacker with write access to the catalog) may have stored:
    // a URI path with passwords (slon accepts it), server options that set search_path,
    // and escape sequences in a comment and an application_name.
    c.sql(
        1,
        &format!(
            "update \"_{CLUSTER}\".sl_path set pa_conninfo = \
               'postgresql://postgres:uri_pw_secret@127.0.0.1:{p2}/geekdb?sslpassword=ssl_pw_secret&application_name=slon%1B%5B31m' \
               where pa_server = 2;
             delete from \"_{CLUSTER}\".sl_path where pa_server = 1;
             insert into \"_{CLUSTER}\".sl_path (pa_server, pa_client, pa_conninfo, pa_connretry) values (1, 2, \
               'host=127.0.0.1 port={p1} dbname=geekdb user=postgres options=''-c search_path=evil''', 10);
             update \"_{CLUSTER}\".sl_node set no_comment = E'Node 2\\x1b[2J' where no_id = 2;
             create schema evil;
             create function evil.to_jsonb(anyelement) returns jsonb language plpgsql \
               as $$ begin raise exception 'hijacked by evil.to_jsonb'; end $$;",
            p1 = c.port(1),
            p2 = c.port(2)
        ),
    );
    // The connection itself asks for the hostile search_path, with a password in the URI.
    let conninfo = format!(
        "postgresql://postgres@127.0.0.1:{}/geekdb?password=cli_pw_secret&options=-c%20search_path%3Devil%2Cpg_catalog",
        c.port(1)
    );
    let out = slonik_gen(&["import", "cluster", "--conninfo", &conninfo, "--cluster", CLUSTER]);
    assert_no_secret(&out);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let toml = text(&out.stdout);
    let imported = assert_loads(&toml, "import cluster");
    assert!(toml.contains("?password=***&options="), "{toml}");
    let two = &imported.nodes[&NodeId(2)].admin;
    assert_eq!(
        (
            two.host.as_deref(),
            two.port,
            two.dbname.as_deref(),
            two.user.as_deref()
        ),
        (
            Some("127.0.0.1"),
            Some(c.port(2)),
            Some("geekdb"),
            Some("postgres")
        ),
        "read from the URI in sl_path:\n{toml}"
    );
    assert!(
        two.options.is_empty(),
        "sslpassword and the escaped application_name are left out:\n{toml}"
    );
    let one = &imported.nodes[&NodeId(1)];
    let version = slonik_gen::version::SlonyVersion::V2_2;
    assert!(
        !one.admin_conninfo(version).unwrap().contains("search_path"),
        "{toml}"
    );
    assert!(
        one.path_conninfo(version).unwrap().contains("search_path=evil"),
        "{toml}"
    );
    for needle in [
        "kept for the slons only",
        "Node 2\\u{001B}[2J",
        "sl_path stores a password",
    ] {
        assert!(toml.contains(needle), "missing {needle}:\n{toml}");
    }

    // check-cluster reads the same catalog through the same hostile connection.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("now.toml");
    std::fs::write(&path, &toml).unwrap();
    let out = slonik_gen(&[
        "--config",
        path.to_str().unwrap(),
        "check-cluster",
        "--conninfo",
        &conninfo,
    ]);
    assert_no_secret(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("as read from postgresql://postgres@127.0.0.1:"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("password=***"),
        "{}",
        text(&out.stdout)
    );
}
