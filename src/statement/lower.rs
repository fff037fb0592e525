//! Lowering: a typed statement becomes keyword + options for one Slony-I version, or an
//! error when that version lacks the statement or an option. Templates only print the result.

use std::borrow::Cow;
use std::fmt;

use crate::literal::{Literal, LiteralProblem, Storage};
use crate::model::QualifiedName;
use crate::version::SlonyVersion;

/// Why a statement cannot be rendered for the target version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The statement or option does not exist in the target version.
    #[error("`{statement}`: {feature} needs Slony-I {needs}, but the target is {version}")]
    Unsupported {
        /// Statement keyword.
        statement: &'static str,
        /// The statement itself or the option.
        feature: String,
        /// Versions that have it, e.g. `2.2` or `1.2 only`.
        needs: &'static str,
        /// Target version.
        version: SlonyVersion,
    },
    /// A value cannot be written as a literal.
    #[error("`{statement}` option `{option}`: the value {problem}")]
    Literal {
        /// Statement keyword.
        statement: &'static str,
        /// Option keyword.
        option: &'static str,
        /// Why.
        problem: LiteralProblem,
    },
    /// A combination slonik rejects.
    #[error("`{statement}`: {reason}")]
    Invalid {
        /// Statement keyword.
        statement: &'static str,
        /// Why.
        reason: String,
    },
}

/// An option value, already in slonik syntax. Borrows the statement's text, so lowering a
/// statement allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// A bare number.
    Int(u32),
    /// A number that may be negative (`exit -1` on 1.2 and 2.0).
    Signed(i32),
    /// `yes` / `no`.
    Bool(bool),
    /// `all`.
    All,
    /// A bare keyword (`key = serial`).
    Word(&'static str),
    /// A string literal, checked for the target version; quoted and escaped when written.
    Literal(Literal<'a>),
    /// A parenthesised option list (2.2 multi-node failover).
    Group(Vec<Opt<'a>>),
}

impl Value<'_> {
    /// Appends the value in slonik syntax. The script writer's path: plain `push_str`s, no
    /// formatting machinery, because it runs for every option of every line.
    pub fn write_into(&self, out: &mut String) {
        match self {
            Value::Int(n) => push_decimal(out, u64::from(*n)),
            Value::Signed(n) => {
                if *n < 0 {
                    out.push('-');
                }
                push_decimal(out, u64::from(n.unsigned_abs()));
            }
            Value::Bool(b) => out.push_str(if *b { "yes" } else { "no" }),
            Value::All => out.push_str("all"),
            Value::Word(word) => out.push_str(word),
            Value::Literal(literal) => literal.write_into(out),
            Value::Group(opts) => {
                out.push('(');
                for (i, o) in opts.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    o.write_into(out);
                }
                out.push(')');
            }
        }
    }
}

/// Appends `n` in decimal.
pub(crate) fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.write_into(&mut text);
        f.write_str(&text)
    }
}

/// `key = value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt<'a> {
    /// Option keyword(s), e.g. `event node`.
    pub key: &'static str,
    /// Its value.
    pub value: Value<'a>,
}

/// Room for the most options any statement has (`set add table` with everything: 7), reserved
/// up front: lowering a statement then costs one allocation, never a regrowth.
const OPTION_CAPACITY: usize = 8;

/// A statement ready for the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lowered<'a> {
    /// The statement keyword(s), e.g. `subscribe set`.
    pub keyword: &'static str,
    /// A positional argument (`echo '...'`, `exit 1`, `restart node 2`).
    pub positional: Option<Value<'a>>,
    /// The option list; empty means the bare form (`date;`).
    pub options: Vec<Opt<'a>>,
}

impl Lowered<'_> {
    /// Appends `keyword;`, `keyword positional;` or `keyword (key = value, ...);`: the one
    /// shape every slonik statement has. Written here rather than in a template because the
    /// script writer calls it for every line, 100,000 times for a large create-set.
    pub fn write_into(&self, out: &mut String) {
        out.push_str(self.keyword);
        if let Some(arg) = &self.positional {
            out.push(' ');
            arg.write_into(out);
        } else if !self.options.is_empty() {
            out.push_str(" (");
            for (i, o) in self.options.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                o.write_into(out);
            }
            out.push(')');
        }
        out.push(';');
    }
}

impl Opt<'_> {
    /// Appends `key = value`.
    pub fn write_into(&self, out: &mut String) {
        out.push_str(self.key);
        out.push_str(" = ");
        self.value.write_into(out);
    }
}

impl fmt::Display for Lowered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.write_into(&mut text);
        f.write_str(&text)
    }
}

/// Builds one [`Lowered`] while checking version rules.
pub(crate) struct Lower<'a> {
    version: SlonyVersion,
    out: Lowered<'a>,
}

impl<'a> Lower<'a> {
    #[inline(always)]
    pub(crate) fn new(keyword: &'static str, version: SlonyVersion) -> Self {
        Lower {
            version,
            out: Lowered {
                keyword,
                positional: None,
                options: Vec::with_capacity(OPTION_CAPACITY),
            },
        }
    }

