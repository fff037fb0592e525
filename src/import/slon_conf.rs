//! Reading slon config files (`slon -f FILE`) the way slon's scanner
//! (`src/slon/conf-file.l`, `SLON_scanstr`) reads them, for `import altperl` (a node's
//! `config => FILE`). The writer is [`crate::slon::conf`], quoting with
//! [`crate::escape::slon_conf`]; reading back what it writes gives the same options.
//!
//! The rules, as slon 2.2 has them:
//! * one setting a line: a name (letters, digits, `_`, optionally `a.b`), an optional `=`,
//!   a value, then the end of the line; blank lines and `#` comments (outside a quoted
//!   value) are skipped;
//! * a value is a word (a name, a number, or an unquoted string: a letter followed by
//!   letters, digits and `- . _ : /`), or a string in single (or double) quotes, in which
//!   `\b \f \n \r \t`, one to three octal digits and `\<any other>` are escapes;
//! * anything else (a path starting with `/` unquoted, two words, `10 minutes` unquoted)
//!   is a syntax error, for which slon ignores the whole file.
//!
//! The value's type is the option's ([`typed`]): integers (decimal, or `0x` hex) range
//! checked, booleans `true/false/on/off/yes/no/1/0` (any case, as slon's `parse_bool`).

use crate::model::config::SlonValue;
use crate::slon::{OptionKind, SlonOption};

/// One `name = value` line of a slon config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The option name as written.
    pub name: String,
    /// The value, unquoted and unescaped.
    pub value: String,
    /// The line (from 1).
    pub line: u32,
}

/// Why a file is not one slon can read: slon ignores the whole file then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SyntaxError {
    /// The line (from 1).
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// Every setting of a slon config file, in file order (a later one of the same name
/// replaces an earlier one when slon applies them).
pub fn read(text: &str) -> Result<Vec<Entry>, SyntaxError> {
    let mut out = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let error = |message: String| SyntaxError {
            line: number,
            message,
        };
        let tokens = tokens(line).map_err(error)?;
        match tokens.as_slice() {
            [] => {}
            [Token::Name(name), Token::Equals, value] | [Token::Name(name), value] => {
                let value = match value {
                    Token::Name(v) | Token::Word(v) | Token::Quoted(v) => v.clone(),
                    Token::Equals => return Err(error(format!("`{name} = =`: give one value"))),
                };
                out.push(Entry {
                    name: name.clone(),
                    value,
                    line: number,
                });
            }
            [Token::Name(name), ..] => {
                return Err(error(format!(
                    "`{name}` must be followed by `= value` and nothing else on the line (quote a value with spaces: '...')"
                )))
            }
            _ => return Err(error("a line must start with an option name".into())),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `ID` or `QUALIFIED_ID`: may start a line.
    Name(String),
    /// An integer, a real or an unquoted string.
    Word(String),
    /// A quoted string, unescaped.
    Quoted(String),
    Equals,
}

fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

fn is_letter_or_digit(c: char) -> bool {
    is_letter(c) || c.is_ascii_digit()
}

/// The tokens of one line (without its `\n`), longest match first as flex does.
fn tokens(line: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' || c == '\t' || c == '\r' {
            i += 1;
            continue;
        }
        if c == '#' {
            break;
        }
        if c == '=' {
            out.push(Token::Equals);
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            let end = quoted_end(&chars, i).ok_or_else(|| {
                format!(
                    "the string starting at column {} is not closed on this line",
                    i + 1
                )
            })?;
            let inner: String = chars[i + 1..end - 1].iter().collect();
            out.push(Token::Quoted(unescape(&inner)));
            i = end;
            continue;
        }
        // The longest of ID, QUALIFIED_ID, UNQUOTED_STRING, INTEGER, REAL.
        let candidates = [
            name_len(&chars[i..]).map(|n| (n, true)),
            unquoted_len(&chars[i..]).map(|n| (n, false)),
            number_len(&chars[i..]).map(|n| (n, false)),
        ];
        let best = candidates
            .into_iter()
            .flatten()
            // On a tie flex takes the earlier rule: the name.
            .fold(None, |best: Option<(usize, bool)>, c| match best {
                Some(b) if b.0 >= c.0 => Some(b),
                _ => Some(c),
            });
        match best {
            Some((len, is_name)) => {
                let text: String = chars[i..i + len].iter().collect();
                out.push(if is_name {
                    Token::Name(text)
                } else {
                    Token::Word(text)
                });
                i += len;
            }
            None => {
                return Err(format!(
                    "`{}` at column {} cannot start a value: quote the value ('...')",
                    crate::escape::visible(&c.to_string()),
                    i + 1
                ))
            }
        }
    }
    Ok(out)
}

