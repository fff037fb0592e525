//! SQL text for the PostgreSQL servers that runbooks talk to through `psql`: string
//! literals and identifiers.
//!
//! The runbooks' SQL runs on every server version the target Slony-I version supports
//! (back to PostgreSQL 7.4 for Slony-I 1.2), so the literal form must mean the same thing
//! whether `standard_conforming_strings` is on (the default from 9.1) or off (the only
//! behaviour before 8.2, and the default before 9.1).

/// A SQL string literal holding exactly `text`.
///
/// Without a backslash: `'...'` with every `'` doubled, which means the same with
/// `standard_conforming_strings` on or off, on every server version. With a backslash:
/// `E'...'` with `'` and `\` doubled, which means the same whatever that setting is; the
/// `E''` form exists from PostgreSQL 8.1, so an older server rejects it with a syntax
/// error instead of reading another string. Names from a config hold no control
/// character (the config is validated); a NUL cannot be sent to the server at all.
pub fn literal(text: &str) -> String {
    if text.contains('\\') {
        format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

/// A quoted SQL identifier: `"` doubled inside, so any name (mixed case, spaces, a
/// keyword) reads as itself. The same quoting names tables inside slonik literals, so it
/// has one implementation, [`crate::model::names::quote_ident`].
pub fn identifier(name: &str) -> String {
    crate::model::names::quote_ident(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_double_quotes_and_mark_backslashes() {
        assert_eq!(literal("plain"), "'plain'");
        assert_eq!(literal("O'Brien"), "'O''Brien'");
        assert_eq!(literal("'; drop table t; --"), "'''; drop table t; --'");
        assert_eq!(literal(r"a\'b"), r"E'a\\''b'");
        assert_eq!(literal(""), "''");
        assert_eq!(literal("''"), "''''''");
        assert_eq!(literal("a # b @x"), "'a # b @x'");
        assert_eq!(literal("a b\\c"), "E'a b\\\\c'");
        let long = "x".repeat(512);
        assert_eq!(literal(&long), format!("'{long}'"));
    }

    #[test]
    fn identifiers_double_quotes() {
        assert_eq!(identifier("_replication"), "\"_replication\"");
        assert_eq!(identifier("a\"b"), "\"a\"\"b\"");
    }
}
