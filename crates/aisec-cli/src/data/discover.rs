//! `aisec data scan`: per-column sensitive-data report (owned by the discovery half).

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum DiscoverCommand {}

pub fn run(command: DiscoverCommand) -> Result<u8> {
    match command {}
}
