use aisec_core::{Reference, Rule, Severity, cwe, refs};

const OWASP_LLM01: Reference = Reference::new(
    "OWASP-LLM01:2025",
    "https://genai.owasp.org/llmrisk/llm01-prompt-injection/",
);

pub static TEMPLATE_INJECTION: Rule = Rule {
    id: "AISEC-MOD-001",
    name: "chat-template-code-execution",
    summary: "A chat template reaches Python internals: code runs when the model formats a prompt",
    default_severity: Severity::Critical,
    explanation: "\
## What it finds
A Jinja2 chat template (GGUF `tokenizer.chat_template`, `tokenizer_config.json`
`chat_template`, `chat_template.jinja`) that reaches Python object internals:
dunder attributes (`__class__`, `__mro__`, `__subclasses__`, `__globals__`,
`__builtins__`, `__init__`...), whether written as attributes, subscripts,
the `attr` filter or strings glued together with `~`/`+`, or the Jinja globals
that are known sandbox-escape gadgets (`cycler`, `joiner`, `lipsum`, `self`,
`namespace`'s internals), or names such as `os`, `popen`, `eval`, `import`.

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
        OWASP_LLM01,
        refs::OWASP_LLM03,
    ],
};

pub static SAFETENSORS_LAYOUT: Rule = Rule {
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

## Why it matters
safetensors exists so that loading a model runs no code; a valid file is the
goal state. A file that bends the rules is either corrupt or crafted for a
parser differential (one reader sees different weights than another, or data
is smuggled in the gaps and the tail where no tensor points).

## Remediation
Re-export the weights with the `safetensors` library from a trusted source.",
    references: &[refs::CWE_20, refs::ATLAS_SUPPLY_CHAIN],
};

pub static REMOTE_CODE: Rule = Rule {
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

pub static NUMPY_OBJECT_ARRAY: Rule = Rule {
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

pub static RULES: &[&Rule] = &[
    &TEMPLATE_INJECTION,
    &SAFETENSORS_LAYOUT,
    &REMOTE_CODE,
    &NUMPY_OBJECT_ARRAY,
];
