//! slon config files, as slon's scanner (`src/slon/conf-file.l`) reads them.
//!
//! A value is written as a single-quoted string: the scanner's `STRING` token is
//! `'([^'\n]|\\.)*'`, and `SLON_scanstr` then turns `\b \f \n \r \t`, up to three octal
//! digits and `\<any other>` back into the character. So `\` and `'` are written with a
//! backslash, line breaks and other control characters as escapes; `#` and spaces inside
//! the quotes are ordinary characters (the comment rule only starts outside a token).

/// `value` as a quoted slon config value, which the scanner reads back exactly.
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // NUL would end slon's C string early; other control characters as octal
            // escapes, which the scanner decodes (three digits, so no digit after them
            // can be read as part of the escape).
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `text` as one comment line (`# ...`): a control character would end the comment and
/// start a line slon parses, so each is written as its visible escape.
pub fn comment(text: &str) -> String {
    format!("# {}", crate::escape::visible(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quoted("O'Brien"), r"'O\'Brien'");
        assert_eq!(quoted(r"a\b"), r"'a\\b'");
        assert_eq!(quoted("''"), r"'\'\''");
    }

    #[test]
    fn hash_and_spaces_stay_inside_the_quotes() {
        assert_eq!(quoted("host=a # not a comment"), "'host=a # not a comment'");
        assert_eq!(quoted("%Y-%m-%d %H:%M:%S %Z"), "'%Y-%m-%d %H:%M:%S %Z'");
    }

    #[test]
    fn empty_value() {
        assert_eq!(quoted(""), "''");
    }

    #[test]
    fn control_characters_never_end_the_line() {
        assert_eq!(quoted("a\nb\tc\u{1}"), r"'a\nb\tc\001'");
        assert!(!comment("x\ny").contains('\n'));
    }

    #[test]
    fn long_values_are_kept_whole() {
        let value = "x'".repeat(256);
        let q = quoted(&value);
        assert_eq!(q.len(), 512 + 256 + 2);
        assert!(q.starts_with("'x\\'") && q.ends_with("\\''"));
    }

    #[test]
    fn at_sign_and_non_ascii_are_plain() {
        assert_eq!(quoted("user@host é"), "'user@host é'");
    }
}
