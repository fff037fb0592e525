//! Scripts: a header (the askama template `templates/header.slonik`) plus statements, each
//! lowered for the target version and written with plain appends in 64 KiB blocks: a
//! template call per line cost about 250 ns, as much as lowering the line (BENCHMARKS.md).

use std::io;

use askama::Template;

use crate::literal::{self, Storage};
use crate::model::{Cluster, NodeId};
use crate::statement::{indent, Bulk, Line, RenderError, Statement, Walker};
use crate::version::SlonyVersion;

/// Why a script could not be written: a statement the target version cannot say (nothing
/// was written), or the output failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A statement cannot be rendered for the target version.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Writing the output failed.
    #[error("cannot write the script")]
    Io(#[source] io::Error),
}

/// A complete slonik script: `cluster name`, one admin conninfo per node it may touch,
/// then its statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Cluster name.
    pub cluster: String,
    /// Target version.
    pub version: SlonyVersion,
    /// `(node, libpq conninfo)` for the header, in node order.
    pub admin: Vec<(NodeId, String)>,
    /// The statements.
    pub statements: Vec<Statement>,
}

impl Script {
    /// An empty script whose header lists `nodes` of `cluster`.
    pub fn new(cluster: &Cluster, nodes: impl IntoIterator<Item = NodeId>) -> Result<Script, RenderError> {
        let mut admin = Vec::new();
        for id in nodes {
            let node = &cluster.nodes[&id];
            let conninfo = node
                .admin_conninfo(cluster.version)
                .map_err(|problems| RenderError::Invalid {
                    statement: "admin conninfo",
                    reason: format!("node {id}: {}", problems[0]),
                })?;
            admin.push((id, conninfo));
        }
        admin.sort_by_key(|(id, _)| *id);
        admin.dedup_by_key(|(id, _)| *id);
        Ok(Script {
            cluster: cluster.name.clone(),
            version: cluster.version,
            admin,
            statements: Vec::new(),
        })
    }

    /// A copy for slonik's offline check: every admin conninfo points at a closed port
    /// (`host=127.0.0.1 port=1`) and `exit 0;` runs first, so slonik parses and checks the
    /// whole script without touching a database. Exit status 0 means accepted, 255 rejected.
    pub fn offline_check_copy(&self) -> Script {
        let mut copy = self.clone();
        for (_, conninfo) in &mut copy.admin {
            *conninfo = "host=127.0.0.1 port=1".to_string();
        }
        copy.statements
            .insert(0, crate::statement::Exit { code: 0 }.into());
        copy
    }

    /// Appends a statement.
    pub fn push(&mut self, statement: impl Into<Statement>) {
        self.statements.push(statement.into());
    }

    /// Appends several statements.
    pub fn extend(&mut self, statements: impl IntoIterator<Item = Statement>) {
        self.statements.extend(statements);
    }

    /// Fails exactly when [`Script::render`] fails, with the same error, but lowers one line
    /// at a time and drops it, so checking a script of 100,000 tables takes no more memory
    /// than checking one of ten.
    pub fn check(&self) -> Result<(), RenderError> {
        for statement in &self.statements {
            statement.check(self.version)?;
        }
        self.header().map(drop)
    }

