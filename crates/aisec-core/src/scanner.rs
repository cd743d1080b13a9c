use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::{FileKind, Finding, MEMBER_SEPARATOR, detect_kind, generic};

/// Bounds every scanner honours, so hostile input costs bounded time and memory.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest file a scanner that must read every byte (text, secrets, data)
    /// reads in full. Formats that seek (zip, safetensors, torch) ignore it:
    /// they only touch the bytes they need of a memory map.
    pub max_full_read: u64,
    /// Largest decompressed size of one archive member or compressed stream.
    pub max_decompressed: u64,
    /// Largest ratio of decompressed to compressed size before a stream is a
    /// bomb (zip-bomb ratios run to thousands; real archives stay below ~20x).
    pub max_compression_ratio: u64,
    /// Containers inside containers (zip in tar in gzip...) beyond this depth are
    /// reported, not opened.
    pub max_nesting: u32,
    /// Members of one archive that are opened and scanned.
    pub max_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_full_read: 256 * 1024 * 1024,
            max_decompressed: 512 * 1024 * 1024,
            max_compression_ratio: 200,
            max_nesting: 8,
            max_members: 100_000,
        }
    }
}

/// One file (or archive member) handed to scanners: its bytes, usually a
/// memory map, and what it is.
#[derive(Debug, Clone, Copy)]
pub struct FileInput<'a> {
    /// The on-disk file, as shown to the user.
    pub path: &'a str,
    /// The path inside containers, `!`-joined, for archive members.
    pub member: Option<&'a str>,
    /// The on-disk file for scanners that need its directory (sibling files);
    /// `None` for members, which have no directory of their own.
    pub fs_path: Option<&'a Path>,
    pub bytes: &'a [u8],
    pub kind: FileKind,
    /// 0 for a file on disk, +1 per enclosing container.
    pub depth: u32,
}

impl<'a> FileInput<'a> {
    /// A file on disk whose bytes are already mapped; sniffs the kind.
    pub fn on_disk(path: &'a str, fs_path: &'a Path, bytes: &'a [u8]) -> Self {
        FileInput {
            path,
            member: None,
            fs_path: Some(fs_path),
            bytes,
            kind: detect_kind(bytes, file_name(path)),
            depth: 0,
        }
    }

    /// The innermost name: the member's last component, or the file's name.
    pub fn name(&self) -> &'a str {
        match self.member {
            Some(m) => file_name(m.rsplit(MEMBER_SEPARATOR).next().unwrap_or(m)),
            None => file_name(self.path),
        }
    }

    /// Lower-cased extension of [`Self::name`], without the dot.
    pub fn extension(&self) -> Option<String> {
        self.name()
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
    }

    /// `path!member` as shown to users.
    pub fn display(&self) -> String {
        match self.member {
            Some(m) => format!("{}{MEMBER_SEPARATOR}{m}", self.path),
            None => self.path.to_owned(),
        }
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// A detector family. Implementations are pure: they read `file.bytes`, never
/// the file system (beyond `fs_path` siblings when they say so in their docs),
/// and never execute anything they scan.
pub trait Scanner: Send + Sync {
    /// Short name shown in `--verbose` output and errors, e.g. `pickle`.
    fn name(&self) -> &'static str;
    /// The rules this scanner may report, for `aisec rules` and SARIF.
    fn rules(&self) -> &'static [&'static crate::Rule];
    /// Cheap test on kind, name and the first bytes: should `scan` run?
    fn detect(&self, file: &FileInput<'_>) -> bool;
    /// Scans one file. A file that cannot be fully parsed is itself a finding
    /// (see [`generic::MALFORMED`]); this never returns an error.
    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding>;
}

/// What a scanner may use besides the file: limits, and the other scanners to
/// hand archive members to.
pub struct ScanContext<'a> {
    pub limits: &'a Limits,
    pub scanners: &'a [Box<dyn Scanner>],
}

