//! Redaction of examples. A report shows the shape of a value (`j***@example.com`,
//! `**** **** **** 4242`) so that a reader can tell real data from a
//! placeholder, and never enough of it to identify anyone.

/// Keeps separators and the last `keep_last` alphanumeric characters (and
/// the first `keep_first`); every other letter or digit becomes `*`.
pub fn keep_ends(value: &str, keep_first: usize, keep_last: usize) -> String {
    let total = value.chars().filter(|c| c.is_alphanumeric()).count();
    // Never show more than half of a value, whatever the caller asked for.
    let budget = total / 2;
    let keep_first = keep_first.min(budget);
    let keep_last = keep_last.min(budget - keep_first);
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen <= keep_first || seen > total - keep_last {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// `jane.doe@example.com` → `j***@example.com`: the first character of the
/// local part and the domain (which names an organisation, not a person).
pub fn email(value: &str) -> String {
    match value.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => keep_ends(value, 0, 0),
    }
}

/// `4242424242424242` → `**** **** **** 4242`: the last four digits, as on
/// a receipt.
pub fn card(value: &str) -> String {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("**** **** **** {last}")
}

/// A person's name: initials only (`Jane Doe` → `J*** D**`).
pub fn name(value: &str) -> String {
    value
        .split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            let first: String = chars.next().into_iter().collect();
            format!("{first}{}", "*".repeat(chars.count()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Cuts `value` to at most `max` bytes at a character boundary.
pub fn truncate(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_what_is_safe() {
        assert_eq!(email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(card("4242-4242-4242-4242"), "**** **** **** 4242");
        assert_eq!(keep_ends("078-05-1121", 0, 4), "***-**-1121");
        assert_eq!(keep_ends("AB123456C", 2, 0), "AB*******");
        assert_eq!(name("Jane Doe"), "J*** D**");
        // Half at most, even when more is asked.
        assert_eq!(keep_ends("1234", 0, 4), "**34");
        assert_eq!(truncate("héllo", 2), "h");
    }
}
