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
        let mut out = String::with_capacity(self.schema.len() + self.name.len() + 5);
        self.quoted_into(&mut out);
        out
    }

    /// Appends [`QualifiedName::quoted`] to `out`, so that a loop over many names can reuse
    /// one buffer.
    pub fn quoted_into(&self, out: &mut String) {
        push_quoted_ident(out, &self.schema);
        out.push('.');
        push_quoted_ident(out, &self.name);
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
    let mut out = String::with_capacity(ident.len() + 2);
    push_quoted_ident(&mut out, ident);
    out
}

/// Appends [`quote_ident`] of `ident` to `out`.
pub fn push_quoted_ident(out: &mut String, ident: &str) {
    out.push('"');
    if !ident.as_bytes().contains(&b'"') {
        // Nearly every name: no splitting (this runs for every line of a create-set).
        out.push_str(ident);
        out.push('"');
        return;
    }
    for (i, part) in ident.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part);
    }
    out.push('"');
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
        assert_eq!(quote_ident("\"\"x\""), "\"\"\"\"\"x\"\"\"");
        assert_eq!(quote_ident(""), "\"\"");
    }

    #[test]
    fn quoted_into_appends_the_quoted_form() {
        let mut out = String::from("x:");
        QualifiedName::new("S\"s", "t").quoted_into(&mut out);
        assert_eq!(out, "x:\"S\"\"s\".\"t\"");
    }
}
