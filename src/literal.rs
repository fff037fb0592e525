//! The one place where user text becomes a slonik string literal.
//!
//! slonik's scanner reads `'...'` differently in every release (slonik-syntax.md §1.3):
//! 2.2 turns `''` into `'`; 2.1 silently deletes `''`; 1.2 and 2.0 keep the raw text.
//! 2.1 and 2.2 also abort on literals longer than 511 bytes, and slonik doubles every
//! backslash of a value it stores in the catalog. Every literal the crate renders goes
//! through [`encode`], and validation calls [`problems`] with the same rules, so the
//! checks and the output can never disagree.

use std::borrow::Cow;
use std::fmt;

use crate::model::QualifiedName;
use crate::version::SlonyVersion;

/// Whether slonik stores the value in the Slony catalog (through its `%q` formatter, which
/// doubles backslashes) or only uses it locally (admin conninfo, file names, 2.2 `sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// The value ends up in the catalog: comments, path conninfo, table names, key names.
    Stored,
    /// The value is used by slonik itself: header conninfo, `filename`, 2.2 `sql`, echo text.
    Local,
}

/// Why a value cannot be written as a slonik literal for a given version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LiteralProblem {
    /// Slony-I before 2.2 cannot express a `'` inside a literal.
    #[error("contains a single quote ('), which slonik {version} cannot express in a literal (only 2.2 can); remove it or target Slony-I 2.2")]
    SingleQuote {
        /// The target version.
        version: SlonyVersion,
    },
    /// 2.1 and 2.2 crash on literals above 511 bytes.
    #[error("is {bytes} bytes once quoted, but slonik {version} aborts on literals over {max} bytes; shorten it (for SQL, use a file instead of --sql)")]
    TooLong {
        /// The target version.
        version: SlonyVersion,
        /// The length of the escaped literal between its quotes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A backslash in a stored value is doubled by slonik on PostgreSQL 9.1 and later.
    #[error(
        "contains a backslash (\\), which slonik doubles when it stores the value in the catalog; remove it"
    )]
    Backslash,
    /// A NUL byte can not travel through C strings.
    #[error("contains a NUL byte, which no slonik literal can carry")]
    Nul,
}

/// Every problem `text` has as a literal of kind `storage` for `version` (empty when it is fine).
pub fn problems(text: &str, storage: Storage, version: SlonyVersion) -> Vec<LiteralProblem> {
    let mut found = Vec::new();
    if text.contains('\0') {
        found.push(LiteralProblem::Nul);
    }
    if text.contains('\'') && !version.can_quote_in_literal() {
        found.push(LiteralProblem::SingleQuote { version });
    }
    if storage == Storage::Stored && text.contains('\\') {
        found.push(LiteralProblem::Backslash);
    }
    if let Some(max) = version.max_literal_bytes() {
        let bytes = escaped_len(text);
        if bytes > max {
            found.push(LiteralProblem::TooLong { version, bytes, max });
        }
    }
    found
}

/// The length of `text` once escaped, between the quotes: what the 511-byte limit counts.
fn escaped_len(text: &str) -> usize {
    text.len() + text.matches('\'').count()
}

/// What one character adds to [`escaped_len`]: its UTF-8 bytes, and a second `'` for a quote.
fn escaped_char_len(c: char) -> usize {
    c.len_utf8() + usize::from(c == '\'')
}

/// Marks text that [`fit`] cut short.
const ELLIPSIS: &str = "...";

/// `text` cut at a character boundary and ended with `...` when its escaped length is over
/// `max_bytes`, so that it fits in one literal of at most `max_bytes` (counted like
/// [`problems`] counts them: doubled quotes included).
fn fit_within(text: String, max_bytes: usize) -> String {
    if escaped_len(&text) <= max_bytes {
        return text;
    }
    let budget = max_bytes.saturating_sub(ELLIPSIS.len());
    let mut used = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if used + escaped_char_len(c) > budget {
            break;
        }
        used += escaped_char_len(c);
        end = i + c.len_utf8();
    }
    let mut cut = text;
    cut.truncate(end);
    cut.push_str(ELLIPSIS);
    cut
}

/// Text the generator writes itself (messages, default comments), shortened with `...` to
/// fit one literal of `version` ([`SlonyVersion::max_literal_bytes`]); unchanged for a
/// version without a limit. Names up to the limit are valid in a config, and a message
/// quoting several of them must not make the whole operation fail.
pub fn fit(text: String, version: SlonyVersion) -> String {
    match version.max_literal_bytes() {
        Some(max) => fit_within(text, max),
        None => text,
    }
}

/// [`fit`] for the strictest version, whatever the target: the operations write their
/// messages without looking at the version, and a 1.2 or 2.0 script (which has no length
/// limit) gets the same messages as a 2.2 one, so every script's text stays as it was.
pub fn fit_every_version(text: String) -> String {
    match SlonyVersion::ALL
        .into_iter()
        .filter_map(SlonyVersion::max_literal_bytes)
        .min()
    {
        Some(max) => fit_within(text, max),
        None => text,
    }
}

