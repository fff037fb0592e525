//! PostgreSQL relation names, kept exactly as PostgreSQL spells them.

use std::fmt;

/// PostgreSQL's identifier limit (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// A schema-qualified relation name, case-sensitive, never folded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    /// Schema (namespace).
    pub schema: String,
    /// Relation name.
    pub name: String,
}

impl QualifiedName {
    /// A name in `schema`.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// The SQL form slonik passes to PostgreSQL: `"schema"."name"`, every part quoted so
    /// that `Capital Idea` and `Studly Spacey Schema` survive exactly.
    pub fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

impl fmt::Display for QualifiedName {
    /// The unquoted `schema.name`, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Quotes one SQL identifier (`"` doubled inside).
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Why a PostgreSQL identifier is unusable, if it is.
pub fn identifier_problem(ident: &str) -> Option<&'static str> {
    if ident.is_empty() {
        Some("is empty")
    } else if ident.len() > MAX_IDENTIFIER_BYTES {
        Some("is longer than PostgreSQL's 63-byte identifier limit")
    } else if ident.contains('\0') {
        Some("contains a NUL byte")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_part() {
        assert_eq!(
            QualifiedName::new("Studly Spacey Schema", "user").quoted(),
            "\"Studly Spacey Schema\".\"user\""
        );
        assert_eq!(QualifiedName::new("a", "b\"c").quoted(), "\"a\".\"b\"\"c\"");
    }
}
