//! Table and sequence names as altperl writes them and as Slony-I reads them.
//!
//! altperl pastes `schema.table` unquoted into `fully qualified name = '...'`. Slony-I 2.2
//! reads that value with `slon_quote_input` (slony1_funcs.sql): it splits at the first dot
//! (or after a leading double-quoted part) and quotes every part that is not quoted yet,
//! **without folding case**. So `public.TABLE1` names the table `"public"."TABLE1"`, and a
//! table created as `CREATE TABLE TABLE1` (stored as `table1`) is only found with altperl's
//! `foldCase`, which lower-cases the whole string first.

use crate::model::QualifiedName;

/// The exact relation `slon_quote_input` finds for a `fully qualified name` value.
///
/// Errors say why Slony could never find a relation for the value.
pub fn slony_input_name(text: &str) -> Result<QualifiedName, String> {
    let chars: Vec<char> = text.chars().collect();
    let split = if chars.first() == Some(&'"') {
        let mut i = 1;
        while i < chars.len() {
            if chars[i] != '"' {
                i += 1;
            } else {
                i += 1;
                if chars.get(i) != Some(&'"') {
                    break;
                }
                i += 1;
            }
        }
        i
    } else {
        chars.iter().position(|c| *c == '.').unwrap_or(chars.len())
    };
    if chars.get(split) != Some(&'.') {
        return Err(format!(
            "`{text}` has no schema: Slony-I looks the name up as schema.table"
        ));
    }
    let schema: String = chars[..split].iter().collect();
    let name: String = chars[split + 1..].iter().collect();
    Ok(QualifiedName::new(
        input_part(&schema, text)?,
        input_part(&name, text)?,
    ))
}

/// One part as `slon_quote_input` leaves it: quoted parts are taken as SQL identifiers,
/// other parts literally (case kept).
fn input_part(part: &str, whole: &str) -> Result<String, String> {
    if part.is_empty() {
        return Err(format!("`{whole}` has an empty schema or table name"));
    }
    let Some(inner) = part.strip_prefix('"') else {
        return Ok(part.to_string());
    };
    let bad = || {
        format!("`{whole}`: `{part}` is not a well-formed quoted identifier (a quoted part must end with `\"` and write `\"` inside as `\"\"`)")
    };
    let inner = inner.strip_suffix('"').ok_or_else(bad)?;
    if inner.replace("\"\"", "").contains('"') || inner.is_empty() {
        return Err(bad());
    }
    Ok(inner.replace("\"\"", "\""))
}

/// The relation an altperl config entry names: altperl's `ensure_namespace` (no dot means
/// `public.`), `foldCase` (ASCII lower-casing of the whole string, as Perl's `lc` does on
/// the config's byte strings), then Slony's reading of the result.
pub fn altperl_name(entry: &str, fold_case: bool) -> Result<QualifiedName, String> {
    let qualified = if entry.contains('.') {
        entry.to_string()
    } else {
        format!("public.{entry}")
    };
    let folded = if fold_case {
        qualified.to_ascii_lowercase()
    } else {
        qualified
    };
    slony_input_name(&folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qn(schema: &str, name: &str) -> QualifiedName {
        QualifiedName::new(schema, name)
    }

    #[test]
    fn unquoted_parts_keep_their_case() {
        assert_eq!(slony_input_name("public.TABLE1"), Ok(qn("public", "TABLE1")));
        assert_eq!(altperl_name("TABLE1", false), Ok(qn("public", "TABLE1")));
        assert_eq!(altperl_name("TABLE1", true), Ok(qn("public", "table1")));
        assert_eq!(altperl_name("Geek.Files", true), Ok(qn("geek", "files")));
    }

    #[test]
    fn quoted_parts_are_sql_identifiers() {
        assert_eq!(
            slony_input_name(r#""Studly Spacey Schema"."Capital Idea""#),
            Ok(qn("Studly Spacey Schema", "Capital Idea"))
        );
        assert_eq!(slony_input_name(r#""a.b"."c""d""#), Ok(qn("a.b", "c\"d")));
        assert_eq!(slony_input_name(r#"public."x y""#), Ok(qn("public", "x y")));
    }

    #[test]
    fn splits_at_the_first_dot_like_slony() {
        assert_eq!(slony_input_name("a.b.c"), Ok(qn("a", "b.c")));
    }

    #[test]
    fn names_slony_can_never_find_are_errors() {
        assert!(slony_input_name("files").unwrap_err().contains("no schema"));
        assert!(slony_input_name(r#""my.table""#)
            .unwrap_err()
            .contains("no schema"));
        assert!(slony_input_name(r#"public."a"b"#)
            .unwrap_err()
            .contains("well-formed"));
        assert!(slony_input_name(".files").unwrap_err().contains("empty"));
        // altperl sees a dot and adds no `public.`, so the quoted dot hides the schema.
        assert!(altperl_name(r#""my.table""#, false).is_err());
    }
}
