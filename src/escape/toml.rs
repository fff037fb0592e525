//! TOML comments: text written after `#` in a generated config (import notes).

/// `text` as the body of one `#` comment line: control characters (which would end the
/// comment, or make the file fail to load) written as `\u{XXXX}`.
pub fn comment(text: &str) -> std::borrow::Cow<'_, str> {
    super::visible(text)
}

/// `text` as a bulleted `#` comment block: `# - ` on the first line, `#   ` on the next
/// ones, wrapped at spaces to lines of at most `width` characters (longer words stay
/// whole), every line escaped with [`comment`]. Empty text gives an empty string.
pub fn bullet(text: &str, width: usize) -> String {
    let mut out = String::new();
    for (i, line) in super::wrap(&comment(text), width).iter().enumerate() {
        out.push_str(if i == 0 { "# - " } else { "#   " });
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `text` as a TOML string value, quoted and escaped the way the `toml` crate writes it
/// (a basic or literal string, whichever needs no escapes), so that it reads back exactly.
pub fn string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "edit-config")]
    #[test]
    fn a_string_is_written_as_toml_edit_writes_it() {
        // The compact writer's output must not change with the feature set.
        for text in STRINGS {
            assert_eq!(
                super::string(text),
                toml_edit::Value::from(*text).to_string(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_string_reads_back_exactly() {
        for text in STRINGS {
            let back: toml::Value = toml::from_str(&format!("v = {}", super::string(text))).unwrap();
            assert_eq!(back.get("v").and_then(|v| v.as_str()), Some(*text));
        }
    }

    #[test]
    fn a_comment_stays_one_loadable_line() {
        let text = super::comment("options -s 1\u{2}\nsecond = 'line'\r");
        assert!(!text.contains(['\n', '\r', '\u{2}']));
        let doc = format!("# {text}\nkey = 1\n");
        assert!(doc.parse::<toml::Table>().is_ok());
    }

    #[test]
    fn a_bullet_is_wrapped_escaped_and_loads() {
        let block = super::bullet("options => '-s 1\u{2}' and\nkey = 1 \u{1b}[31m\u{85}", 12);
        assert_eq!(
            block,
            "# - options =>\n#   '-s\n#   1\\u{0002}'\n#   and\\u{000A}key\n#   = 1\n#   \\u{001B}[31m\\u{0085}\n"
        );
        assert!(block.parse::<toml::Table>().unwrap().is_empty());
        assert_eq!(
            crate::escape::wrap("a verylongword b", 4),
            vec!["a", "verylongword", "b"]
        );
        assert!(super::bullet("", 10).is_empty());
    }

    const STRINGS: &[&str] = &[
        "plain",
        "a\"b",
        "a'b",
        "a\\b",
        "both ' and \"",
        "tab\there",
        "new\nline",
        "\u{7f}",
        "",
        "\'\'\'",
        "\"\"\"",
    ];
}
