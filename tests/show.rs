//! `show`: the configuration as a person reads it, from the library and from the binary.

use std::process::Command;

use slonik_gen::model::{NodeId, SetId, Subscription};
use slonik_gen::{load_config, load_config_str, show::show};

const PASSWORD: &str = "Hunter2-very-secret";

fn manifest_dir() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

fn loaded(path: &str) -> slonik_gen::Cluster {
    let path = format!("{}/{path}", manifest_dir());
    load_config(&path, None).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn geekdb() {
    insta::assert_snapshot!("geekdb", show(&loaded("examples/geekdb.toml")));
}

#[test]
fn cascade() {
    insta::assert_snapshot!("cascade", show(&loaded("tests/inputs/cascade.toml")));
}

/// A password in the admin connection and in a path override, a path that differs from
/// the admin connection, gaps in the table ids, a failed node and a provider wish.
fn with_password() -> slonik_gen::Cluster {
    let toml = format!(
        r#"
        cluster = "shop"
        slony_version = "2.1"
        [[node]]
        id = 1
        name = "primary"
        comment = "the origin"
        host = "db1"
        dbname = "shop"
        user = "slony"
        password = "{PASSWORD}"
        [node.path]
        host = "10.0.0.1"
        password = "{PASSWORD}"
        [[node]]
        id = 2
        host = "db2"
        dbname = "shop"
        user = "slony"
        options = {{ connect_timeout = "5" }}
        [[node]]
        id = 3
        host = "db3"
        dbname = "shop"
        provider = 2
        [[node]]
        id = 4
        host = "db4"
        dbname = "shop"
        failed = true
        [[set]]
        id = 1
        name = "orders"
        tables = ["a", "b", "c", {{ name = "d", id = 45 }}, {{ name = "e", id = 50 }}, "f", "g"]
        [[set]]
        id = 2
        name = "empty"
        origin = 2
        [[subscription]]
        set = "orders"
        receiver = 2
        [[subscription]]
        set = "orders"
        receiver = 3
        provider = 2
        forward = false
        "#
    );
    load_config_str(&toml, "with_password.toml").expect("valid config")
}

#[test]
fn passwords_are_never_shown() {
    let text = show(&with_password());
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!text.contains("Hunter2"), "{text}");
    insta::assert_snapshot!("with_password", text);
}

/// Text validation would refuse, only possible in a `Cluster` edited in code: a control
/// character in every kind of field, a set whose origin is no node, receivers never reached from the origin and a
/// provider cycle through the origin.
#[test]
fn control_characters_are_escaped_and_broken_clusters_do_not_panic() {
    let mut cluster = loaded("tests/inputs/cascade.toml");
    let node = cluster.nodes.get_mut(&NodeId(2)).expect("node 2");
    node.name = Some("evil\nname\u{1b}[31m".into());
    node.comment = Some("line\rbreak".into());
    let set = cluster.sets.get_mut(&SetId(1)).expect("set 1");
    set.name = "set\u{7}1".into();
    set.comment = Some("bell\u{2028}sep".into());
    // A second set whose origin is not a node, received through a cycle 8 -> 9 -> 8.
    let mut orphan = set.clone();
    orphan.id = SetId(2);
    orphan.origin = NodeId(7);
    orphan.tables = Default::default();
    orphan.sequences = Default::default();
    cluster.sets.insert(SetId(2), orphan);
    for (receiver, provider) in [(8, 9), (9, 8), (2, 7)] {
        cluster.subscriptions.insert(
            (SetId(2), NodeId(receiver)),
            Subscription {
                set: SetId(2),
                receiver: NodeId(receiver),
                provider: NodeId(provider),
                forward: true,
            },
        );
    }
    // The origin of set 1 receiving it from a node below it: drawn once, then named.
    cluster.subscriptions.insert(
        (SetId(1), NodeId(1)),
        Subscription {
            set: SetId(1),
            receiver: NodeId(1),
            provider: NodeId(3),
            forward: true,
        },
    );
    let text = show(&cluster);
    assert!(text.contains("[already shown above: provider cycle]"), "{text}");
    for c in text.chars() {
        assert!(
            c == '\n' || !slonik_gen::escape::is_control(c),
            "raw U+{:04X} in:\n{text}",
            c as u32
        );
    }
    assert!(text.contains(r"evil\u{000A}name\u{001B}[31m"), "{text}");
    assert!(!text.contains("line\rbreak"));
    insta::assert_snapshot!("hostile", text);
}

