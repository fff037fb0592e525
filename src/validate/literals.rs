//! The text rules: control characters, the cluster name, slonik literals of the target
//! version, PostgreSQL identifiers.

use super::relations::{Kind, Suspects};
use super::Problem;
use crate::literal::{self, LiteralProblem, Storage};
use crate::model::config::{ConfigFile, SetRef};
use crate::model::names::{identifier_problem, QualifiedName, MAX_IDENTIFIER_BYTES};
use crate::model::{Cluster, Set};
use crate::version::SlonyVersion;

/// Reports `value` if it holds a control character; `item` is written only then.
pub(super) fn check_control(value: &str, item: impl FnOnce() -> String, p: &mut Vec<Problem>) {
    if let Some((offset, character)) = crate::escape::control_character(value) {
        p.push(Problem::ControlCharacter {
            item: item(),
            character,
            offset,
        });
    }
}

/// Every text of the nodes, sets and subscriptions that holds a control character. The
/// tables and sequences are checked with their other literal rules ([`check_literals`]),
/// only where they are not plain text.
pub(super) fn check_control_characters(config: &ConfigFile, p: &mut Vec<Problem>) {
    // The cluster name is checked as a slonik identifier, which no control character is.
    for n in &config.nodes {
        let node = format!("node {}", n.id);
        let texts = [
            ("name", &n.name),
            ("comment", &n.comment),
            ("slon_start", &n.slon_start),
            ("slon_stop", &n.slon_stop),
        ];
        for (key, value) in texts {
            if let Some(value) = value {
                check_control(value, || format!("{node} {key}"), p);
            }
        }
        let mut parts = vec![("", n.connection())];
        if let Some(path) = &n.path {
            parts.push(("path ", path.clone()));
        }
        for (prefix, parts) in parts {
            for (key, value) in parts.params() {
                check_control(&key, || format!("{node} {prefix}option name {key:?}"), p);
                check_control(&value, || format!("{node} {prefix}{key}"), p);
            }
        }
    }
    for s in &config.sets {
        let set = format!("set {}", s.id);
        let texts = [
            ("name", &s.name),
            ("comment", &s.comment),
            ("default_schema", &s.default_schema),
            ("tables_file", &s.tables_file),
            ("sequences_file", &s.sequences_file),
        ];
        for (key, value) in texts {
            if let Some(value) = value {
                check_control(value, || format!("{set} {key}"), p);
            }
        }
    }
    for (i, sub) in config.subscriptions.iter().enumerate() {
        if let SetRef::Name(name) = &sub.set {
            check_control(name, || format!("subscription {} set", i + 1), p);
        }
    }
}

pub(super) fn check_cluster_name(name: &str, version: SlonyVersion, p: &mut Vec<Problem>) {
    let bad = |reason: String| Problem::BadClusterName {
        name: name.to_string(),
        reason,
    };
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || !c.is_ascii());
    if !first_ok || !rest_ok {
        p.push(bad(
            "is not a slonik identifier: use letters, digits, `_` and `$`, starting with a letter or `_`"
                .into(),
        ));
    } else if version.is_keyword(name) {
        p.push(bad(format!(
            "is a keyword of slonik {version} and cannot be a cluster name: pick another name"
        )));
    } else if name.len() > 46 {
        p.push(bad(
            "is longer than 46 bytes: Slony builds names such as `_<cluster>_truncatetrigger` that must fit PostgreSQL's 63-byte limit".into(),
        ));
    }
}

/// Whether `text` is printable ASCII without `'`, `\` or `"`, and at most 255 bytes long:
/// such text is a good literal for every version (and so is a name quoted from two such
/// parts), so the exact checks, and their messages, are left to the rare text that is not.
pub(super) fn plain_text(text: &str) -> bool {
    // No early exit: the loop then compiles to vector compares, which matter for comments.
    text.len() <= 255
        && text.bytes().fold(true, |plain, b| {
            plain & (b' '..=b'~').contains(&b) & (b != b'\'') & (b != b'\\') & (b != b'"')
        })
}

/// Whether both parts of `name` are plain text and good PostgreSQL identifiers.
pub(super) fn plain_name(name: &QualifiedName) -> bool {
    let part = |part: &str| (1..=MAX_IDENTIFIER_BYTES).contains(&part.len()) && plain_text(part);
    part(&name.schema) && part(&name.name)
}

/// Reports the literal problems of `text`, writing the item's name only when there is one:
/// naming each of 100,000 tables would cost more than checking them.
fn check_literal(
    text: &str,
    storage: Storage,
    version: SlonyVersion,
    item: impl FnOnce() -> String,
    p: &mut Vec<Problem>,
) {
    let mut problems = literal::problems(text, storage, version);
    // A NUL is a control character, reported with the item's other texts.
    problems.retain(|problem| *problem != LiteralProblem::Nul);
    if problems.is_empty() {
        return;
    }
    let item = item();
    p.extend(problems.into_iter().map(|problem| Problem::Literal {
        item: item.clone(),
        problem,
    }));
}

