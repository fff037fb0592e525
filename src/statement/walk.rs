//! The one walk over a statement tree. Lowering a script, checking it, handing its lines
//! out ([`Statement::each_line`]) and writing it (`render.rs`) all go through
//! [`Statement::walk`]: it opens and closes `try` blocks, checks their shape and lowers
//! each plain statement. The statements that stand for thousands of lines
//! ([`SetAddRelations`], [`StorePaths`]) are met once, as a [`Bulk`], and each
//! [`Walker`] decides how to go over them: line by line (the default), by checking only
//! what can fail, or by writing the lines without lowering each one.

use std::marker::PhantomData;

use super::{Line, RenderError, SetAddRelations, Statement, StorePaths, TryBlock};
use crate::version::SlonyVersion;

/// A statement that stands for many lines of the same shape.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bulk<'a> {
    /// One `set add table` / `set add sequence` line per relation.
    Relations(&'a SetAddRelations),
    /// One `store path` line per client.
    Paths(&'a StorePaths),
}

impl<'a> Bulk<'a> {
    /// Hands each line, lowered, to `f`.
    pub(crate) fn each_line<E: From<RenderError>>(
        self,
        v: SlonyVersion,
        depth: usize,
        f: &mut impl FnMut(Line<'a>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut statement = |lowered| f(Line::Statement { depth, lowered });
        match self {
            Bulk::Relations(adds) => {
                for table in adds.tables.iter() {
                    statement(adds.lower_table(table, v)?)?;
                }
                for sequence in adds.sequences.iter() {
                    statement(adds.lower_sequence(sequence, v)?)?;
                }
                Ok(())
            }
            Bulk::Paths(paths) => {
                for &client in &paths.clients {
                    statement(paths.lower_path(client, v)?)?;
                }
                Ok(())
            }
        }
    }

    /// Fails exactly when [`Bulk::each_line`] fails, with the same error, lowering as little
    /// as it can: the paths differ only in a number, so the first line stands for all of
    /// them, and the relations check their literals, lowering a line only to report it.
    pub(crate) fn check(self, v: SlonyVersion) -> Result<(), RenderError> {
        match self {
            Bulk::Relations(adds) => adds.check(v),
            Bulk::Paths(paths) => match paths.clients.first() {
                Some(&client) => paths.lower_path(client, v).map(drop),
                None => Ok(()),
            },
        }
    }

    /// Writes the lines into `text`, calling `flush` after each: the bytes of
    /// [`Bulk::each_line`], without lowering every line. Only for a checked script.
    pub(crate) fn write_lines<E: From<RenderError>>(
        self,
        v: SlonyVersion,
        depth: usize,
        text: &mut String,
        flush: &mut impl FnMut(&mut String) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            Bulk::Relations(adds) => adds.write_lines(v, depth, text, flush),
            Bulk::Paths(paths) => paths.write_lines(v, depth, text, flush),
        }
    }
}

/// What a walk does with the lines it meets.
pub(crate) trait Walker<'a> {
    /// What stops the walk.
    type Error: From<RenderError>;

    /// A statement's lowered line or a block's punctuation.
    fn line(&mut self, line: Line<'a>) -> Result<(), Self::Error>;

    /// A statement of many lines: by default, its lines one by one.
    fn bulk(&mut self, bulk: Bulk<'a>, v: SlonyVersion, depth: usize) -> Result<(), Self::Error> {
        bulk.each_line(v, depth, &mut |line| self.line(line))
    }
}

impl Statement {
    /// Walks this statement's lines for version `v` at nesting `depth`, in order: the one
    /// place that knows how a `try` block and the bulk statements turn into lines.
    pub(crate) fn walk<'a, W: Walker<'a>>(
        &'a self,
        v: SlonyVersion,
        depth: usize,
        walker: &mut W,
    ) -> Result<(), W::Error> {
        let block = match self {
            Statement::Try(block) => block,
            Statement::SetAddRelations(adds) => return walker.bulk(Bulk::Relations(adds), v, depth),
            Statement::StorePaths(paths) => return walker.bulk(Bulk::Paths(paths), v, depth),
            _ => {
                return walker.line(Line::Statement {
                    depth,
                    lowered: self.lower(v)?,
                })
            }
        };
        block.check_shape()?;
        walker.line(Line::Block {
            depth,
            text: TryBlock::OPEN,
        })?;
        for s in &block.body {
            s.walk(v, depth + 1, walker)?;
        }
        for (header, handler) in block.handlers() {
            walker.line(Line::Block { depth, text: header })?;
            for s in handler {
                s.walk(v, depth + 1, walker)?;
            }
        }
        walker.line(Line::Block {
            depth,
            text: TryBlock::CLOSE,
        })
    }

    /// Appends this statement's lines (a try block gives several) for version `v`.
    pub fn lines<'a>(
        &'a self,
        v: SlonyVersion,
        depth: usize,
        out: &mut Vec<Line<'a>>,
    ) -> Result<(), RenderError> {
        self.each_line(v, depth, &mut |line| {
            out.push(line);
            Ok(())
        })
    }

    /// Fails exactly when [`Statement::each_line`] fails, with the same error, but without
    /// making the lines where that is not needed: the paths of [`StorePaths`] differ only in
    /// a number, so its first line stands for all of them, and [`SetAddRelations`] checks its
    /// names, keys and comments as literals, lowering a line only to report a problem.
    pub fn check(&self, v: SlonyVersion) -> Result<(), RenderError> {
        self.walk(v, 0, &mut Checker)
    }

    /// Hands this statement's lines to `f` one at a time, in order, with the same checks and
    /// errors as [`Statement::lines`], so a long try block can be checked or written without
    /// holding all of its lines.
    pub fn each_line<'a, E: From<RenderError>>(
        &'a self,
        v: SlonyVersion,
        depth: usize,
        f: &mut impl FnMut(Line<'a>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.walk(v, depth, &mut EachLine(f, PhantomData))
    }
}

/// The walker of [`Statement::check`]: lines are dropped as soon as they are made.
struct Checker;

impl<'a> Walker<'a> for Checker {
    type Error = RenderError;

    fn line(&mut self, _line: Line<'a>) -> Result<(), RenderError> {
        Ok(())
    }

    fn bulk(&mut self, bulk: Bulk<'a>, v: SlonyVersion, _depth: usize) -> Result<(), RenderError> {
        bulk.check(v)
    }
}

/// The walker of [`Statement::each_line`]: every line to the caller's closure.
struct EachLine<'f, F, E>(&'f mut F, PhantomData<E>);

impl<'a, F, E> Walker<'a> for EachLine<'_, F, E>
where
    F: FnMut(Line<'a>) -> Result<(), E>,
    E: From<RenderError>,
{
    type Error = E;

    fn line(&mut self, line: Line<'a>) -> Result<(), E> {
        (self.0)(line)
    }
}