#[test]
fn same_cluster_same_bytes() {
    let cluster = with_password();
    assert_eq!(show(&cluster), show(&cluster.clone()));
}

/// The `Example:` line of `show --help` runs as written and prints the overview.
#[test]
fn help_example_runs() {
    let bin = env!("CARGO_BIN_EXE_slonik-gen");
    let help = Command::new(bin)
        .args(["show", "--help"])
        .output()
        .expect("run slonik-gen");
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8(help.stdout).expect("utf-8 help");
    let example = help
        .lines()
        .find_map(|line| line.trim().strip_prefix("Example: "))
        .unwrap_or_else(|| panic!("no Example line in:\n{help}"));
    let words: Vec<&str> = example.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"slonik-gen"), "{example}");
    let out = Command::new(bin)
        .args(&words[1..])
        .current_dir(manifest_dir())
        .output()
        .expect("run slonik-gen");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{example}: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    assert!(!stdout.is_empty());
    assert_eq!(stdout, show(&loaded("examples/geekdb.toml")));
}

/// A config error is reported like every other command's: exit 1, nothing on stdout.
#[test]
fn missing_config_fails_with_empty_stdout() {
    let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .args(["--config", "/nonexistent/slonik-gen.toml", "show"])
        .output()
        .expect("run slonik-gen");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(!out.stderr.is_empty());
}

/// `--check` compares the overview with a golden file; `--write-config` has no state to
/// write and is a usage error that writes nothing.
#[test]
fn check_compares_and_write_config_is_refused() {
    let bin = env!("CARGO_BIN_EXE_slonik-gen");
    let dir = tempfile::tempdir().expect("temp dir");
    let golden = dir.path().join("show.txt");
    std::fs::write(&golden, show(&loaded("examples/geekdb.toml"))).expect("write golden");
    let run = |config: &str, flag: &str, file: &std::path::Path| {
        Command::new(bin)
            .args(["--config", config, flag])
            .arg(file)
            .arg("show")
            .current_dir(manifest_dir())
            .output()
            .expect("run slonik-gen")
    };
    let same = run("examples/geekdb.toml", "--check", &golden);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert!(same.stdout.is_empty());
    let drift = run("tests/inputs/cascade.toml", "--check", &golden);
    assert_eq!(drift.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&drift.stderr).contains("+cluster bank"));
    let target = dir.path().join("next.toml");
    let refused = run("examples/geekdb.toml", "--write-config", &target);
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    assert!(!target.exists());
}

/// Each node says how its slon runs: a process on altperl's files, a Debian instance, a
/// systemd unit, whatever `[daemon]` and `[node.daemon]` give.
#[test]
fn each_node_says_how_its_slon_runs() {
    let cluster = slonik_gen::load_config_str(
        "cluster = \"geek\"\n[daemon]\nrun = \"systemd\"\n\
         [[node]]\nid = 1\nhost = \"h1\"\n\
         [[node]]\nid = 2\nhost = \"h2\"\n[node.daemon]\nrun = \"debian\"\ninstance = \"geek2\"\n\
         [[node]]\nid = 3\nhost = \"h3\"\n[node.daemon]\nrun = \"process\"\npid_dir = \"/srv/run\"\n",
        "daemon.toml",
    )
    .unwrap();
    let text = show(&cluster);
    for line in [
        "\n  1\n    admin:    host=h1\n    slon:     systemd unit slon-geek-node1.service (config /etc/slony1/geek/node1.conf)\n",
        "    slon:     Debian init-script instance geek2 (config /etc/slony1/geek2/slon.conf, pid file /var/run/slony1/geek2.pid)\n",
        "    slon:     a process: config /etc/slony1/geek/node3.conf, pid file /srv/run/geek_node3.pid, log /var/log/slony1/geek_node3.log\n",
    ] {
        assert!(text.contains(line), "{line} not in:\n{text}");
    }
}
