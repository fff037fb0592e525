//! Hostile text cannot make a runbook run anything the plan does not say.
//!
//! Every text field of a config (node names, comments, connection values, set names, schema,
//! table, key and sequence names, comments) is filled with shell, Markdown and here-document
//! metacharacters (`$(touch CANARY)`, backticks, `;`, quotes, `EOF`, the runbooks' own
//! here-document delimiters), every runbook is rendered in every format, and each bash
//! runbook is run with fake `slonik`, `psql`, `slon`, `pg_dump`, `pg_restore` and `ssh` on
//! `PATH`. The fakes log their arguments and standard input and answer every check the way
//! the plan expects, so the whole runbook runs; the test then asserts that the canary file
//! never appeared and that every logged call is one the plan contains, with exactly the
//! plan's text. Control characters are refused by validation (asserted here too); a
//! [`Cluster`] built in code bypasses validation, so the renderers must still neutralise a
//! line break in a name, which the last test checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use slonik_gen::model::NodeId;
use slonik_gen::runbook::{Action, Format, Plan, Prepare, Request};
use slonik_gen::slon::run::SlonRun;
use slonik_gen::{load_config_str, Cluster};

/// Texts that mean something to bash, Markdown, here-documents or libpq. `CANARY` is
/// replaced by the path of the file that must never be created.
const HOSTILE: &[&str] = &[
    "$(touch CANARY)",
    "`touch CANARY`",
    "x; touch CANARY; y",
    "x' ; touch CANARY ; '",
    "x\" ; touch CANARY ; \"",
    "x && touch CANARY",
    "x | touch CANARY",
    "${IFS}touch${IFS}CANARY",
    "EOF",
    "SLONIK_GEN_EOF",
    "SLONIK_GEN_SQL",
    "# Step 99 [x](http://evil) <b>*bold*</b> |cell|",
];

/// A TOML string holding `text` exactly.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A three-node cluster (set 1 from node 1 to node 2, cascaded to node 3) whose every text
/// holds `hostile` (made unique per item where names must differ), with its slons' config,
/// pid and log directories under `daemon` in directories named with `hostile` too.
fn hostile_config(hostile: &str, daemon: &Path) -> String {
    let s = |suffix: &str| toml_string(&format!("{hostile}{suffix}"));
    // A path connection value with both a space and a `'` cannot survive `store path`
    // (validation says so): such values keep their quote and lose their spaces.
    let c = |suffix: &str| {
        let value = format!("{hostile}{suffix}");
        if value.contains('\'') {
            toml_string(&value.replace(' ', ""))
        } else {
            toml_string(&value)
        }
    };
    let mut text = String::from("cluster = \"hostile\"\nslony_version = \"2.2\"\n");
    let dir = |what: &str| toml_string(&format!("{}/{what} {hostile}", daemon.display()));
    text.push_str(&format!(
        "[daemon]\nconf_dir = {}\npid_dir = {}\nlog_dir = {}\nstop_timeout = 1\n",
        dir("conf"),
        dir("run"),
        dir("log")
    ));
    for id in 1..=3 {
        text.push_str(&format!(
            "\n[[node]]\nid = {id}\nname = {}\ncomment = {}\nhost = {}\nport = 5432\ndbname = {}\nuser = {}\npassfile = {}\n",
            s(&format!(" n{id}")),
            s(" comment"),
            c(&format!(" host{id}")),
            c(" db"),
            c(" user"),
            c(" passfile"),
        ));
        if id == 2 {
            // A configured command runs as written (it is the operator's own shell code);
            // the hostile text stays out of it.
            text.push_str("slon_start = \"ssh beta sudo systemctl start slon-2\"\nslon_stop = \"ssh beta sudo systemctl stop slon-2\"\n");
        }
        text.push_str(&format!("[node.options]\napplication_name = {}\n", c(" app")));
        if id == 3 {
            text.push_str(&format!("[node.path]\nhost = {}\n", c(" path host")));
        }
    }
    text.push_str(&format!(
        "\n[[set]]\nid = 1\nname = {}\ncomment = {}\ndefault_schema = {}\ntables = [{}, {{ name = {}, key = {}, comment = {} }}]\nsequences = [{}]\n",
        s(" set"),
        s(" set comment"),
        s(" schema"),
        s(" t1"),
        s(" t2"),
        s(" key"),
        s(" table comment"),
        s(" seq"),
    ));
    text.push_str("\n[[subscription]]\nset = 1\nreceiver = 2\nforward = true\n");
    text.push_str("\n[[subscription]]\nset = 1\nreceiver = 3\nprovider = 2\n");
    text
}

