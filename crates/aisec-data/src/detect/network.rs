//! IP addresses. IPv4 in dotted-quad form without leading zeros, not part of a
//! longer dotted number (a version `1.2.3.4.5`, an OID) and not right after a
//! version marker (`v1.2.3.4`, `version 10.0.1.2`, `==1.2.3.4`). IPv6 as
//! `std::net::Ipv6Addr` parses it, with at least three groups (so `a::b` in
//! code and `12:30:45` times are not addresses). Unspecified, loopback and
//! netmask values identify nobody and are skipped.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

use super::{DataClass, Hit, stands_alone};

static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}")
        .expect("valid regex")
});
static IPV6: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*").expect("valid regex"));

/// Words right before a dotted number that make it a version, not an address.
const VERSION_WORDS: &[&str] = &["version", "ver", "v", "release", "build", "firmware", "rev"];
/// Words shortly before (same clause) that make a dotted quad a version:
/// "upgraded to 10.2.3.4", "release notes ... 1.2.3.4" (not "updated": "record
/// updated: 81.2.3.4" is an address, as the evaluation in bench/pii_eval.py showed).
const VERSION_CONTEXT: &[&str] = &["version", "release", "upgrad", "firmware", "build", "patch"];
/// How far back the version context is looked for.
const VERSION_CONTEXT_WINDOW: usize = 32;
/// Operators of version specifiers (`torch==2.1.0.1`) and npm's `pkg@1.2.3.4`.
const VERSION_OPERATORS: &[&str] = &["==", ">=", "<=", "~=", "!=", "@"];

pub fn find_ipv4(text: &str, out: &mut Vec<Hit>) {
    for m in IPV4.find_iter(text) {
        if !stands_alone(text, m.start(), m.end()) || after_version_marker(text, m.start()) {
            continue;
        }
        let Ok(ip) = m.as_str().parse::<Ipv4Addr>() else {
            continue;
        };
        if ip.is_unspecified() || ip.is_loopback() || ip.is_broadcast() || ip.octets()[0] == 255 {
            continue;
        }
        let o = ip.octets();
        out.push(Hit {
            class: DataClass::IpAddress,
            start: m.start(),
            end: m.end(),
            redacted: format!("{}.{}.*.*", o[0], o[1]),
        });
    }
}

fn after_version_marker(text: &str, start: usize) -> bool {
    let before = &text[..start];
    if VERSION_OPERATORS.iter().any(|op| before.ends_with(op)) {
        return true;
    }
    let trimmed = before.trim_end_matches([' ', '\t', ':', '=']);
    let word_len = trimmed
        .bytes()
        .rev()
        .take_while(u8::is_ascii_alphabetic)
        .count();
    let word = trimmed[trimmed.len() - word_len..].to_ascii_lowercase();
    if VERSION_WORDS.contains(&word.as_str()) {
        return true;
    }
    let from = (start.saturating_sub(VERSION_CONTEXT_WINDOW)..=start)
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(start);
    let window = text[from..start].to_ascii_lowercase();
    VERSION_CONTEXT.iter().any(|w| window.contains(w))
}

pub fn find_ipv6(text: &str, out: &mut Vec<Hit>) {
    for m in IPV6.find_iter(text) {
        let s = m.as_str().trim_end_matches(['.', ':']);
        let s = if s.ends_with(':') && !s.ends_with("::") {
            &s[..s.len() - 1]
        } else {
            s
        };
        let end = m.start() + s.len();
        let groups = s.split(':').filter(|g| !g.is_empty()).count();
        if groups < 3 || !stands_alone(text, m.start(), end) {
            continue;
        }
        let Ok(ip) = s.parse::<Ipv6Addr>() else {
            continue;
        };
        if ip.is_unspecified() || ip.is_loopback() {
            continue;
        }
        let first = s.split(':').next().unwrap_or("");
        out.push(Hit {
            class: DataClass::IpAddress,
            start: m.start(),
            end,
            redacted: format!("{}:****:…", if first.is_empty() { "" } else { first }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        find_ipv4(text, &mut out);
        out.into_iter()
            .map(|h| text[h.start..h.end].to_owned())
            .collect()
    }

    fn v6(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        find_ipv6(text, &mut out);
        out.into_iter()
            .map(|h| text[h.start..h.end].to_owned())
            .collect()
    }

    #[test]
    fn ipv4_in_logs_and_cells() {
        assert_eq!(v4("203.0.113.7"), ["203.0.113.7"]);
        assert_eq!(v4("client=198.51.100.23 port 443"), ["198.51.100.23"]);
        assert_eq!(v4("from 10.0.0.12."), ["10.0.0.12"]);
    }

    #[test]
    fn ipv4_look_alikes() {
        for not in [
            "v1.2.3.4",
            "version 1.2.3.4",
            "version: 10.0.19041.1",
            "torch==2.1.0.1",
            "1.2.3.4.5",
            "1.3.6.1.4.1",
            "01.02.03.04",
            "256.1.1.1",
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.0",
            "pkg@1.2.3.4",
            "ver 4.4.4.4",
            "x1.2.3.4",
        ] {
            assert!(v4(not).is_empty(), "{not}");
        }
    }

    #[test]
    fn ipv6() {
        assert_eq!(
            v6("2001:db8:85a3::8a2e:370:7334"),
            ["2001:db8:85a3::8a2e:370:7334"]
        );
        assert_eq!(
            v6("addr fe80::1ff:fe23:4567:890a, ok"),
            ["fe80::1ff:fe23:4567:890a"]
        );
        for not in [
            "12:30:45",
            "std::vec",
            "a::b",
            "::1",
            "::",
            "00:1a:2b:3c:4d:5e",
            "dead::",
        ] {
            assert!(v6(not).is_empty(), "{not}");
        }
    }
}
