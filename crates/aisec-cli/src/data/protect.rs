//! `aisec data mask|encrypt|decrypt|anonymity|quality` (owned by the protection half).

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum ProtectCommand {}

pub fn run(command: ProtectCommand) -> Result<u8> {
    match command {}
}
