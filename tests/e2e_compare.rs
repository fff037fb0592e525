//! `slonik-gen compare` on a real three-node Slony-I 2.2 cluster (tests/support/cluster.rs):
//! node 1 the origin, node 2 subscribed from it, node 3 from node 2. The set holds a
//! serial-keyed table, a table with a composite primary key and a hostile name, a table
//! keyed by a unique index (`key`), and a sequence. Read in chunks of 7 rows:
//!
//! 1. replicated and quiet: exit 0, every node's row counts shown;
//! 2. rows changed behind Slony's back (`session_replication_role = replica` on a
//!    subscriber), and a subscriber's sequence set below the origin's: exit 3, each
//!    difference named with its node and key range; `--node` narrows it; JSON says the same;
//! 3. repaired: exit 0;
//! 4. while a writer keeps inserting and updating rows on the origin: exit 0 (chunks that
//!    moved between the reads are read again at one exact point).

mod support;

use std::process::{Command, Output};
use std::time::Instant;

use support::cluster::{tools_or_skip, TestCluster};
use support::replicate::replicate;

const SCHEMA_SQL: &str = r#"
create schema geekdb;
create table geekdb.files (id serial primary key, name text, size bigint, at timestamptz default now());
create table geekdb."Odd ""Name"" t" (a int, "b;c" text, payload float8, primary key (a, "b;c"));
create table geekdb.tags (tag text not null, n int);
create unique index tags_key on geekdb.tags (tag);
create sequence geekdb.other_seq;
"#;

const DATA_SQL: &str = r#"
insert into geekdb.files (name, size) select 'file ' || g, g * 10 from generate_series(1, 50) g;
insert into geekdb."Odd ""Name"" t" select g % 5, 'k''' || g, g / 3.0 from generate_series(1, 30) g;
insert into geekdb.tags select 'tag ' || g, g from generate_series(1, 10) g;
"#;

fn node_toml(id: u32, port: u16) -> String {
    format!(
        "\n[[node]]\nid = {id}\nhost = \"127.0.0.1\"\nport = {port}\ndbname = \"geekdb\"\nuser = \"postgres\"\nforward = true\n"
    )
}

