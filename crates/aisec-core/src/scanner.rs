use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::sibling::{NoSiblings, Sibling, SiblingError, SiblingMeta, SiblingSource};
use crate::{FileKind, Finding, MEMBER_SEPARATOR, detect_kind, excerpt, generic};

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
    /// Decompressed bytes of one top-level file, summed over every member at
    /// every nesting level. Per-member caps alone let a 42 KB nested bomb
    /// (16 members per level, five levels) cost petabytes.
    pub max_total_decompressed: u64,
    /// Members of one top-level file opened at all nesting levels together.
    pub max_total_members: u64,
    /// Wall-clock time one top-level file may take, all scanners included: a
    /// backstop for costs the byte and member bounds do not capture.
    pub max_file_time: Duration,
    /// Largest file a scanned file may reference and have read
    /// (requirements includes, Terraform modules, conda files).
    pub max_sibling_bytes: u64,
    /// Referenced files one scan reads in all.
    pub max_siblings: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_full_read: 256 * 1024 * 1024,
            max_decompressed: 512 * 1024 * 1024,
            max_compression_ratio: 200,
            max_nesting: 8,
            max_members: 100_000,
            max_total_decompressed: 1024 * 1024 * 1024,
            max_total_members: 100_000,
            max_file_time: Duration::from_secs(60),
            max_sibling_bytes: 16 * 1024 * 1024,
            max_siblings: 10_000,
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

    /// Extension of [`Self::name`] as written (case kept), without the dot.
    /// Borrowed, because every scanner's `detect` asks for it on every file
    /// and member; compare with [`Self::has_extension`].
    pub fn extension_str(&self) -> Option<&'a str> {
        self.name().rsplit_once('.').map(|(_, e)| e)
    }

    /// Is the extension `ext` (given lower-case, without the dot), in any
    /// ASCII case?
    pub fn has_extension(&self, ext: &str) -> bool {
        self.extension_str()
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    }

    /// Is the extension one of `exts` (lower-case, without the dot), in any
    /// ASCII case?
    pub fn has_extension_in(&self, exts: &[&str]) -> bool {
        self.extension_str()
            .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
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

/// What a scanner may use besides the file: limits, the other scanners to
/// hand archive members to, the engine's reader of referenced files, and the
/// work budget of the top-level file being scanned.
///
/// One context serves one top-level file (the engine makes a new one per file;
/// it is cheap), so the budget covers that file and everything nested in it.
pub struct ScanContext<'a> {
    pub limits: &'a Limits,
    pub scanners: &'a [Box<dyn Scanner>],
    siblings: &'a dyn SiblingSource,
    budget: Budget,
}

/// Work spent on one top-level file across every nesting level.
struct Budget {
    started: Instant,
    decompressed: AtomicU64,
    members: AtomicU64,
    exhausted: AtomicBool,
    /// The one finding that says which bound stopped the scan and where.
    finding: Mutex<Option<Finding>>,
}

/// A bound of the top-level file's budget was reached: stop work on this file.
/// The context has recorded the one finding that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExhausted;

impl<'a> ScanContext<'a> {
    /// A context without a tree around the input: references to other files
    /// are refused ([`NoSiblings`]). For tests, fuzzing and benchmarks.
    pub fn new(limits: &'a Limits, scanners: &'a [Box<dyn Scanner>]) -> Self {
        ScanContext::with_siblings(limits, scanners, &NoSiblings)
    }

    /// A context whose scanners may read referenced files through `siblings`.
    pub fn with_siblings(
        limits: &'a Limits,
        scanners: &'a [Box<dyn Scanner>],
        siblings: &'a dyn SiblingSource,
    ) -> Self {
        ScanContext {
            limits,
            scanners,
            siblings,
            budget: Budget {
                started: Instant::now(),
                decompressed: AtomicU64::new(0),
                members: AtomicU64::new(0),
                exhausted: AtomicBool::new(false),
                finding: Mutex::new(None),
            },
        }
    }

