//! Configuration from the `STACKHEAP_*` variables: one parser for every comma-separated list, which
//! names the variable and the item on any bad value and refuses a value given twice (also when spelled
//! differently, as `64K,65536`), so that a bad list is one clear line and never reaches Criterion's
//! duplicate-id assertion; and one parser for benchmark filters.

use std::fmt::Display;

/// Parses `value`, a comma-separated list for the variable `var`, item by item with `parse`, which
/// says what is wrong with an item. Duplicates are refused with one line naming both spellings.
pub fn parse_list<T: PartialEq + Display>(
    var: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let mut items: Vec<(T, &str)> = Vec::new();
    for raw in value.split(',') {
        let text = raw.trim();
        let item = parse(text).map_err(|why| format!("{var}: '{text}' {why}"))?;
        if let Some((_, first)) = items.iter().find(|(seen, _)| *seen == item) {
            return Err(format!(
                "{var}: '{text}' repeats '{first}' ({item}): expected each value once"
            ));
        }
        items.push((item, text));
    }
    Ok(items.into_iter().map(|(item, _)| item).collect())
}

/// Compiles a benchmark filter given as `what` (a flag, or "filter" for Criterion's positional one);
/// a bad expression is one line naming it and the parser's complaint (the regex crate's own message
/// takes four lines, with a caret under the position).
pub fn parse_filter(what: &str, text: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(text).map_err(|e| {
        let message = e.to_string();
        let why = message
            .lines()
            .find_map(|line| line.strip_prefix("error: "))
            .unwrap_or(message.lines().last().unwrap_or("invalid"))
            .to_owned();
        format!("{what} '{text}' is not a regular expression: {why}")
    })
}

/// Parses a size such as `65536`, `64K`, `64KiB`, `8M` or `1G` (binary units).
pub fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: usize = digits.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    number.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_filter_is_one_line_naming_it() {
        let err = parse_filter("--filter", "(").unwrap_err();
        assert_eq!(
            err,
            "--filter '(' is not a regular expression: unclosed group"
        );
        assert!(parse_filter("filter", "^a|b$").is_ok());
    }

    fn number(text: &str) -> Result<u32, String> {
        text.parse().map_err(|_| "is not a number".to_string())
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("64K"), Some(65536));
        assert_eq!(parse_size("8MiB"), Some(8 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("64X"), None);
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn a_list_parses_item_by_item_and_names_the_bad_one() {
        assert_eq!(parse_list("V", "1, 2,3", number), Ok(vec![1, 2, 3]));
        assert_eq!(
            parse_list("V", "1,x", number),
            Err("V: 'x' is not a number".to_string())
        );
        assert_eq!(
            parse_list("V", "1,", number),
            Err("V: '' is not a number".to_string())
        );
    }

    #[test]
    fn a_value_given_twice_is_refused_even_when_spelled_differently() {
        let sizes = |t: &str| parse_size(t).ok_or_else(|| "is not a size".to_string());
        assert_eq!(
            parse_list("STACKHEAP_STACK_SIZES", "64K,65536", sizes),
            Err(
                "STACKHEAP_STACK_SIZES: '65536' repeats '64K' (65536): expected each value once"
                    .to_string()
            )
        );
        assert!(
            parse_list("V", "2,2", number)
                .unwrap_err()
                .contains("repeats '2'")
        );
    }
}
