//! Lowering: a typed statement becomes keyword + options for one Slony-I version, or an
//! error when that version lacks the statement or an option. Templates only print the result.

use std::fmt;

use crate::literal::{self, LiteralProblem, Storage};
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

/// An option value, already in slonik syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A bare number.
    Int(u32),
    /// `yes` / `no`.
    Bool(bool),
    /// `all`.
    All,
    /// A complete, escaped literal including its quotes.
    Literal(String),
    /// A parenthesised option list (2.2 multi-node failover).
    Group(Vec<Opt>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Bool(b) => f.write_str(if *b { "yes" } else { "no" }),
            Value::All => f.write_str("all"),
            Value::Literal(text) => f.write_str(text),
            Value::Group(opts) => {
                f.write_str("(")?;
                for (i, o) in opts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} = {}", o.key, o.value)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// `key = value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// Option keyword(s), e.g. `event node`.
    pub key: &'static str,
    /// Its value.
    pub value: Value,
}

/// A statement ready for the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lowered {
    /// The statement keyword(s), e.g. `subscribe set`.
    pub keyword: &'static str,
    /// A positional argument (`echo '...'`, `exit 1`, `restart node 2`).
    pub positional: Option<String>,
    /// The option list; empty means the bare form (`date;`).
    pub options: Vec<Opt>,
}

/// Builds one [`Lowered`] while checking version rules.
pub(crate) struct Lower {
    version: SlonyVersion,
    out: Lowered,
}

impl Lower {
    pub(crate) fn new(keyword: &'static str, version: SlonyVersion) -> Self {
        Lower {
            version,
            out: Lowered {
                keyword,
                positional: None,
                options: Vec::new(),
            },
        }
    }

    /// Fails unless the target is at least `min` (`needs` is the text for the message).
    pub(crate) fn since(&self, feature: &str, min: SlonyVersion) -> Result<(), RenderError> {
        if self.version >= min {
            Ok(())
        } else {
            Err(self.unsupported(feature, since_text(min)))
        }
    }

    /// Fails unless the target is exactly 1.2.
    pub(crate) fn only_1_2(&self, feature: &str) -> Result<(), RenderError> {
        if self.version == SlonyVersion::V1_2 {
            Ok(())
        } else {
            Err(self.unsupported(feature, "1.2 (removed in 2.0)"))
        }
    }

    pub(crate) fn unsupported(&self, feature: &str, needs: &'static str) -> RenderError {
        RenderError::Unsupported {
            statement: self.out.keyword,
            feature: feature.to_string(),
            needs,
            version: self.version,
        }
    }

    pub(crate) fn invalid(&self, reason: impl Into<String>) -> RenderError {
        RenderError::Invalid {
            statement: self.out.keyword,
            reason: reason.into(),
        }
    }

    pub(crate) fn int(mut self, key: &'static str, value: impl Into<u32>) -> Self {
        self.out.options.push(Opt {
            key,
            value: Value::Int(value.into()),
        });
        self
    }

    pub(crate) fn opt_int(self, key: &'static str, value: Option<impl Into<u32>>) -> Self {
        match value {
            Some(v) => self.int(key, v),
            None => self,
        }
    }

    pub(crate) fn bool(mut self, key: &'static str, value: bool) -> Self {
        self.out.options.push(Opt {
            key,
            value: Value::Bool(value),
        });
        self
    }

    pub(crate) fn value(mut self, key: &'static str, value: Value) -> Self {
        self.out.options.push(Opt { key, value });
        self
    }

    pub(crate) fn encode(
        &self,
        option: &'static str,
        text: &str,
        storage: Storage,
    ) -> Result<String, RenderError> {
        literal::encode(text, storage, self.version).map_err(|problem| RenderError::Literal {
            statement: self.out.keyword,
            option,
            problem,
        })
    }

    pub(crate) fn lit(
        mut self,
        key: &'static str,
        text: &str,
        storage: Storage,
    ) -> Result<Self, RenderError> {
        let value = Value::Literal(self.encode(key, text, storage)?);
        self.out.options.push(Opt { key, value });
        Ok(self)
    }

    pub(crate) fn opt_lit(
        self,
        key: &'static str,
        text: Option<&str>,
        storage: Storage,
    ) -> Result<Self, RenderError> {
        match text {
            Some(t) => self.lit(key, t, storage),
            None => Ok(self),
        }
    }

    pub(crate) fn positional(mut self, arg: String) -> Self {
        self.out.positional = Some(arg);
        self
    }

    pub(crate) fn done(self) -> Lowered {
        self.out
    }
}

fn since_text(min: SlonyVersion) -> &'static str {
    match min {
        SlonyVersion::V1_2 => "1.2 or later",
        SlonyVersion::V2_0 => "2.0 or later",
        SlonyVersion::V2_1 => "2.1 or later",
        SlonyVersion::V2_2 => "2.2",
    }
}
