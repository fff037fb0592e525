//! Scripts: a header plus statements, rendered through the askama templates in `templates/`.

use std::io;

use askama::Template;

use crate::literal::{self, Storage};
use crate::model::{Cluster, NodeId};
use crate::statement::{Line, Lowered, RenderError, Statement};
use crate::version::SlonyVersion;

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

    /// Lowers every statement for the script's version: everything that can fail, fails here,
    /// before a single byte is written.
    pub fn lower(&self) -> Result<Vec<Line>, RenderError> {
        let mut lines = Vec::with_capacity(self.statements.len());
        for s in &self.statements {
            s.lines(self.version, 0, &mut lines)?;
        }
        Ok(lines)
    }

    fn template<'a>(&'a self, lines: &'a [Line]) -> Result<ScriptTemplate<'a>, RenderError> {
        let header = self
            .admin
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
            .collect::<Result<_, _>>()?;
        let lines = lines
            .iter()
            .map(|line| match line {
                Line::Statement { depth, lowered } => LineView {
                    indent: indent(*depth),
                    block: None,
                    statement: Some(lowered),
                },
                Line::Block { depth, text } => LineView {
                    indent: indent(*depth),
                    block: Some(text),
                    statement: None,
                },
            })
            .collect();
        Ok(ScriptTemplate {
            cluster: &self.cluster,
            header,
            lines,
        })
    }

    /// The script as text, ending in exactly one newline.
    pub fn render(&self) -> Result<String, RenderError> {
        let lines = self.lower()?;
        let text = self
            .template(&lines)?
            .render()
            .expect("rendering plain data into a String cannot fail");
        Ok(text)
    }

    /// Streams the script into `out`. Nothing is written unless every statement lowers.
    pub fn write_to(&self, out: &mut impl io::Write) -> Result<(), crate::Error> {
        let lines = self.lower()?;
        let template = self.template(&lines)?;
        template.write_into(out).map_err(crate::Error::Io)
    }
}

fn indent(depth: usize) -> &'static str {
    const SPACES: &str = "                                ";
    &SPACES[..(depth * 4).min(SPACES.len())]
}

struct HeaderLine {
    id: u32,
    conninfo: String,
}

struct LineView<'a> {
    indent: &'static str,
    block: Option<&'static str>,
    statement: Option<&'a Lowered>,
}

#[derive(Template)]
#[template(path = "script.slonik", escape = "none")]
struct ScriptTemplate<'a> {
    cluster: &'a str,
    header: Vec<HeaderLine>,
    lines: Vec<LineView<'a>>,
}