/// Every runbook on `cluster`, with a name for messages. `hostile` names the added tables.
fn plans(cluster: &Cluster, hostile: &str) -> Vec<(String, Plan)> {
    let failover = Request::Failover {
        dead: vec!["1".into()],
        backup: "2".into(),
        drop_dead: false,
    };
    let failed = failover.run(cluster).expect("failover plan").next;
    let mut out = vec![
        (
            "switchover".to_string(),
            Request::Switchover {
                sets: vec!["1".into()],
                from: None,
                to: "2".into(),
            }
            .run(cluster),
        ),
        ("failover".into(), failover.run(cluster)),
        (
            "failover --drop-dead".into(),
            Request::Failover {
                dead: vec!["1".into()],
                backup: "2".into(),
                drop_dead: true,
            }
            .run(cluster),
        ),
        (
            "add-tables".into(),
            Request::AddTables {
                set: "1".into(),
                tables: vec![format!("{hostile} new table")],
                sequences: vec![format!("{hostile} new seq")],
            }
            .run(cluster),
        ),
    ];
    for prepare in [Prepare::DropSchema, Prepare::Recreate] {
        out.push((
            format!("rebuild-node {prepare:?}"),
            Request::RebuildNode {
                node: "3".into(),
                sets: Vec::new(),
                prepare,
            }
            .run(cluster),
        ));
        out.push((
            format!("failback {prepare:?}"),
            Request::Failback {
                node: "1".into(),
                sets: Vec::new(),
                prepare,
            }
            .run(&failed),
        ));
    }
    out.into_iter()
        .map(|(name, plan)| {
            let plan = plan.unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, plan)
        })
        .collect()
}

/// Fake tools: each logs its name, arguments (NUL-separated) and standard input into
/// `$FAKE_LOG`, one file per call; `psql` answers a query from `$FAKE_ANSWERS`, the answers
/// the plan expects for that query, in plan order.
const FAKE_TOOL: &str = r#"#!/bin/bash
tool=$(basename "$0")
call="$FAKE_LOG/$(date +%s%N)-$$-$tool"
if [ $# -gt 0 ]; then printf '%s\0' "$@"; fi > "$call.argv"
sql=""
query=no
pidfile=""
while [ $# -gt 0 ]; do
    case $1 in
        -c) sql=$2; query=yes; shift 2 ;;
        -p) pidfile=$2; shift 2 ;;
        -l) printf '; fake restore list\n'; shift ;;
        *) shift ;;
    esac
done
case $tool in
    slonik) cat > "$call.stdin" ;;
    psql)
        if [ "$query" = yes ]; then
            key=$(printf '%s' "$sql" | sha256sum | cut -d' ' -f1)
            count=$(cat "$FAKE_ANSWERS/$key.count" 2>/dev/null || echo 0)
            count=$((count + 1))
            echo "$count" > "$FAKE_ANSWERS/$key.count"
            if [ -f "$FAKE_ANSWERS/$key.$count" ]; then
                cat "$FAKE_ANSWERS/$key.$count"
            else
                # asked again (a retried check): the last answer stands
                last=$(ls "$FAKE_ANSWERS" | grep -c "^$key\.[0-9]*$")
                cat "$FAKE_ANSWERS/$key.$last"
            fi
        else
            cat > "$call.stdin"
        fi
        ;;
    slon)
        echo $$ > "$pidfile"
        exec sleep 30
        ;;
esac
exit 0
"#;

struct Call {
    tool: String,
    argv: Vec<String>,
    stdin: Option<String>,
}

fn sha256(text: &str) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("sha256sum runs");
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// The plan's expected answers, per query, in the order the script asks them.
fn write_answers(plan: &Plan, dir: &Path) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut answer = |sql: &str, expect: &str| {
        let key = sha256(sql);
        let n = counts.entry(key.clone()).or_default();
        *n += 1;
        std::fs::write(dir.join(format!("{key}.{n}")), expect).unwrap();
    };
    for step in &plan.steps {
        if let Some(probe) = &step.only_if {
            answer(&probe.sql, &probe.expect);
        }
        if let Action::Check { sql, expect, .. } = &step.action {
            answer(sql, expect);
        }
    }
}

