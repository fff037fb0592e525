//! `[[set]] tables_file` / `sequences_file`: table lists kept in plain files, one name a line.

mod common;

use std::path::Path;

use common::{assert_fails, slonik_gen, text};
use slonik_gen::runbook::{Format, Request};
use slonik_gen::{load_config, load_config_str, Cluster};

const NODES: &str = "cluster = \"c\"\n\
    [[node]]\nid = 1\nhost = \"127.0.0.1\"\ndbname = \"db\"\n\
    [[node]]\nid = 2\nhost = \"127.0.0.1\"\nport = 5433\ndbname = \"db\"\n";

const SUBSCRIPTION: &str = "[[subscription]]\nset = \"set1\"\nreceiver = 2\n";

/// The set with its tables in list files, the file tables first then the inline ones.
fn listed_set(tables_file: &str, sequences_file: &str) -> String {
    format!(
        "{NODES}\n[[set]]\nid = 1\nname = \"set1\"\ndefault_schema = \"app\"\nfirst_table_id = 10\n\
         tables_file = \"{tables_file}\"\nsequences_file = \"{sequences_file}\"\n\
         tables = [\"late\", {{ name = \"pinned\", id = 11 }}]\n\
         sequences = [\"late_id_seq\"]\n{SUBSCRIPTION}"
    )
}

const TABLES: &str = "# psql -Atc \"select schemaname||'.'||tablename from pg_tables ...\"\r\n\
    orders\r\n\
    \r\n\
    audit.log\r\n\
    \x20 order_lines  \r\n";
const SEQUENCES: &str = "orders_id_seq\n# none other\n";

/// The same set written inline, entry for entry.
fn inline_set() -> String {
    format!(
        "{NODES}\n[[set]]\nid = 1\nname = \"set1\"\ndefault_schema = \"app\"\nfirst_table_id = 10\n\
         tables = [\"orders\", \"audit.log\", \"order_lines\", \"late\", {{ name = \"pinned\", id = 11 }}]\n\
         sequences = [\"orders_id_seq\", \"late_id_seq\"]\n{SUBSCRIPTION}"
    )
}

/// Writes `config` as DIR/c.toml with the list files next to it.
fn write_listed(dir: &Path, config: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("set1.tables"), TABLES).unwrap();
    std::fs::write(dir.join("set1.sequences"), SEQUENCES).unwrap();
    let path = dir.join("c.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn table_ids(cluster: &Cluster) -> Vec<(String, u32)> {
    cluster
        .sets
        .values()
        .next()
        .unwrap()
        .tables
        .iter()
        .map(|t| (t.name.to_string(), t.id.0))
        .collect()
}

#[test]
fn a_list_file_loads_to_the_same_cluster_as_the_inline_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_listed(dir.path(), &listed_set("set1.tables", "set1.sequences"));
    let listed = load_config(&path, None).unwrap();
    let inline = load_config_str(&inline_set(), "inline.toml").unwrap();
    assert_eq!(listed, inline);
    // File entries first, in file order; explicit ids are skipped by the allocator.
    assert_eq!(
        table_ids(&listed),
        [
            ("app.orders".to_string(), 10),
            ("audit.log".to_string(), 12),
            ("app.order_lines".to_string(), 13),
            ("app.late".to_string(), 14),
            ("app.pinned".to_string(), 11),
        ]
    );
    let sequences: Vec<String> = listed
        .sets
        .values()
        .next()
        .unwrap()
        .sequences
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(sequences, ["app.orders_id_seq", "app.late_id_seq"]);
}

#[test]
fn to_config_writes_the_listed_tables_inline_and_reloads_equal() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_listed(dir.path(), &listed_set("set1.tables", "set1.sequences"));
    let cluster = load_config(&path, None).unwrap();
    let toml = cluster.to_toml();
    assert!(
        !toml.contains("tables_file") && !toml.contains("sequences_file"),
        "{toml}"
    );
    // Loaded from elsewhere: the written config needs no list file.
    assert_eq!(
        load_config_str(&toml, "/nonexistent/state.toml").unwrap(),
        cluster
    );
}

