//! Regression tests for issue 14 §1: a Terraform `module` whose local
//! `source` leaves the scanned tree (`../../outside`, `/etc`, a link to a
//! directory outside) must not be read, and is a finding of its own
//! (`AISEC-GEN-007`) at the module block. Scanned end to end through
//! `aisec_engine::scan`; the report is serialised to JSON and searched. On
//! the old code the outside module was parsed and judged with the caller's
//! inputs, so its resource name (the marker) came back in a finding.

use std::path::Path;

use aisec_core::{Limits, Report, Scanner};
use aisec_engine::{NoProgress, ScanRequest, WalkOptions};
use aisec_iac::IacScanner;

const MARKER: &str = "SECRET_MARKER_123";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn scan(root: &Path, follow_symlinks: bool) -> Report {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(IacScanner)];
    let request = ScanRequest {
        targets: vec![root.to_path_buf()],
        walk: WalkOptions {
            follow_symlinks,
            ..WalkOptions::default()
        },
        limits: Limits::default(),
    };
    aisec_engine::scan(&request, &scanners, &NoProgress).unwrap()
}

const CALLER: &str = r#"module "climbs" {
  source      = "../../outside"
  root_access = "Enabled"
}

module "absolute" {
  source      = "/etc"
  root_access = "Enabled"
}

module "linked" {
  source      = "./linked"
  root_access = "Enabled"
}

module "inside" {
  source      = "../modules/notebook"
  root_access = "Enabled"
}
"#;

/// A notebook module whose root access comes from its caller.
fn notebook(name: &str) -> String {
    format!(
        "variable \"root_access\" {{\n  default = \"Disabled\"\n}}\n\nresource \"aws_sagemaker_notebook_instance\" \"{name}\" {{\n  direct_internet_access = \"Disabled\"\n  root_access            = var.root_access\n  kms_key_id             = \"k\"\n}}\n"
    )
}

#[test]
fn module_sources_that_leave_the_tree_are_findings_and_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    write(&outside.join("main.tf"), &notebook(MARKER));
    let repo = dir.path().join("repo");
    write(&repo.join("infra/main.tf"), CALLER);
    write(&repo.join("modules/notebook/main.tf"), &notebook("inside"));
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, repo.join("infra/linked")).unwrap();

    for follow in [false, true] {
        let report = scan(&repo, follow);
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains(MARKER), "outside module read: {json}");
        let main: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.location.path.ends_with("infra/main.tf"))
            .collect();
        let mut escapes: Vec<(u32, &str)> = main
            .iter()
            .filter(|f| f.rule_id == "AISEC-GEN-007")
            .map(|f| (f.location.line.unwrap(), f.evidence.as_deref().unwrap()))
            .collect();
        escapes.sort();
        let mut want = vec![(1, "../../outside"), (6, "/etc")];
        if cfg!(unix) {
            want.push((11, "./linked"));
        }
        assert_eq!(escapes, want, "{main:#?}");
        // The module inside the tree is still followed: the caller's input
        // turns root access on, reported at its block.
        assert!(
            main.iter().any(|f| f.rule_id == "AISEC-IAC-002"
                && f.location.line == Some(16)
                && f.message.contains("module.inside")),
            "{main:#?}"
        );
    }
}
