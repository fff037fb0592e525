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
    let by_name = |id: u32| TableSelector::Name {
        id: TableId(id),
        fully_qualified_name: fqn.clone(),
    };
    vec![
        ("init cluster", InitCluster::new(N1).with_comment("Node 1").into()),
        ("store node", StoreNode::new(N2, N1).into()),
        (
            "store node spoolnode",
            StoreNode::new(N2, N1).with_spoolnode(false).into(),
        ),
        ("drop node", DropNode::new(vec![N2], N1).into()),
        ("drop node list", DropNode::new(vec![N2, N3], N1).into()),
        ("uninstall node", UninstallNode::new(N2).into()),
        ("restart node", RestartNode::new(N2).into()),
        (
            "store path",
            StorePath::new(N1, N2, "host=a dbname=b")
                .with_connretry(10)
                .into(),
        ),
        ("drop path", DropPath::new(N1, N2).with_event_node(N2).into()),
        ("store listen", StoreListen::new(N1, N3).with_provider(N2).into()),
        ("drop listen", DropListen::new(N1, N3).into()),
        ("update functions", UpdateFunctions::new(N1).into()),
        (
            "clone prepare",
            ClonePrepare::new(NodeId(4), N2).with_comment("clone").into(),
        ),
        ("clone finish", CloneFinish::new(NodeId(4), N2).into()),
        ("switch log", SwitchLog::new(N1).into()),
        ("create set", CreateSet::new(S1, N1).with_comment("it's").into()),
        ("drop set", DropSet::new(S1, N1).into()),
        ("merge set", MergeSet::new(S1, SetId(2), N1).into()),
        (
            "set add table",
            SetAddTable::new(S1, by_name(1))
                .with_origin(N1)
                .with_key(TableKey::Index("files_key".into()))
                .with_comment("files")
                .into(),
        ),
        (
            "set add table tables=",
            SetAddTable::new(S1, TableSelector::Pattern("geekdb\\\\.f.*".into()))
                .with_add_sequences(true)
                .into(),
        ),
        (
            "set add table key=serial",
            SetAddTable::new(S1, by_name(2))
                .with_origin(N1)
                .with_key(TableKey::Serial)
                .into(),
        ),
        (
            "set add sequence",
            SetAddSequence::new(
                S1,
                SequenceSelector::Name {
                    id: SequenceId(1),
                    fully_qualified_name: r#""geekdb"."s""#.into(),
                },
            )
            .with_origin(N1)
            .into(),
        ),
        (
            "set add sequence sequences=",
            SetAddSequence::new(S1, SequenceSelector::Pattern("geekdb\\\\..*".into())).into(),
        ),
        ("set drop table", SetDropTable::new(N1, TableId(1)).into()),
        (
            "set drop sequence",
            SetDropSequence::new(N1, SequenceId(1)).into(),
        ),
        (
            "set move table",
            SetMoveTable::new(N1, TableId(1), SetId(2)).into(),
        ),
        (
            "set move sequence",
            SetMoveSequence::new(N1, SequenceId(1), SetId(2)).into(),
        ),
        ("table add key", TableAddKey::new(N1, fqn.clone()).into()),
        (
            "store trigger",
            StoreTrigger::new(TableId(1), "audit").with_event_node(N1).into(),
        ),
        ("drop trigger", DropTrigger::new(TableId(1), "audit").into()),
        ("lock set", LockSet::new(S1, N1).into()),
        ("unlock set", UnlockSet::new(S1, N1).into()),
        ("move set", MoveSet::new(S1, N1, N2).into()),
        (
            "execute script file",
            ExecuteScript::new(ScriptSource::File("tests/inputs/ddl.sql".into()), N1).into(),
        ),
        (
            "execute script set id",
            ExecuteScript::new(ScriptSource::File("tests/inputs/ddl.sql".into()), N1)
                .with_set_id(S1)
                .with_execute_only_on(ExecuteOnlyOn::Node(N1))
                .into(),
        ),
        (
            "execute script sql",
            ExecuteScript::new(ScriptSource::Sql("select 1;".into()), N1)
                .with_execute_only_on(ExecuteOnlyOn::Nodes(vec![N1, N2]))
                .into(),
        ),
        ("repair config", RepairConfig::new(S1).with_event_node(N1).into()),
        ("subscribe set", SubscribeSet::new(S1, N1, N2, true).into()),
        (
            "subscribe set omit copy",
            SubscribeSet::new(S1, N1, N2, false).with_omit_copy(true).into(),
        ),
        ("unsubscribe set", UnsubscribeSet::new(S1, N2).into()),
        ("resubscribe node", ResubscribeNode::new(N1, N2, N3).into()),
        ("failover", Failover::new(vec![(N1, N2)]).into()),
        ("failover multi", Failover::new(vec![(N1, N2), (N3, N2)]).into()),
        (
            "wait for event",
            WaitForEvent::new(NodeOrAll::Node(N1), NodeOrAll::All, N1)
                .with_timeout(0)
                .into(),
        ),
        ("sync", Sync::new(N1).into()),
        ("sleep", Sleep::new(3).into()),
        ("echo", Echo::new("it's # not @a comment").into()),
        ("date", Date::new().into()),
        ("date format", Date::new().with_format("%F").into()),
        ("exit", Exit::new(3).into()),
        ("exit -1", Exit::new(-1).into()),
        (
            "try",
            TryBlock::new(vec![LockSet::new(S1, N1).into()])
                .with_on_error(vec![UnlockSet::new(S1, N1).into(), Exit::new(1).into()])
                .with_on_success(vec![Echo::new("locked").into()])
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
    let statement: Statement =
        TryBlock::new(vec![WaitForEvent::new(N1.into(), NodeOrAll::All, N1).into()]).into();
    for v in SlonyVersion::ALL {
        assert!(one(v, &statement)
            .unwrap_err()
            .to_string()
            .contains("cannot run inside a try block"));
    }
}

/// `Statement::versions` is the rule lowering applies: a version outside it refuses the
/// statement itself, and a version inside it never does.
#[test]
fn statement_versions_agree_with_lowering() {
    for (name, statement) in every_statement() {
        for v in SlonyVersion::ALL {
            let refused = matches!(
                one(v, &statement),
                Err(RenderError::Unsupported { ref feature, .. }) if feature == "the statement"
            );
            assert_eq!(refused, !statement.versions().contains(v), "{name} on {v}");
        }
    }
}

/// Every statement as each version renders it, through slonik: 2.2's renderings through
/// the slonik on PATH (2.2.11), an older version's through the slonik named for it
/// (`SLONIK_GEN_SLONIK_1_2`, ...: README, "Older sloniks"; 2.2's parser refuses some of
/// the older forms, so without one they are left to the version-table snapshot).
#[test]
fn every_statement_that_renders_passes_the_real_slonik_of_its_version() {
    let Some(slonik) =
        common::slonik_or_skip("every_statement_that_renders_passes_the_real_slonik_of_its_version")
    else {
        return;
    };
    let cluster = load_config_str(
        "cluster = \"check\"\n[[node]]\nid = 1\nhost = \"a\"\n[[node]]\nid = 2\nhost = \"b\"\n[[node]]\nid = 3\nhost = \"c\"\n[[node]]\nid = 4\nhost = \"d\"\n",
        "statements.toml",
    )
    .unwrap();
    let mut scripts = Vec::new();
    for version in SlonyVersion::ALL {
        if version != SlonyVersion::V2_2 && common::offline::slonik_named_for(version).is_none() {
            eprintln!(
                "statements for Slony-I {version} are not run through a slonik: set {} to check them",
                common::offline::slonik_variable(version)
            );
            continue;
        }
        for (name, statement) in every_statement() {
            if one(version, &statement).is_err() {
                continue;
            }
            let mut script = Script::new(&cluster, cluster.nodes.keys().copied()).unwrap();
            script.version = version;
            script.push(statement);
            scripts.push((name.to_string(), version, script.render().unwrap()));
        }
    }
    assert!(scripts.len() >= 40, "only {} statements checked", scripts.len());
    common::offline::assert_accepted_by_version(&slonik, &scripts);
}
