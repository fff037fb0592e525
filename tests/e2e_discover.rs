//! `slonik-gen discover` on a real PostgreSQL (tests/support/cluster.rs, one node): a
//! schema with a primary-keyed table, one keyed only by a unique NOT NULL index, one with
//! only a nullable unique index and one with no key (both refused), an oddly named table,
//! serial, identity and free sequences, foreign keys across two schemas, a partitioned
//! table and a view. Checks the printed `[[set]]` (parsed, and loaded as part of a config),
//! the refused tables on stderr, `--from` closure, `--tables-file`, `--missing` exit 3/0,
//! and a connection error that names no password.

mod support;

use std::process::{Command, Output};

use support::cluster::{tools_or_skip, TestCluster};

const SCHEMA_SQL: &str = r#"
create schema geekdb;
create schema other;
create table other.country (code text primary key);
create table geekdb.customers (id serial primary key, country text references other.country);
create table geekdb.orders (id bigint generated always as identity primary key,
                            customer int references geekdb.customers);
create table geekdb.lines (order_id bigint not null references geekdb.orders, n int not null,
                           note text, unique (order_id, n));
create unique index lines_wider on geekdb.lines (order_id, n, note);
create table geekdb.nullable_uniq (a int unique, b int);
create table geekdb.nokey (a int);
create table geekdb."Odd ""Name"". x" (id int primary key);
create table geekdb.apart (id int primary key);
create sequence geekdb.free_seq;
create table geekdb.parted (id int primary key) partition by range (id);
create table geekdb.parted_1 partition of geekdb.parted for values from (0) to (100);
create view geekdb.v as select 1 as one;
"#;

const PASSWORD: &str = "discover_pw_secret";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn slonik_gen(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .args(args)
        .env_remove("PGPASSWORD")
        .env_remove("PGSERVICE")
        .output()
        .expect("runs");
    for stream in [&out.stdout, &out.stderr] {
        assert!(!text(stream).contains(PASSWORD), "{}", text(stream));
    }
    out
}

/// The config header the printed fragment is appended to.
fn header(c: &TestCluster) -> String {
    format!(
        "cluster = \"replication\"\ndefault_origin = 1\n\n[[node]]\nid = 1\nname = \"MasNod\"\nhost = \"127.0.0.1\"\nport = {}\ndbname = \"geekdb\"\nuser = \"postgres\"\n\n",
        c.port(1)
    )
}

