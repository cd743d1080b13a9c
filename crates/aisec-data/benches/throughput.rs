//! Throughput of `profile` on generated datasets, in MB/s of input:
//!
//!     cargo bench -p aisec-data --bench throughput
//!
//! The sample limits are lifted so that every byte is read: this measures
//! the detectors and readers, not the sampling (which caps any file at
//! 16 MiB by default).

use std::time::Instant;

use aisec_data::{SampleOptions, profile};

const ROWS: usize = 200_000;

/// A deterministic xorshift: the bench needs varied values, not randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn pii_csv(rng: &mut Rng) -> String {
    let mut s = String::from("id,name,email,phone,ssn,ip,amount,comment\n");
    for i in 0..ROWS {
        s.push_str(&format!(
            "{i},Jane Doe,user{}@mail{}.org,+44 20 7946 {:04},{:03}-{:02}-{:04},81.{}.{}.{},{}.{:02},\"order {} shipped, thanks\"\n",
            rng.below(100_000),
            rng.below(50),
            rng.below(10_000),
            1 + rng.below(899),
            1 + rng.below(98),
            1 + rng.below(9998),
            rng.below(256),
            rng.below(256),
            1 + rng.below(254),
            rng.below(1000),
            rng.below(100),
            rng.below(1_000_000),
        ));
    }
    s
}

fn benign_csv(rng: &mut Rng) -> String {
    let mut s = String::from("sample_id,sku,created_at,feature_1,feature_2,label,version\n");
    for i in 0..ROWS {
        s.push_str(&format!(
            "{i},SKU-{:06},2024-{:02}-{:02} 10:{:02}:00,{}.{:06},{}.{:03},{},1.{}.{}\n",
            rng.below(1_000_000),
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(60),
            rng.below(10),
            rng.below(1_000_000),
            rng.below(1000),
            rng.below(1000),
            rng.below(10),
            rng.below(20),
            rng.below(100),
        ));
    }
    s
}

fn text(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..ROWS {
        s.push_str(&format!(
            "Ticket {}: the customer wrote that the delivery was late and asked for a refund of {} EUR.\n",
            rng.below(1_000_000),
            rng.below(500)
        ));
        if rng.below(20) == 0 {
            s.push_str("Contact me at jane.doe@mailbox.org or +1 (415) 555-2671.\n");
        }
    }
    s
}

fn jsonl(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..ROWS / 2 {
        s.push_str(&format!(
            "{{\"user\":{{\"email\":\"u{}@corp.net\",\"ip\":\"93.{}.{}.7\"}},\"event\":\"click\",\"ts\":{}}}\n",
            rng.below(1_000_000),
            rng.below(256),
            rng.below(256),
            1_700_000_000 + rng.below(10_000_000)
        ));
    }
    s
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let opts = SampleOptions {
        max_rows: u64::MAX,
        max_bytes: u64::MAX,
        ..SampleOptions::default()
    };
    let cases = [
        ("pii.csv", pii_csv(&mut rng)),
        ("benign.csv", benign_csv(&mut rng)),
        ("events.jsonl", jsonl(&mut rng)),
        ("tickets.txt", text(&mut rng)),
    ];
    for (name, data) in &cases {
        // Once to warm caches and lazily built regexes, then the best of three.
        let _ = profile(name, data.as_bytes(), &opts);
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let p = profile(name, data.as_bytes(), &opts).expect("profiles");
            best = best.min(t.elapsed().as_secs_f64());
            assert!(p.rows_sampled > 0);
        }
        let mb = data.len() as f64 / 1e6;
        println!(
            "{name:<14} {mb:>7.1} MB  {best:>6.3} s  {:>7.1} MB/s",
            mb / best
        );
    }
}