fn calls(log: &Path) -> Vec<Call> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(log)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "argv"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|argv_file| {
            let stem = argv_file.file_stem().unwrap().to_string_lossy().to_string();
            let tool = stem.rsplit('-').next().unwrap().to_string();
            let raw = std::fs::read_to_string(&argv_file).unwrap();
            let argv = raw.split_terminator('\0').map(str::to_string).collect();
            let stdin = std::fs::read_to_string(argv_file.with_extension("stdin")).ok();
            Call { tool, argv, stdin }
        })
        .collect()
}

fn value_after<'a>(argv: &'a [String], flag: &str) -> Option<&'a str> {
    argv.iter()
        .position(|a| a == flag)
        .and_then(|i| argv.get(i + 1))
        .map(String::as_str)
}

/// Runs the bash form of `plan` with the fakes, the slon config file of every node of
/// `cluster` in place; returns the calls they logged.
fn run_shell(name: &str, plan: &Plan, cluster: &Cluster, canary: &Path) -> Vec<Call> {
    let runs: Vec<SlonRun> = cluster
        .nodes
        .keys()
        .filter_map(|id| SlonRun::of(cluster, *id))
        .collect();
    for run in &runs {
        let conf = Path::new(&run.conf_file);
        std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
        std::fs::write(conf, "# fake slon config\n").unwrap();
    }
    // The fake slons sleep; end them rather than leave them behind, however this ends.
    struct EndSlons(Vec<SlonRun>);
    impl Drop for EndSlons {
        fn drop(&mut self) {
            for pid_file in self.0.iter().filter_map(|r| r.pid_file.as_deref()) {
                if let Ok(pid) = std::fs::read_to_string(pid_file) {
                    let _ = Command::new("kill")
                        .args(["-KILL", pid.trim()])
                        .stderr(std::process::Stdio::null())
                        .status();
                    let _ = std::fs::remove_file(pid_file);
                }
            }
        }
    }
    let _end = EndSlons(runs);
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let log = dir.path().join("log");
    let answers = dir.path().join("answers");
    let work = dir.path().join("work");
    for d in [&bin, &log, &answers, &work] {
        std::fs::create_dir(d).unwrap();
    }
    for tool in ["slonik", "psql", "slon", "pg_dump", "pg_restore", "ssh"] {
        let path = bin.join(tool);
        std::fs::write(&path, FAKE_TOOL).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    write_answers(plan, &answers);
    let script = dir.path().join("runbook.sh");
    std::fs::write(&script, plan.render(Format::Shell).unwrap()).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", path)
        .env("FAKE_LOG", &log)
        .env("FAKE_ANSWERS", &answers)
        .env_remove("SLONIK")
        .env_remove("PSQL")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !canary.exists(),
        "{name}: the runbook ran a command hidden in the config\n{stdout}"
    );
    assert!(
        out.status.success() && stdout.contains("Runbook finished: every step succeeded."),
        "{name}: the runbook did not run to its end ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    calls(&log)
}

/// Asserts that every call is one the plan says, with the plan's exact text, and that every
/// slonik script and SQL step of the plan ran, in order.
fn assert_calls_match_plan(name: &str, plan: &Plan, cluster: &Cluster, calls: &[Call]) {
    let conninfo = |node: NodeId| plan.nodes[&node].conninfo.clone();
    let mut slonik_expected = Vec::new();
    let mut sql_expected = Vec::new();
    let mut queries = Vec::new();
    let mut shell_text = Vec::new();
    for step in &plan.steps {
        if let Some(probe) = &step.only_if {
            queries.push((conninfo(probe.node), probe.sql.clone()));
        }
        match &step.action {
            Action::Slonik(script) => slonik_expected.push(script.render().unwrap()),
            Action::Sql { node, sql } => sql_expected.push((conninfo(*node), sql.clone())),
            Action::Check { node, sql, .. } => queries.push((conninfo(*node), sql.clone())),
            Action::Shell { command, .. } => shell_text.push(command.clone()),
            Action::Manual { .. } => {}
        }
    }
    let slonik_run: Vec<String> = calls
        .iter()
        .filter(|c| c.tool == "slonik")
        .map(|c| {
            assert!(c.argv.is_empty(), "{name}: slonik got arguments {:?}", c.argv);
            c.stdin.clone().unwrap_or_default()
        })
        .collect();
    assert_eq!(slonik_run, slonik_expected, "{name}: slonik scripts");
    let mut sql_run = Vec::new();
    for call in calls {
        match call.tool.as_str() {
            "slonik" => {}
            "psql" => {
                let d = value_after(&call.argv, "-d")
                    .unwrap_or_else(|| panic!("{name}: psql without -d: {:?}", call.argv));
                let known = plan.nodes.values().any(|a| a.conninfo == d)
                    || shell_text
                        .iter()
                        .any(|command| call.argv.iter().all(|a| command.contains(&shell_word(a))));
                assert!(
                    known,
                    "{name}: psql connected to {d:?}, which the plan does not name"
                );
                if let Some(sql) = value_after(&call.argv, "-c") {
                    let from_shell = shell_text
                        .iter()
                        .any(|command| command.contains(&shell_word(sql)));
                    assert!(
                        from_shell || queries.contains(&(d.to_string(), sql.to_string())),
                        "{name}: psql ran {sql:?} on {d:?}, which the plan does not ask"
                    );
                } else {
                    sql_run.push((d.to_string(), call.stdin.clone().unwrap_or_default()));
                }
            }
            "slon" => {
                // `slon -f CONF -p PID`, as the node's SlonRun says.
                let run = cluster
                    .nodes
                    .keys()
                    .filter_map(|id| SlonRun::of(cluster, *id))
                    .find(|r| value_after(&call.argv, "-f") == Some(r.conf_file.as_str()))
                    .unwrap_or_else(|| panic!("{name}: slon started with {:?}", call.argv));
                assert_eq!(
                    call.argv,
                    [
                        "-f",
                        run.conf_file.as_str(),
                        "-p",
                        run.pid_file.as_deref().unwrap()
                    ],
                    "{name}: slon arguments"
                );
                let node = &cluster.nodes[&run.node];
                let expected = slonik_gen::runbook::slon_start_command(cluster, node).unwrap();
                for arg in &call.argv {
                    assert!(
                        expected.contains(&shell_word(arg)),
                        "{name}: slon argument {arg:?} is not in {expected}"
                    );
                }
            }
            "pg_dump" | "pg_restore" | "ssh" => {
                for arg in &call.argv {
                    let word = shell_word(arg);
                    let in_plan =
                        shell_text.iter().any(|command| command.contains(&word)) || arg.contains("/schema.");
                    assert!(
                        in_plan,
                        "{name}: {} got {arg:?}, which the plan's commands do not hold",
                        call.tool
                    );
                }
            }
            other => panic!("{name}: unexpected tool {other}"),
        }
    }
    let sql_expected: Vec<(String, String)> = sql_expected
        .into_iter()
        .map(|(d, sql)| {
            (
                d,
                if sql.ends_with('\n') {
                    sql
                } else {
                    format!("{sql}\n")
                },
            )
        })
        .collect();
    assert_eq!(sql_run, sql_expected, "{name}: SQL steps");
}

/// How the runbook writes `text` as one shell word.
fn shell_word(text: &str) -> String {
    slonik_gen::escape::shell::word(text)
}

/// Markdown: the only headings are the title, the numbered steps and the closing section,
/// and the node table has one row per node.
fn assert_markdown_shape(name: &str, plan: &Plan) {
    let md = plan.render(Format::Markdown).unwrap();
    let mut in_fence = false;
    let mut headings = 0;
    let mut table_rows = 0;
    for line in md.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if line.starts_with('#') {
            headings += 1;
        }
        if line.starts_with("| node ") && !line.starts_with("| node |") {
            table_rows += 1;
            assert_eq!(
                line.matches(" | ").count(),
                1,
                "{name}: a table row split: {line}"
            );
        }
        let outside_code: String = line.split('`').step_by(2).collect();
        let unescaped = outside_code
            .replace("\\]", "")
            .replace("\\<", "")
            .replace("\\*", "");
        for raw in ["<b>", "](http", "*bold*"] {
            assert!(!unescaped.contains(raw), "{name}: raw markup {raw} in {line}");
        }
    }
    assert_eq!(headings, plan.steps.len() + 2, "{name}: headings\n{md}");
    assert_eq!(table_rows, plan.nodes.len(), "{name}: node table rows\n{md}");
}

