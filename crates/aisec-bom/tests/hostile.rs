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
