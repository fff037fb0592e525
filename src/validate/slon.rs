//! `[slon]` and `[node.slon]`: every option exists in the target version's slon, has the
//! type and range slon accepts, and holds no control character. `[daemon]` and
//! `[node.daemon]`: paths absolute, names usable as one file name.

use super::Problem;
use crate::model::config::{DaemonConfig, SlonOptions, SlonValue};
use crate::Cluster;

pub(super) fn check_slon(cluster: &Cluster, p: &mut Vec<Problem>) {
    check_options("[slon]", &cluster.slon, cluster, p);
    check_daemon("[daemon]", &cluster.daemon, p);
    for node in cluster.nodes.values().chain(cluster.dropped_nodes.values()) {
        check_options(&format!("node {} [node.slon]", node.id), &node.slon, cluster, p);
        check_daemon(&format!("node {} [node.daemon]", node.id), &node.daemon, p);
    }
}

fn check_daemon(item: &str, daemon: &DaemonConfig, p: &mut Vec<Problem>) {
    for (key, value) in daemon.texts() {
        let Some(value) = value else { continue };
        if let Some((offset, character)) = crate::escape::control_character(value) {
            p.push(Problem::ControlCharacter {
                item: format!("{item} {key}"),
                character,
                offset,
            });
            continue;
        }
        let reason = match key {
            "conf_dir" | "pid_dir" | "log_dir" => (!value.starts_with('/')).then_some(
                "must be an absolute path: a slon started from one directory must be found from any other",
            ),
            "program" => (value.is_empty() || (value.contains('/') && !value.starts_with('/')))
                .then_some("must be a program name found on PATH (`slon`) or an absolute path"),
            "file_prefix" | "instance" => {
                (value.is_empty() || value.contains('/') || value == "." || value == "..")
                    .then_some("must be one file name: not empty, no `/`")
            }
            "unit" => {
                (!value.ends_with(".service")
                    || value.len() == ".service".len()
                    || !crate::escape::systemd::is_unit_name(value))
                .then_some(
                    "must be a systemd service unit name ending in `.service`: ASCII letters, digits and `:_.-@\\` only (escape others as `systemd-escape` does)",
                )
            }
            "user" => (value.is_empty() || value.chars().any(char::is_whitespace))
                .then_some("must be an OS user name: not empty, no spaces"),
            _ => None,
        };
        if let Some(reason) = reason {
            p.push(Problem::BadDaemon {
                item: item.to_string(),
                key,
                reason,
            });
        }
    }
    if daemon.stop_timeout == Some(0) {
        p.push(Problem::BadDaemon {
            item: item.to_string(),
            key: "stop_timeout",
            reason: "must be at least 1 second: slon needs time to close its connections",
        });
    }
}

fn check_options(item: &str, options: &SlonOptions, cluster: &Cluster, p: &mut Vec<Problem>) {
    for (name, value) in options {
        let known = crate::slon::option(name).filter(|o| o.exists_in(cluster.version));
        let Some(option) = known else {
            let hint = if name == "cluster_name" || name == "conn_info" {
                "it is written from the cluster name and the node's path connection; remove it"
            } else if crate::slon::option(name).is_some() {
                "the target version's slon does not have it (see the option table in `slonik_gen::slon::OPTIONS`); remove it or target a version that has it"
            } else {
                "check the spelling against the slon runtime options (`slon -h`, admin guide \"Runtime configuration\")"
            };
            p.push(Problem::UnknownSlonOption {
                item: item.to_string(),
                option: name.clone(),
                version: cluster.version,
                hint,
            });
            continue;
        };
        if let Some(reason) = option.value_problem(value) {
            p.push(Problem::BadSlonValue {
                item: item.to_string(),
                option: name.clone(),
                reason,
            });
        }
        if let SlonValue::Text(text) = value {
            if let Some((offset, character)) = crate::escape::control_character(text) {
                p.push(Problem::ControlCharacter {
                    item: format!("{item} {name}"),
                    character,
                    offset,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check, messages, NODE};

    #[test]
    fn defaults_and_overrides_merge_sorted() {
        let text = format!(
            "[slon]\nsync_interval = 1000\nlog_pid = true\n{}[node.slon]\nsync_interval = 500\npid_file = \"/run/slon 1.pid\"\n",
            NODE.replacen("cluster = \"c\"\n", "", 1)
        );
        let cluster = check(&format!("cluster = \"c\"\n{text}")).unwrap();
        let s = cluster.slon_settings(1.into()).unwrap();
        let names: Vec<_> = s.options.iter().map(|(n, v)| format!("{n}={v}")).collect();
        assert_eq!(
            names,
            [
                "log_pid=true",
                "pid_file=\"/run/slon 1.pid\"",
                "sync_interval=500"
            ]
        );
        assert_eq!(s.conn_info, "host=127.0.0.1");
    }

    #[test]
    fn unknown_wrong_and_old_version_options_are_problems() {
        let text = format!(
            "{NODE}[node.slon]\nsync_intervall = 1\nsync_interval = 5\nlog_pid = \"yes\"\nsyslog_facility = \"LOCAL9\"\nconn_info = \"x\"\nsql_on_connection = \"a\\nb\"\n"
        );
        let m = messages(&text).join("\n");
        assert!(
            m.contains("node 1 [node.slon]: `sync_intervall` is not a slon option of Slony-I 2.2"),
            "{m}"
        );
        assert!(
            m.contains("`sync_interval` 5 is out of range: slon accepts 10 to 60000"),
            "{m}"
        );
        assert!(m.contains("`log_pid` must be true or false"), "{m}");
        assert!(m.contains("`LOCAL9` is not one of LOCAL0"), "{m}");
        assert!(m.contains("`conn_info` is not a slon option"), "{m}");
        assert!(
            m.contains("node 1 [node.slon] sql_on_connection contains the control character"),
            "{m}"
        );
        // Options follow each version's own table: 2.1 has sync_interval and
        // desired_sync_time but not tcp_keepalive; 2.2 dropped desired_sync_time.
        let old = format!("slony_version = \"2.1\"\n{NODE}[node.slon]\nsync_interval = 1000\ndesired_sync_time = 60000\ntcp_keepalive = true\n");
        let m = messages(&old).join("\n");
        assert!(!m.contains("`sync_interval`"), "{m}");
        assert!(!m.contains("`desired_sync_time`"), "{m}");
        assert!(
            m.contains("`tcp_keepalive` is not a slon option of Slony-I 2.1"),
            "{m}"
        );
        let new = format!("{NODE}[node.slon]\ndesired_sync_time = 60000\ncleanup_deletelogs = true\n");
        let m = messages(&new).join("\n");
        assert!(
            m.contains("`desired_sync_time` is not a slon option of Slony-I 2.2"),
            "{m}"
        );
        assert!(
            m.contains("`cleanup_deletelogs` is not a slon option of Slony-I 2.2"),
            "{m}"
        );
    }
}
