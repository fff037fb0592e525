//! POSIX shell: words (arguments) and comments of the generated bash runbooks.

use std::borrow::Cow;

/// `text` as one shell word: bare when it only has characters no shell treats specially,
/// else in single quotes (a `'` inside written as `'\''`). Inside single quotes nothing
/// is special to the shell, newlines included, so this is safe for any text.
pub fn word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:@%+,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// `text` as the body of one `#` comment line: a line break (or any other control
/// character) would end the comment and turn the rest of the text into commands, so each is
/// written as `\u{XXXX}`.
pub fn comment_line(text: &str) -> Cow<'_, str> {
    super::visible(text)
}

/// `text` as `#` comment lines, one per line of `text` (prose that is meant to span lines);
/// each line goes through [`comment_line`], so no line of the result is anything but a
/// comment.
pub fn comment(text: &str) -> String {
    text.split('\n')
        .map(|line| format!("# {}", comment_line(line)).trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_bare_or_single_quoted() {
        assert_eq!(word("node1.pid"), "node1.pid");
        assert_eq!(word(""), "''");
        assert_eq!(word("O'Brien"), r"'O'\''Brien'");
        assert_eq!(word("$(touch x)"), "'$(touch x)'");
        assert_eq!(word("a\nb"), "'a\nb'");
    }

    #[test]
    fn a_comment_never_ends_early() {
        let text = comment("MasNod\ntouch /tmp/pwned #\rnext\u{2028}x");
        for line in text.lines() {
            assert!(line.starts_with('#'), "{line:?}");
        }
        assert!(!text.contains(['\r', '\u{2028}']));
    }
}
