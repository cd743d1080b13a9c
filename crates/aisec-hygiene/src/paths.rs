//! Archive entry names and link targets, judged as an extractor would use them.

/// Why an entry name would write outside the extraction directory, if it would.
pub fn unsafe_entry_name(name: &[u8]) -> Option<&'static str> {
    if name.contains(&0) {
        return Some("name contains a NUL byte");
    }
    if name.starts_with(b"/") || name.starts_with(b"\\") {
        return Some("absolute path");
    }
    if name.len() >= 2 && name[0].is_ascii_alphabetic() && name[1] == b':' {
        return Some("Windows drive path");
    }
    // Windows extractors treat `\` as a separator, so `..\` climbs too.
    if name
        .split(|&b| b == b'/' || b == b'\\')
        .any(|component| component == b"..")
    {
        return Some("climbs out with `..`");
    }
    None
}

/// Does a link stored at `entry` with `target` resolve outside the root?
pub fn link_escapes(entry: &[u8], target: &[u8]) -> bool {
    if target.is_empty() {
        return false;
    }
    if target.starts_with(b"/")
        || target.starts_with(b"\\")
        || (target.len() >= 2 && target[0].is_ascii_alphabetic() && target[1] == b':')
    {
        return true;
    }
    let parent_depth = entry
        .split(|&b| b == b'/' || b == b'\\')
        .filter(|c| !c.is_empty() && *c != b".")
        .count()
        .saturating_sub(1) as i64;
    let mut depth = parent_depth;
    for c in target.split(|&b| b == b'/' || b == b'\\') {
        match c {
            b"" | b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(unsafe_entry_name(b"a/b.txt"), None);
        assert_eq!(unsafe_entry_name(b"a/..b/c"), None);
        assert!(unsafe_entry_name(b"../x").is_some());
        assert!(unsafe_entry_name(b"a/../../x").is_some());
        assert!(unsafe_entry_name(b"a\\..\\x").is_some());
        assert!(unsafe_entry_name(b"/etc/passwd").is_some());
        assert!(unsafe_entry_name(b"C:x").is_some());
        assert!(unsafe_entry_name(b"ok.txt\0.png").is_some());
    }

    #[test]
    fn links() {
        assert!(!link_escapes(b"a/b/link", b"../c"));
        assert!(!link_escapes(b"a/link", b"../c"));
        assert!(link_escapes(b"link", b"../c"));
        assert!(link_escapes(b"a/link", b"../../c"));
        assert!(link_escapes(b"a/link", b"/etc/passwd"));
        assert!(!link_escapes(b"a/link", b"./b/../c"));
    }
}