#[test]
fn relative_paths_are_relative_to_the_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(conf.join("lists")).unwrap();
    std::fs::write(conf.join("lists/set1.tables"), TABLES).unwrap();
    let absolute_sequences = dir.path().join("elsewhere.sequences");
    std::fs::write(&absolute_sequences, SEQUENCES).unwrap();
    let config = listed_set("lists/set1.tables", absolute_sequences.to_str().unwrap());
    // The tests run in the crate root, so only the config's directory can find the files.
    let cluster = load_config_str(&config, conf.join("c.toml")).unwrap();
    assert_eq!(cluster, load_config_str(&inline_set(), "inline.toml").unwrap());
    // The same text named as a config elsewhere looks for its list elsewhere.
    let err = load_config_str(&config, dir.path().join("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&dir.path().join("lists/set1.tables").display().to_string()),
        "{err}"
    );
}

#[test]
fn a_missing_list_file_names_the_config_the_set_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, listed_set("missing.tables", "set1.sequences")).unwrap();
    let err = load_config(&config, None).unwrap_err();
    assert!(
        matches!(err, slonik_gen::LoadError::ReadListFile { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    let expected_start = format!(
        "{}: cannot read the tables_file of set 1 (set1), {}; ",
        config.display(),
        dir.path().join("missing.tables").display()
    );
    assert!(message.starts_with(&expected_start), "{message}");
    // The OS's reason is the error's source, printed once as `caused by:`.
    let source = std::error::Error::source(&err)
        .map(|s| s.to_string())
        .unwrap_or_default();
    assert!(source.contains("No such file or directory"), "{source}");
    assert!(
        message.contains("create it (one `schema.name` a line"),
        "{message}"
    );
    assert!(
        message.contains("from pg_tables where ...\" > missing.tables)"),
        "{message}"
    );
    assert!(
        message.contains("relative to the config file's directory"),
        "{message}"
    );
}

#[test]
fn a_line_that_is_not_a_name_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("set1.tables"), "orders\n# fine\n.\n").unwrap();
    std::fs::write(dir.path().join("set1.sequences"), SEQUENCES).unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, listed_set("set1.tables", "set1.sequences")).unwrap();
    let message = load_config(&config, None).unwrap_err().to_string();
    let file = dir.path().join("set1.tables");
    assert!(
        message.starts_with(&format!("{}:3: ", file.display())),
        "{message}"
    );
    assert!(message.contains("write one table a line"), "{message}");
    assert!(message.contains("set 1 (set1) tables_file in"), "{message}");
}

#[test]
fn validation_sees_listed_tables_like_inline_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("set1.tables"), "orders\napp.late\n").unwrap();
    std::fs::write(dir.path().join("set1.sequences"), "").unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, listed_set("set1.tables", "set1.sequences")).unwrap();
    let message = load_config(&config, None).unwrap_err().to_string();
    assert!(message.contains("app.late"), "{message}");
    assert!(message.contains(&config.display().to_string()), "{message}");
}