    /// Lowers every statement for the script's version: everything that can fail, fails here,
    /// before a single byte is written.
    pub fn lower(&self) -> Result<Vec<Line<'_>>, RenderError> {
        let mut lines = Vec::with_capacity(self.statements.len());
        for s in &self.statements {
            s.lines(self.version, 0, &mut lines)?;
        }
        Ok(lines)
    }

    /// The header lines; fails when an admin conninfo cannot be written as a literal.
    fn header(&self) -> Result<Vec<HeaderLine>, RenderError> {
        self.admin
            .iter()
            .map(|(id, conninfo)| {
                literal::encode(conninfo, Storage::Local, self.version)
                    .map(|conninfo| HeaderLine { id: id.0, conninfo })
                    .map_err(|problem| RenderError::Literal {
                        statement: "admin conninfo",
                        option: "conninfo",
                        problem,
                    })
            })
            .collect()
    }

    /// The script as text, ending in exactly one newline: the bytes [`Script::write_to`]
    /// writes.
    pub fn render(&self) -> Result<String, RenderError> {
        self.check()?;
        let mut out = Vec::new();
        self.write_checked_to(&mut out).map_err(|error| match error {
            WriteError::Render(error) => error,
            other => unreachable!("writing into memory cannot fail: {other}"),
        })?;
        Ok(String::from_utf8(out).expect("scripts are built from UTF-8 text"))
    }

    /// Streams the script into `out` with the same bytes as [`Script::render`]. Nothing is
    /// written unless every statement lowers ([`Script::check`] runs first); then the lines
    /// are lowered again and written as they come, in blocks of about 64 KiB, so memory stays
    /// flat however long the script (a create-set of 100,000 tables is one `try` block of
    /// 100,000 lines).
    pub fn write_to(&self, out: &mut impl io::Write) -> Result<(), WriteError> {
        self.check()?;
        self.write_checked_to(out)
    }

    /// [`Script::write_to`] without the check pass, for a script that [`Script::check`]
    /// accepted and nobody changed since (an operation's [`crate::ops::Change`]). Should a
    /// statement fail anyway, the error comes back after the lines before it were written.
    pub(crate) fn write_checked_to(&self, out: &mut impl io::Write) -> Result<(), WriteError> {
        let mut text = String::with_capacity(WRITE_BLOCK_BYTES + 4096);
        HeaderTemplate {
            cluster: &self.cluster,
            header: self.header()?,
        }
        .render_into(&mut text)
        .expect("rendering plain data into a String cannot fail");
        let mut flush = |text: &mut String| {
            if text.len() >= WRITE_BLOCK_BYTES {
                out.write_all(text.as_bytes()).map_err(WriteError::Io)?;
                text.clear();
            }
            Ok::<(), WriteError>(())
        };
        let mut writer = Writer {
            text: &mut text,
            flush: &mut flush,
        };
        for statement in &self.statements {
            statement.walk(self.version, 0, &mut writer)?;
        }
        out.write_all(text.as_bytes()).map_err(WriteError::Io)
    }
}

/// The walker that writes: each line as it comes, and the statements that stand for
/// thousands of lines ([`crate::statement::StorePaths`], [`crate::statement::SetAddRelations`])
/// without lowering each of their lines.
struct Writer<'t, F> {
    text: &'t mut String,
    flush: &'t mut F,
}

impl<'a, F> Walker<'a> for Writer<'_, F>
where
    F: FnMut(&mut String) -> Result<(), WriteError>,
{
    type Error = WriteError;

    fn line(&mut self, line: Line<'a>) -> Result<(), WriteError> {
        write_line(self.text, &line);
        (self.flush)(self.text)
    }

    fn bulk(&mut self, bulk: Bulk<'a>, v: SlonyVersion, depth: usize) -> Result<(), WriteError> {
        bulk.write_lines(v, depth, self.text, self.flush)
    }
}

/// How much text [`Script::write_to`] collects before it writes: few, large writes, and
/// memory that does not grow with the script.
const WRITE_BLOCK_BYTES: usize = 64 * 1024;

/// One body line: indentation, the block punctuation or the statement, a newline.
fn write_line(text: &mut String, line: &Line) {
    match line {
        Line::Statement { depth, lowered } => {
            text.push_str(indent(*depth));
            lowered.write_into(text);
        }
        Line::Block { depth, text: block } => {
            text.push_str(indent(*depth));
            text.push_str(block);
        }
    }
    text.push('\n');
}

struct HeaderLine {
    id: u32,
    conninfo: String,
}

