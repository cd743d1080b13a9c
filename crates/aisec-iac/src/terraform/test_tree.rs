//! Test support: an in-memory tree for the sibling and module tests.

use aisec_core::{
    FileInput, Finding, Limits, ScanContext, Scanner, Sibling, SiblingError, SiblingMeta,
    SiblingSource,
};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::check;

/// An in-memory tree behind the `SiblingSource` interface, confined the
/// way the engine's is (lexically: `..` above the root and absolute
/// paths are `OutsideRoot`), counting reads.
#[derive(Default)]
pub(super) struct MemTree {
    pub(super) files: Mutex<BTreeMap<String, String>>,
    pub(super) reads: AtomicUsize,
}

impl MemTree {
    pub(super) fn put(&self, path: &str, text: &str) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_owned(), text.to_owned());
    }
    fn resolve(from: &str, reference: &str) -> Result<String, SiblingError> {
        if reference.starts_with('/') {
            return Err(SiblingError::OutsideRoot);
        }
        let mut parts: Vec<&str> = from.split('/').collect();
        parts.pop();
        for c in reference.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    parts.pop().ok_or(SiblingError::OutsideRoot)?;
                }
                c => parts.push(c),
            }
        }
        Ok(parts.join("/"))
    }
}

impl SiblingSource for MemTree {
    fn read(&self, from: &str, reference: &str) -> Result<Sibling, SiblingError> {
        let path = Self::resolve(from, reference)?;
        self.reads.fetch_add(1, Ordering::Relaxed);
        let files = self.files.lock().unwrap();
        let text = files.get(&path).ok_or(SiblingError::Missing)?;
        Ok(Sibling {
            display: path,
            bytes: text.as_bytes().into(),
        })
    }
    fn stat(&self, _: &str, _: &str) -> Result<SiblingMeta, SiblingError> {
        Err(SiblingError::Missing)
    }
    fn list(&self, from: &str, reference: &str) -> Result<Vec<String>, SiblingError> {
        let dir = Self::resolve(from, reference)?;
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let files = self.files.lock().unwrap();
        let names: Vec<String> = files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(SiblingError::Missing);
        }
        Ok(names)
    }
}

pub(super) fn check_in(tree: &MemTree, path: &str) -> Vec<Finding> {
    let text = tree.files.lock().unwrap()[path].clone();
    let limits = Limits::default();
    let scanners: Vec<Box<dyn Scanner>> = Vec::new();
    let ctx = ScanContext::with_siblings(&limits, &scanners, tree);
    let file = FileInput::on_disk(path, std::path::Path::new(path), text.as_bytes());
    check(&file, &text, path.ends_with(".json"), &ctx)
}

pub(super) fn has(findings: &[Finding], rule: &aisec_core::Rule) -> bool {
    findings.iter().any(|f| f.rule_id == rule.id)
}
