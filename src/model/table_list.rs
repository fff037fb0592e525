//! Table and sequence list files: `[[set]] tables_file = "set1.tables"`.
//!
//! Operators produce the table list of a big set with psql
//! (`psql -Atc "select schemaname||'.'||tablename from pg_tables where ..." > set1.tables`),
//! and a plain list parses several times faster than the same names as TOML strings, which
//! matters at 100,000 tables. The file is read between TOML parsing and validation:
//! its entries are put in front of the set's inline `tables` / `sequences`, so everything
//! after (ids, duplicate checks, literal rules) treats them exactly like inline entries.
//!
//! Format: UTF-8, one relation a line in the short form of the TOML (`schema.name`, or
//! `name` for the set's default schema; split at the first dot). Blank lines and lines whose
//! first non-blank character is `#` are skipped; surrounding whitespace (and so the `\r` of
//! CRLF files) is trimmed.

use std::path::{Path, PathBuf};

use crate::load::LoadError;
use crate::model::config::{ConfigFile, SetConfig, TableEntry};

/// Which list of a set a file feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `tables_file`.
    Tables,
    /// `sequences_file`.
    Sequences,
}

impl ListKind {
    /// The config key naming the file.
    pub fn key(self) -> &'static str {
        match self {
            ListKind::Tables => "tables_file",
            ListKind::Sequences => "sequences_file",
        }
    }

    fn relation(self) -> &'static str {
        match self {
            ListKind::Tables => "table",
            ListKind::Sequences => "sequence",
        }
    }
}

/// Reads every set's `tables_file` and `sequences_file` and puts their entries in front of
/// the set's inline `tables` / `sequences`, in file order. `config_path` is the config file
/// the paths are relative to (its directory; the current directory if it has none).
///
/// File entries come first so that tables appended inline later (`runbook add-tables
/// --write-config`) never shift the ids of the file's tables. The `*_file` keys stay set.
pub fn expand_list_files(config: &mut ConfigFile, config_path: &Path) -> Result<(), LoadError> {
    expand_list_files_with(config, config_path, &mut |path: &Path| std::fs::read(path))
}

/// [`expand_list_files`] with the files' bytes from `read` (given the resolved path), so a
/// config and the list files written with it can be loaded before they are on disk
/// ([`crate::config_writer::Written::load`]).
pub fn expand_list_files_with(
    config: &mut ConfigFile,
    config_path: &Path,
    read: &mut dyn FnMut(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<(), LoadError> {
    for set in &mut config.sets {
        for kind in [ListKind::Tables, ListKind::Sequences] {
            let Some(file) = list_file(set, kind) else {
                continue;
            };
            let entries = read_list(config_path, set, kind, file, read)?;
            if entries.is_empty() {
                continue;
            }
            let inline = match kind {
                ListKind::Tables => &mut set.tables,
                ListKind::Sequences => &mut set.sequences,
            };
            let mut all = entries;
            all.append(inline);
            *inline = all;
        }
    }
    Ok(())
}

fn list_file(set: &SetConfig, kind: ListKind) -> Option<&str> {
    match kind {
        ListKind::Tables => set.tables_file.as_deref(),
        ListKind::Sequences => set.sequences_file.as_deref(),
    }
}

/// The psql query that lists relations for the config key `key` (`tables_file` or
/// `sequences_file`), as error messages suggest it.
pub fn psql_list_query(key: &str) -> &'static str {
    if key == ListKind::Sequences.key() {
        "select schemaname||'.'||sequencename from pg_sequences where ..."
    } else {
        "select schemaname||'.'||tablename from pg_tables where ..."
    }
}

/// Where the list file `file` named in the config at `config_path` is.
pub fn resolve(config_path: &Path, file: &str) -> PathBuf {
    match config_path.parent() {
        Some(dir) => dir.join(file),
        None => PathBuf::from(file),
    }
}

fn set_label(set: &SetConfig) -> String {
    match &set.name {
        Some(name) => format!("set {} ({name})", set.id),
        None => format!("set {} (set{})", set.id, set.id),
    }
}

fn read_list(
    config_path: &Path,
    set: &SetConfig,
    kind: ListKind,
    file: &str,
    read: &mut dyn FnMut(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Vec<TableEntry>, LoadError> {
    let path = resolve(config_path, file);
    let bytes = read(&path).map_err(|source| LoadError::ReadListFile {
        config: config_path.to_path_buf(),
        set: set_label(set),
        key: kind.key(),
        file: path.clone(),
        source,
    })?;
    let owner = || format!("{} {} in {}", set_label(set), kind.key(), config_path.display());
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            return Err(LoadError::ListFileLine {
                file: path,
                line: line_count(valid) + 1,
                problem: format!(
                    "not UTF-8 ({}): write the file as UTF-8, e.g. run psql with PGCLIENTENCODING=UTF8",
                    owner()
                ),
            });
        }
    };
    parse_list(&text, kind).map_err(|(line, problem)| LoadError::ListFileLine {
        file: path,
        line,
        problem: format!("{problem} ({})", owner()),
    })
}

fn line_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Parses the text of a list file; an error is the 1-based line and what is wrong with it.
pub fn parse_list(text: &str, kind: ListKind) -> Result<Vec<TableEntry>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bytes = text.as_bytes();
    let mut entries = Vec::with_capacity(line_count(bytes) + 1);
    let (mut start, mut index) = (0, 0);
    while start <= bytes.len() {
        // One pass over the line finds its end, its first dot and any NUL: at 100,000
        // lines, three searches a line (split, split_once, contains) showed in profiles.
        let (mut end, mut dot, mut nul) = (start, None, false);
        while let Some(&b) = bytes.get(end) {
            match b {
                b'\n' => break,
                b'.' if dot.is_none() => dot = Some(end),
                0 => nul = true,
                _ => {}
            }
            end += 1;
        }
        index += 1;
        // `\n` and `.` are ASCII, so every offset here is a char boundary.
        let raw = &text[start..end];
        let line_start = start + (raw.len() - raw.trim_start().len());
        start = end + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Whitespace is never a dot: the line's first dot is the raw line's.
        let (schema, name) = match dot {
            Some(at) => (Some(&text[line_start..at]), &line[at + 1 - line_start..]),
            None => (None, line),
        };
        if schema.is_some_and(str::is_empty) || name.is_empty() || nul {
            return Err((index, not_a_name(line, kind)));
        }
        entries.push(TableEntry {
            schema: schema.map(str::to_string),
            name: name.to_string(),
            ..TableEntry::default()
        });
    }
    Ok(entries)
}