pub(super) fn check_literals(cluster: &Cluster, suspects: &Suspects, p: &mut Vec<Problem>) {
    let version = cluster.version;
    for node in cluster.nodes.values().chain(cluster.dropped_nodes.values()) {
        let label = format!("node {}", node.id);
        if let Some(name) = &node.name {
            check_literal(name, Storage::Stored, version, || format!("{label} name"), p);
        }
        if let Some(comment) = &node.comment {
            check_literal(
                comment,
                Storage::Stored,
                version,
                || format!("{label} comment"),
                p,
            );
        }
    }
    let mut quoted = String::new();
    for set in cluster.sets.values() {
        let label = set.label();
        check_literal(&set.name, Storage::Stored, version, || format!("{label} name"), p);
        if let Some(comment) = &set.comment {
            check_literal(
                comment,
                Storage::Stored,
                version,
                || format!("{label} comment"),
                p,
            );
        }
        for (kind, name, key, comment) in suspect_relations(set, suspects) {
            let item = |what: &str| format!("{label} {kind} {name} {what}");
            check_control(&name.schema, || item("schema"), p);
            check_control(&name.name, || item("name"), p);
            for (what, text) in [("key", key), ("comment", comment)] {
                if let Some(text) = text {
                    check_control(text, || item(what), p);
                }
            }
            quoted.clear();
            name.quoted_into(&mut quoted);
            check_literal(&quoted, Storage::Stored, version, || item("name"), p);
            if let Some(key) = key {
                check_literal(key, Storage::Stored, version, || item("key"), p);
            }
            if let Some(comment) = comment {
                check_literal(comment, Storage::Stored, version, || item("comment"), p);
            }
        }
    }
    p.append(&mut identifier_problems(cluster, suspects));
    for node in cluster.nodes.values().chain(cluster.dropped_nodes.values()) {
        let admin = node.admin_conninfo(version);
        // The path inherits the admin parts, so report a problem they share only once.
        let admin_problems = admin.as_ref().err().cloned().unwrap_or_default();
        let conninfos = [
            ("admin conninfo", admin, Storage::Local),
            ("path conninfo", node.path_conninfo(version), Storage::Stored),
        ];
        for (what, text, storage) in conninfos {
            let item = || format!("node {} {what}", node.id);
            match text {
                Ok(text) => check_literal(&text, storage, version, item, p),
                Err(problems) => {
                    let item = item();
                    p.extend(
                        problems
                            .into_iter()
                            .filter(|problem| storage == Storage::Local || !admin_problems.contains(problem))
                            .map(|problem| Problem::Conninfo {
                                item: item.clone(),
                                problem,
                            }),
                    )
                }
            }
        }
    }
}

/// The kind, name, key and comment of the tables and sequences of `set` that `suspects` lists,
/// in order: every other one is plain and has no problem to report.
fn suspect_relations<'a>(
    set: &'a Set,
    suspects: &'a Suspects,
) -> impl Iterator<
    Item = (
        &'static str,
        &'a QualifiedName,
        Option<&'a String>,
        Option<&'a String>,
    ),
> {
    let listed = suspects.get(&set.id).map_or(&[][..], Vec::as_slice);
    listed.iter().map(|&(kind, index)| match kind {
        Kind::Table => {
            let t = &set.tables[index];
            ("table", &t.name, t.key.as_ref(), t.comment.as_ref())
        }
        Kind::Sequence => {
            let s = &set.sequences[index];
            ("sequence", &s.name, None, s.comment.as_ref())
        }
    })
}

