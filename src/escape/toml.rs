//! TOML comments: text written after `#` in a generated config (import notes).

/// `text` as the body of one `#` comment line: control characters (which would end the
/// comment, or make the file fail to load) written as `\u{XXXX}`.
pub fn comment(text: &str) -> std::borrow::Cow<'_, str> {
    super::visible(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_comment_stays_one_loadable_line() {
        let text = super::comment("options -s 1\u{2}\nsecond = 'line'\r");
        assert!(!text.contains(['\n', '\r', '\u{2}']));
        let doc = format!("# {text}\nkey = 1\n");
        assert!(doc.parse::<toml::Table>().is_ok());
    }
}
