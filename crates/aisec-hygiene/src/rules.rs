use aisec_core::{Reference, Severity, refs};

/// PickleScan missed a torch archive whose data.pkl carried the encryption
/// flag on plaintext data, which torch.load reads regardless.
pub const CVE_2025_1945: Reference = Reference::new(
    "CVE-2025-1945",
    "https://nvd.nist.gov/vuln/detail/CVE-2025-1945",
);

aisec_core::rules! {
/// Every rule of the family, in id order.
pub static RULES;

pub static PATH_TRAVERSAL = Rule {
    id: "AISEC-ARC-001",
    name: "archive-path-traversal",
    summary: "An archive entry's name escapes the extraction directory",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A zip or tar entry whose name is absolute (`/etc/cron.d/x`, `C:\\\\x`, `\\\\\\\\host\\\\share`)
or climbs out with `..` (`../../.bashrc`), or contains a NUL byte that cuts the
name short in C-based extractors (\"zip slip\").

## Why it matters
Extracting the archive writes a file wherever the attacker chose: a shell
profile, a cron job, a Python file on `sys.path`, another model. Model hubs and
training pipelines unpack archives automatically (`tarfile.extractall`,
`shutil.unpack_archive`, `torch.hub`).

## Remediation
Do not extract the archive. If you must, extract with a filter that rejects
such names (Python 3.12+: `tarfile.extractall(filter=\"data\")`), then rebuild
the archive from the safe members.",
    references: &[refs::CWE_22, refs::ATLAS_SUPPLY_CHAIN],
};

pub static LINK_ESCAPE = Rule {
    id: "AISEC-ARC-002",
    name: "archive-link-escape",
    summary: "An archive holds a symbolic or hard link that points outside it",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A tar symlink or hard link, or a zip entry with the Unix symlink mode, whose
target is absolute or climbs out of the extraction directory with `..`.

## Why it matters
A link extracted first and a regular file written *through* it next lets the
archive overwrite any file the extracting user can write; a link alone makes a
model server read (and maybe serve) `~/.ssh/id_rsa` or cloud credentials as if
they were part of the model.

## Remediation
Reject the archive, or extract with a filter that refuses links leaving the
target directory (`tarfile` filter `\"data\"`).",
    references: &[refs::CWE_59, refs::CWE_22, refs::ATLAS_SUPPLY_CHAIN],
};

pub static DECOMPRESSION_BOMB = Rule {
    id: "AISEC-ARC-003",
    name: "decompression-bomb",
    summary: "A compressed member expands far beyond any plausible size",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A zip member or gzip stream whose decompressed size is more than the allowed
ratio (default 200x) of its compressed size, or more than the absolute limit,
or zip entries whose data overlap (the overlapping-entry bomb).

## Why it matters
A few kilobytes that expand to terabytes exhaust the disk or memory of
whatever unpacks them: a CI runner, a model server, a data pipeline. aisec
stops decompressing at the limit (judged on the compressed bytes consumed so
far, so a bomb stops after about a megabyte) and scans only what it read.
Past the cut it decodes up to 16 MiB more, keeping nothing, to learn what
follows: a rest that is zeros to the end hid nothing (zero-filled tensors
compress past the ratio in real artifacts) and stays medium; non-zero bytes
(a payload behind a long zero run, such as a sparse file and then a pickle in
one `.tar.gz`), a longer rest, or bombs counted without being opened make the
finding high, since unscanned content fails the default gate. Per archive,
the first three bombs are listed and the rest counted in one finding;
identical copies of a bomb or of a nested archive are opened once.

## Remediation
Do not unpack the archive. Real model and data archives compress by small
ratios; ask the publisher for the file.",
    references: &[refs::CWE_409],
};

pub static EXTENSION_MISMATCH = Rule {
    id: "AISEC-ARC-004",
    name: "extension-content-mismatch",
    summary: "A file's extension claims one format, its content is another",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A file whose name promises a format (`.safetensors`, `.json`, `.npy`, `.onnx`,
`.txt`) while its content is another, by its magic bytes: a pickle, a zip, a
compressed stream. A file that claims a safe format but is a pickle is high
severity, since a pickle runs code when loaded.

## Why it matters
Reviewers and tools trust names: \"it's safetensors, it cannot run code\".
Many loaders trust content: `torch.load` loads a pickle whatever it is called.
Renaming is the cheapest way past a name-based scanner.

## Remediation
Find out why the file lies. Replace it with a file of the format it claims,
produced from a trusted source.",
    references: &[refs::CWE_646, refs::ATLAS_SUPPLY_CHAIN],
};

pub static DUPLICATE_ENTRY = Rule {
    id: "AISEC-ARC-005",
    name: "archive-duplicate-entry",
    summary: "An archive holds two entries with the same name",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
Two or more entries of one zip or tar archive under the same name.

## Why it matters
Readers disagree on which copy wins: Python's `zipfile` takes the last, some
scanners check the first. An attacker puts a clean copy where the scanner looks
and the payload where the loader looks. aisec scans every copy.

## Remediation
Rebuild the archive with unique names from a trusted source.",
    references: &[refs::CWE_20, refs::ATLAS_SUPPLY_CHAIN],
};

pub static UNSCANNABLE_MEMBER = Rule {
    id: "AISEC-ARC-006",
    name: "archive-unscannable-member",
    summary: "An archive member is encrypted or uses a compression aisec cannot open",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A zip member that is encrypted (flag bit 0) or compressed with a method aisec
does not decompress (only stored and deflate are opened), and a 7z archive
whose entries or headers are AES-encrypted or use a coder aisec does not
decode (LZMA, LZMA2, PPMd, bzip2, deflate and the BCJ filters are opened).

## Why it matters
What cannot be read cannot be checked, and an encrypted member in a model
archive has no legitimate reason to exist: loaders cannot read it either,
unless the key travels separately with code that uses it.

## Remediation
Ask for the archive without encryption, or with stored or deflate members.",
    references: &[refs::CWE_20],
};

pub static HEADER_MISMATCH = Rule {
    id: "AISEC-ARC-007",
    name: "zip-header-mismatch",
    summary: "A zip entry's local header disagrees with its central directory record",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A zip entry whose local header (read by streaming extractors) and central
directory record (read by `zipfile`, `torch.load`) give different names,
compression methods, sizes or encryption flags, a deflated member whose CRC
does not match its data, a member flagged as encrypted whose data is
plaintext (CVE-2025-1945: torch's reader ignores the flag and loads the
pickle, a scanner that honours it skips the member), or a zip with no central
directory at all.

## Why it matters
Parser differentials are how malicious models got past picklescan and
modelscan: the scanner reads one interpretation, the loader another. aisec
scans every interpretation it can build (a flagged member is tried as stored
or deflated plaintext, and scanned when it decodes), and reports the
disagreement itself.

## Remediation
Treat the archive as crafted. Regenerate it with a standard tool from a
trusted source.",
    references: &[refs::CWE_20, refs::ATLAS_SUPPLY_CHAIN, refs::OWASP_ML06],
};

pub static POLYGLOT_PREFIX = Rule {
    id: "AISEC-ARC-008",
    name: "zip-polyglot-prefix",
    summary: "Bytes precede a zip archive: the file is a zip and something else at once",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A zip archive (`.keras`, `.npz`, a torch checkpoint, an MLflow or ONNX
bundle, any `.zip`) with bytes in front of its first entry: zeros, a shell
script, another file format. The central directory is found from the end of
the file, as Python's `zipfile` finds it, whether or not its offsets count the
prefix.

## Why it matters
Loaders that locate the archive from its end record (Python's `zipfile`, and
so Keras, NumPy and torch's Python side) open such a file normally: a Lambda
layer or pickle inside still runs. Tools that check the first bytes for
`PK\\x03\\x04` do not see a zip and pass it, and the same file can run as a
script or parse as another format for whoever reads it from byte 0. aisec
scans the members and the prefix, and reports the polyglot itself. Legitimate
model files never carry a prefix; self-extracting archives and launchers
glued to a jar do, and have no place among model artifacts.

## Remediation
Do not load the file. Rebuild the archive from a trusted source with a
standard tool, which writes the first entry at byte 0.",
    references: &[refs::CWE_20, refs::CWE_646, refs::ATLAS_SUPPLY_CHAIN],
};

}
