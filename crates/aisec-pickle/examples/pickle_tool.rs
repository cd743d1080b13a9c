//! `pickle_tool disasm FILE` / `pickle_tool decompile FILE`: the listings
//! the CLI's `aisec pickle` subcommands will print, usable before the CLI
//! is wired.

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: pickle_tool disasm|decompile FILE");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    match mode.as_str() {
        "disasm" => print!("{}", aisec_pickle::disasm(&bytes)),
        "decompile" => print!("{}", aisec_pickle::decompile(&bytes)),
        _ => {
            eprintln!("usage: pickle_tool disasm|decompile FILE");
            std::process::exit(2);
        }
    }
}