fn identifier_problems(cluster: &Cluster, suspects: &Suspects) -> Vec<Problem> {
    let mut out = Vec::new();
    for set in cluster.sets.values() {
        for (kind, name, _, _) in suspect_relations(set, suspects) {
            for part in [&name.schema, &name.name] {
                // A NUL is reported as a control character.
                if let Some(reason) = identifier_problem(part).filter(|_| !part.contains('\0')) {
                    out.push(Problem::BadIdentifier {
                        item: format!("{} {kind} {name}", set.label()),
                        name: part.clone(),
                        reason,
                    });
                }
            }
        }
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::test_support::{messages, NODE};

    #[test]
    fn control_characters_are_refused_in_every_text_with_the_item_named() {
        let hostile = [
            ('\n', "\\n"),
            ('\r', "\\r"),
            ('\u{1b}', "\\u001b"),
            ('\u{7f}', "\\u007f"),
            ('\u{85}', "\\u0085"),
            ('\u{2028}', "\\u2028"),
            ('\u{2029}', "\\u2029"),
            ('\0', "\\u0000"),
        ];
        let fields = [
            ("node 1 name", "[[node]]\nid = 1\nhost = \"a\"\nname = \"X\"\n"),
            ("node 1 comment", "[[node]]\nid = 1\nhost = \"a\"\ncomment = \"X\"\n"),
            ("node 1 host", "[[node]]\nid = 1\nhost = \"X\"\n"),
            ("node 1 dbname", "[[node]]\nid = 1\nhost = \"a\"\ndbname = \"X\"\n"),
            ("node 1 user", "[[node]]\nid = 1\nhost = \"a\"\nuser = \"X\"\n"),
            ("node 1 password", "[[node]]\nid = 1\nhost = \"a\"\npassword = \"X\"\n"),
            ("node 1 passfile", "[[node]]\nid = 1\nhost = \"a\"\npassfile = \"X\"\n"),
            ("node 1 application_name", "[[node]]\nid = 1\nhost = \"a\"\n[node.options]\napplication_name = \"X\"\n"),
            ("node 1 path host", "[[node]]\nid = 1\nhost = \"a\"\n[node.path]\nhost = \"X\"\n"),
            ("node 1 slon_start", "[[node]]\nid = 1\nhost = \"a\"\nslon_start = \"X\"\n"),
            ("node 1 slon_stop", "[[node]]\nid = 1\nhost = \"a\"\nslon_stop = \"X\"\n"),
            ("set 1 name", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\nname = \"X\"\n"),
            ("set 1 comment", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\ncomment = \"X\"\n"),
            ("set 1 default_schema", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\ndefault_schema = \"X\"\n"),
            ("table", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\ntables = [\"X\"]\n"),
            ("key", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\ntables = [{ name = \"t\", key = \"X\" }]\n"),
            ("sequence", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\nsequences = [\"X\"]\n"),
            ("subscription 1 set", "[[node]]\nid = 1\nhost = \"a\"\n[[node]]\nid = 2\nhost = \"b\"\n[[set]]\nid = 1\n[[subscription]]\nset = \"X\"\nreceiver = 2\n"),
        ];
        for (c, toml_escape) in hostile {
            for (item, template) in fields {
                let text = format!(
                    "cluster = \"c\"\nslony_version = \"2.2\"\n{}",
                    template.replace('X', &format!("a{toml_escape}b"))
                );
                let found = messages(&text);
                let hit = found
                    .iter()
                    .find(|m| m.contains("control character"))
                    .unwrap_or_else(|| panic!("{item} with {c:?} was not refused: {found:?}"));
                assert!(hit.contains(item), "{item}: {hit}");
                assert!(hit.contains(&describe(c)), "{item}: {hit}");
            }
        }

        fn describe(c: char) -> String {
            crate::escape::describe_control(c)
        }
    }

    #[test]
    fn literal_problems_name_the_entry() {
        let text = format!(
            "slony_version = \"2.1\"\n{NODE}[[set]]\nid = 1\n\
             tables = [\"ok\", {{ name = \"o'k\", key = \"k\\\\\", comment = \"c'\" }}]\nsequences = [\"x\\\\y.s\"]\n"
        );
        assert_eq!(
            messages(&text),
            [
                "set 1 (set1) table public.o'k name: contains a single quote ('), which slonik 2.1 cannot express in a literal (only 2.2 can); remove it or target Slony-I 2.2",
                "set 1 (set1) table public.o'k key: contains a backslash (\\), which slonik doubles when it stores the value in the catalog; remove it",
                "set 1 (set1) table public.o'k comment: contains a single quote ('), which slonik 2.1 cannot express in a literal (only 2.2 can); remove it or target Slony-I 2.2",
                "set 1 (set1) sequence x\\y.s name: contains a backslash (\\), which slonik doubles when it stores the value in the catalog; remove it",
            ]
        );
    }

    #[test]
    fn plain_text_is_a_good_literal_and_identifier_for_every_version() {
        // The exact checks are skipped for plain text: this is what makes that safe.
        let plain: Vec<u8> = (b' '..=b'~')
            .filter(|b| !matches!(b, b'\'' | b'\\' | b'"'))
            .collect();
        let text: String = plain.iter().cycle().take(255).map(|&b| char::from(b)).collect();
        assert!(plain_text(&text));
        let part = &text[..MAX_IDENTIFIER_BYTES];
        let name = QualifiedName::new(part, part);
        assert!(plain_name(&name));
        for version in SlonyVersion::ALL {
            for storage in [Storage::Stored, Storage::Local] {
                assert_eq!(literal::problems(&text, storage, version), []);
                assert_eq!(literal::problems(&name.quoted(), storage, version), []);
            }
        }
        assert_eq!(identifier_problem(part), None);
        assert_eq!(identifier_problem(&part[..1]), None);
        for not_plain in ["a'b", "a\\b", "a\"b", "a\0b", "é", "a\nb", &"x".repeat(256)] {
            assert!(!plain_text(not_plain), "{not_plain:?}");
        }
        assert!(!plain_name(&QualifiedName::new("", "t")));
        assert!(!plain_name(&QualifiedName::new("s", "x".repeat(64))));
    }
}