/// Where the longest quoted string starting at `start` ends (one past its closing quote):
/// `'([^'\n]|\\.)*'`, an alternation that can also read a backslash as a plain character.
fn quoted_end(chars: &[char], start: usize) -> Option<usize> {
    let quote = chars[start];
    let mut inside = vec![false; chars.len() + 1];
    inside[start + 1] = true;
    let mut best = None;
    for pos in start + 1..chars.len() {
        if !inside[pos] {
            continue;
        }
        let c = chars[pos];
        if c == quote {
            best = Some(pos + 1);
        } else {
            inside[pos + 1] = true;
        }
        if c == '\\' && pos + 1 < chars.len() {
            inside[pos + 2] = true;
        }
    }
    best
}

/// `SLON_scanstr`: the escapes of a quoted value; a NUL (`\0`) ends the C string.
fn unescape(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            i += 1;
            continue;
        }
        i += 1;
        let Some(&next) = chars.get(i) else {
            // A trailing backslash: slon copies the terminating NUL.
            break;
        };
        match next {
            'b' => out.push(8),
            'f' => out.push(12),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            '0'..='7' => {
                let mut value: u32 = 0;
                let mut k = 0;
                while k < 3 && matches!(chars.get(i + k), Some('0'..='7')) {
                    value = (value << 3) + (chars[i + k] as u32 - '0' as u32);
                    k += 1;
                }
                i += k - 1;
                out.push((value & 0xff) as u8);
            }
            other => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
        }
        i += 1;
    }
    if let Some(nul) = out.iter().position(|&b| b == 0) {
        out.truncate(nul);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn name_len(chars: &[char]) -> Option<usize> {
    let id = |from: usize| -> usize {
        if chars.get(from).copied().is_some_and(is_letter) {
            1 + chars[from + 1..]
                .iter()
                .take_while(|c| is_letter_or_digit(**c))
                .count()
        } else {
            0
        }
    };
    let first = id(0);
    if first == 0 {
        return None;
    }
    if chars.get(first) == Some(&'.') {
        let second = id(first + 1);
        if second > 0 {
            return Some(first + 1 + second);
        }
    }
    Some(first)
}

fn unquoted_len(chars: &[char]) -> Option<usize> {
    if !chars.first().copied().is_some_and(is_letter) {
        return None;
    }
    Some(
        1 + chars[1..]
            .iter()
            .take_while(|c| is_letter_or_digit(**c) || matches!(c, '-' | '.' | '_' | ':' | '/'))
            .count(),
    )
}

/// INTEGER `[-+]?(digits|0x hex)` or REAL `[-+]?digits*.digits*([Ee][-+]?digits)?`.
fn number_len(chars: &[char]) -> Option<usize> {
    let sign = usize::from(matches!(chars.first(), Some('-' | '+')));
    let digits = |from: usize| {
        chars[from.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut best = None;
    let int = digits(sign);
    if int > 0 {
        best = Some(sign + int);
    }
    if chars.get(sign) == Some(&'0') && matches!(chars.get(sign + 1), Some('x')) {
        let hex = chars[sign + 2..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if hex > 0 {
            best = Some(sign + 2 + hex);
        }
    }
    if chars.get(sign + int) == Some(&'.') {
        let frac = digits(sign + int + 1);
        let mut len = sign + int + 1 + frac;
        if matches!(chars.get(len), Some('e' | 'E')) {
            let s = usize::from(matches!(chars.get(len + 1), Some('-' | '+')));
            let e = digits(len + 1 + s);
            if e > 0 {
                len += 1 + s + e;
            }
        }
        if best.is_none_or(|b| len > b) {
            best = Some(len);
        }
    }
    best
}

/// `text` as a value of `option`, as slon would take it; `Err` says what slon accepts.
pub fn typed(option: &SlonOption, text: &str) -> Result<SlonValue, String> {
    let value = match option.kind {
        OptionKind::Int { .. } => SlonValue::Int(
            parse_int(text).ok_or_else(|| format!("`{}` is not an integer", crate::escape::visible(text)))?,
        ),
        OptionKind::Bool => SlonValue::Bool(parse_bool(text).ok_or_else(|| {
            format!(
                "`{}` is not a boolean (true/false, on/off, yes/no, 1/0)",
                crate::escape::visible(text)
            )
        })?),
        OptionKind::Text | OptionKind::Enum(_) => SlonValue::Text(text.to_string()),
    };
    match option.value_problem(&value) {
        Some(problem) => Err(problem),
        None => Ok(value),
    }
}

/// A decimal or `0x` hexadecimal integer with an optional sign.
fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            i64::from_str_radix(hex, 16).ok()?
        }
        _ if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse().ok()?,
        _ => return None,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// PostgreSQL's boolean words, any case.
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Some(true),
        "false" | "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::NodeId;
    use crate::slon::SlonSettings;
    use proptest::prelude::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        read(text)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.value))
            .collect()
    }

    #[test]
    fn reads_both_forms_comments_and_quotes() {
        let text = "# comment\ncluster_name = 'geek'\nsync_interval 500\n\nlog_pid=on # trailing\n\
                    pid_file = '/run/a b#c.pid'\narchive_dir = \"/x\\ty\"\nsyslog_ident slon-2\n";
        assert_eq!(
            pairs(text),
            [
                ("cluster_name", "geek"),
                ("sync_interval", "500"),
                ("log_pid", "on"),
                ("pid_file", "/run/a b#c.pid"),
                ("archive_dir", "/x\ty"),
                ("syslog_ident", "slon-2"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn escapes_are_slons() {
        assert_eq!(pairs(r"a = 'x\'y\\z\101\n\q'")[0].1, "x'y\\zA\nq");
        assert_eq!(pairs(r"a = 'cut\000here'")[0].1, "cut");
        assert_eq!(pairs("a = -12")[0].1, "-12");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        for (text, line) in [
            ("a = 1\npid_file = /run/x.pid\n", 2),
            ("cleanup_interval = 10 minutes\n", 1),
            ("\n\na = 'open\n", 3),
            ("= 3\n", 1),
            ("a = = 3\n", 1),
        ] {
            let err = read(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
        }
    }

    #[test]
    fn values_are_typed_and_range_checked() {
        let opt = |n| crate::slon::option(n).unwrap();
        assert_eq!(typed(opt("sync_interval"), "500"), Ok(SlonValue::Int(500)));
        assert_eq!(typed(opt("sync_interval"), "0x10"), Ok(SlonValue::Int(16)));
        assert!(typed(opt("sync_interval"), "5")
            .unwrap_err()
            .contains("out of range"));
        assert!(typed(opt("sync_interval"), "5s")
            .unwrap_err()
            .contains("not an integer"));
        assert_eq!(typed(opt("log_pid"), "Yes"), Ok(SlonValue::Bool(true)));
        assert_eq!(typed(opt("log_pid"), "0"), Ok(SlonValue::Bool(false)));
        assert!(typed(opt("log_pid"), "maybe").is_err());
        assert!(typed(opt("syslog_facility"), "LOCAL9").is_err());
    }

    fn text_value() -> impl Strategy<Value = String> {
        // Printable text with what quoting must survive: quotes, backslashes, `#`, spaces,
        // octal-looking digits after a backslash, non-ASCII.
        proptest::collection::vec(
            prop_oneof![
                Just("'".to_string()),
                Just("\\".to_string()),
                Just("#".to_string()),
                Just(" ".to_string()),
                Just("\"".to_string()),
                Just("\\101".to_string()),
                Just("é".to_string()),
                "[a-zA-Z0-9=/:._-]{0,6}",
            ],
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn reading_what_render_writes_gives_the_options_back(
            cluster in "[a-z_][a-z0-9_]{0,10}",
            conn_info in text_value(),
            pid_file in text_value(),
            lag in text_value(),
            interval in 10i64..=60000,
            level in -1i64..=4,
            log_pid in any::<bool>(),
        ) {
            let options = vec![
                ("lag_interval".to_string(), SlonValue::Text(lag)),
                ("log_level".to_string(), SlonValue::Int(level)),
                ("log_pid".to_string(), SlonValue::Bool(log_pid)),
                ("pid_file".to_string(), SlonValue::Text(pid_file)),
                ("sync_interval".to_string(), SlonValue::Int(interval)),
            ];
            let settings = SlonSettings {
                cluster_name: cluster.clone(),
                node: NodeId(1),
                node_label: "node 1 #'x".into(),
                conn_info: conn_info.clone(),
                options: options.clone(),
            };
            let entries = read(&crate::slon::conf::render(&settings)).unwrap();
            prop_assert_eq!(&entries[0].name, "cluster_name");
            prop_assert_eq!(&entries[0].value, &cluster);
            prop_assert_eq!(&entries[1].name, "conn_info");
            prop_assert_eq!(&entries[1].value, &conn_info);
            let back: Vec<(String, SlonValue)> = entries[2..]
                .iter()
                .map(|e| {
                    let option = crate::slon::option(&e.name).unwrap();
                    (e.name.clone(), typed(option, &e.value).unwrap())
                })
                .collect();
            prop_assert_eq!(back, options);
        }
    }
}
