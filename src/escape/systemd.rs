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

/// `text` as part of a unit name, the way `systemd-escape` writes it: unit names hold only
/// ASCII letters, digits and `:_.-`, so every other byte becomes `\xNN` (and a leading `.`
/// too, which would hide the file).
pub fn unit_name_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, byte) in text.bytes().enumerate() {
        match byte {
            b'.' if i == 0 => out.push_str("\\x2e"),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b':' | b'_' | b'.' | b'-' => out.push(byte as char),
            other => out.push_str(&format!("\\x{other:02x}")),
        }
    }
    out
}

/// Whether `name` is a unit name systemd accepts: only ASCII letters, digits, `:_.-\` and
/// `@`, at most 255 bytes.
pub fn is_unit_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":_.-\\@".contains(&b))
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
    fn unit_name_parts_are_escaped_like_systemd_escape() {
        assert_eq!(unit_name_part("Capital_Cluster$1"), "Capital_Cluster\\x241");
        assert_eq!(unit_name_part("a b/é"), "a\\x20b\\x2f\\xc3\\xa9");
        assert_eq!(unit_name_part(".x"), "\\x2ex");
        assert!(is_unit_name(&format!(
            "slon-{}-node1.service",
            unit_name_part("Capital_Cluster$1")
        )));
        assert!(!is_unit_name("slon$.service"));
    }

    #[test]
    fn control_characters_never_end_the_line() {
        assert_eq!(command_word("a\nb"), "\"a\\x0ab\"");
        assert_eq!(text("a\nb\u{2028}c"), "a b c");
    }
}
