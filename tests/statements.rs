//! Every statement type, rendered for every Slony-I version: the version table of
//! slonik-syntax.md §2 as a snapshot, and every 2.2 rendering checked by the real slonik.

mod common;

use slonik_gen::model::{NodeId, SequenceId, SetId, TableId};
use slonik_gen::statement::*;
use slonik_gen::{load_config_str, Script, SlonyVersion};

const N1: NodeId = NodeId(1);
const N2: NodeId = NodeId(2);
const N3: NodeId = NodeId(3);
const S1: SetId = SetId(1);

fn every_statement() -> Vec<(&'static str, Statement)> {
    let fqn = r#""geekdb"."files""#.to_string();
    vec![
        (
            "init cluster",
            InitCluster {
                id: N1,
                comment: Some("Node 1".into()),
            }
            .into(),
        ),
        (
            "store node",
            StoreNode {
                id: N2,
                comment: None,
                event_node: N1,
                spoolnode: None,
            }
            .into(),
        ),
        (
            "store node spoolnode",
            StoreNode {
                id: N2,
                comment: None,
                event_node: N1,
                spoolnode: Some(false),
            }
            .into(),
        ),
        (
            "drop node",
            DropNode {
                ids: vec![N2],
                event_node: N1,
            }
            .into(),
        ),
        (
            "drop node list",
            DropNode {
                ids: vec![N2, N3],
                event_node: N1,
            }
            .into(),
        ),
        ("uninstall node", UninstallNode { id: N2 }.into()),
        ("restart node", RestartNode { id: N2 }.into()),
        (
            "store path",
            StorePath {
                server: N1,
                client: N2,
                conninfo: "host=a dbname=b".into(),
                connretry: Some(10),
            }
            .into(),
        ),
        (
            "drop path",
            DropPath {
                server: N1,
                client: N2,
                event_node: Some(N2),
            }
            .into(),
        ),
        (
            "store listen",
            StoreListen {
                origin: N1,
                receiver: N3,
                provider: Some(N2),
            }
            .into(),
        ),
        (
            "drop listen",
            DropListen {
                origin: N1,
                receiver: N3,
                provider: None,
            }
            .into(),
        ),
        ("update functions", UpdateFunctions { id: N1 }.into()),
        (
            "clone prepare",
            ClonePrepare {
                id: NodeId(4),
                provider: N2,
                comment: Some("clone".into()),
            }
            .into(),
        ),
        (
            "clone finish",
            CloneFinish {
                id: NodeId(4),
                provider: N2,
            }
            .into(),
        ),
        ("switch log", SwitchLog { id: N1 }.into()),
        (
            "create set",
            CreateSet {
                id: S1,
                origin: N1,
                comment: Some("it's".into()),
            }
            .into(),
        ),
        ("drop set", DropSet { id: S1, origin: N1 }.into()),
        (
            "merge set",
            MergeSet {
                id: S1,
                add_id: SetId(2),
                origin: N1,
            }
            .into(),
        ),
        (
            "set add table",
            SetAddTable {
                set_id: S1,
                origin: Some(N1),
                table: TableSelector::Name {
                    id: TableId(1),
                    fully_qualified_name: fqn.clone(),
                },
                key: Some(TableKey::Index("files_key".into())),
                comment: Some("files".into()),
                add_sequences: None,
            }
            .into(),
        ),
        (
            "set add table tables=",
            SetAddTable {
                set_id: S1,
                origin: None,
                table: TableSelector::Pattern("geekdb\\\\.f.*".into()),
                key: None,
                comment: None,
                add_sequences: Some(true),
            }
            .into(),
        ),
        (
            "set add table key=serial",
            SetAddTable {
                set_id: S1,
                origin: Some(N1),
                table: TableSelector::Name {
                    id: TableId(2),
                    fully_qualified_name: fqn.clone(),
                },
                key: Some(TableKey::Serial),
                comment: None,
                add_sequences: None,
            }
            .into(),
        ),
        (
            "set add sequence",
            SetAddSequence {
                set_id: S1,
                origin: Some(N1),
                sequence: SequenceSelector::Name {
                    id: SequenceId(1),
                    fully_qualified_name: r#""geekdb"."s""#.into(),
                },
                comment: None,
            }
            .into(),
        ),
        (
            "set add sequence sequences=",
            SetAddSequence {
                set_id: S1,
                origin: None,
                sequence: SequenceSelector::Pattern("geekdb\\\\..*".into()),
                comment: None,
            }
            .into(),
        ),
        (
            "set drop table",
            SetDropTable {
                origin: N1,
                id: TableId(1),
            }
            .into(),
        ),
        (
            "set drop sequence",
            SetDropSequence {
                origin: N1,
                id: SequenceId(1),
            }
            .into(),
        ),
        (
            "set move table",
            SetMoveTable {
                origin: N1,
                id: TableId(1),
                new_set: SetId(2),
            }
            .into(),
        ),
        (
            "set move sequence",
            SetMoveSequence {
                origin: N1,
                id: SequenceId(1),
                new_set: SetId(2),
            }
            .into(),
        ),
        (
            "table add key",
            TableAddKey {
                node_id: N1,
                fully_qualified_name: fqn.clone(),
            }
            .into(),
        ),
        (
            "store trigger",
            StoreTrigger {
                table_id: TableId(1),
                trigger_name: "audit".into(),
                event_node: Some(N1),
            }
            .into(),
        ),
        (
            "drop trigger",
            DropTrigger {
                table_id: TableId(1),
                trigger_name: "audit".into(),
                event_node: None,
            }
            .into(),
        ),
        ("lock set", LockSet { id: S1, origin: N1 }.into()),
        ("unlock set", UnlockSet { id: S1, origin: N1 }.into()),
        (
            "move set",
            MoveSet {
                id: S1,
                old_origin: N1,
                new_origin: N2,
            }
            .into(),
        ),
        (
            "execute script file",
            ExecuteScript {
                set_id: None,
                source: ScriptSource::File("tests/inputs/ddl.sql".into()),
                event_node: N1,
                execute_only_on: None,
            }
            .into(),
        ),
        (
            "execute script set id",
            ExecuteScript {
                set_id: Some(S1),
                source: ScriptSource::File("tests/inputs/ddl.sql".into()),
                event_node: N1,
                execute_only_on: Some(ExecuteOnlyOn::Node(N1)),
            }
            .into(),
        ),
        (
            "execute script sql",
            ExecuteScript {
                set_id: None,
                source: ScriptSource::Sql("select 1;".into()),
                event_node: N1,
                execute_only_on: Some(ExecuteOnlyOn::Nodes(vec![N1, N2])),
            }
            .into(),
        ),
        (
            "repair config",
            RepairConfig {
                set_id: S1,
                event_node: Some(N1),
                execute_only_on: None,
            }
            .into(),
        ),
        (
            "subscribe set",
            SubscribeSet {
                id: S1,
                provider: N1,
                receiver: N2,
                forward: true,
                omit_copy: None,
            }
            .into(),
        ),
        (
            "subscribe set omit copy",
            SubscribeSet {
                id: S1,
                provider: N1,
                receiver: N2,
                forward: false,
                omit_copy: Some(true),
            }
            .into(),
        ),
        ("unsubscribe set", UnsubscribeSet { id: S1, receiver: N2 }.into()),
        (
            "resubscribe node",
            ResubscribeNode {
                origin: N1,
                provider: N2,
                receiver: N3,
            }
            .into(),
        ),
        (
            "failover",
            Failover {
                nodes: vec![(N1, N2)],
            }
            .into(),
        ),
        (
            "failover multi",
            Failover {
                nodes: vec![(N1, N2), (N3, N2)],
            }
            .into(),
        ),
        (
            "wait for event",
            WaitForEvent {
                origin: NodeOrAll::Node(N1),
                confirmed: NodeOrAll::All,
                wait_on: N1,
                timeout: Some(0),
            }
            .into(),
        ),
        ("sync", Sync { id: N1 }.into()),
        ("sleep", Sleep { seconds: 3 }.into()),
        ("echo", Echo::new("it's # not @a comment").into()),
        ("date", Date { format: None }.into()),
        (
            "date format",
            Date {
                format: Some("%F".into()),
            }
            .into(),
        ),
        ("exit", Exit { code: 3 }.into()),
        ("exit -1", Exit { code: -1 }.into()),
        (
            "try",
            TryBlock {
                body: vec![LockSet { id: S1, origin: N1 }.into()],
                on_error: vec![UnlockSet { id: S1, origin: N1 }.into(), Exit { code: 1 }.into()],
                on_success: vec![Echo::new("locked").into()],
            }
            .into(),
        ),
    ]
}