/// Renders `text` as a complete slonik literal, quotes included, or says why it can't be.
pub fn encode(text: &str, storage: Storage, version: SlonyVersion) -> Result<String, LiteralProblem> {
    Literal::new(text, storage, version).map(|literal| literal.to_string())
}

/// A value checked to be writable as a slonik literal for one version. It keeps the raw text
/// and escapes it while it is written ([`fmt::Display`]), so checking a script and writing it
/// allocate nothing per literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal<'a> {
    text: Text<'a>,
    /// No `'` inside: written as is, without searching it again.
    plain: bool,
}

/// What a [`Literal`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Text<'a> {
    /// The text itself.
    Plain(Cow<'a, str>),
    /// `"schema"."name"`, quoted while it is written instead of in a `String` per table.
    QuotedName(&'a QualifiedName),
}

impl<'a> Literal<'a> {
    /// The literal for `text`, or the first reason it cannot be one.
    pub fn new(
        text: impl Into<Cow<'a, str>>,
        storage: Storage,
        version: SlonyVersion,
    ) -> Result<Literal<'a>, LiteralProblem> {
        let text = text.into();
        let (plain, problem) = first_problem(&text, storage, version);
        match problem {
            Some(problem) => Err(problem),
            None => Ok(Literal {
                text: Text::Plain(text),
                plain,
            }),
        }
    }

    /// The literal of `name`'s SQL form ([`QualifiedName::quoted`]), or the first reason it
    /// cannot be one: the same result as `Literal::new(name.quoted(), ..)` without building
    /// the quoted text.
    pub fn quoted_name(
        name: &'a QualifiedName,
        storage: Storage,
        version: SlonyVersion,
    ) -> Result<Literal<'a>, LiteralProblem> {
        let (mut quote, mut other, mut double_quotes) = (false, false, 0usize);
        for part in [&name.schema, &name.name] {
            for &b in part.as_bytes() {
                quote |= b == b'\'';
                other |= (b == b'\\') | (b == 0);
                double_quotes += usize::from(b == b'"');
            }
        }
        // `"schema"."name"`: five bytes of quotes and dot, and every `"` inside doubled.
        let len = name.schema.len() + name.name.len() + 5 + double_quotes;
        let too_long = version.max_literal_bytes().is_some_and(|max| len > max);
        if quote || other || too_long {
            if let Some(problem) = problems(&name.quoted(), storage, version).into_iter().next() {
                return Err(problem);
            }
        }
        Ok(Literal {
            text: Text::QuotedName(name),
            plain: !quote,
        })
    }

    /// The literal of a name that [`Literal::quoted_name`] already accepted for the target
    /// version (a script's check pass), without checking it again: the script writer's path
    /// for the tables of a large set, which only needs to know whether a `'` must be doubled.
    pub(crate) fn checked_quoted_name(name: &'a QualifiedName) -> Literal<'a> {
        let quote = name.schema.as_bytes().contains(&b'\'') || name.name.as_bytes().contains(&b'\'');
        Literal {
            text: Text::QuotedName(name),
            plain: !quote,
        }
    }

    /// The unescaped text.
    pub fn text(&self) -> Cow<'_, str> {
        self.text.unescaped()
    }
}

impl Literal<'_> {
    /// Appends the literal, quotes included: what [`fmt::Display`] writes, with plain
    /// `push_str`s for the script writer.
    pub fn write_into(&self, out: &mut String) {
        out.push('\'');
        match (&self.text, self.plain) {
            (Text::Plain(text), true) => out.push_str(text),
            (Text::QuotedName(name), true) => name.quoted_into(out),
            (text, false) => out.push_str(&text.unescaped().replace('\'', "''")),
        }
        out.push('\'');
    }
}

impl Text<'_> {
    fn unescaped(&self) -> Cow<'_, str> {
        match self {
            Text::Plain(text) => Cow::Borrowed(text),
            Text::QuotedName(name) => Cow::Owned(name.quoted()),
        }
    }
}

impl fmt::Display for Literal<'_> {
    /// `'text'` with every `'` doubled: the only escaping slonik's scanner knows (2.2; the
    /// versions that cannot read it never get here, [`problems`] refuses the quote).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.write_into(&mut text);
        f.write_str(&text)
    }
}