#[test]
fn cli_create_set_prints_the_same_script_from_a_list_file() {
    let dir = tempfile::tempdir().unwrap();
    let listed = write_listed(dir.path(), &listed_set("set1.tables", "set1.sequences"));
    let inline = dir.path().join("inline.toml");
    std::fs::write(&inline, inline_set()).unwrap();
    let from_list = slonik_gen(&["--config", listed.to_str().unwrap(), "create-set", "set1"]);
    let from_inline = slonik_gen(&["--config", inline.to_str().unwrap(), "create-set", "set1"]);
    assert_eq!(from_list.status.code(), Some(0), "{}", text(&from_list.stderr));
    assert!(text(&from_list.stdout).contains(r#"fully qualified name = '"audit"."log"'"#));
    assert_eq!(text(&from_list.stdout), text(&from_inline.stdout));
}

#[test]
fn cli_missing_list_file_fails_with_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, listed_set("set1.tables", "set1.sequences")).unwrap();
    let out = slonik_gen(&["--config", config.to_str().unwrap(), "create-set", "set1"]);
    assert_fails(
        &out,
        1,
        &format!(
            "cannot read the tables_file of set 1 (set1), {}",
            dir.path().join("set1.tables").display()
        ),
    );
    // With the tables there, the missing sequence list is next, with its own psql query.
    std::fs::write(dir.path().join("set1.tables"), TABLES).unwrap();
    let out = slonik_gen(&["--config", config.to_str().unwrap(), "create-set", "set1"]);
    assert_fails(&out, 1, "cannot read the sequences_file of set 1 (set1)");
    assert!(
        text(&out.stderr).contains("from pg_sequences where ...\" > set1.sequences)"),
        "{}",
        text(&out.stderr)
    );
}

fn add_tables_plan(cluster: &Cluster) -> slonik_gen::runbook::Plan {
    Request::AddTables {
        set: "set1".into(),
        tables: vec!["refunds".into(), "audit.trail".into()],
        sequences: vec!["refunds_id_seq".into()],
    }
    .run(cluster)
    .unwrap()
}

#[test]
fn write_config_appends_only_the_new_tables_after_a_list_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_listed(dir.path(), &listed_set("set1.tables", "set1.sequences"));
    let original = std::fs::read_to_string(&path).unwrap();
    let plan = add_tables_plan(&load_config(&path, None).unwrap());
    let after = slonik_gen::config_writer::edit(&original, &path, &plan.next).unwrap();
    assert!(
        after.contains(
            r#"tables = [
    "late",
    { name = "pinned", id = 11 },
    { name = "refunds", schema = "app", id = 15 },
    { name = "trail", schema = "audit", id = 16 },
]"#
        ),
        "{after}"
    );
    assert!(
        after.contains(
            r#"sequences = [
    "late_id_seq",
    { name = "refunds_id_seq", schema = "app", id = 3 },
]"#
        ),
        "{after}"
    );
    assert!(after.contains("tables_file = \"set1.tables\""), "{after}");
    assert!(
        !after.contains("\"orders\""),
        "a listed table was appended inline: {after}"
    );
    assert_eq!(load_config_str(&after, &path).unwrap(), plan.next);
}

#[test]
fn cli_runbook_write_config_keeps_the_list_file_and_rebases_it_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_listed(dir.path(), &listed_set("set1.tables", "set1.sequences"));
    let config = path.to_str().unwrap();
    let plan = add_tables_plan(&load_config(&path, None).unwrap());
    let args = |out: &str| {
        slonik_gen(&[
            "--config",
            config,
            "--write-config",
            out,
            "runbook",
            "--format",
            "sh",
            "add-tables",
            "--set",
            "set1",
            "refunds",
            "audit.trail",
            "--sequence",
            "refunds_id_seq",
        ])
    };

    // Into another directory: the relative list paths become absolute.
    let other = tempfile::tempdir().unwrap();
    let moved = other.path().join("after.toml");
    let out = args(moved.to_str().unwrap());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), plan.render(Format::Shell).unwrap());
    let written = std::fs::read_to_string(&moved).unwrap();
    let absolute = std::path::absolute(dir.path().join("set1.tables")).unwrap();
    assert!(
        written.contains(&format!("tables_file = \"{}\"", absolute.display())),
        "{written}"
    );
    assert_eq!(load_config(&moved, None).unwrap(), plan.next);

    // In place: the file keeps its relative list paths; the list files are untouched.
    let out = args(config);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("tables_file = \"set1.tables\""), "{written}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("set1.tables")).unwrap(),
        TABLES
    );
    assert_eq!(load_config(&path, None).unwrap(), plan.next);
}
