//! `aisec data`: find sensitive data in datasets and protect it. Discovery
//! (`scan`) lives in `discover.rs` over `aisec-data`; protection (`mask`,
//! `encrypt`, `decrypt`, `anonymity`, `quality`) in `protect.rs` over
//! `aisec-dataset`. Each half owns its subcommands; this file only joins them.

mod discover;
mod protect;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum DataCommand {
    #[command(flatten)]
    Discover(discover::DiscoverCommand),
    #[command(flatten)]
    Protect(protect::ProtectCommand),
}

/// Runs one `aisec data` subcommand; returns the process exit code.
pub fn run(command: DataCommand) -> Result<u8> {
    match command {
        DataCommand::Discover(c) => discover::run(c),
        DataCommand::Protect(c) => protect::run(c),
    }
}
