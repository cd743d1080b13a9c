use aisec_core::{Reference, Severity, cwe, refs};

/// NeMo instantiates the `_target_` of a `.nemo` archive's config on restore.
const CVE_2025_23304: Reference = Reference::new(
    "CVE-2025-23304",
    "https://nvd.nist.gov/vuln/detail/CVE-2025-23304",
);

aisec_core::rules! {
/// Every rule of the family, in id order.
pub static RULES;

pub static TEMPLATE_INJECTION = Rule {
    id: "AISEC-MOD-001",
    name: "chat-template-code-execution",
    summary: "A chat template reaches Python internals: code runs when the model formats a prompt",
    default_severity: Severity::Critical,
    explanation: "\
## What it finds
A Jinja2 chat template (GGUF `tokenizer.chat_template`, `tokenizer_config.json`
`chat_template`/`default_chat_template`, the same keys in YAML,
`chat_template.jinja`) that reaches Python object internals:
dunder attributes (`__class__`, `__mro__`, `__subclasses__`, `__globals__`,
`__builtins__`, `__init__`...), whether written as attributes, subscripts,
the `attr` filter or strings glued together with `~`/`+`, or the Jinja globals
that are known sandbox-escape gadgets (`cycler`, `joiner`, `lipsum`, `self`,
`namespace`'s internals), or names such as `os`, `popen`, `eval`, `import`.
Dunder reach is critical; the `attr` filter with an attribute name assembled
at render time (`|format`, `|join`, `|replace`, variables) is high, since it
hides which attribute is read; gadgets and `attr` with a plain name are medium.

Content decides, not the name: a text file under another name (`.template`,
`.tmpl`, `.html`, `.txt`, no extension...) that opens a Jinja tag and spells
one of the escape markers is lexed as a template too. There only dunder reach
and computed attribute names are reported (critical, high): HTML, Angular and
Go templates share the braces, so a gadget name alone or a parse error says
nothing about such a file. Source code (`.py`) and documentation (`.md`,
`.rst`) are not judged this way.

## Why it matters
Inference servers render the chat template on every request. Loaders that
render with a non-sandboxed Jinja2 environment (llama-cpp-python before 0.2.72,
CVE-2024-34359) execute whatever the template reaches: a GGUF file from a hub
becomes remote code execution on the server. Real chat templates only loop over
messages and print strings; they never need Python internals.

## Remediation
Do not load the model. Replace the chat template with the upstream one from the
model's original publisher, and render templates only in a sandboxed
environment (`jinja2.sandbox.ImmutableSandboxedEnvironment`).",
    references: &[
        cwe!(1336),
        cwe!(94),
        refs::ATLAS_UNSAFE_ARTIFACT,
        refs::OWASP_LLM01,
        refs::OWASP_LLM03,
    ],
};

pub static SAFETENSORS_LAYOUT = Rule {
    id: "AISEC-MOD-002",
    name: "safetensors-inconsistent-header",
    summary: "A safetensors header describes tensors that overlap, leave gaps, or lie outside the file",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A safetensors file whose JSON header breaks the format's rules: tensors whose
byte ranges overlap, leave gaps or run past the end of the file, sizes that do
not match `dtype` × `shape`, unknown dtypes, duplicate tensor names, a
`__metadata__` block with non-string values, or bytes after the last tensor.

## Severity
High when the header sends a reader past the end of the file: `data_offsets`
that end beyond the data area (a 4 GiB claim on a 176-byte file) or run
backwards, or a `dtype` × `shape` larger than what follows the tensor's start.
Readers that trust the header (memory-mapping loaders, C and Rust readers that
skip the checks of the `safetensors` library) then read out of bounds: a crash
at best, a leak of neighbouring memory into a tensor at worst (CWE-125).
Everything else is medium, overlaps included: overlapping tensors alias bytes
that are inside the file, so no reader leaves the buffer; what they enable is a
parser differential (two tensors sharing bytes, one reader seeing different
weights than another), the same class as gaps and trailing data.

## Why it matters
safetensors exists so that loading a model runs no code; a valid file is the
goal state. A file that bends the rules is either corrupt or crafted for a
parser differential (one reader sees different weights than another, or data
is smuggled in the gaps and the tail where no tensor points).

## Remediation
Re-export the weights with the `safetensors` library from a trusted source.",
    references: &[refs::CWE_20, cwe!(125), refs::ATLAS_SUPPLY_CHAIN],
};

pub static REMOTE_CODE = Rule {
    id: "AISEC-MOD-003",
    name: "model-requires-remote-code",
    summary: "A model config maps classes to custom Python code (needs trust_remote_code)",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A Hugging Face `config.json`, `tokenizer_config.json` or processor config with
an `auto_map` entry: the model's classes come from Python files in the model
repository (`modeling_x.MyModel`) or in another repository
(`other/repo--modeling.MyModel`), which `transformers` imports and runs when
loaded with `trust_remote_code=True`.

## Why it matters
That code runs with the loader's privileges at load time. It is ordinary
Python: anything it does (download, exfiltrate, spawn) is allowed, and it can
change with every new revision of the repository.

## Remediation
Prefer models whose architecture ships in `transformers` itself. Otherwise
review the referenced `.py` files, pin the model to a commit hash
(`revision=`), and load it in an isolated environment.",
    references: &[
        cwe!(829),
        cwe!(94),
        refs::ATLAS_SUPPLY_CHAIN,
        refs::OWASP_ML06,
        refs::OWASP_LLM03,
    ],
};

pub static NUMPY_OBJECT_ARRAY = Rule {
    id: "AISEC-MOD-004",
    name: "numpy-object-array",
    summary: "A NumPy array of dtype object: its data is a pickle, loaded only with allow_pickle=True",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A `.npy` file (alone or inside an `.npz`) whose dtype is `object` (`|O`),
including structured dtypes with an object field. Its payload is a pickle; the
pickle itself is scanned and any dangerous call is reported separately.

## Why it matters
`numpy.load(..., allow_pickle=True)` unpickles the payload, which can run any
code. Numeric arrays never need object dtype.

## Remediation
Store numeric arrays with a numeric dtype; load untrusted files with the
default `allow_pickle=False`.",
    references: &[refs::CWE_502, refs::ATLAS_UNSAFE_ARTIFACT, refs::OWASP_ML06],
};

pub static ONNX_EXTERNAL_DATA = Rule {
    id: "AISEC-MOD-005",
    name: "onnx-external-data-escape",
    summary: "An ONNX tensor's external data location points outside the model directory",
    default_severity: Severity::High,
    explanation: "\
## What it finds
An ONNX tensor (initializer, sparse initializer or attribute tensor) stored
as external data whose `location` is an absolute path, a Windows drive path,
a URL, or climbs above the model's directory with `..` (high). The path is
normalised first, as loaders join it: `subdir/../weights.bin` is
`weights.bin`, inside the directory, and is not reported. A location equal to
ONNX Runtime's in-memory tag `*/_ORT_MEM_ADDR_/*` is high too: readers that
honour it in a file take `offset` as a memory address (CWE-822).

For a model on disk, the named file is looked at through the engine (its size
only, confined to the scanned tree): a claim beyond its end (medium), a
directory, FIFO or device (medium), or a file that does not exist (low). A
location that stays in the model directory on paper but resolves outside the
scanned tree (through a symbolic link) is reported once, as
`AISEC-GEN-007`, not here; a location that leaves the directory on paper is
reported once, here, and not looked at.

## Why it matters
ONNX loaders read external data relative to the model file. Size claims past
the end of a file push readers into over-reads and huge allocations. A location such
as `../../../../etc/shadow` or `/home/user/.ssh/id_rsa` makes the loader read
an arbitrary file into a weight tensor, from where it can leak through model
outputs or logs (CVE-2022-25882, CVE-2024-27318 in the `onnx` package).

## Remediation
Reject the model. External data must live next to the model, named by a
relative path without `..`.",
    references: &[refs::CWE_22, cwe!(822), refs::ATLAS_SUPPLY_CHAIN],
};

pub static ONNX_CUSTOM_OPERATOR = Rule {
    id: "AISEC-MOD-006",
    name: "onnx-custom-operator",
    summary: "An ONNX graph uses operators outside the standard domains (custom code at inference)",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
ONNX nodes whose domain is not a standard ONNX or ONNX Runtime domain: they
only run when a custom-operator library (native code) is registered. Python
operators (`PyOp` of onnxruntime-extensions) are reported as high: they run
Python code named by the model at inference time.

## Why it matters
The model decides which native or Python code the runtime must load and call.
A custom domain from an untrusted model is a request to run untrusted code.

## Remediation
Use models built from standard operators, or review and pin the custom-op
library the model needs before registering it.",
    references: &[cwe!(829), refs::ATLAS_SUPPLY_CHAIN, refs::OWASP_ML06],
};

pub static TF_DANGEROUS_OP = Rule {
    id: "AISEC-MOD-007",
    name: "tensorflow-dangerous-op",
    summary: "A TensorFlow graph reads or writes files, or calls Python, when it runs",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A TensorFlow `SavedModel` or frozen `GraphDef` whose graph (or function
library) contains ops such as `ReadFile`, `WriteFile`, `MatchingFiles`,
`ImmutableConst`, `PyFunc`/`EagerPyFunc` or `LoadLibrary`. Checkpoint ops
(`SaveV2`, `RestoreV2`) are normal and not reported.

## Why it matters
Serving the model executes the graph: a `WriteFile` op overwrites files on the
server, a `ReadFile` op leaks them into outputs, Python and library ops run
code. Legitimate inference graphs need none of them.

## Remediation
Re-export the model from trusted code, or reject it.",
    references: &[
        cwe!(94),
        cwe!(73),
        refs::ATLAS_UNSAFE_ARTIFACT,
        refs::OWASP_ML06,
    ],
};

pub static KERAS_LAMBDA = Rule {
    id: "AISEC-MOD-008",
    name: "keras-lambda-layer",
    summary: "A Keras model has a Lambda layer: serialised Python code that runs on load",
    default_severity: Severity::Critical,
    explanation: "\
## What it finds
A `Lambda` layer in a Keras model config (`.keras`, legacy `.h5`, JSON). A
config is recognised by where it is stored (`config.json` of a `.keras`
archive, at any nesting) or by its shape (`class_name` + `config`, layer
lists, `Lambda` layers), never by whether it mentions Keras. When
its function is serialised bytecode (Keras 3 `__lambda__` with base64 `code`,
Keras 2 marshalled functions) the finding is critical; a Lambda that names a
function is high, since that function must exist in the loading process.

## Why it matters
`keras.models.load_model` deserialises and calls the bytecode; with
`safe_mode=False` (or Keras < 2.13, or the legacy HDF5 path that ignored
`safe_mode`, CVE-2024-3660) that is arbitrary code execution on load.

## Remediation
Replace Lambda layers with built-in or registered custom layers, and never
load untrusted models with `safe_mode=False`.",
    references: &[
        refs::CWE_502,
        cwe!(94),
        refs::ATLAS_UNSAFE_ARTIFACT,
        refs::OWASP_ML06,
    ],
};

pub static KERAS_FOREIGN_OBJECT = Rule {
    id: "AISEC-MOD-009",
    name: "keras-foreign-object",
    summary: "A Keras config names a class or function from a module outside Keras",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
An object in a Keras model config whose `module` is not Keras or TensorFlow:
custom layers, losses or functions that the loader imports by name. Modules
such as `os`, `subprocess` or `builtins` are critical: there is no legitimate
layer there.

## Why it matters
Deserialisation imports the module and calls the named object. A config that
points at `os.system` or an attacker's package turns loading into execution.

## Remediation
Review every custom object the model needs, register them explicitly with
`custom_objects=` from trusted code, and reject configs that name system
modules.",
    references: &[refs::CWE_502, cwe!(829), refs::ATLAS_UNSAFE_ARTIFACT],
};

pub static MLFLOW_CODE_ON_LOAD = Rule {
    id: "AISEC-MOD-010",
    name: "mlflow-code-on-load",
    summary: "An MLflow model runs its own code or unpickles objects when loaded",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
An MLflow `MLmodel` file whose `python_function` flavor names a loader module
outside MLflow (high), ships `code` directories that go on `sys.path`, or whose
model is stored with pickle or cloudpickle (`python_model`, `pickled_model`
with a pickle `serialization_format`). The pickles themselves are scanned by
the pickle scanner.

## Why it matters
`mlflow.pyfunc.load_model` imports the loader module and the shipped code and
unpickles the model: loading an MLflow model from a registry or a run artifact
is running its code. Registries are shared; one compromised run taints every
consumer.

## Remediation
Prefer flavors that store weights without code (ONNX, safetensors-based),
review shipped code, and load models only from runs and registries you
control.",
    references: &[
        refs::CWE_502,
        cwe!(829),
        refs::ATLAS_SUPPLY_CHAIN,
        refs::OWASP_ML06,
    ],
};

pub static TORCHSCRIPT_FILE_OR_NATIVE = Rule {
    id: "AISEC-MOD-011",
    name: "torchscript-file-or-native-op",
    summary: "TorchScript code in a model reads or writes files or loads native code",
    default_severity: Severity::High,
    explanation: "\
## What it finds
TorchScript source (`code/__torch__/**.py` inside a `torch.jit.save` archive)
that calls an operator touching the file system or loading native code:
`torch.save` / `ops.aten.save` (writes any path), `torch.from_file` /
`ops.aten.from_file` (reads any path), `torch.load`, `torch.jit.load`,
`torch.ops.load_library`. Critical when the call sits in `__setstate__`, which
runs while the archive loads; high anywhere else (it runs when the model is
called). Names are matched after tokenising, so `torch . ops . aten . save`
split over lines is the same call; strings and comments are ignored.

## Why it matters
`torch.load` hands TorchScript archives to `torch.jit.load`, where
`weights_only=True` does not apply (CVE-2025-32434). TorchScript cannot import
Python modules, but writing a file is enough to plant code (a `.pth` file in
site-packages, a shell profile, a cron entry), and reading one is enough to
pull secrets into tensors the model returns. A model has no reason to do
either.

## Remediation
Do not load the archive. Ask for weights in safetensors and the architecture as
reviewed source code, or re-export the model yourself from trusted code.",
    references: &[
        cwe!(73),
        refs::CWE_502,
        refs::ATLAS_SUPPLY_CHAIN,
        refs::OWASP_ML06,
    ],
};

pub static TORCHSCRIPT_CUSTOM_OPERATOR = Rule {
    id: "AISEC-MOD-012",
    name: "torchscript-custom-operator",
    summary: "TorchScript code calls operators that only a native extension library provides",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
TorchScript source that calls `ops.<namespace>.<op>` or uses
`torch.classes.<namespace>.<Class>` for a namespace PyTorch and its domain
libraries (torchvision, torchaudio) do not register. The evidence names the
operator.

## Why it matters
Such operators exist only after a native library has been loaded
(`torch.ops.load_library`, an `import` of a compiled extension): the model
cannot run without native code from somewhere, and whoever supplies the model
will also want to supply that library. Native code is outside every scanner's
view and runs with the loader's rights.

## Remediation
Find out which package registers the namespace, check that it is a dependency
you already trust and pin it, or re-export the model without the custom
operator.",
    references: &[cwe!(829), refs::ATLAS_SUPPLY_CHAIN, refs::OWASP_ML06],
};

pub static HYDRA_DANGEROUS_TARGET = Rule {
    id: "AISEC-MOD-013",
    name: "hydra-dangerous-target",
    summary: "A Hydra/OmegaConf config's `_target_` names a callable that runs commands, evaluates code or unpickles",
    default_severity: Severity::Critical,
    explanation: "\
## What it finds
A YAML or JSON config (content decides: a mapping with a `_target_` key) whose
`_target_` names a callable that reaches a process, code-evaluation, import,
deserialisation, native-code or file-system sink in one call: `os.system`,
`subprocess.Popen`, `builtins.eval`/`exec`/`compile`/`__import__`,
`pickle.loads`, `dill`, `marshal`, `shutil`, `pty`, `importlib`, `runpy`,
`torch.load`, `torch.hub.load` and similar (critical). Names are matched after
folding aliases (`__builtin__`, `posix`, `module:attr`) and against every
dotted suffix, because Hydra imports the longest importable prefix and then
follows attributes (`torch.os.system` is `os.system`). `_partial_: true`
changes nothing: the partial is called later by the consumer. The NeMo
`model_config.yaml` inside a `.nemo` archive reaches this rule as an archive
member. Callables outside the frameworks models are built from (torch, NeMo,
Lightning, transformers, Megatron...) are listed in one low finding per file:
they are imported and called, with effects this rule cannot judge.

## Why it matters
`hydra.utils.instantiate` imports the dotted name and calls it with the
mapping's other keys as arguments. NeMo does this with the config of every
`.nemo` archive it restores (CVE-2025-23304), as do Lightning CLIs and many
research codebases with configs shipped beside checkpoints: a config is code.
`_target_: os.system` with `command: ...` runs a shell command when the model
loads.

## Remediation
Do not restore the archive or instantiate the config. Replace `_target_`
entries with the framework classes the model needs, and instantiate configs
from untrusted sources only after checking every `_target_` against an allow
list.",
    references: &[
        cwe!(470),
        cwe!(94),
        CVE_2025_23304,
        refs::ATLAS_UNSAFE_ARTIFACT,
        refs::OWASP_ML06,
        refs::OWASP_LLM03,
    ],
};

}