/// Whether the line `schema.name` of a list file reads back as exactly this schema and
/// name: the schema holds no dot (the line is split at the first one), neither part is
/// empty, nothing is trimmed away or taken for a comment, a line break or a byte-order mark.
/// Names that are not go inline in the TOML, where every name can be written.
pub fn is_listable(schema: &str, name: &str) -> bool {
    let bad = |c: char| matches!(c, '\n' | '\r' | '\0');
    !schema.is_empty()
        && !name.is_empty()
        && !schema.contains('.')
        && !schema.starts_with('#')
        && !schema.starts_with('\u{feff}')
        && schema.trim_start() == schema
        && name.trim_end() == name
        && !schema.contains(bad)
        && !name.contains(bad)
}

/// Why `line`, which failed the checks of [`parse_list`], is not a relation name.
fn not_a_name(line: &str, kind: ListKind) -> String {
    let what = kind.relation();
    let fix = format!("write one {what} a line, as `schema.name` or `name` (the set's default_schema)");
    if line.contains('\0') {
        format!("contains a NUL character, which no PostgreSQL name can: {fix}")
    } else {
        format!("`{line}` has an empty schema or {what} name: {fix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(entries: &[TableEntry]) -> Vec<(Option<&str>, &str)> {
        entries
            .iter()
            .map(|e| (e.schema.as_deref(), e.name.as_str()))
            .collect()
    }

    #[test]
    fn skips_comments_and_blank_lines_and_trims() {
        let text = "# made by psql\n\npublic.a\n   \n  # indented comment\n\tgeekdb.b  \nc\n";
        let entries = parse_list(text, ListKind::Tables).unwrap();
        assert_eq!(
            names(&entries),
            [(Some("public"), "a"), (Some("geekdb"), "b"), (None, "c")]
        );
        assert!(entries
            .iter()
            .all(|e| e.id.is_none() && e.key.is_none() && e.comment.is_none()));
    }

    #[test]
    fn crlf_and_bom_and_missing_final_newline() {
        let text = "\u{feff}public.a\r\nb\r\n\r\nx.y.z";
        let entries = parse_list(text, ListKind::Sequences).unwrap();
        assert_eq!(
            names(&entries),
            [(Some("public"), "a"), (None, "b"), (Some("x"), "y.z")]
        );
    }

    #[test]
    fn names_with_spaces_and_hashes_inside_are_kept() {
        let entries = parse_list(
            "Studly Spacey Schema.Capital Idea\npublic.t#1\n",
            ListKind::Tables,
        )
        .unwrap();
        assert_eq!(
            names(&entries),
            [
                (Some("Studly Spacey Schema"), "Capital Idea"),
                (Some("public"), "t#1")
            ]
        );
    }

    #[test]
    fn reports_the_line_that_is_not_a_name() {
        let (line, problem) = parse_list("a\n# c\n.\n", ListKind::Tables).unwrap_err();
        assert_eq!(line, 3);
        assert!(
            problem.contains("`.` has an empty schema or table name"),
            "{problem}"
        );
        assert!(problem.contains("write one table a line"), "{problem}");
        let (line, problem) = parse_list("a\r\nb\0c\r\n", ListKind::Sequences).unwrap_err();
        assert_eq!(line, 2);
        assert!(problem.contains("NUL"), "{problem}");
        assert!(problem.contains("one sequence a line"), "{problem}");
        assert_eq!(parse_list("s.\n", ListKind::Tables).unwrap_err().0, 1);
        assert_eq!(parse_list("ok\n\n.t\n", ListKind::Tables).unwrap_err().0, 3);
    }

    #[test]
    fn file_entries_come_before_inline_ones_with_the_default_schema_left_to_the_set() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.tables"), "a\naudit.log\n").unwrap();
        std::fs::write(dir.path().join("s.sequences"), "a_id_seq\n").unwrap();
        let text = "cluster = \"c\"\n[[node]]\nid = 1\nhost = \"h\"\n[[set]]\nid = 1\n\
                    tables_file = \"s.tables\"\nsequences_file = \"s.sequences\"\n\
                    tables = [\"inline\"]\nsequences = [\"other.seq\"]\n";
        let mut config: ConfigFile = toml::from_str(text).unwrap();
        expand_list_files(&mut config, &dir.path().join("c.toml")).unwrap();
        let set = &config.sets[0];
        assert_eq!(
            names(&set.tables),
            [(None, "a"), (Some("audit"), "log"), (None, "inline")]
        );
        assert_eq!(
            names(&set.sequences),
            [(None, "a_id_seq"), (Some("other"), "seq")]
        );
        assert_eq!(set.tables_file.as_deref(), Some("s.tables"));
    }

    /// The line reader as it was written first (split, trim, split_once): the one-pass
    /// reader must read every text the same way.
    fn reference(text: &str) -> Result<Vec<(Option<String>, String)>, usize> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut out = Vec::new();
        for (index, line) in text.split('\n').enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (schema, name) = match line.split_once('.') {
                Some((schema, name)) => (Some(schema), name),
                None => (None, line),
            };
            if schema.is_some_and(str::is_empty) || name.is_empty() || line.contains('\0') {
                return Err(index + 1);
            }
            out.push((schema.map(str::to_string), name.to_string()));
        }
        Ok(out)
    }

    #[test]
    fn the_one_pass_reader_reads_like_the_reference() {
        let pieces = [
            "a", ".", "..", " ", "\t", "\r", "\n", "#", "\0", "s", "é", "\u{3000}", "x.y", "\u{feff}",
        ];
        // Every text of up to four pieces.
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let mut longer = Vec::new();
            for text in &texts {
                for piece in pieces {
                    longer.push(format!("{text}{piece}"));
                }
            }
            texts.extend(longer);
            texts.dedup();
        }
        for text in &texts {
            let got = parse_list(text, ListKind::Tables)
                .map(|entries| {
                    entries
                        .into_iter()
                        .map(|e| (e.schema, e.name))
                        .collect::<Vec<_>>()
                })
                .map_err(|(line, _)| line);
            assert_eq!(got, reference(text), "{text:?}");
        }
    }

    #[test]
    fn listable_names_read_back_as_written() {
        for (schema, name) in [
            ("public", "t"),
            ("geekdb", "a.b"),
            ("Studly Spacey Schema", "Capital Idea"),
            ("s", "#t"),
            ("s", " t"),
        ] {
            assert!(is_listable(schema, name), "{schema}.{name}");
            let line = format!("{schema}.{name}\n");
            assert_eq!(
                names(&parse_list(&line, ListKind::Tables).unwrap()),
                [(Some(schema), name)]
            );
        }
        for (schema, name) in [
            ("", "t"),
            ("s", ""),
            ("a.b", "t"),
            ("#s", "t"),
            (" s", "t"),
            ("s", "t "),
            ("\u{feff}s", "t"),
            ("s", "t\nu"),
            ("s\r", "t"),
        ] {
            assert!(!is_listable(schema, name), "{schema:?}.{name:?}");
        }
    }

    #[test]
    fn paths_resolve_against_the_config_directory() {
        assert_eq!(
            resolve(Path::new("conf/c.toml"), "s.tables"),
            Path::new("conf/s.tables")
        );
        assert_eq!(resolve(Path::new("c.toml"), "s.tables"), Path::new("s.tables"));
        assert_eq!(
            resolve(Path::new("conf/c.toml"), "/abs/s.tables"),
            Path::new("/abs/s.tables")
        );
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.tables"), b"a\nb\n\xff\n").unwrap();
        let text = "cluster = \"c\"\n[[set]]\nid = 2\nname = \"big\"\ntables_file = \"s.tables\"\n";
        let mut config: ConfigFile = toml::from_str(text).unwrap();
        let err = expand_list_files(&mut config, &dir.path().join("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("s.tables:3: not UTF-8"), "{err}");
        assert!(err.contains("set 2 (big) tables_file in"), "{err}");
    }
}
