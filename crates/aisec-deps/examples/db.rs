//! `aisec db` before the CLI has it: `db import ZIP DIR`, `db status DIR`,
//! `db update DIR` (needs the `update` feature).
//!
//! usage: cargo run -p aisec-deps --example db -- import|status|update ...

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let default = aisec_deps::default_db_dir();
    let dir = |i: usize| args.get(i).map_or(default.as_path(), Path::new);
    match args.first().map(String::as_str) {
        Some("import") => {
            let zip = args.get(1).ok_or("usage: db import ZIP [DIR]")?;
            println!("{}", aisec_deps::import(Path::new(zip), dir(2))?);
        }
        Some("status") => println!("{}", aisec_deps::status(dir(1))?),
        Some("update") => println!("{}", aisec_deps::update(dir(1))?),
        _ => return Err("usage: db import ZIP [DIR] | status [DIR] | update [DIR]".into()),
    }
    Ok(())
}
