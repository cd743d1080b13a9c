//! The stored database reader (magic, version, header, index, per-package
//! slices) on arbitrary bytes: a damaged or hostile `osv.db` must give an
//! error, never a panic or an out-of-bounds read. Inputs that start with a
//! valid prefix get their lookups exercised too.
#![no_main]

use aisec_deps::ecosystem::PYPI;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"AISECOSV\x01\x00\x00\x00".to_vec();
    // Half the inputs keep the magic and version, so the fuzzer spends its
    // time in the header and the data rather than on the first 12 bytes.
    if data.first().is_some_and(|b| b & 1 == 0) {
        bytes.extend_from_slice(&data[1..]);
    } else {
        bytes = data.to_vec();
    }
    if let Ok(db) = aisec_deps::VulnDb::from_bytes("fuzz.db".into(), bytes) {
        for name in ["torch", "mlflow", "a", ""] {
            if let Ok(advisories) = db.advisories(&PYPI, name) {
                let _ = aisec_deps::matcher::vulnerabilities(&PYPI, "1.0", &advisories);
            }
        }
    }
});