    /// Runs every scanner that detects `file`. A panicking scanner is a bug,
    /// but one hostile file must not take the whole scan down with it: the
    /// panic becomes a finding and the other scanners still run. For a
    /// top-level file, the budget finding (if a bound was reached) is added.
    pub fn run(&self, file: &FileInput<'_>) -> Vec<Finding> {
        let mut findings = Vec::new();
        for scanner in self.scanners {
            if self.budget.exhausted.load(Ordering::Relaxed) {
                break;
            }
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
        if file.depth == 0 {
            let recorded = self
                .budget
                .finding
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            findings.extend(recorded);
        }
        findings
    }

    /// Charges `bytes` of decompressed output produced for `file` (a member
    /// or stream at any depth) to the top-level file's budget. Decompressors
    /// call this per chunk as they inflate, so a bomb stops at the bound, not
    /// after it. `Err` means stop: the one finding is already recorded.
    pub fn charge_decompressed(
        &self,
        file: &FileInput<'_>,
        bytes: u64,
    ) -> Result<(), BudgetExhausted> {
        let total = self.budget.decompressed.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > self.limits.max_total_decompressed {
            return Err(self.exhaust(
                file,
                format!(
                    "over {} decompressed bytes for this file across all nesting levels; the rest was not scanned",
                    self.limits.max_total_decompressed
                ),
            ));
        }
        self.check_time(file)
    }

    /// Charges one opened member to the top-level file's budget.
    pub fn charge_member(&self, file: &FileInput<'_>) -> Result<(), BudgetExhausted> {
        let total = self.budget.members.fetch_add(1, Ordering::Relaxed) + 1;
        if total > self.limits.max_total_members {
            return Err(self.exhaust(
                file,
                format!(
                    "over {} archive members opened for this file across all nesting levels; the rest was not scanned",
                    self.limits.max_total_members
                ),
            ));
        }
        self.check_time(file)
    }

    /// Whether a bound was reached; long loops that charge nothing poll this.
    pub fn budget_exhausted(&self) -> bool {
        self.budget.exhausted.load(Ordering::Relaxed)
    }

    /// `Err` once the file has run past [`Limits::max_file_time`].
    pub fn check_time(&self, file: &FileInput<'_>) -> Result<(), BudgetExhausted> {
        if self.budget_exhausted() {
            return Err(BudgetExhausted);
        }
        if self.budget.started.elapsed() > self.limits.max_file_time {
            return Err(self.exhaust(
                file,
                format!(
                    "scanning this file took over {} s; the rest was not scanned",
                    self.limits.max_file_time.as_secs()
                ),
            ));
        }
        Ok(())
    }

    fn exhaust(&self, file: &FileInput<'_>, message: String) -> BudgetExhausted {
        if !self.budget.exhausted.swap(true, Ordering::Relaxed) {
            let finding = Finding::new(&generic::LIMIT_EXCEEDED, file, message);
            *self
                .budget
                .finding
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(finding);
        }
        BudgetExhausted
    }

    /// Reads a file that `file` references (`-r base.txt`, a module source),
    /// through the engine: confined to the scan root, regular files only,
    /// bounded. Archive members cannot reference files on disk.
    pub fn read_sibling(
        &self,
        file: &FileInput<'_>,
        reference: &str,
    ) -> Result<Sibling, SiblingError> {
        if file.member.is_some() || file.fs_path.is_none() {
            return Err(SiblingError::NoDirectory);
        }
        self.siblings.read(file.path, reference)
    }

    /// Looks at a file that `file` references without reading it.
    pub fn stat_sibling(
        &self,
        file: &FileInput<'_>,
        reference: &str,
    ) -> Result<SiblingMeta, SiblingError> {
        if file.member.is_some() || file.fs_path.is_none() {
            return Err(SiblingError::NoDirectory);
        }
        self.siblings.stat(file.path, reference)
    }

    /// Lists the regular files of a directory that `file` references
    /// (`"."` for its own directory).
    pub fn list_siblings(
        &self,
        file: &FileInput<'_>,
        reference: &str,
    ) -> Result<Vec<String>, SiblingError> {
        if file.member.is_some() || file.fs_path.is_none() {
            return Err(SiblingError::NoDirectory);
        }
        self.siblings.list(file.path, reference)
    }

    /// The finding for a reference that tried to leave the scanned tree. It
    /// names the reference (escaped and shortened), never what is there.
    /// Scanners add the line of the reference.
    pub fn escape_finding(file: &FileInput<'_>, reference: &str) -> Finding {
        Finding::new(
            &generic::REFERENCE_ESCAPES,
            file,
            "references a file outside the scanned tree; it was not read",
        )
        .evidence(excerpt(reference))
    }

    /// The text a scanner that must read every byte (text, secrets, code,
    /// IaC, data) may read: the bytes up to the first NUL, and at most the
    /// first [`Limits::max_full_read`], with a finding saying what `scanner`
    /// left unread. One place for both cuts, so every text scanner reports
    /// them the same way.
    ///
    /// Text ends at a NUL byte: what follows is not text (a sparse file's
    /// zeros behind a text head cost each text scanner 256 MiB of reading and
    /// parsing; tree-sitter took 14 s), and parsers of source refuse it
    /// anyway (CPython: "source code cannot contain null bytes"). The unread
    /// rest is reported, so it never passes the gate silently.
    pub fn full_read<'f>(
        &self,
        file: &FileInput<'f>,
        scanner: &str,
    ) -> (&'f [u8], Option<Finding>) {
        let limit = usize::try_from(self.limits.max_full_read).unwrap_or(usize::MAX);
        let capped = &file.bytes[..file.bytes.len().min(limit)];
        if let Some(at) = memchr::memchr(0, capped) {
            let finding = Finding::new(
                &generic::LIMIT_EXCEEDED,
                file,
                format!(
                    "binary content (a NUL byte) at byte {at} of {}; the {scanner} scanner read the text before it only",
                    file.bytes.len()
                ),
            );
            return (&capped[..at], Some(finding));
        }
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
        (capped, Some(finding))
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
        if self.budget_exhausted() {
            return Vec::new();
        }
        let input = FileInput {
            path: parent.path,
            member: Some(&member),
            fs_path: None,
            bytes,
            kind: detect_kind(bytes, file_name(member_name)),
            depth,
        };
        if self.charge_member(&input).is_err() {
            return Vec::new();
        }
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
        let ctx = ScanContext::new(&limits, &scanners);
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
        let ctx = ScanContext::new(&limits, &scanners);
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
        let ctx = ScanContext::new(&limits, &scanners);
        let small = FileInput::on_disk("a.txt", Path::new("a.txt"), b"abc");
        assert_eq!(ctx.full_read(&small, "secrets"), (&b"abc"[..], None));
        let big = FileInput::on_disk("b.txt", Path::new("b.txt"), b"abcdefgh");
        let (bytes, finding) = ctx.full_read(&big, "secrets");
        assert_eq!(bytes, b"abcd");
        let finding = finding.unwrap();
        assert_eq!(finding.rule_id, generic::LIMIT_EXCEEDED.id);
        assert!(finding.message.contains("secrets scanner"));
        // Text ends at a NUL, and the rest is reported.
        let sparse = FileInput::on_disk("c.tf", Path::new("c.tf"), b"ab\0\0\0\0");
        let (bytes, finding) = ctx.full_read(&sparse, "iac");
        assert_eq!(bytes, b"ab");
        assert!(
            finding
                .unwrap()
                .message
                .contains("NUL byte) at byte 2 of 6")
        );
    }

    #[test]
    fn names_and_extensions_come_from_the_innermost_member() {
        let mut f = FileInput::on_disk("dir/m.zip", Path::new("dir/m.zip"), b"");
        assert_eq!(f.name(), "m.zip");
        f.member = Some("a/b.tar!c/Data.PKL");
        assert_eq!(f.name(), "Data.PKL");
        assert_eq!(f.extension_str(), Some("PKL"));
        assert!(f.has_extension("pkl"));
        assert!(f.has_extension_in(&["npz", "pkl"]));
        assert!(!f.has_extension("pk"));
        assert_eq!(f.display(), "dir/m.zip!a/b.tar!c/Data.PKL");
        f.member = Some("noext");
        assert_eq!(f.extension_str(), None);
        assert!(!f.has_extension(""));
    }
}
