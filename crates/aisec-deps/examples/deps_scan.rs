//! Prints the vulnerabilities aisec finds in manifests, one line per
//! (package, vulnerability): `name==version ID ALIAS...`. Used by
//! `tests/peer/compare.sh` to compare with pip-audit and the reference
//! matcher, before the CLI wires the scanner in.
//!
//! usage: cargo run -p aisec-deps --example deps_scan -- DB_DIR FILE...

use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let db_dir = args.next().ok_or("usage: deps_scan DB_DIR FILE...")?;
    let db = aisec_deps::open(Path::new(&db_dir))?;
    let scanner = aisec_deps::scanner(Some(db));
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &[]);
    for file in args {
        let path = Path::new(&file);
        let bytes = std::fs::read(path)?;
        let input = FileInput::on_disk(&file, path, &bytes);
        if !scanner.detect(&input) {
            eprintln!("{file}: not a manifest aisec knows");
            continue;
        }
        for f in scanner.scan(&input, &ctx) {
            match f.rule_id.as_str() {
                "AISEC-DEP-001" | "AISEC-DEP-002" => {
                    let mut words = f.message.split(' ');
                    let (name, version) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                    let ids: Vec<&str> = f
                        .references
                        .iter()
                        .map(|r| r.id.as_ref())
                        .filter(|id| {
                            !id.starts_with("CWE-")
                                && !id.starts_with("OWASP")
                                && !id.starts_with("AML.")
                        })
                        .collect();
                    println!("{name}=={version} {}", ids.join(" "));
                }
                _ => eprintln!("{}: {} {}", f.location, f.rule_id, f.message),
            }
        }
    }
    Ok(())
}