fn one(version: SlonyVersion, statement: &Statement) -> Result<String, RenderError> {
    let mut lines = Vec::new();
    statement.lines(version, 0, &mut lines)?;
    Ok(lines
        .iter()
        .map(|l| match l {
            Line::Statement { depth, lowered } => format!("{}{}", "    ".repeat(*depth), display(lowered)),
            Line::Block { depth, text } => format!("{}{text}", "    ".repeat(*depth)),
        })
        .collect::<Vec<_>>()
        .join(" "))
}

fn display(l: &Lowered) -> String {
    let opts = l
        .options
        .iter()
        .map(|o| format!("{} = {}", o.key, o.value))
        .collect::<Vec<_>>()
        .join(", ");
    match (&l.positional, opts.is_empty()) {
        (Some(arg), _) => format!("{} {arg};", l.keyword),
        (None, true) => format!("{};", l.keyword),
        (None, false) => format!("{} ({opts});", l.keyword),
    }
}

#[test]
fn version_table_of_every_statement() {
    let mut table = String::new();
    for (name, statement) in every_statement() {
        table.push_str(&format!("## {name}\n"));
        for v in SlonyVersion::ALL {
            match one(v, &statement) {
                Ok(text) => table.push_str(&format!("{v}  ok   {text}\n")),
                Err(err) => table.push_str(&format!("{v}  ERR  {err}\n")),
            }
        }
    }
    insta::assert_snapshot!("version_table", table);
}

