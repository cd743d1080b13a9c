//! Person names, only in columns whose name says they hold names (this is no
//! named-entity recogniser: free text is not searched for names). A value is
//! name-like when it has one to four words, each capitalised letters with
//! apostrophes, hyphens or a trailing initial dot, plus the usual lower-case
//! particles (`van`, `de`, `bin`...), and no digits.

use super::{DataClass, Hit};
use crate::mask;

const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "da", "del", "della", "di", "du", "la", "le", "bin", "binti",
    "al", "el", "y", "e",
];
const MAX_WORDS: usize = 4;
const MAX_WORD_CHARS: usize = 30;

pub fn find(text: &str, out: &mut Vec<Hit>) {
    let value = text.trim();
    if value.is_empty() || value.len() > 80 {
        return;
    }
    // `Doe, Jane` is as much a name as `Jane Doe`.
    let words: Vec<&str> = value.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    if words.is_empty() || words.len() > MAX_WORDS {
        return;
    }
    let capitalised = words.iter().filter(|w| name_word(w)).count();
    let particles = words.iter().filter(|w| PARTICLES.contains(w)).count();
    if capitalised >= 1 && capitalised + particles == words.len() {
        let start = text.len() - text.trim_start().len();
        out.push(Hit {
            class: DataClass::PersonName,
            start,
            end: start + value.len(),
            redacted: mask::name(value),
        });
    }
}

fn name_word(w: &str) -> bool {
    let mut chars = w.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let rest: Vec<char> = chars.collect();
    if !first.is_uppercase() || rest.len() >= MAX_WORD_CHARS {
        return false;
    }
    if rest.is_empty() || rest == ['.'] {
        return true; // An initial: `J` or `J.`
    }
    let letters = rest.iter().filter(|c| c.is_alphabetic()).count();
    rest.iter()
        .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-'))
        && rest.iter().any(|c| c.is_lowercase())
        && letters >= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.into_iter().map(|h| h.redacted).collect()
    }

    #[test]
    fn name_like_values() {
        for n in [
            "Jane Doe",
            "O'Brien",
            "Anne-Marie van der Berg",
            "Doe, Jane",
            "J. R. Tolkien",
            "José Álvarez",
            "McDonald",
        ] {
            assert_eq!(found(n).len(), 1, "{n}");
        }
        assert_eq!(found("Jane Doe"), ["J*** D**"]);
    }

    #[test]
    fn values_that_are_not_names() {
        for n in [
            "",
            "jane doe",
            "R2-D2",
            "Item 42",
            "resnet50_v2",
            "The Quick Brown Fox Jumps",
            "N/A",
            "***",
            "NULL",
            "a@b.c",
        ] {
            assert!(found(n).is_empty(), "{n}");
        }
    }
}