/// `cluster name` and the admin conninfos: the script's header.
#[derive(Template)]
#[template(path = "header.slonik", escape = "none")]
struct HeaderTemplate<'a> {
    cluster: &'a str,
    header: Vec<HeaderLine>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::{Echo, NodeOrAll, Sync, TryBlock, WaitForEvent};

    fn cluster(tables: usize, version: SlonyVersion) -> Cluster {
        let mut toml = String::from("cluster = \"replication\"\n");
        for id in 1..=3 {
            toml.push_str(&format!(
                "[[node]]\nid = {id}\nhost = \"127.0.0.1\"\nport = {}\ndbname = \"db\"\n",
                5431 + id
            ));
        }
        toml.push_str("[[set]]\nid = 1\nname = \"set1\"\ntables = [");
        for t in 0..tables {
            toml.push_str(&format!("\"public.t{t}\", "));
        }
        toml.push_str("]\n");
        crate::load_config_str_for(&toml, "test.toml", Some(version)).expect("valid config")
    }

    /// More lines than fit in one write block of echoes, for the tests that fail late.
    const LINES_IN_A_TRY: usize = 5_000;

    fn streamed(script: &Script) -> Result<Vec<u8>, (WriteError, Vec<u8>)> {
        let mut out = Vec::new();
        match script.write_to(&mut out) {
            Ok(()) => Ok(out),
            Err(e) => Err((e, out)),
        }
    }

    /// Echo statements at top level: `count` body lines after the header.
    fn echoes(count: usize) -> Script {
        let mut script = Script::new(&cluster(1, SlonyVersion::V2_2), [NodeId(1)]).expect("header");
        for i in 0..count {
            script.push(Echo::new(format!("line {i}")));
        }
        script
    }

    #[test]
    fn every_way_of_writing_gives_the_same_bytes() {
        for version in SlonyVersion::ALL {
            // 600 tables: one try block of 600 lines.
            let cluster = cluster(600, version);
            let changes = [
                crate::ops::create_set(&cluster, crate::model::SetId(1)).expect("create-set"),
                crate::ops::init_cluster(&cluster).expect("init-cluster"),
            ];
            for change in changes {
                let rendered = change.script.render().expect("renders");
                assert_eq!(
                    String::from_utf8(streamed(&change.script).expect("streams")).expect("utf-8"),
                    rendered,
                    "{version}"
                );
                let mut single_pass = Vec::new();
                change.write_to(&mut single_pass).expect("writes");
                assert_eq!(
                    String::from_utf8(single_pass).expect("utf-8"),
                    rendered,
                    "{version}"
                );
                assert!(
                    rendered.ends_with(";\n") && !rendered.ends_with("\n\n"),
                    "{version}"
                );
            }
        }
    }

    /// Records the size of every write.
    #[derive(Default)]
    struct Writes {
        bytes: Vec<u8>,
        sizes: Vec<usize>,
    }

    impl io::Write for Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.bytes.extend_from_slice(buf);
            self.sizes.push(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn long_scripts_are_written_in_blocks_not_at_once() {
        for count in [0, 1, 10, 12_000] {
            let script = echoes(count);
            let rendered = script.render().expect("renders");
            let mut writes = Writes::default();
            script.write_to(&mut writes).expect("writes");
            assert_eq!(
                String::from_utf8(writes.bytes).expect("utf-8"),
                rendered,
                "{count} lines"
            );
            assert_eq!(rendered.lines().count(), 2 + count, "{count} lines");
            let longest_line = rendered.lines().map(str::len).max().unwrap_or(0) + 1;
            assert!(
                writes
                    .sizes
                    .iter()
                    .all(|&size| size < WRITE_BLOCK_BYTES + longest_line),
                "{count} lines: a write of {:?} bytes is larger than one block",
                writes.sizes.iter().max()
            );
            let blocks = rendered.len().div_ceil(WRITE_BLOCK_BYTES).max(1);
            assert!(
                writes.sizes.len() >= blocks,
                "{count} lines, {} bytes: {} writes",
                rendered.len(),
                writes.sizes.len()
            );
        }
    }

    #[test]
    fn nothing_is_written_when_the_last_line_fails() {
        let mut script = echoes(3 * LINES_IN_A_TRY);
        let mut body: Vec<Statement> = (0..LINES_IN_A_TRY)
            .map(|i| Echo::new(format!("inside {i}")).into())
            .collect();
        // Rejected only when the try block's checks reach it, after every line before it.
        body.push(
            WaitForEvent {
                origin: NodeOrAll::Node(NodeId(1)),
                confirmed: NodeOrAll::All,
                wait_on: NodeId(1),
                timeout: None,
            }
            .into(),
        );
        script.push(TryBlock {
            body,
            on_error: vec![Sync { id: NodeId(1) }.into()],
            on_success: Vec::new(),
        });
        let expected = script.lower().expect_err("wait for event inside try is rejected");
        assert_eq!(script.check(), Err(expected.clone()));
        assert_eq!(script.render(), Err(expected.clone()));
        let (error, written) = streamed(&script).expect_err("write_to refuses the script");
        assert!(written.is_empty(), "wrote {} bytes before failing", written.len());
        assert!(
            matches!(&error, WriteError::Render(e) if *e == expected),
            "unexpected error {error:?}"
        );
    }

    #[test]
    fn nothing_is_written_when_the_header_fails() {
        let mut script = echoes(LINES_IN_A_TRY + 1);
        // 2.1 cannot write a `'` in any literal.
        script.version = SlonyVersion::V2_1;
        script.admin[0].1 = "host=127.0.0.1 password=it's".to_string();
        let expected = script.render().expect_err("the header cannot be written");
        assert_eq!(script.check(), Err(expected));
        let (_, written) = streamed(&script).expect_err("write_to refuses the script");
        assert!(written.is_empty(), "wrote {} bytes before failing", written.len());
    }
}
