//! How the plain text of a plan (titles, reasons) is phrased.

use std::fmt;

/// The text ending in a full stop.
pub(super) fn sentence(mut text: String) -> String {
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// `1, 2 and 3`, as the runbooks and their refusals write lists.
pub(crate) fn and_list<T: fmt::Display>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!(
            "{} and {last}",
            init.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