/// The tables of the first set, as `schema.name` or `schema.name key=K`.
fn tables(fragment: &str) -> Vec<String> {
    let value: toml::Table = fragment.parse().unwrap_or_else(|e| panic!("{e}\n{fragment}"));
    let set = &value["set"].as_array().expect("a [[set]]")[0];
    set.get("tables")
        .and_then(|t| t.as_array())
        .map(|a| a.to_vec())
        .unwrap_or_default()
        .iter()
        .map(|t| match t {
            toml::Value::String(s) => s.clone(),
            toml::Value::Table(t) => format!(
                "{}.{} key={}",
                t["schema"].as_str().unwrap(),
                t["name"].as_str().unwrap(),
                t.get("key").and_then(|k| k.as_str()).unwrap_or("-")
            ),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn sequences(fragment: &str) -> Vec<String> {
    let value: toml::Table = fragment.parse().unwrap();
    value["set"][0]
        .get("sequences")
        .and_then(|t| t.as_array())
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn e2e_discover_lists_keyed_tables_refuses_unkeyed_follows_foreign_keys_and_finds_missing() {
    let Some(tools) = tools_or_skip("e2e_discover") else {
        return;
    };
    let c = TestCluster::start(&tools, 1, "geekdb");
    c.sql(1, SCHEMA_SQL);
    let conninfo = c.conninfo(1);
    let dir = tempfile::tempdir().unwrap();

    // Every table of the schema.
    let out = slonik_gen(&["discover", "--conninfo", &conninfo, "--schema", "geekdb"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        tables(&stdout),
        [
            "geekdb.Odd \"Name\". x",
            "geekdb.apart",
            "geekdb.customers",
            "geekdb.lines key=lines_order_id_n_key",
            "geekdb.orders",
            "geekdb.parted_1",
        ],
        "{stdout}"
    );
    assert_eq!(
        sequences(&stdout),
        [
            "geekdb.customers_id_seq",
            "geekdb.free_seq",
            "geekdb.orders_id_seq"
        ]
    );
    assert!(stdout.contains("# serial column geekdb.customers.id"), "{stdout}");
    assert!(stdout.contains("# identity column geekdb.orders.id"), "{stdout}");
    assert!(stdout.contains("# - geekdb.nokey: no primary key"), "{stdout}");
    assert!(
        stdout.contains("# - geekdb.parted: partitioned table"),
        "{stdout}"
    );
    assert!(stdout.contains("# - geekdb.v: view"), "{stdout}");
    for refused in ["geekdb.nokey", "geekdb.nullable_uniq"] {
        assert!(
            stderr.contains(&format!("table {refused} is not in the set")),
            "{stderr}"
        );
    }
    assert!(stderr.contains("add a primary key"), "{stderr}");
    let config = format!("{}{stdout}", header(&c));
    let cluster = slonik_gen::load_config_str(&config, dir.path().join("c.toml"))
        .unwrap_or_else(|e| panic!("{e}\n{config}"));
    let set = cluster.sets.values().next().unwrap();
    assert_eq!(set.tables.len(), 6);
    assert_eq!(set.tables[0].name.name, "Odd \"Name\". x");
    assert_eq!(set.tables[3].key.as_deref(), Some("lines_order_id_n_key"));
    assert_eq!(set.sequences.len(), 3);

    // The foreign-key closure of one table, across schemas, with --set and --id.
    let out = slonik_gen(&[
        "discover",
        "--conninfo",
        &conninfo,
        "--from",
        "geekdb.lines",
        "--set",
        "orders",
        "--id",
        "4",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert_eq!(
        tables(&stdout),
        [
            "geekdb.customers",
            "geekdb.lines key=lines_order_id_n_key",
            "geekdb.orders",
            "other.country",
        ],
        "{stdout}"
    );
    assert_eq!(
        sequences(&stdout),
        ["geekdb.customers_id_seq", "geekdb.orders_id_seq"]
    );
    assert!(stdout.contains("\nid = 4\nname = \"orders\"\n"), "{stdout}");
    let out = slonik_gen(&["discover", "--conninfo", &conninfo, "--from", "geekdb.gone"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("geekdb.gone: no such table"),
        "{}",
        text(&out.stderr)
    );

    // --tables-file: the plain tables in the file, the keyed one inline; it loads.
    let list = dir.path().join("set1.tables");
    let list_arg = list.to_str().unwrap();
    let out = slonik_gen(&[
        "discover",
        "--conninfo",
        &conninfo,
        "--schema",
        "geekdb",
        "--tables-file",
        list_arg,
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&list).unwrap(),
        "geekdb.Odd \"Name\". x\ngeekdb.apart\ngeekdb.customers\ngeekdb.orders\ngeekdb.parted_1\n"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&list).unwrap().permissions());
    assert_eq!(mode & 0o133, 0, "{mode:o}");
    assert_eq!(
        tables(&stdout),
        ["geekdb.lines key=lines_order_id_n_key"],
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("tables_file = \"{list_arg}\"")),
        "{stdout}"
    );
    let config_path = dir.path().join("geekdb.toml");
    let config = format!("{}{stdout}", header(&c));
    let cluster =
        slonik_gen::load_config_str(&config, &config_path).unwrap_or_else(|e| panic!("{e}\n{config}"));
    assert_eq!(cluster.sets.values().next().unwrap().tables.len(), 6);

    // --missing: the refused tables are in no set (exit 3); with a set for them, none (0).
    std::fs::write(&config_path, &config).unwrap();
    let config_arg = config_path.to_str().unwrap();
    let out = slonik_gen(&[
        "--config",
        config_arg,
        "discover",
        "--missing",
        "--conninfo",
        &conninfo,
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "table geekdb.nokey\ntable geekdb.nullable_uniq\n"
    );
    std::fs::write(
        &config_path,
        format!("{config}\n[[set]]\nid = 2\nname = \"set2\"\ntables = [\"geekdb.nokey\", \"geekdb.nullable_uniq\"]\n"),
    )
    .unwrap();
    let out = slonik_gen(&[
        "--config",
        config_arg,
        "discover",
        "--missing",
        "--conninfo",
        &conninfo,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    // --schema widens the check to a schema no set uses.
    let out = slonik_gen(&[
        "--config",
        config_arg,
        "discover",
        "--missing",
        "--schema",
        "other",
        "--conninfo",
        &conninfo,
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout), "table other.country\n");

    // A schema that holds nothing is named on stderr; an id of 0 is a usage error.
    let out = slonik_gen(&["discover", "--conninfo", &conninfo, "--schema", "GeekDB"]);
    assert!(out.status.success());
    assert_eq!(tables(&text(&out.stdout)), Vec::<String>::new());
    assert!(
        text(&out.stderr).contains("schema GeekDB holds no table or sequence"),
        "{}",
        text(&out.stderr)
    );
    let out = slonik_gen(&["discover", "--conninfo", &conninfo, "--id", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());

    // A connection that fails: exit 1, nothing on stdout, the password redacted.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let bad = format!("host=127.0.0.1 port={port} dbname=geekdb user=postgres password={PASSWORD}");
    let out = slonik_gen(&["discover", "--conninfo", &bad, "--connect-timeout", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("password=***") && stderr.contains("cannot connect"),
        "{stderr}"
    );
}