/// JSON: parses, and holds the node labels exactly.
fn assert_json_exact(name: &str, plan: &Plan) {
    let json = plan.render(Format::Json).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
    for (id, access) in &plan.nodes {
        assert_eq!(
            value["nodes"][id.to_string()]["label"].as_str(),
            Some(access.label.as_str()),
            "{name}"
        );
    }
}

fn canary_for(hostile: &str, dir: &Path) -> (String, PathBuf) {
    let canary = dir.join("CANARY");
    (hostile.replace("CANARY", &canary.display().to_string()), canary)
}

#[test]
fn hostile_config_text_never_runs_in_any_runbook() {
    let dir = tempfile::tempdir().unwrap();
    let mut ran = 0;
    for hostile in HOSTILE {
        let (hostile, canary) = canary_for(hostile, dir.path());
        let text = hostile_config(&hostile, dir.path());
        let cluster = load_config_str(&text, "hostile.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        for (name, plan) in plans(&cluster, &hostile) {
            let name = format!("{name} with {hostile:?}");
            assert_markdown_shape(&name, &plan);
            assert_json_exact(&name, &plan);
            let calls = run_shell(&name, &plan, &cluster, &canary);
            let state = if name.starts_with("failback") {
                Request::Failover {
                    dead: vec!["1".into()],
                    backup: "2".into(),
                    drop_dead: false,
                }
                .run(&cluster)
                .unwrap()
                .next
            } else {
                cluster.clone()
            };
            assert_calls_match_plan(&name, &plan, &state, &calls);
            ran += 1;
        }
    }
    assert_eq!(ran, HOSTILE.len() * 8);
}

