//! The rules this crate reports, `AISEC-PKL-0NN`.

use aisec_core::{Reference, Severity, atlas, refs};

const PICKLE_DOCS: Reference = Reference::new(
    "python-pickle-warning",
    "https://docs.python.org/3/library/pickle.html",
);
const CWE_94: Reference = aisec_core::cwe!(94);
const CWE_913: Reference = aisec_core::cwe!(913);
const ATLAS_EXECUTION: Reference = atlas!("AML.T0011");

static COMMON: &[Reference] = &[
    refs::CWE_502,
    refs::ATLAS_UNSAFE_ARTIFACT,
    refs::ATLAS_SUPPLY_CHAIN,
    refs::OWASP_ML06,
    PICKLE_DOCS,
];

aisec_core::rules! {
/// Every rule of the family, in id order.
pub static RULES;

pub static DANGEROUS_CALLABLE = Rule {
    id: "AISEC-PKL-001",
    name: "pickle-dangerous-callable",
    summary: "A pickle imports or calls a function that runs code, spawns processes, imports, opens files or networks",
    default_severity: Severity::Critical,
    explanation: "\
## What it finds
A Python pickle (a `.pkl`, `.pt`, `.pth`, `.bin`, `.ckpt`, `.joblib` file, or
the `data.pkl` inside a PyTorch zip) whose opcodes import a callable on aisec's
deny list and, usually, call it while the file is being loaded: `os.system`,
`subprocess.Popen`, `builtins.eval`/`exec`/`__import__`/`getattr`, `runpy`,
`socket`, `shutil`, `pickle.loads`, `ctypes`, `torch.hub`, and their aliases
(`posix.system`, `__builtin__.eval`, `numpy.testing._private.utils.os.system`).
aisec resolves names the way the loader does, through the memo, `STACK_GLOBAL`
operands, strings assembled at load time, `getattr`/`__import__` chains and
dotted attribute walks, without running anything.

The evidence shows the resolved callable, its literal arguments where known,
and the byte offset of the call, e.g. `os.system('curl x | sh')`.

The deny list is data (`crates/aisec-pickle/src/deny.txt`), each entry with
its provenance: aisec's own review of which standard-library, PyTorch,
NumPy, scikit-learn and Transformers callables reach a process, file,
network, eval or unpickling sink, and every callable that picklescan,
modelscan, fickling and ModelAudit deny or that an advisory names (the
finding links the advisory, e.g. GHSA-g38g-8gr9-h9xp for
`_pyrepl.pager.pipe_pager`). Allowed helpers that call a callable they are
given are judged by that callable: NumPy's `__generator_ctor(name, ctor)`
is benign with NumPy's own constructor and critical with anything else.

A stream the loader rejects part-way is still reported: CPython executes a
pickle opcode by opcode, so a call before the first invalid byte (with or
without a protocol header, under any file name) has already run when the
loader raises.

## Why it matters
`pickle.load`, `torch.load(weights_only=False)`, `joblib.load` and friends
execute every call the file asks for, with the privileges of the process that
loads the model. A model file with such a call is a program, and one that
rarely has a legitimate reason to exist: no model needs to spawn a shell to
restore its weights.

## Remediation
Do not load the file. Obtain the model from its original publisher, or as
`safetensors`/ONNX/GGUF, which carry no code. If you produced the file
yourself, find the object whose `__reduce__` returns this callable. Load
untrusted PyTorch checkpoints only with `torch.load(..., weights_only=True)`.",
    references: COMMON,
};

pub static UNKNOWN_CALLABLE = Rule {
    id: "AISEC-PKL-002",
    name: "pickle-unknown-callable",
    summary: "A pickle imports or calls a callable that is not on the list of known-safe ones",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
An import in a pickle (a class to instantiate or a function to call at load
time) that is neither on the deny list nor on aisec's allow list of callables
known to only rebuild data: tensor and storage rebuilders of PyTorch, NumPy
array reconstruction, `collections`, scikit-learn estimators, builtin
containers and a few others. Also reported: `EXT1/EXT2/EXT4` opcodes, which
push whatever the loading process registered under an extension code.

## Why it matters
Whatever a pickle imports, the loader imports and may call with arguments the
file chooses. A callable nobody has reviewed is not known to be harmless;
many published bypasses of pickle scanners use obscure standard-library or
third-party functions that reach `exec` or a shell indirectly. Custom classes
of the model's own package also land here: they are usually fine, and they
still run that package's code on load.

## Remediation
Check that the module is one you expect (your project's own classes, a library
you use). Prefer formats without code (safetensors). If the callable is safe
and common, suggest it for aisec's allow list, or waive the finding in
`aisec.toml` with a reason.",
    references: COMMON,
};

pub static OBFUSCATED_IMPORT = Rule {
    id: "AISEC-PKL-003",
    name: "pickle-obfuscated-import",
    summary: "A pickle computes the name it imports, or calls a value computed at load time",
    default_severity: Severity::High,
    explanation: "\
## What it finds
`STACK_GLOBAL` whose module or name is not a literal string but the result
of a call made while loading (string concatenation, `''.join`, base64 or
rot13 decoding, `getattr` on a string), or cannot be resolved at all; and
calls whose callee is itself the result of another call (`getattr(x, 'y')(...)`,
`attrgetter('system')(os)`). aisec folds the common tricks and reports the
resolved name as well, under AISEC-PKL-001/002.

Also `EXT1`/`EXT2`/`EXT4`: they push whatever the loading process has
registered under a copyreg extension code (`copyreg.add_extension`). No
model file uses extension codes, and the file itself does not say what it
imports: the payload depends on a registry that other code in the loading
process filled, which is exactly what a scanner reading the file cannot see.
That makes the file a loader-dependent payload, reported high.

## Why it matters
The standard pickler always writes names as literals and never calls the
result of a call. A pickle that builds its imports at load time was written
by hand to hide what it imports from scanners that read strings.

## Remediation
Treat the file as malicious unless you know exactly who made it and why.
Do not load it.",
    references: &[
        refs::CWE_502,
        refs::ATLAS_UNSAFE_ARTIFACT,
        refs::OWASP_ML06,
        CWE_94,
        ATLAS_EXECUTION,
    ],
};

pub static GLOBAL_MUTATION = Rule {
    id: "AISEC-PKL-004",
    name: "pickle-global-mutation",
    summary: "A pickle changes the state of an imported module, class or function",
    default_severity: Severity::High,
    explanation: "\
## What it finds
`BUILD`, `SETITEM(S)`, `APPEND(S)` or `ADDITEMS` applied to an imported object
itself rather than to an instance created by the pickle: for example setting
attributes of a class or module through `BUILD`'s slot state, or writing into
`os.environ` with `SETITEM`.

## Why it matters
The loader performs these as `setattr`, `__setitem__`, `append` or `add` on
the live object. Changing a module or class changes it for the whole process:
a pickle can replace a function that later code calls, monkey-patch a
library's safety checks, or set environment variables for subprocesses. The
standard pickler never produces this.

## Remediation
Do not load the file; it was crafted by hand.",
    references: &[
        refs::CWE_502,
        CWE_913,
        refs::ATLAS_UNSAFE_ARTIFACT,
        refs::OWASP_ML06,
    ],
};

pub static DISCARDED_CALL = Rule {
    id: "AISEC-PKL-005",
    name: "pickle-discarded-call",
    summary: "A pickle calls something whose result is thrown away",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A call made at load time (`REDUCE`, `INST`, `OBJ`, `NEWOBJ`) whose result is
never part of the object the pickle returns: it is popped, left on the stack,
or only stored in the memo.

## Why it matters
A pickler only emits calls that build the object being saved, so every call
result ends up in the returned object. A call made only for its side effect,
followed by the innocent-looking model, is the shape of an injected payload.

## Remediation
Inspect the call in the evidence (`aisec pickle decompile FILE` shows the
whole stream). Do not load the file unless the call is understood.",
    references: &[refs::CWE_502, refs::ATLAS_UNSAFE_ARTIFACT, refs::OWASP_ML06],
};

pub static APPENDED_PICKLE = Rule {
    id: "AISEC-PKL-006",
    name: "pickle-appended-stream",
    summary: "Several pickle streams are concatenated in one file",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A file in which another complete pickle follows the first one's STOP opcode
(outside the PyTorch legacy format, which does this by design and is
recognised by its magic number). Each stream is scanned; their findings are
reported separately.

## Why it matters
`pickle.load` reads only the first stream, so a scanner that stops there
looks clean, while loaders that read in a loop (PyTorch's legacy loader,
`joblib`, custom code) run the rest. Appending a payload after a legitimate
model is a known way to slip past scanners.

## Remediation
Regenerate the file with a single `pickle.dump`, or split the streams into
separate files that are each reviewed.",
    references: &[refs::CWE_502, refs::ATLAS_UNSAFE_ARTIFACT, refs::CWE_20],
};

pub static TRAILING_DATA = Rule {
    id: "AISEC-PKL-007",
    name: "pickle-trailing-data",
    summary: "Bytes follow the end of the pickle stream",
    default_severity: Severity::Low,
    explanation: "\
## What it finds
Content after the last STOP opcode that is not another pickle stream.

## Why it matters
Loaders ignore it, but other tools may not: it can carry a second-stage
payload, a polyglot file (a pickle that is also a zip or a script), or data
smuggled past review. It is harmless in formats that define it (PyTorch's
legacy format stores tensor bytes there, and is not reported).

## Remediation
Check where the extra bytes come from; regenerate the file if unsure.",
    references: &[refs::CWE_20, refs::ATLAS_SUPPLY_CHAIN],
};

pub static NONSTANDARD_STRUCTURE = Rule {
    id: "AISEC-PKL-008",
    name: "pickle-nonstandard-structure",
    summary: "A pickle has a structure no pickler writes: it was crafted by hand",
    default_severity: Severity::Low,
    explanation: "\
## What it finds
Opcode patterns that CPython's picklers never produce but its loader
accepts: a memo slot written twice, values or marks left over at STOP, a
protocol header in the middle of the stream.

## Why it matters
None of these is harmful by itself; together with other findings they show
that the file was edited or assembled by hand, typically to confuse
scanners that track the memo or the stack naively.

## Remediation
Treat the file with suspicion; prefer a freshly exported copy.",
    references: &[refs::CWE_502, refs::CWE_20],
};

pub static INCONSISTENT_FRAME = Rule {
    id: "AISEC-PKL-009",
    name: "pickle-inconsistent-frame",
    summary: "A protocol 4 frame is crossed by an opcode or opened inside another: loaders read the stream differently",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A `FRAME` opcode whose declared length ends inside an opcode (an argument
that declares more bytes than the frame has left), or a second `FRAME`
opened before the first one ends.

## Why it matters
CPython treats a frame as a read-ahead hint. Reading bytes in memory
(`pickle.loads`), an argument simply runs on past the frame's end. Reading
a file in chunks (`pickle.load` on `io.BytesIO`, an unbuffered file, or any
frame larger than the file's buffer), the frame is one chunk: a read that
needs more than the chunk has left throws the rest away and continues after
the frame. The bytes a pickletools-style parser takes for a long string are
then opcodes that run, such as a hidden `GLOBAL` and `REDUCE` (a published
scanner bypass). No pickler writes such a frame. aisec reports the frame
and scans the stream both ways; findings that only the file reading shows
say so.

## Remediation
Treat the file as crafted to evade scanners. Do not load it.",
    references: &[refs::CWE_502, refs::ATLAS_UNSAFE_ARTIFACT, refs::CWE_20],
};

}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_documented_and_numbered() {
        for (i, rule) in RULES.iter().enumerate() {
            assert_eq!(rule.id, format!("AISEC-PKL-{:03}", i + 1));
            assert_eq!(rule.family(), "PKL");
            for heading in ["## What it finds", "## Why it matters", "## Remediation"] {
                assert!(
                    rule.explanation.contains(heading),
                    "{} lacks {heading}",
                    rule.id
                );
            }
            assert!(!rule.references.is_empty());
        }
    }
}
