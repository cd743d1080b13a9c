//! Throughput of `mask_file` (CSV), `mask_json_lines_file` (the same rows as
//! JSON Lines) and of age encryption/decryption.
//!
//! Generates a CSV in a temporary directory (`AISEC_BENCH_MB`, default 256 MB)
//! with a realistic column mix and prints MB/s (input bytes per second):
//!
//!   cargo bench -p aisec-dataset --bench mask

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use aisec_dataset::crypt::{self, DecryptWith, EncryptTo};
use aisec_dataset::{MaskKey, MaskOptions, Policy, mask_file, mask_json_lines_file};

const POLICY: &str = r#"
default = "keep"
[[column]]
name = "name"
action = "hash"
length = 16
[[column]]
name = "email"
action = "tokenise"
format = "email"
[[column]]
name = "age"
action = "generalise"
width = 10
[[column]]
name = "dob"
action = "generalise"
to = "year"
[[column]]
name = "notes"
action = "redact"
[[column]]
name = "ssn"
action = "drop"
"#;

fn generate(path: &Path, target_bytes: u64) -> u64 {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "id,name,email,age,dob,city,ssn,notes,comment").unwrap();
    let cities = ["Paris", "Lyon", "Nice", "Berlin", "Madrid", "Rome"];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut written = 0u64;
    let mut i = 0u64;
    while written < target_bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let line = format!(
            "{i},User {a} {b},user{a}.{b}@example{c}.com,{age},{y}-{m:02}-{d:02},{city},{s1:03}-{s2:02}-{s3:04},\"note, {a}\",the quick brown fox jumps over the lazy dog {b}\n",
            a = x % 100_000,
            b = (x >> 20) % 1000,
            c = (x >> 30) % 10,
            age = 18 + (x >> 8) % 70,
            y = 1940 + (x >> 12) % 70,
            m = 1 + (x >> 16) % 12,
            d = 1 + (x >> 24) % 28,
            city = cities[(x % 6) as usize],
            s1 = (x >> 3) % 1000,
            s2 = (x >> 5) % 100,
            s3 = (x >> 9) % 10000,
        );
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        i += 1;
    }
    w.flush().unwrap();
    written
}

/// CPU seconds (user + system) this process has used, from /proc (Linux);
/// `None` elsewhere. On a loaded machine wall-clock MB/s understates what the
/// code does; MB per CPU-second times the cores says what an idle machine gets.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux configuration in use.
    Some(ticks / 100.0)
}

fn main() {
    let mb: u64 = std::env::var("AISEC_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let bytes = generate(&input, mb * 1_000_000);
    let size = std::fs::metadata(&input).unwrap().len() as f64 / 1e6;
    println!(
        "input: {size:.0} MB, columns: keep x3, hash, tokenise(email), generalise x2, redact, drop"
    );
    let policy_text = if std::env::var_os("AISEC_BENCH_KEEP").is_some() {
        "default = \"keep\""
    } else {
        POLICY
    };
    let policy = Policy::parse(policy_text, Path::new("bench.toml")).unwrap();
    let key = MaskKey::new(b"bench key of thirty-two bytes!!!".to_vec()).unwrap();
    let out = dir.path().join("out.csv");
    for run in 0..3 {
        let t = Instant::now();
        let cpu0 = cpu_seconds();
        let s = mask_file(&input, &out, &policy, Some(&key), MaskOptions::default()).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let threads = rayon::current_num_threads();
        let per_cpu = match (cpu0, cpu_seconds()) {
            (Some(a), Some(b)) if b > a => format!(
                ", {:.0} MB per CPU-second ({:.0} MB/s on {threads} idle cores)",
                size / (b - a),
                size / (b - a) * threads as f64
            ),
            _ => String::new(),
        };
        println!(
            "mask run {run}: {} rows in {secs:.2}s = {:.0} MB/s wall ({threads} threads){per_cpu}",
            s.rows_written,
            size / secs,
        );
    }
    // The same rows as JSON Lines objects, under the same policy.
    let jsonl = dir.path().join("in.jsonl");
    {
        let text = std::fs::read_to_string(&input).unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let names: Vec<String> = rows.headers().unwrap().iter().map(str::to_owned).collect();
        let mut w = std::io::BufWriter::new(std::fs::File::create(&jsonl).unwrap());
        for r in rows.records() {
            let r = r.unwrap();
            let obj: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(r.iter())
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.to_owned())))
                .collect();
            serde_json::to_writer(&mut w, &obj).unwrap();
            w.write_all(b"\n").unwrap();
        }
    }
    let jsize = std::fs::metadata(&jsonl).unwrap().len() as f64 / 1e6;
    let jout = dir.path().join("out.jsonl");
    for run in 0..2 {
        let t = Instant::now();
        let s = mask_json_lines_file(&jsonl, &jout, &policy, Some(&key), false).unwrap();
        let secs = t.elapsed().as_secs_f64();
        println!(
            "mask JSON Lines run {run}: {} rows, {jsize:.0} MB in {secs:.2}s = {:.0} MB/s wall",
            s.rows_written,
            jsize / secs,
        );
    }
    let (id_text, _) = crypt::generate_identity();
    use aisec_dataset::crypt::ExposeSecret;
    let id_path = dir.path().join("id.age");
    std::fs::write(&id_path, id_text.expose_secret()).unwrap();
    let ids = crypt::read_identity_file(&id_path).unwrap();
    let to = EncryptTo::Recipients(vec![ids[0].to_public()]);
    let enc = dir.path().join("in.csv.age");
    let t = Instant::now();
    crypt::encrypt_file(&input, &enc, &to).unwrap();
    println!("encrypt: {:.0} MB/s", size / t.elapsed().as_secs_f64());
    let dec = dir.path().join("dec.csv");
    let t = Instant::now();
    let n = crypt::decrypt_file(&enc, &dec, &DecryptWith::Identities(ids)).unwrap();
    println!("decrypt: {:.0} MB/s", size / t.elapsed().as_secs_f64());
    assert_eq!(n, std::fs::metadata(&input).unwrap().len());
    let _ = bytes;
}
