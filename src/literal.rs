//! The one place where user text becomes a slonik string literal.
//!
//! slonik's scanner reads `'...'` differently in every release (slonik-syntax.md §1.3):
//! 2.2 turns `''` into `'`; 2.1 silently deletes `''`; 1.2 and 2.0 keep the raw text.
//! 2.1 and 2.2 also abort on literals longer than 511 bytes, and slonik doubles every
//! backslash of a value it stores in the catalog. Every literal the crate renders goes
//! through [`encode`], and validation calls [`problems`] with the same rules, so the
//! checks and the output can never disagree.

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

fn escaped_len(text: &str) -> usize {
    text.len() + text.matches('\'').count()
}

/// Renders `text` as a complete slonik literal, quotes included, or says why it can't be.
pub fn encode(text: &str, storage: Storage, version: SlonyVersion) -> Result<String, LiteralProblem> {
    if let Some(problem) = problems(text, storage, version).into_iter().next() {
        return Err(problem);
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    Ok(out)
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
    fn rejects_nul() {
        assert_eq!(encode("a\0", Storage::Local, V2_2), Err(LiteralProblem::Nul));
    }
}