#[test]
fn wait_for_event_inside_try_is_refused() {
    let statement: Statement = TryBlock {
        body: vec![WaitForEvent {
            origin: NodeOrAll::Node(N1),
            confirmed: NodeOrAll::All,
            wait_on: N1,
            timeout: None,
        }
        .into()],
        ..TryBlock::default()
    }
    .into();
    for v in SlonyVersion::ALL {
        assert!(one(v, &statement)
            .unwrap_err()
            .to_string()
            .contains("cannot run inside a try block"));
    }
}

#[test]
fn every_statement_that_renders_for_2_2_passes_the_real_slonik() {
    let Some(slonik) = common::slonik_or_skip("every_statement_that_renders_for_2_2_passes_the_real_slonik")
    else {
        return;
    };
    let cluster = load_config_str(
        "cluster = \"check\"\n[[node]]\nid = 1\nhost = \"a\"\n[[node]]\nid = 2\nhost = \"b\"\n[[node]]\nid = 3\nhost = \"c\"\n[[node]]\nid = 4\nhost = \"d\"\n",
        "statements.toml",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (name, statement) in every_statement() {
        if one(SlonyVersion::V2_2, &statement).is_err() {
            continue;
        }
        let mut script = Script::new(&cluster, cluster.nodes.keys().copied()).unwrap();
        script.push(statement);
        let path = dir.path().join(format!("{checked}.slonik"));
        std::fs::write(&path, script.offline_check_copy().render().unwrap()).unwrap();
        let out = std::process::Command::new(&slonik).arg(&path).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "slonik rejected `{name}`:\n{}\n{}",
            std::fs::read_to_string(&path).unwrap(),
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} statements checked");
}
