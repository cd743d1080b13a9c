//! A small driver for the interop script and the benchmark, until the `aisec`
//! binary carries `sign`/`verify`:
//!
//! ```text
//! model_sign sign   MODEL --private-key KEY.pem --signature SIG [--shards N] [--hash sha256|blake2b|blake3] [--ignore-paths P]...
//! model_sign verify MODEL --public-key PUB.pem  --signature SIG [--ignore-paths P]...
//! model_sign hash   MODEL [--shards N] [--hash H]      (time the hashing only)
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use aisec_sign::{HashAlgorithm, Serialization, SignOptions, VerifyOptions};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let cmd = args
        .next()
        .ok_or("usage: model_sign sign|verify|hash MODEL ...")?;
    let model = PathBuf::from(args.next().ok_or("missing MODEL")?);
    let (mut key, mut pubkey, mut sig) = (None, None, None);
    let (mut shards, mut hash, mut ignores) = (None, HashAlgorithm::Sha256, Vec::new());
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--private-key" => key = Some(PathBuf::from(value()?)),
            "--public-key" => pubkey = Some(PathBuf::from(value()?)),
            "--signature" => sig = Some(PathBuf::from(value()?)),
            "--shards" => shards = Some(value()?.parse::<u64>().map_err(|e| e.to_string())?),
            "--hash" => {
                let v = value()?;
                hash = HashAlgorithm::parse(&v).ok_or(format!("unknown hash {v}"))?;
            }
            "--ignore-paths" => {
                let v = PathBuf::from(value()?);
                ignores.extend(aisec_sign::relative_to_model(&model, &v));
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let serialization = match shards {
        Some(shard_size) => Serialization::Shards { hash, shard_size },
        None => Serialization::Files { hash },
    };
    let start = Instant::now();
    match cmd.as_str() {
        "sign" => {
            let opts = SignOptions {
                serialization,
                ignore_paths: ignores,
                ..SignOptions::default()
            };
            let key = key.ok_or("--private-key is required")?;
            let sig = sig.unwrap_or_else(|| PathBuf::from(aisec_sign::DEFAULT_SIGNATURE_NAME));
            let signed =
                aisec_sign::sign_to_file(&model, &key, &sig, &opts).map_err(|e| e.to_string())?;
            println!(
                "Signing succeeded: {} resources, root sha256:{} ({:.3}s)",
                signed.statement.resources.len(),
                hex::encode(signed.statement.root_digest),
                start.elapsed().as_secs_f64()
            );
        }
        "verify" => {
            let opts = VerifyOptions {
                ignore_paths: ignores,
                ..VerifyOptions::default()
            };
            let pubkey = pubkey.ok_or("--public-key is required")?;
            let sig = sig.unwrap_or_else(|| PathBuf::from(aisec_sign::DEFAULT_SIGNATURE_NAME));
            let v = aisec_sign::verify(&model, &sig, &pubkey, &opts).map_err(|e| e.to_string())?;
            for w in &v.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "Verification succeeded: '{}' root sha256:{} ({} files, {:.3}s)",
                v.name,
                v.root_digest,
                v.files,
                start.elapsed().as_secs_f64()
            );
        }
        "hash" => {
            let root =
                aisec_sign::digest_model(&model, serialization).map_err(|e| e.to_string())?;
            println!(
                "sha256:{} ({:.3}s)",
                hex::encode(root),
                start.elapsed().as_secs_f64()
            );
        }
        other => return Err(format!("unknown command {other}")),
    }
    Ok(())
}
