//! Building a cluster in Rust instead of TOML: the builders give the same config, and so
//! the same `Cluster`, as the equivalent file; defaults match a file's; problems convert
//! into the crate's `Error`.

use slonik_gen::model::config::{ConfigFile, NodeConfig, SetConfig, SubscriptionConfig, TableEntry};
use slonik_gen::model::conninfo::ConnectionParts;
use slonik_gen::validate::{validate, Problem};
use slonik_gen::{load_config_str, Cluster, Error, SlonyVersion};

/// A three-node cascade: node 1 is the origin, node 2 forwards to node 3.
const CASCADE: &str = r#"
cluster = "replication"
slony_version = "2.1"
default_origin = 1
wait_timeout = 300

[[node]]
id = 1
name = "MasNod"
comment = "origin"
host = "db1"
port = 5433
dbname = "app"
user = "slony"
passfile = "/var/lib/postgresql/.pgpass"
options = { connect_timeout = "5" }
slon_start = "systemctl start slon@1"
slon_stop = "systemctl stop slon@1"

[node.path]
host = "10.0.0.1"

[[node]]
id = 2
name = "Relay"
host = "db2"
dbname = "app"
user = "slony"
passfile = "/var/lib/postgresql/.pgpass"

[[node]]
id = 3
name = "Leaf"
host = "db3"
dbname = "app"
user = "slony"
passfile = "/var/lib/postgresql/.pgpass"
provider = 2
forward = false

[[set]]
id = 1
name = "set1"
origin = 1
comment = "application tables"
default_schema = "app"
first_table_id = 10
tables = [
  "accounts",
  "audit.log",
  { name = "legacy", key = "legacy_uniq" },
  { schema = "public", name = "Capital Idea", id = 40, comment = "exact name" },
]
sequences = ["accounts_id_seq"]

[[subscription]]
set = "set1"
receiver = 2
forward = true

[[subscription]]
set = 1
receiver = 3
"#;

fn cascade_in_code() -> ConfigFile {
    let node = |id: u32, name: &str, host: &str| {
        NodeConfig::new(id)
            .name(name)
            .host(host)
            .dbname("app")
            .user("slony")
            .passfile("/var/lib/postgresql/.pgpass")
    };
    ConfigFile::new("replication")
        .slony_version(SlonyVersion::V2_1)
        .default_origin(1)
        .wait_timeout(300)
        .node(
            node(1, "MasNod", "db1")
                .comment("origin")
                .port(5433)
                .option("connect_timeout", "5")
                .slon_start("systemctl start slon@1")
                .slon_stop("systemctl stop slon@1")
                .path(ConnectionParts::new().host("10.0.0.1")),
        )
        .node(node(2, "Relay", "db2"))
        .node(node(3, "Leaf", "db3").provider(2).forward(false))
        .set(
            SetConfig::new(1, "set1")
                .origin(1)
                .comment("application tables")
                .default_schema("app")
                .first_table_id(10)
                .tables(["accounts", "audit.log"])
                .table(TableEntry::from_short("legacy").key("legacy_uniq"))
                .table(
                    TableEntry::new("public", "Capital Idea")
                        .id(40)
                        .comment("exact name"),
                )
                .sequence("accounts_id_seq"),
        )
        .subscription(SubscriptionConfig::new("set1", 2).forward(true))
        .subscription(SubscriptionConfig::new(1, 3))
}

#[test]
fn a_cascade_built_in_code_is_the_cluster_of_the_same_toml() {
    let built = cascade_in_code();
    let parsed: ConfigFile = toml::from_str(CASCADE).expect("the TOML parses");
    assert_eq!(built, parsed);

    let cluster = validate(&built).unwrap_or_else(|problems| panic!("{problems}"));
    let loaded = load_config_str(CASCADE, "cascade.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cluster, loaded);

    let ids: Vec<u32> = cluster.sets[&1.into()].tables.iter().map(|t| t.id.0).collect();
    assert_eq!(ids, [10, 11, 12, 40]);
    let leaf = &cluster.subscriptions[&(1.into(), 3.into())];
    assert_eq!((leaf.provider.0, leaf.forward), (2, false));
}

#[test]
fn a_config_built_in_code_round_trips_through_toml() {
    let built = cascade_in_code();
    let text = toml::to_string(&built).expect("serializes");
    let again: ConfigFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(built, again, "{text}");
}

#[test]
fn defaults_are_what_a_file_that_leaves_the_keys_out_holds() {
    fn parse<T: serde::de::DeserializeOwned>(text: &str) -> T {
        toml::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }
    assert_eq!(ConfigFile::default(), parse::<ConfigFile>("cluster = \"\""));
    assert_eq!(ConfigFile::new("c"), parse::<ConfigFile>("cluster = \"c\""));
    assert_eq!(NodeConfig::default(), parse::<NodeConfig>("id = 0"));
    assert_eq!(NodeConfig::new(4), parse::<NodeConfig>("id = 4"));
    assert_eq!(SetConfig::default(), parse::<SetConfig>("id = 0"));
    assert_eq!(SetConfig::new(2, "s"), parse::<SetConfig>("id = 2\nname = \"s\""));
    assert_eq!(TableEntry::default(), parse::<TableEntry>("name = \"\""));
    assert_eq!(ConnectionParts::new(), parse::<ConnectionParts>(""));
    assert_eq!(
        SubscriptionConfig::new("set1", 2),
        parse::<SubscriptionConfig>("set = \"set1\"\nreceiver = 2")
    );
}

#[test]
fn defaults_never_reach_a_cluster_unchecked() {
    // The zero id and the empty cluster name of the defaults are what validation refuses.
    let config = ConfigFile::default().node(NodeConfig::default());
    let problems = validate(&config).expect_err("not a cluster").0;
    assert!(
        matches!(problems[0], Problem::BadClusterName { .. }),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| matches!(
            p,
            Problem::IdOutOfRange {
                what: "node",
                value: 0,
                ..
            }
        )),
        "{problems:?}"
    );
}

#[test]
fn question_mark_turns_problems_into_the_crate_error() {
    fn build(config: &ConfigFile) -> slonik_gen::Result<Cluster> {
        let cluster = validate(config)?;
        Ok(cluster)
    }
    let error = build(&ConfigFile::new("replication")).expect_err("no nodes");
    assert!(
        matches!(&error, Error::Load(slonik_gen::LoadError::Invalid(problems)) if problems.0 == [Problem::NoNodes])
    );
    assert_eq!(
        error.to_string(),
        "invalid config: 1 problem:\n  - the config has no [[node]]: add at least one node"
    );
    assert!(
        std::error::Error::source(&error).is_none(),
        "the problems are not repeated as a cause"
    );
    assert!(build(&cascade_in_code()).is_ok());
}

#[test]
fn a_config_built_in_code_has_the_problems_of_the_same_toml() {
    let built = ConfigFile::new("c")
        .node(NodeConfig::new(1).host("a").provider(7))
        .set(SetConfig::new(1, "set1").tables(["t", "t"]))
        .subscription(SubscriptionConfig::new("set9", 1));
    let text = "cluster = \"c\"\n[[node]]\nid = 1\nhost = \"a\"\nprovider = 7\n\
                [[set]]\nid = 1\nname = \"set1\"\ntables = [\"t\", \"t\"]\n\
                [[subscription]]\nset = \"set9\"\nreceiver = 1\n";
    let from_text = toml::from_str::<ConfigFile>(text).expect("parses");
    assert_eq!(
        validate(&built).expect_err("invalid"),
        validate(&from_text).expect_err("invalid")
    );
}
