//! systemd unit files (`systemd.syntax(7)`, `systemd.service(5)`): values of free-text
//! settings such as `Description=`, and the words of a command line such as `ExecStart=`.
//!
//! In every setting systemd expands `%` specifiers, so a literal `%` is written `%%`. In a
//! command line it also expands `$NAME` and `${NAME}`, so `$` is written `$$`, and splits
//! words at spaces, honouring double quotes with C-style backslash escapes; a word is
//! therefore written in double quotes with `\` and `"` escaped. A line break would end the
//! setting, so control characters (refused by validation anyway) become `\xNN` escapes in
//! command words and spaces in free text.

/// `text` as the value of a free-text setting (`Description=`): specifiers neutralised,
/// control characters replaced by spaces so the value stays on its line.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%%"),
            c if crate::escape::is_control(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `word` as one word of a command line (`ExecStart=`), read back by systemd exactly.
pub fn command_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            c if (c as u32) < 0x80 && crate::escape::is_control(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if crate::escape::is_control(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_variables_and_quotes_are_neutralised() {
        assert_eq!(
            command_word("/etc/slony1/a b/100%$HOME\"\\.conf"),
            r#""/etc/slony1/a b/100%%$$HOME\"\\.conf""#
        );
        assert_eq!(text("node 1 (50%)"), "node 1 (50%%)");
    }

    #[test]
    fn control_characters_never_end_the_line() {
        assert_eq!(command_word("a\nb"), "\"a\\x0ab\"");
        assert_eq!(text("a\nb\u{2028}c"), "a b c");
    }
}