/// Whether `text` is free of `'`, and the first of [`problems`] (found without collecting them).
fn first_problem(text: &str, storage: Storage, version: SlonyVersion) -> (bool, Option<LiteralProblem>) {
    // Most names, comments and conninfos have none of the bytes that matter. One pass without
    // an early exit, which the compiler turns into a vector loop.
    let (mut quote, mut other) = (false, false);
    for &b in text.as_bytes() {
        quote |= b == b'\'';
        other |= (b == b'\\') | (b == 0);
    }
    let plain = !quote;
    let special = quote || other;
    let too_long = version.max_literal_bytes().is_some_and(|max| text.len() > max);
    if !special && !too_long {
        return (plain, None);
    }
    (plain, problems(text, storage, version).into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use SlonyVersion::*;

    #[test]
    fn doubles_quotes_on_2_2() {
        assert_eq!(encode("O'Brien", Storage::Stored, V2_2).unwrap(), "'O''Brien'");
        assert_eq!(encode("''", Storage::Stored, V2_2).unwrap(), "''''''");
        assert_eq!(encode("", Storage::Stored, V2_2).unwrap(), "''");
    }

    #[test]
    fn rejects_quotes_before_2_2() {
        for v in [V1_2, V2_0, V2_1] {
            assert_eq!(
                encode("O'Brien", Storage::Local, v),
                Err(LiteralProblem::SingleQuote { version: v })
            );
        }
    }

    #[test]
    fn keeps_hash_at_and_newline_verbatim() {
        for v in SlonyVersion::ALL {
            assert_eq!(
                encode("a # b @x\nc", Storage::Stored, v).unwrap(),
                "'a # b @x\nc'"
            );
        }
    }

    #[test]
    fn backslash_only_rejected_when_stored() {
        assert_eq!(
            encode("a\\b", Storage::Stored, V2_2),
            Err(LiteralProblem::Backslash)
        );
        assert_eq!(encode("a\\b", Storage::Local, V2_2).unwrap(), "'a\\b'");
    }

    #[test]
    fn length_limit_on_2_1_and_2_2_only() {
        let ok = "a".repeat(511);
        let long = "a".repeat(512);
        assert!(encode(&ok, Storage::Stored, V2_2).is_ok());
        assert!(matches!(
            encode(&long, Storage::Stored, V2_2),
            Err(LiteralProblem::TooLong {
                bytes: 512,
                max: 511,
                ..
            })
        ));
        assert!(encode(&long, Storage::Stored, V2_1).is_err());
        assert!(encode(&long, Storage::Stored, V2_0).is_ok());
        assert!(encode(&long, Storage::Stored, V1_2).is_ok());
        // Doubled quotes count towards the limit.
        let quotes = "'".repeat(256);
        assert!(encode(&quotes, Storage::Stored, V2_2).is_err());
    }

    #[test]
    fn a_quoted_name_is_the_literal_of_its_quoted_text() {
        let long = "n".repeat(250);
        let names = [
            QualifiedName::new("public", "t000001"),
            QualifiedName::new("Studly Spacey Schema", "user"),
            QualifiedName::new("we\"ird", "na\"\"me"),
            QualifiedName::new("o'brien", "it's"),
            QualifiedName::new("back\\slash", "t"),
            QualifiedName::new("nul", "a\0b"),
            QualifiedName::new(long.clone(), long.clone()),
            // `"a…a"."b…b"""""""`: 250 + 253 + 5 + 3 doubled `"` = 511 bytes, 2.2's limit, and one more.
            QualifiedName::new("a".repeat(250), format!("{}\"\"\"", "b".repeat(250))),
            QualifiedName::new("a".repeat(250), format!("{}\"\"\"", "b".repeat(251))),
        ];
        for name in &names {
            for version in SlonyVersion::ALL {
                for storage in [Storage::Stored, Storage::Local] {
                    let quoted = name.quoted();
                    let expected = Literal::new(quoted.as_str(), storage, version).map(|l| l.to_string());
                    let got = Literal::quoted_name(name, storage, version).map(|l| l.to_string());
                    assert_eq!(got, expected, "{name:?} {version} {storage:?}");
                    if let Ok(expected) = expected {
                        assert_eq!(Literal::checked_quoted_name(name).to_string(), expected);
                    }
                }
            }
        }
    }

    #[test]
    fn fit_counts_doubled_quotes_and_keeps_characters_whole() {
        for text in ["", "short 'enough'", "O'Brien", "''", "a # b @x", "back\\slash"] {
            assert_eq!(fit(text.into(), V2_2), text);
        }
        let exact = "a".repeat(511);
        assert_eq!(fit(exact.clone(), V2_2), exact);
        let over = "a".repeat(512);
        assert_eq!(fit(over.clone(), V2_2), format!("{}...", "a".repeat(508)));
        let quotes = fit("'".repeat(300), V2_2);
        assert_eq!(quotes, format!("{}...", "'".repeat(254)));
        let wide = fit("é".repeat(300), V2_1);
        assert!(wide.ends_with("é..."), "{wide}");
        for version in SlonyVersion::ALL {
            for text in [over.clone(), "é".repeat(300), "x'".repeat(400)] {
                let fitted = fit(text.clone(), version);
                let storage = Storage::Local;
                if version.can_quote_in_literal() || !fitted.contains('\'') {
                    assert!(encode(&fitted, storage, version).is_ok(), "{version}: {fitted}");
                }
            }
        }
        // 1.2 and 2.0 have no limit, but generated text is held to the strictest one.
        assert_eq!(fit(over.clone(), V1_2), over);
        assert_eq!(fit_every_version(over.clone()), fit(over, V2_2));
    }

    #[test]
    fn escaped_length_is_the_sum_of_the_characters() {
        for text in ["", "O'Brien", "''", "é'ü", "plain"] {
            assert_eq!(
                escaped_len(text),
                text.chars().map(escaped_char_len).sum::<usize>()
            );
        }
    }

    #[test]
    fn rejects_nul() {
        assert_eq!(encode("a\0", Storage::Local, V2_2), Err(LiteralProblem::Nul));
    }
}