fn config_toml(c: &TestCluster) -> String {
    let mut text = "cluster = \"replication\"\nwait_timeout = 120\n".to_string();
    for n in 1..=3 {
        text.push_str(&node_toml(n, c.port(n)));
    }
    text.push_str(
        r#"
[[set]]
id = 1
name = "set1"
default_schema = "geekdb"
tables = ["files", { name = "Odd \"Name\" t" }, { name = "tags", key = "tags_key" }]
sequences = ["files_id_seq"]

[[subscription]]
set = "set1"
receiver = 2
provider = 1

[[subscription]]
set = "set1"
receiver = 3
provider = 2
"#,
    );
    text
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn compare(config: &str, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .args(["--config", config, "compare", "set1", "--chunk-rows", "7"])
        .args(args)
        .output()
        .expect("runs");
    eprintln!(
        "compare {args:?}: exit {:?}\n{}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

#[test]
fn e2e_compare_finds_differences_and_none_under_writes() {
    let Some(tools) = tools_or_skip("e2e_compare_finds_differences_and_none_under_writes") else {
        return;
    };
    let started = Instant::now();
    let mut c = TestCluster::start(&tools, 3, "geekdb");
    c.sql_all(SCHEMA_SQL);
    c.sql(1, DATA_SQL);
    let config_text = config_toml(&c);
    let built = replicate(&mut c, &config_text);
    let config = built.config();
    // Rows written after the subscriptions travel through Slony.
    c.sql(
        1,
        "insert into geekdb.files (name, size) select 'file ' || g, g * 10 from generate_series(51, 60) g;",
    );
    eprintln!("cluster subscribed in {:.1}s", started.elapsed().as_secs_f64());

    // 1. Equal.
    let out = compare(config, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("table geekdb.files (id 1): 9 chunks, rows node 1 60, node 2 60, node 3 60: equal"),
        "{report}"
    );
    assert!(
        report.contains(
            "table geekdb.Odd \"Name\" t (id 2): 5 chunks, rows node 1 30, node 2 30, node 3 30: equal"
        ),
        "{report}"
    );
    assert!(
        report.contains("table geekdb.tags (id 3): 2 chunks, rows node 1 10, node 2 10, node 3 10: equal"),
        "{report}"
    );
    assert!(
        report.contains("sequence geekdb.files_id_seq (id 1): origin 60..60, node 2 60, node 3 60: equal"),
        "{report}"
    );
    assert!(!report.contains("differences:"), "{report}");
    assert!(text(&out.stderr).contains("equal on origin node 1 and nodes 2, 3"));

    // 2. Differences behind Slony's back: a changed row on node 3, a deleted row on node 2
    // (node 3 receives from node 2, but these writes are not logged), a sequence on node 2.
    c.sql(
        3,
        "set session_replication_role = replica; update geekdb.files set name = 'tampered' where id = 17;",
    );
    c.sql(
        2,
        "set session_replication_role = replica; delete from geekdb.\"Odd \"\"Name\"\" t\" where a = 2 and \"b;c\" = 'k''12';",
    );
    let out = compare(config, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains(
            "node 3: table geekdb.files: rows (\"id\") > ('14') and (\"id\") <= ('21'): origin node 1 has 7 rows"
        ),
        "{report}"
    );
    assert!(
        report.contains("node 2: table geekdb.Odd \"Name\" t: rows (\"a\", \"b;c\") > "),
        "{report}"
    );
    assert!(!report.contains("node 3: table geekdb.Odd"), "{report}");
    assert!(!report.contains("node 2: table geekdb.files"), "{report}");
    assert!(
        !report.contains("sequence geekdb.files_id_seq: last_value"),
        "{report}"
    );
    assert!(report.contains("geekdb.files (id 1): 9 chunks, rows node 1 60, node 2 60, node 3 60: DIFFERENT"));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("2 differences"), "{stderr}");
    assert!(stderr.contains("geekdb.files on node 3"), "{stderr}");

    let out = compare(config, &["--node", "3", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(value["nodes"], serde_json::json!([3]), "{value}");
    let differences = value["differences"].as_array().expect("differences");
    assert_eq!(differences.len(), 1, "{value}");
    assert_eq!(differences[0]["node"], 3, "{value}");
    assert_eq!(differences[0]["kind"], "table", "{value}");
    assert_eq!(differences[0]["relation"], "geekdb.files", "{value}");
    assert_eq!(
        differences[0]["range"], "(\"id\") > ('14') and (\"id\") <= ('21')",
        "{value}"
    );
    assert_eq!(differences[0]["origin_rows"], 7, "{value}");
    assert_eq!(differences[0]["node_rows"], 7, "{value}");
    assert_eq!(differences[0]["exact"], true, "{value}");

    // A sequence the config lists but Slony does not replicate (left out of the set):
    // node 2 stays behind the origin. Slony sets every replicated sequence on each SYNC,
    // so a replicated one cannot be made to differ this way.
    c.sql(
        1,
        "select nextval('geekdb.other_seq') from generate_series(1, 10);",
    );
    c.sql(3, "select setval('geekdb.other_seq', 10);");
    let with_other = built.dir.path().join("other.toml");
    std::fs::write(
        &with_other,
        config_text.replace(
            "sequences = [\"files_id_seq\"]",
            "sequences = [\"files_id_seq\", \"other_seq\"]",
        ),
    )
    .unwrap();
    let out = compare(with_other.to_str().unwrap(), &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("sequence geekdb.other_seq (id 2): origin 10..10, node 2 1, node 3 10: DIFFERENT"),
        "{report}"
    );
    assert!(
        report.contains(
            "node 2: sequence geekdb.other_seq: last_value 1 on node 2, expected between 10 (origin node 1 before SYNC"
        ),
        "{report}"
    );
    assert!(!report.contains("node 3: sequence"), "{report}");

    // An unknown node or one that is not a subscriber: an error, nothing on stdout.
    let out = compare(config, &["--node", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("not an active subscriber"),
        "{}",
        text(&out.stderr)
    );

    // 3. Repaired.
    c.sql(
        3,
        "set session_replication_role = replica; update geekdb.files set name = 'file 17' where id = 17;",
    );
    c.sql(
        2,
        "set session_replication_role = replica; insert into geekdb.\"Odd \"\"Name\"\" t\" values (2, 'k''12', 12 / 3.0);",
    );
    let out = compare(config, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // 4. Under writes: one backend inserts and updates rows on the origin, a commit each,
    // until the flag table gets a row.
    c.sql(1, "create table public.stop_writer (x int);");
    let writer_port = c.port(1);
    let psql = tools.pg("psql");
    let writer = std::thread::spawn(move || {
        Command::new(psql)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(format!(
                "host=127.0.0.1 port={writer_port} dbname=geekdb user=postgres"
            ))
            .arg("-c")
            .arg(
                "do $$ begin loop \
                   exit when exists (select 1 from public.stop_writer); \
                   insert into geekdb.files (name, size) values ('written', 1); \
                   update geekdb.files set size = size + 1 where id = 1 + (random() * 59)::int; \
                   update geekdb.tags set n = n + 1 where tag = 'tag ' || (1 + (random() * 9)::int); \
                   commit; perform pg_sleep(0.002); \
                 end loop; end $$;",
            )
            .env("PGOPTIONS", "-c statement_timeout=300s")
            .output()
            .expect("psql runs")
    });
    // The writer has started once it has written a row.
    c.wait_until("the writer writes", std::time::Duration::from_secs(30), || {
        c.sql(1, "select count(*) from geekdb.files where name = 'written'") != "0"
    });
    let out = compare(config, &["--format", "json"]);
    let rereads = serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .map(|v| v["exact_rereads"].clone())
        .unwrap_or_default();
    eprintln!("under writes: {rereads} chunks read again at an exact point");
    let written_during = c.sql(1, "select count(*) from geekdb.files where name = 'written'");
    c.sql(1, "insert into public.stop_writer values (1);");
    let writer = writer.join().expect("the writer thread");
    assert!(
        writer.status.success(),
        "the writer failed: {}",
        text(&writer.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    eprintln!("{written_during} rows written while comparing");
    let out = compare(config, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    eprintln!("e2e_compare total {:.1}s", started.elapsed().as_secs_f64());
}