impl ScanContext<'_> {
    /// Runs every scanner that detects `file`. A panicking scanner is a bug,
    /// but one hostile file must not take the whole scan down with it: the
    /// panic becomes a finding and the other scanners still run.
    pub fn run(&self, file: &FileInput<'_>) -> Vec<Finding> {
        let mut findings = Vec::new();
        for scanner in self.scanners {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                if scanner.detect(file) {
                    scanner.scan(file, self)
                } else {
                    Vec::new()
                }
            }));
            match outcome {
                Ok(mut found) => findings.append(&mut found),
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".to_owned());
                    findings.push(
                        Finding::new(
                            &generic::SCANNER_CRASHED,
                            file,
                            format!(
                                "the {} scanner crashed on this file; it was not fully scanned",
                                scanner.name()
                            ),
                        )
                        .evidence(what),
                    );
                }
            }
        }
        findings
    }

    /// The bytes a scanner that must read every byte (text, secrets, data)
    /// may read: all of them, or the first [`Limits::max_full_read`] with a
    /// finding saying what `scanner` left unread. One place for the cap, so
    /// every such scanner reports it the same way.
    pub fn full_read<'f>(
        &self,
        file: &FileInput<'f>,
        scanner: &str,
    ) -> (&'f [u8], Option<Finding>) {
        let limit = usize::try_from(self.limits.max_full_read).unwrap_or(usize::MAX);
        if file.bytes.len() <= limit {
            return (file.bytes, None);
        }
        let finding = Finding::new(
            &generic::LIMIT_EXCEEDED,
            file,
            format!(
                "{} bytes is over the full-read limit of {limit}; the {scanner} scanner read the first {limit} bytes only",
                file.bytes.len()
            ),
        );
        (&file.bytes[..limit], Some(finding))
    }

    /// Scans a member of `parent` (an archive entry, a decompressed stream)
    /// with every scanner, as a file of its own named `parent!member_name`.
    pub fn scan_member(
        &self,
        parent: &FileInput<'_>,
        member_name: &str,
        bytes: &[u8],
    ) -> Vec<Finding> {
        let member = match parent.member {
            Some(m) => format!("{m}{MEMBER_SEPARATOR}{member_name}"),
            None => member_name.to_owned(),
        };
        let depth = parent.depth + 1;
        let input = FileInput {
            path: parent.path,
            member: Some(&member),
            fs_path: None,
            bytes,
            kind: detect_kind(bytes, file_name(member_name)),
            depth,
        };
        if depth > self.limits.max_nesting {
            return vec![Finding::new(
                &generic::LIMIT_EXCEEDED,
                &input,
                format!(
                    "containers nested {depth} deep; members below depth {} are not scanned",
                    self.limits.max_nesting
                ),
            )];
        }
        self.run(&input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rule, Severity};

    static R: Rule = Rule {
        id: "AISEC-TST-001",
        name: "t",
        summary: "t",
        default_severity: Severity::High,
        explanation: "",
        references: &[],
    };

    /// Recurses into itself: every file is treated as containing one member.
    struct Matryoshka;
    impl Scanner for Matryoshka {
        fn name(&self) -> &'static str {
            "matryoshka"
        }
        fn rules(&self) -> &'static [&'static Rule] {
            &[]
        }
        fn detect(&self, _: &FileInput<'_>) -> bool {
            true
        }
        fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
            let mut out = vec![Finding::new(&R, file, "seen")];
            out.extend(ctx.scan_member(file, "inner.bin", file.bytes));
            out
        }
    }

    struct Panicker;
    impl Scanner for Panicker {
        fn name(&self) -> &'static str {
            "panicker"
        }
        fn rules(&self) -> &'static [&'static Rule] {
            &[]
        }
        fn detect(&self, _: &FileInput<'_>) -> bool {
            true
        }
        fn scan(&self, _: &FileInput<'_>, _: &ScanContext<'_>) -> Vec<Finding> {
            panic!("boom")
        }
    }

    #[test]
    fn nesting_is_bounded_and_reported() {
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(Matryoshka)];
        let limits = Limits {
            max_nesting: 3,
            ..Limits::default()
        };
        let ctx = ScanContext {
            limits: &limits,
            scanners: &scanners,
        };
        let file = FileInput::on_disk("a.bin", Path::new("a.bin"), b"x");
        let findings = ctx.run(&file);
        assert_eq!(findings.iter().filter(|f| f.rule_id == R.id).count(), 4);
        let limit = findings
            .iter()
            .find(|f| f.rule_id == generic::LIMIT_EXCEEDED.id)
            .unwrap();
        assert_eq!(
            limit.location.member.as_deref(),
            Some("inner.bin!inner.bin!inner.bin!inner.bin")
        );
    }

    #[test]
    fn a_panicking_scanner_becomes_a_finding() {
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(Panicker)];
        let limits = Limits::default();
        let ctx = ScanContext {
            limits: &limits,
            scanners: &scanners,
        };
        let file = FileInput::on_disk("a.bin", Path::new("a.bin"), b"x");
        let findings = ctx.run(&file);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule_id, generic::SCANNER_CRASHED.id);
        assert_eq!(findings[0].evidence.as_deref(), Some("boom"));
    }

    #[test]
    fn full_reads_are_capped_and_say_so() {
        let scanners: Vec<Box<dyn Scanner>> = Vec::new();
        let limits = Limits {
            max_full_read: 4,
            ..Limits::default()
        };
        let ctx = ScanContext {
            limits: &limits,
            scanners: &scanners,
        };
        let small = FileInput::on_disk("a.txt", Path::new("a.txt"), b"abc");
        assert_eq!(ctx.full_read(&small, "secrets"), (&b"abc"[..], None));
        let big = FileInput::on_disk("b.txt", Path::new("b.txt"), b"abcdefgh");
        let (bytes, finding) = ctx.full_read(&big, "secrets");
        assert_eq!(bytes, b"abcd");
        let finding = finding.unwrap();
        assert_eq!(finding.rule_id, generic::LIMIT_EXCEEDED.id);
        assert!(finding.message.contains("secrets scanner"));
    }

    #[test]
    fn names_and_extensions_come_from_the_innermost_member() {
        let mut f = FileInput::on_disk("dir/m.zip", Path::new("dir/m.zip"), b"");
        assert_eq!(f.name(), "m.zip");
        f.member = Some("a/b.tar!c/Data.PKL");
        assert_eq!(f.name(), "Data.PKL");
        assert_eq!(f.extension().as_deref(), Some("pkl"));
        assert_eq!(f.display(), "dir/m.zip!a/b.tar!c/Data.PKL");
    }
}
