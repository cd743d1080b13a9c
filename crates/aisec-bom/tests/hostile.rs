//! Hostile card sources never panic the BOM builder.

use aisec_bom::{BomOptions, build_bom};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_card_sources_and_model_heads(
        config in proptest::collection::vec(any::<u8>(), 0..256),
        readme in "(---\n)?[ -~\n]{0,200}(\n---\n)?",
        mlmodel in "[ -~\n]{0,200}",
        st in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), &config).unwrap();
        std::fs::write(dir.path().join("README.md"), &readme).unwrap();
        std::fs::write(dir.path().join("MLmodel"), &mlmodel).unwrap();
        // Length prefix that claims the rest, so it sniffs as safetensors.
        let mut bytes = ((st.len() as u64).saturating_sub(0)).to_le_bytes().to_vec();
        bytes.push(b'{');
        bytes.extend_from_slice(&st);
        std::fs::write(dir.path().join("m.safetensors"), &bytes).unwrap();
        let bom = build_bom(dir.path(), &BomOptions::default()).unwrap();
        prop_assert!(bom.json["components"].is_array());
    }
}

/// A manifest in the tree cannot make the BOM read files outside it: `-r`
/// includes go through the engine, confined to the root, as in a scan.
#[test]
fn includes_are_confined_to_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("reqs")).unwrap();
    std::fs::write(dir.path().join("private.txt"), "secret-marker-pkg==6.6.6\n").unwrap();
    std::fs::write(root.join("reqs/base.in"), "numpy==1.26.4\n").unwrap();
    std::fs::write(
        root.join("requirements.txt"),
        "-r reqs/base.in\n-r ../private.txt\n-c /proc/self/environ\ntorch==2.3.0\n",
    )
    .unwrap();
    let bom = build_bom(&root, &BomOptions::default()).unwrap();
    let text = serde_json::to_string(&bom.json).unwrap() + &bom.warnings.join("\n");
    assert!(!text.contains("secret-marker"), "{text}");
    assert!(!text.contains("PATH="), "{text}");
    // The include inside the tree is still followed.
    assert!(text.contains("pkg:pypi/numpy@1.26.4"), "{text}");
    assert!(text.contains("pkg:pypi/torch@2.3.0"), "{text}");
}
