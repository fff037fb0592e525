//! Markdown: the text, inline code, table cells and code fences of a runbook.

/// A code fence longer than any run of backticks in `body`, with `lang` as its info
/// string. The body is shown verbatim; nothing inside a fence is Markdown.
pub fn fenced(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let body = body.strip_suffix('\n').unwrap_or(body);
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

/// `text` as inline code on one line: delimited by one more backtick than its longest run
/// of backticks, with control characters written as `\u{XXXX}` (a line break would end
/// the paragraph, or a table row).
pub fn code(text: &str) -> String {
    let text = super::visible(text);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        return format!("`{text}`");
    }
    let ticks = "`".repeat(longest + 1);
    format!("{ticks} {text} {ticks}")
}

/// [`code`] for a cell of a table: a `|` inside a code span still ends the cell in a
/// GitHub-flavoured Markdown table unless it is backslash-escaped (and the table shows it
/// without the backslash).
pub fn table_code(text: &str) -> String {
    code(text).replace('|', "\\|")
}

/// Runbook prose (a step's title, why, instruction; a node's label) as Markdown text on one
/// line, written after a fixed prefix (`## 3. `, `*Why:* `, a table cell), never at the
/// start of a line.
///
/// Control characters are written as `\u{XXXX}`, so no text can end its line and start a
/// heading, a list item or a fake step. Backslash, HTML (`<`, `>`, `&`), links (`[`, `]`),
/// table pipes, `*` and `~` emphasis, and `_` at a word boundary are backslash-escaped.
/// Backticks are kept: the prose marks slonik statements as code with them, and a code
/// span is inert (nothing inside one is markup).
pub fn text(text: &str) -> String {
    let text = super::visible(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut in_code = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == '`' {
            in_code = !in_code;
        }
        if in_code || c == '`' {
            // Inside a code span a backslash is shown as it is, so nothing is escaped there.
            out.push(c);
            continue;
        }
        let word_char = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|c| c.is_alphanumeric());
        let escape = match c {
            '\\' | '<' | '>' | '&' | '[' | ']' | '|' | '*' | '~' => true,
            // `sub_active` stays as it is: CommonMark never reads an underscore inside a
            // word as emphasis.
            '_' => !(word_char(i.checked_sub(1)) && word_char(Some(i + 1))),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_the_body() {
        assert_eq!(fenced("sh", "echo ```\n"), "````sh\necho ```\n````\n");
    }

    #[test]
    fn inline_code_survives_backticks_and_newlines() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("a``b"), "``` a``b ```");
        assert!(!code("a\nb").contains('\n'));
    }

    #[test]
    fn table_code_keeps_the_row_whole() {
        assert_eq!(table_code("host='a | b'"), "`host='a \\| b'`");
    }

    #[test]
    fn text_cannot_make_markup() {
        assert_eq!(text("MasNod"), "MasNod");
        assert_eq!(text("sub_active"), "sub_active");
        assert_eq!(text("_x_ *y*"), "\\_x\\_ \\*y\\*");
        assert_eq!(text("[a](http://x) <b>"), "\\[a\\](http://x) \\<b\\>");
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("`_x_` and _y_"), "`_x_` and \\_y\\_");
        assert!(!text("x\n## 9. fake").contains('\n'));
    }
}
