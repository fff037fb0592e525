//! One escaper per language that user text lands in.
//!
//! Every piece of text from a config, a catalog, a file or a command line is hostile until
//! it is escaped for the language it is written into. Each language has exactly one module
//! here, and nothing else in the crate quotes or escapes text for it:
//!
//! | language | module |
//! |---|---|
//! | slonik string literal | [`crate::literal`] (per Slony-I version) |
//! | POSIX shell (words, comments) | [`shell`] |
//! | Markdown (text, inline code, code fences) | [`markdown`] |
//! | TOML comments | [`toml`] |
//! | slon config files (`slon -f`: quoted values, comments) | [`slon_conf`] |
//! | systemd unit files (free text, command words) | [`systemd`] |
//! | SQL sent to PostgreSQL by runbooks and the live importer (literals, identifiers) | [`sql`] |
//! | libpq conninfo values | [`crate::model::conninfo`] (`conninfo_text` per Slony-I version, `quoted_value`) |
//!
//! Control characters are refused when a config is validated ([`control_character`]), so
//! none of these escapers has to decide what a newline inside a node name should mean; the
//! escapers still neutralise them, because text also arrives from catalogs and imports.

pub mod markdown;
pub mod shell;
pub mod slon_conf;
pub mod sql;
pub mod systemd;
pub mod toml;

/// Whether `c` is a control character that no name, comment, label or connection value may
/// hold: C0 (U+0000–U+001F), DEL (U+007F), C1 (U+0080–U+009F), and the Unicode line and
/// paragraph separators (U+2028, U+2029), which some editors and terminals treat as line
/// breaks.
pub fn is_control(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// The first control character of `text` and its byte offset, if it has one.
pub fn control_character(text: &str) -> Option<(usize, char)> {
    // Printable ASCII is by far the common case: one byte test, no decoding.
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return None;
    }
    text.char_indices().find(|&(_, c)| is_control(c))
}

/// `U+000A (line feed)`: how a control character is named in an error message.
pub fn describe_control(c: char) -> String {
    let name = match c {
        '\0' => " (NUL)",
        '\t' => " (tab)",
        '\n' => " (line feed)",
        '\r' => " (carriage return)",
        '\u{1b}' => " (escape)",
        '\u{7f}' => " (DEL)",
        '\u{2028}' => " (line separator)",
        '\u{2029}' => " (paragraph separator)",
        _ => "",
    };
    format!("U+{:04X}{name}", c as u32)
}

/// `text` with every control character written as `\u{XXXX}`, for one-line display in a
/// terminal, a comment or an error message (nothing raw from a catalog reaches a terminal).
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if control_character(text).is_none() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_control(c) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Splits prose into lines of at most `width` characters at white space (a longer word
/// stays whole on a line of its own), for the comments the escapers write.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_kind_of_control_character() {
        for c in [
            '\0', '\n', '\r', '\t', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{2028}', '\u{2029}',
        ] {
            let text = format!("ab{c}cd");
            assert_eq!(control_character(&text), Some((2, c)), "{c:?}");
        }
        for text in [
            "",
            "plain",
            "O'Brien",
            "Ünïcödé",
            "tab-less \u{a0} nbsp",
            "emoji 🐘",
        ] {
            assert_eq!(control_character(text), None, "{text:?}");
        }
    }

    #[test]
    fn visible_writes_control_characters_as_escapes() {
        assert_eq!(visible("a\nb\u{1b}[31m"), "a\\u{000A}b\\u{001B}[31m");
        assert!(matches!(visible("plain"), std::borrow::Cow::Borrowed("plain")));
    }
}