    /// [`Lower::new`] for a statement that only `versions` have (its `VERSIONS`, listed
    /// in `statement/mod.rs`): fails first when the target is not one of them.
    #[inline]
    pub(crate) fn statement(
        keyword: &'static str,
        versions: Versions,
        version: SlonyVersion,
    ) -> Result<Self, RenderError> {
        let l = Lower::new(keyword, version);
        l.needs("the statement", versions)?;
        Ok(l)
    }

    /// Fails unless the target is one of `versions`.
    #[inline]
    pub(crate) fn needs(&self, feature: &str, versions: Versions) -> Result<(), RenderError> {
        if versions.contains(self.version) {
            Ok(())
        } else {
            Err(self.unsupported(feature, versions.text()))
        }
    }

    /// Fails unless the target is at least `min`.
    #[inline]
    pub(crate) fn since(&self, feature: &str, min: SlonyVersion) -> Result<(), RenderError> {
        self.needs(feature, Versions::Since(min))
    }

    /// Fails unless the target is exactly 1.2.
    #[inline]
    pub(crate) fn only_1_2(&self, feature: &str) -> Result<(), RenderError> {
        self.needs(feature, Versions::Only1_2)
    }

    #[inline]
    pub(crate) fn unsupported(&self, feature: &str, needs: &'static str) -> RenderError {
        RenderError::Unsupported {
            statement: self.out.keyword,
            feature: feature.to_string(),
            needs,
            version: self.version,
        }
    }

    #[inline]
    pub(crate) fn invalid(&self, reason: impl Into<String>) -> RenderError {
        RenderError::Invalid {
            statement: self.out.keyword,
            reason: reason.into(),
        }
    }

    #[inline(always)]
    pub(crate) fn int(self, key: &'static str, value: impl Into<u32>) -> Self {
        self.value(key, Value::Int(value.into()))
    }

    #[inline(always)]
    pub(crate) fn opt_int(self, key: &'static str, value: Option<impl Into<u32>>) -> Self {
        match value {
            Some(v) => self.int(key, v),
            None => self,
        }
    }

    #[inline(always)]
    pub(crate) fn bool(self, key: &'static str, value: bool) -> Self {
        self.value(key, Value::Bool(value))
    }

    #[inline(always)]
    pub(crate) fn value(mut self, key: &'static str, value: Value<'a>) -> Self {
        self.out.options.push(Opt { key, value });
        self
    }

    /// `text` as a literal for the target version, or why it cannot be one.
    #[inline]
    pub(crate) fn literal(
        &self,
        option: &'static str,
        text: impl Into<Cow<'a, str>>,
        storage: Storage,
    ) -> Result<Literal<'a>, RenderError> {
        Literal::new(text, storage, self.version).map_err(|problem| self.literal_error(option, problem))
    }

    fn literal_error(&self, option: &'static str, problem: LiteralProblem) -> RenderError {
        RenderError::Literal {
            statement: self.out.keyword,
            option,
            problem,
        }
    }

    #[inline(always)]
    pub(crate) fn lit(
        self,
        key: &'static str,
        text: impl Into<Cow<'a, str>>,
        storage: Storage,
    ) -> Result<Self, RenderError> {
        let value = Value::Literal(self.literal(key, text, storage)?);
        Ok(self.value(key, value))
    }

    /// `option = '"schema"."name"'`, quoted while written (see [`Literal::quoted_name`]).
    #[inline(always)]
    pub(crate) fn quoted_name(
        self,
        key: &'static str,
        name: &'a QualifiedName,
        storage: Storage,
    ) -> Result<Self, RenderError> {
        let literal = Literal::quoted_name(name, storage, self.version)
            .map_err(|problem| self.literal_error(key, problem))?;
        Ok(self.value(key, Value::Literal(literal)))
    }

    #[inline(always)]
    pub(crate) fn opt_lit(
        self,
        key: &'static str,
        text: Option<&'a str>,
        storage: Storage,
    ) -> Result<Self, RenderError> {
        match text {
            Some(t) => self.lit(key, t, storage),
            None => Ok(self),
        }
    }

    #[inline(always)]
    pub(crate) fn positional(mut self, arg: Value<'a>) -> Self {
        self.out.positional = Some(arg);
        self
    }

    #[inline(always)]
    pub(crate) fn done(self) -> Lowered<'a> {
        self.out
    }
}

/// Which Slony-I versions have a statement or an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Versions {
    /// Every supported version.
    All,
    /// This version and every later one.
    Since(SlonyVersion),
    /// Slony-I 1.2 only (2.0 removed it).
    Only1_2,
}

impl Versions {
    /// Whether `version` has it.
    pub fn contains(self, version: SlonyVersion) -> bool {
        match self {
            Versions::All => true,
            Versions::Since(min) => version >= min,
            Versions::Only1_2 => version == SlonyVersion::V1_2,
        }
    }

    /// The versions as [`RenderError::Unsupported`] names them (`2.1 or later`).
    pub fn text(self) -> &'static str {
        match self {
            Versions::All | Versions::Since(SlonyVersion::V1_2) => "1.2 or later",
            Versions::Since(SlonyVersion::V2_0) => "2.0 or later",
            Versions::Since(SlonyVersion::V2_1) => "2.1 or later",
            Versions::Since(SlonyVersion::V2_2) => "2.2",
            Versions::Only1_2 => "1.2 (removed in 2.0)",
        }
    }
}
