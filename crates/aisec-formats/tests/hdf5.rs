//! The HDF5 attribute reader against files written by h5py
//! (fixtures/gen/formats_fixtures.py).

use aisec_formats::{hdf5, keras};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../aisec-cli/tests/fixtures/formats/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const WANTED: &[&str] = &["model_config", "training_config"];

#[test]
fn variable_length_strings_come_from_the_global_heap() {
    let bytes = fixture("malicious/legacy.h5");
    let attrs = hdf5::root_string_attributes(&bytes, WANTED).unwrap();
    assert!(attrs.unread.is_empty(), "{:?}", attrs.unread);
    assert_eq!(attrs.strings.len(), 1);
    let attr = &attrs.strings[0];
    assert_eq!(attr.name, "model_config");
    let config: serde_json::Value = serde_json::from_slice(&attr.value).unwrap();
    assert_eq!(config["class_name"], "Sequential");
    // The offset points at the value itself.
    assert_eq!(
        &bytes[attr.offset..attr.offset + attr.value.len()],
        &attr.value[..]
    );
}

#[test]
fn escaped_json_keys_hide_from_a_byte_search_but_not_from_the_reader() {
    let bytes = fixture("malicious/escaped.h5");
    assert!(keras::embedded_configs(&bytes, 16).is_empty());
    let attrs = hdf5::root_string_attributes(&bytes, WANTED).unwrap();
    let names: Vec<&str> = attrs.strings.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["model_config", "training_config"]);
    let config: serde_json::Value = serde_json::from_slice(&attrs.strings[0].value).unwrap();
    let issues = keras::analyse(&config);
    assert!(
        issues.iter().any(|i| matches!(i, keras::KerasIssue::ForeignObject { module, dangerous: true, .. } if module == "os")),
        "{issues:?}"
    );
}

#[test]
fn version_2_object_headers_after_a_user_block() {
    let bytes = fixture("malicious/latest.h5");
    assert_ne!(&bytes[..4], b"\x89HDF");
    let attrs = hdf5::root_string_attributes(&bytes, WANTED).unwrap();
    assert_eq!(attrs.strings.len(), 1);
    assert!(attrs.unread.is_empty());
}

#[test]
fn dense_attribute_storage_is_reported_as_unread() {
    let bytes = fixture("malicious/dense.h5");
    let attrs = hdf5::root_string_attributes(&bytes, WANTED).unwrap();
    assert!(attrs.strings.is_empty());
    assert_eq!(attrs.unread.len(), 1, "{:?}", attrs.unread);
    assert!(attrs.unread[0].contains("dense storage"));
}

#[test]
fn files_without_configs_have_no_strings() {
    let bytes = fixture("benign/weights_only.h5");
    let attrs = hdf5::root_string_attributes(&bytes, WANTED).unwrap();
    assert!(attrs.strings.is_empty() && attrs.unread.is_empty());
}

#[test]
fn every_truncation_and_byte_flip_is_an_error_or_a_result_never_a_panic() {
    for name in [
        "malicious/legacy.h5",
        "malicious/latest.h5",
        "malicious/dense.h5",
    ] {
        let bytes = fixture(name);
        for cut in (0..bytes.len()).step_by(7) {
            let _ = hdf5::root_string_attributes(&bytes[..cut], WANTED);
        }
        let mut flipped = bytes.clone();
        for at in (0..bytes.len().min(4096)).step_by(3) {
            flipped[at] ^= 0xA5;
            let _ = hdf5::root_string_attributes(&flipped, WANTED);
            flipped[at] ^= 0xA5;
        }
    }
}
