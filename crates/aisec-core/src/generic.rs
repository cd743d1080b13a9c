//! Rules that belong to no scanner family: the scan itself could not do its
//! job on some file. These are findings, not log lines, because a file an
//! attacker made unreadable to us is exactly where they would hide something.

use crate::{Severity, refs};

crate::rules! {
/// Every rule of the family, in id order.
pub static RULES;

pub static UNREADABLE = Rule {
    id: "AISEC-GEN-001",
    name: "unreadable-path",
    summary: "A file or directory could not be read, so it was not scanned",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A path the walker reached but could not open or list: permission denied, a
symbolic-link loop, a file that vanished during the scan, an I/O error, or a
FIFO, socket or device inside the tree (never read: reading one can block
forever or have side effects).

## Why it matters
Nothing inside the path was checked. A model or script that nobody can read in
CI can still be read by the process that deploys it, so unread content fails
the default gate (high) rather than passing it silently.

## Remediation
Fix the permissions or the link, or exclude the path explicitly in
`aisec.toml` (`exclude = [...]`) if it is meant to be skipped.",
    references: &[refs::CWE_20],
};

pub static MALFORMED = Rule {
    id: "AISEC-GEN-002",
    name: "malformed-file",
    summary: "A file could not be fully parsed as the format it claims to be",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A file whose content starts like a known format (zip, pickle, safetensors...)
but breaks its rules further on: truncated, corrupt, or deliberately crafted so
that parsers disagree.

## Why it matters
Malformed files are a classic way past scanners: the scanner gives up, the
loader (more lenient) goes on and runs the payload. aisec reports what it saw
before the error as usual, and this finding says that the rest was not seen.

## Remediation
Regenerate the file from a trusted source. If it came from outside, treat it as
hostile until it parses cleanly.",
    references: &[refs::CWE_20, refs::ATLAS_SUPPLY_CHAIN],
};

pub static LIMIT_EXCEEDED = Rule {
    id: "AISEC-GEN-003",
    name: "scan-limit-exceeded",
    summary: "A size, depth, count or time limit stopped part of a file from being scanned",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A file or member larger than the full-read limit, archives nested deeper than
the nesting limit, more members than the member limit, or a top-level file
whose total work (decompressed bytes and members across all nesting levels,
or time) reached its budget. The part beyond the limit was not scanned; one
finding says which bound stopped the scan and where.

## Why it matters
Limits keep aisec fast and safe on hostile input; an attacker can also use them
to push a payload out of sight (a pickle after 100,001 tar entries, or at depth
9 of nested zips). Content that was not scanned is not known to be safe, so
this fails the default gate (high).

## Remediation
Raise the limit (`--max-file-size`, `[limits]` in `aisec.toml`) when the file is
legitimate, or reject the artifact.",
    references: &[refs::CWE_409],
};

pub static WAIVER_EXPIRED = Rule {
    id: "AISEC-GEN-004",
    name: "waiver-expired",
    summary: "A waiver in aisec.toml has expired and no longer suppresses findings",
    default_severity: Severity::Low,
    explanation: "\
## What it finds
A `[[waiver]]` entry whose `expires` date has passed. The findings it used to
suppress are reported again.

## Why it matters
Waivers are promises to fix something later. An expired one is a promise
broken; aisec reports it instead of silently honouring it forever.

## Remediation
Fix the underlying findings and delete the waiver, or renew it with a new date
and a reason.",
    references: &[],
};

pub static SCANNER_CRASHED = Rule {
    id: "AISEC-GEN-005",
    name: "scanner-crashed",
    summary: "A scanner failed on this file (an aisec bug); the file was not fully scanned",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A scanner hit an internal error (a panic) on this file. The scan went on with
the other scanners and files.

## Why it matters
This is a bug in aisec, and the file may be crafted to trigger it. Until it is
fixed, the file was not checked by that scanner.

## Remediation
Please report the file (or a reduced copy) to the aisec issue tracker. Treat
the file as unscanned.",
    references: &[refs::CWE_20],
};

pub static SYMLINK_ESCAPE = Rule {
    id: "AISEC-GEN-006",
    name: "symlink-escapes-root",
    summary: "A symbolic link in the scanned tree points outside it",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A symbolic link inside the scanned directory whose target lies outside the
directory: an absolute path, or enough `..` to climb out (a dangling link
is judged by where it would point).

## Why it matters
Model directories are copied, uploaded and served as a whole. A link such as
`tokenizer.json -> /home/user/.ssh/id_rsa` or `-> ../../.aws/credentials` makes
the publisher ship (or the server read) a file nobody meant to share; loaders
that follow links read attacker-chosen files. The OpenSSF model-signing format
refuses links unless told otherwise for the same reason.

## Remediation
Replace the link with the file it should contain, or remove it. aisec does not
follow links unless `--follow-symlinks` is given, and never follows one that
leaves the scanned tree, even then.",
    references: &[refs::CWE_59, refs::ATLAS_SUPPLY_CHAIN],
};

pub static REFERENCE_ESCAPES = Rule {
    id: "AISEC-GEN-007",
    name: "reference-escapes-root",
    summary: "A scanned file references a file outside the scanned tree",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A reference inside a scanned file that resolves outside the directory being
scanned, after `..` and symbolic links are resolved: a pip `-r`/`-c` include
such as `-r /proc/self/environ` or `-r ../../secrets.txt`, a Terraform module
`source` that climbs out of the repository, a conda file named by an absolute
path. aisec does not read the target; the finding names the reference only.

## Why it matters
Tools that follow such references read (and often print) files the repository
has no business naming: a pull request that adds `-r /proc/self/environ` makes
a naive scanner copy the CI runner's environment, tokens included, into a
report uploaded to a code-scanning service. Installers that follow it
(`pip install -r`) read files from the machine they run on.

## Remediation
Keep referenced files inside the repository and name them by relative paths
that stay inside it. If the reference is intended (a shared constraints file
in a monorepo), scan from the directory that contains both files.",
    references: &[refs::CWE_22, refs::ATLAS_SUPPLY_CHAIN],
};

pub static WAIVER_UNUSED = Rule {
    id: "AISEC-GEN-008",
    name: "waiver-unused",
    summary: "A waiver in aisec.toml matched no finding of this scan",
    default_severity: Severity::Low,
    explanation: "\
## What it finds
A `[[waiver]]` entry that suppressed nothing in this scan: the finding it was
written for is fixed, or its `rule`, `path` or `fingerprint` has a typo and it
never matched anything.

## Why it matters
A waiver that matches nothing is either dead weight or a mistake that leaves
the finding it was meant for unexplained. Worse, a stale waiver keeps matching
a *new* finding that happens to fit it later, suppressing it silently.

## Remediation
Delete the waiver if its finding is fixed; otherwise correct its selector
(scans of part of a tree can leave waivers for the rest unused: scan the whole
tree, or ignore this rule for partial scans).",
    references: &[],
};
}
