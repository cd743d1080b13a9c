//! Scanners get bytes from the engine only: a reference inside a scanned file
//! (`-r /proc/self/environ`, a module `source`, ONNX external data) is
//! attacker-controlled, and the one place that resolves such references
//! safely is the engine's `SiblingSource` (`src/siblings.rs`). This test
//! fails when a scanner crate's library code touches the file system itself,
//! outside the allow list below (each entry says why it is not scan input).

use std::path::{Path, PathBuf};

/// Crates whose code runs on scanned bytes.
const SCANNER_CRATES: &[&str] = &[
    "aisec-pickle",
    "aisec-deps",
    "aisec-hygiene",
    "aisec-code",
    "aisec-secrets",
    "aisec-formats",
    "aisec-iac",
    "aisec-data",
];

/// File-system access that is not scan input, by crate and file.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "aisec-deps",
        "src/db.rs",
        "the vulnerability database the user imports and aisec opens from its own directory",
    ),
    (
        "aisec-data",
        "src/lib.rs",
        "`aisec data scan PATH`: paths the user names on the command line",
    ),
    (
        "aisec-data",
        "src/sample.rs",
        "ranged reads of a file the user named (`aisec data scan`)",
    ),
];

/// What reading or listing the file system looks like in source.
const FS_PATTERNS: &[&str] = &[
    "std::fs",
    "fs::read",
    "fs::metadata",
    "File::open",
    "OpenOptions",
    "read_dir",
    "canonicalize",
    "read_link",
    "symlink_metadata",
    "Mmap::map",
    ".exists()",
    "memmap2",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The library code of a file: everything before its first `#[cfg(test)]`
/// (test modules sit at the end of a file in this workspace).
fn library_part(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

#[test]
fn scanner_crates_read_files_only_through_the_engine() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut offences = Vec::new();
    for krate in SCANNER_CRATES {
        let mut files = Vec::new();
        rust_files(&crates.join(krate).join("src"), &mut files);
        assert!(!files.is_empty(), "{krate}: no sources found");
        for file in files {
            let relative = file
                .strip_prefix(crates.join(krate))
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if ALLOWED.iter().any(|(c, f, _)| c == krate && *f == relative) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in library_part(&text).lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if let Some(p) = FS_PATTERNS.iter().find(|p| code.contains(*p)) {
                    offences.push(format!(
                        "{krate}/{relative}:{}: `{p}`: {}",
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "scanner code must read referenced files through ScanContext::read_sibling \
         (or be allow-listed with a reason):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_sees_file_system_calls() {
    // The check itself must be able to fail.
    let sample =
        "fn f() { let b = std::fs::read(p); }\n#[cfg(test)]\nmod tests { std::fs::write(); }";
    let lib = library_part(sample);
    assert!(FS_PATTERNS.iter().any(|p| lib.contains(p)));
    assert!(!lib.contains("write"));
}