#[test]
fn control_characters_in_a_config_are_refused() {
    for c in ['\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{2028}', '\u{2029}'] {
        let text = hostile_config(&format!("MasNod{c}touch CANARY #"), Path::new("/srv"));
        let err = load_config_str(&text, "hostile.toml").unwrap_err().to_string();
        assert!(err.contains("control character"), "{c:?}: {err}");
        assert!(err.contains("node 1 name"), "{c:?}: {err}");
        let mut lines = err.lines();
        assert!(lines.next().unwrap().ends_with("problems:"), "{err}");
        assert!(
            lines.all(|line| line.starts_with("  - ")),
            "{c:?}: a problem spans lines: {err:?}"
        );
        assert!(
            err.chars()
                .all(|x| x == '\n' || !slonik_gen::escape::is_control(x)),
            "{c:?}: the error prints it raw: {err:?}"
        );
    }
}

/// A cluster built in code skips validation: a line break in a node name must still end up
/// as text, never as a command line of the bash runbook or a heading of the Markdown one.
#[test]
fn a_line_break_that_skipped_validation_stays_text() {
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("CANARY");
    let text = hostile_config("plain", dir.path());
    let mut cluster = load_config_str(&text, "plain.toml").unwrap();
    for node in cluster.nodes.values_mut() {
        node.name = Some(format!("MasNod\ntouch {} #\r\n## 9. Fake step", canary.display()));
    }
    for (name, plan) in plans(&cluster, "plain") {
        let name = format!("{name} with a line break in every node name");
        assert_markdown_shape(&name, &plan);
        // Inside single quotes a line break is text: the canary must stay absent.
        run_shell(&name, &plan, &cluster, &canary);
    }
}

/// The issue's reproduction through the binary: a node name with a line break gives an
/// error naming it, exit 1 and nothing on stdout, in every runbook format.
#[test]
fn the_binary_refuses_a_line_break_in_a_node_name() {
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("pwned");
    let config = dir.path().join("geekdb.toml");
    let text = std::fs::read_to_string("examples/geekdb.toml").unwrap().replacen(
        "name = \"MasNod\"",
        &format!(
            "name = {}",
            toml_string(&format!("MasNod\ntouch {} #", canary.display()))
        ),
        1,
    );
    assert!(text.contains("touch "), "the example's node 1 is named MasNod");
    std::fs::write(&config, text).unwrap();
    for format in ["sh", "md", "json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
            .arg("--config")
            .arg(&config)
            .args([
                "runbook", "--format", format, "failover", "--dead", "1", "--backup", "2",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(out.stdout.is_empty(), "{format}: something reached stdout");
        assert!(
            stderr.contains("node 1 name contains the control character U+000A (line feed)"),
            "{format}: {stderr}"
        );
    }
    assert!(!canary.exists());
}
