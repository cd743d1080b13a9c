//! E-mail addresses: RFC 5321 shape (local part up to 64 characters, dotted
//! domain with a 2-24 letter top-level label), no leading, trailing or
//! doubled dots.

use std::sync::LazyLock;

use regex::Regex;

use super::{DataClass, Hit};
use crate::mask;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}")
        .expect("valid regex")
});

pub fn find(text: &str, out: &mut Vec<Hit>) {
    for m in EMAIL.find_iter(text) {
        let s = m.as_str();
        let local = s.split('@').next().unwrap_or("");
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            continue;
        }
        // `user@host.tld.` at a sentence end is fine; `a@b.cd5` is not an address.
        let after_ok = !text
            .as_bytes()
            .get(m.end())
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'@');
        // A local part longer than 64 characters makes the regex start inside it.
        let before_ok = m.start() == 0
            || !text.as_bytes()[m.start() - 1].is_ascii_alphanumeric()
                && !b"._%+-".contains(&text.as_bytes()[m.start() - 1]);
        if after_ok && before_ok {
            out.push(Hit {
                class: DataClass::Email,
                start: m.start(),
                end: m.end(),
                redacted: mask::email(s),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.into_iter()
            .map(|h| text[h.start..h.end].to_owned())
            .collect()
    }

    #[test]
    fn finds_addresses() {
        assert_eq!(found("jane.doe@example.com"), ["jane.doe@example.com"]);
        assert_eq!(
            found("write to <a.b+tag@mail.uni-x.co.uk>, thanks"),
            ["a.b+tag@mail.uni-x.co.uk"]
        );
        assert_eq!(found("x@y.io and z_9@q.travel"), ["x@y.io", "z_9@q.travel"]);
    }

    #[test]
    fn rejects_look_alikes() {
        assert!(found("pkg@1.2.3").is_empty());
        assert!(found("git@github").is_empty());
        assert!(found(".a@b.com").is_empty() || found(".a@b.com") == ["a@b.com"]);
        assert!(found("a..b@c.com").is_empty());
        assert!(found("torch==2.1@cu118").is_empty());
        assert!(found("@handle").is_empty());
    }
}
