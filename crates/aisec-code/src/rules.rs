//! The rule table of the code scanner. Each explanation is what
//! `aisec explain AISEC-CODE-NNN` prints.

use aisec_core::{Severity, cwe, refs};

aisec_core::rules! {
/// Every rule of the family, in id order.
pub static RULES;

pub static TORCH_LOAD = Rule {
    id: "AISEC-CODE-001",
    name: "torch-load-without-weights-only",
    summary: "torch.load without weights_only=True unpickles the checkpoint and can run code",
    default_severity: Severity::High,
    explanation: "\
## What it finds
Calls of `torch.load` (however imported: `import torch as t; t.load(...)`,
`from torch import load`) that pass `weights_only=False`, or that do not pass
`weights_only` at all.

## Why it matters
A PyTorch checkpoint is a zip of pickles. With `weights_only=False`,
`torch.load` runs the full pickle VM, and a checkpoint downloaded from a hub or
a colleague can import and call any Python function (`os.system`) the moment it
is loaded. PyTorch 2.6 made `weights_only=True` the default; code without the
argument is safe only on new PyTorch, and is unsafe on the many pinned older
versions, which is why the missing argument is reported at medium severity and
medium confidence, and an explicit `False` at high.

## Remediation
Pass `weights_only=True` (allow extra types with
`torch.serialization.add_safe_globals`), or store weights as safetensors and
load them with `safetensors.torch.load_file`.",
    references: &[
        refs::CWE_502,
        refs::ATLAS_UNSAFE_ARTIFACT,
        refs::OWASP_LLM03,
        refs::OWASP_ML06,
    ],
};

pub static PICKLE_LOAD = Rule {
    id: "AISEC-CODE-002",
    name: "pickle-family-deserialization",
    summary: "Data deserialized with pickle, cloudpickle, dill, joblib, pandas.read_pickle, shelve or marshal",
    default_severity: Severity::High,
    explanation: "\
## What it finds
Calls that unpickle (or unmarshal) data: `pickle.load`/`loads`/`Unpickler`
(also `cPickle`, `_pickle`), `cloudpickle.load(s)`, `dill.load(s)`,
`joblib.load`, `pandas.read_pickle`, `shelve.open`, `marshal.load(s)`,
`jsonpickle.decode`, through any import alias (`from pickle import loads as l`)
or a local alias (`load = pickle.loads`).

## Why it matters
Unpickling is code execution: a pickle names the callables to import and call
while it loads (`__reduce__`). Model files (`.pkl`, `.joblib`, scikit-learn and
many checkpoints) are pickles, so loading one from a hub, a bucket or a user
upload runs whatever its author chose. `marshal` loads code objects and is
not safe for untrusted input either; `shelve` is pickle underneath.

## Remediation
Load only files you produced and whose integrity you check (a hash or a
signature). For models, use safetensors, ONNX or `skops.io` with an explicit
trusted-types list; for data, JSON, Parquet or NumPy without `allow_pickle`.
Scan artifacts with `aisec scan` before they are loaded.",
    references: &[
        refs::CWE_502,
        refs::ATLAS_UNSAFE_ARTIFACT,
        refs::OWASP_LLM03,
        refs::OWASP_ML06,
    ],
};

pub static NUMPY_ALLOW_PICKLE = Rule {
    id: "AISEC-CODE-003",
    name: "numpy-load-allow-pickle",
    summary: "numpy.load with allow_pickle=True unpickles object arrays",
    default_severity: Severity::High,
    explanation: "\
## What it finds
`numpy.load(..., allow_pickle=True)`, by keyword or as the third positional
argument.

## Why it matters
NumPy refuses object arrays by default because they are stored as pickles;
`allow_pickle=True` turns that protection off, and a crafted `.npy`/`.npz`
runs code when loaded (CVE-2019-6446).

## Remediation
Drop `allow_pickle=True` and store numeric arrays only. If object arrays are
really needed, produce and verify the files yourself.",
    references: &[refs::CWE_502, refs::ATLAS_UNSAFE_ARTIFACT, refs::OWASP_ML06],
};

pub static YAML_UNSAFE = Rule {
    id: "AISEC-CODE-004",
    name: "yaml-unsafe-load",
    summary: "yaml.load without a safe Loader (or yaml.unsafe_load) can construct arbitrary objects",
    default_severity: Severity::High,
    explanation: "\
## What it finds
`yaml.load`/`yaml.load_all` without `Loader=` or with a loader other than
`SafeLoader`, `CSafeLoader`, `BaseLoader` or `CBaseLoader`; `yaml.unsafe_load`
and `yaml.unsafe_load_all`; `ruamel.yaml.YAML(typ=\"unsafe\")`. Config files of
training pipelines (Hydra, MLflow, model cards) are YAML.

## Why it matters
PyYAML's full and unsafe loaders build any Python object a tag names
(`!!python/object/apply:os.system`). `FullLoader` was bypassed repeatedly
(CVE-2020-1747, CVE-2020-14343); the plain `Loader` is unsafe by design. A
`yaml.load(s)` without a loader is an error on PyYAML 6, and unsafe on <5.1.

## Remediation
Use `yaml.safe_load` / `yaml.safe_load_all`, or pass `Loader=yaml.SafeLoader`.",
    references: &[cwe!(502), cwe!(20), refs::OWASP_ML06],
};

pub static KERAS_UNSAFE = Rule {
    id: "AISEC-CODE-005",
    name: "keras-unsafe-deserialization",
    summary: "Keras model loaded with safe_mode=False, or unsafe deserialization enabled globally",
    default_severity: Severity::High,
    explanation: "\
## What it finds
`keras.models.load_model(..., safe_mode=False)` (also `keras.saving.load_model`,
`tf.keras.models.load_model`) and `keras.config.enable_unsafe_deserialization()`.

## Why it matters
Keras 3 refuses to deserialize `Lambda` layers (arbitrary Python bytecode) in
safe mode. `safe_mode=False` lets a downloaded `.keras` model run code when it
is loaded (CVE-2024-3660 was this bypass).

## Remediation
Keep the default `safe_mode=True`. Replace `Lambda` layers with registered
custom layers whose code lives in your repository.",
    references: &[
        cwe!(502),
        cwe!(94),
        refs::ATLAS_UNSAFE_ARTIFACT,
        refs::OWASP_ML06,
    ],
};

pub static TRUST_REMOTE_CODE = Rule {
    id: "AISEC-CODE-006",
    name: "trust-remote-code",
    summary: "trust_remote_code=True (or torch.hub.load) runs Python code shipped with a model or dataset",
    default_severity: Severity::High,
    explanation: "\
## What it finds
Any call passing `trust_remote_code=True` (transformers `from_pretrained`,
`pipeline`, `AutoConfig`, datasets `load_dataset`, sentence-transformers,
vLLM...), and `torch.hub.load`, which imports `hubconf.py` from a GitHub
repository.

## Why it matters
With `trust_remote_code=True`, the library downloads `modeling_*.py` (or a
dataset script) from the hub and imports it: whoever controls the repository
(or takes it over) runs code in your training job or server. Without a pinned
revision (see AISEC-CODE-007), that code can change after you reviewed it.

## Remediation
Prefer architectures supported natively by the library. If remote code is
needed, review it, pin `revision=` to a full commit hash, or vendor the code
into your repository and load it locally.",
    references: &[
        cwe!(829),
        cwe!(94),
        refs::ATLAS_SUPPLY_CHAIN,
        refs::OWASP_LLM03,
        refs::OWASP_ML06,
    ],
};

pub static UNPINNED_REVISION = Rule {
    id: "AISEC-CODE-007",
    name: "unpinned-hub-revision",
    summary: "A model or dataset is fetched from a hub by name without pinning revision= to a commit hash",
    default_severity: Severity::Low,
    explanation: "\
## What it finds
`from_pretrained(\"org/name\")`, `pipeline(model=\"org/name\")`,
`load_dataset(\"org/name\")`, `hf_hub_download`/`snapshot_download(repo_id=...)`
with a literal hub id and no `revision=`, or a `revision=` that is a branch or
tag rather than a 40-hex commit hash. Severity rises to medium when the same
call trusts remote code.

## Why it matters
A hub repository is mutable: the weights, tokenizer or remote code you tested
can be replaced by a push (a compromised account, a malicious maintainer), and
every new deployment picks the change up silently.

## Remediation
Pass `revision=\"<full commit sha>\"` and update it deliberately, or mirror
the artifact into storage you control.",
    references: &[
        cwe!(494),
        cwe!(829),
        refs::ATLAS_SUPPLY_CHAIN,
        refs::OWASP_LLM03,
    ],
};

pub static LLM_DANGEROUS_OPTION = Rule {
    id: "AISEC-CODE-008",
    name: "llm-framework-dangerous-option",
    summary: "LangChain/LlamaIndex option or tool that deserializes, fetches or executes on the model's behalf",
    default_severity: Severity::High,
    explanation: "\
## What it finds
- `allow_dangerous_deserialization=True` (FAISS/Annoy `load_local`, pickle
  underneath), `allow_dangerous_code=True` (pandas/CSV agents that `exec`
  model output), `allow_dangerous_requests=True` (requests toolkits);
- agent tools that give a model a Python or shell interpreter:
  `PythonREPLTool`, `PythonREPL`, `PythonAstREPLTool`, `ShellTool`,
  `BashProcess`, `load_tools([\"terminal\" | \"python_repl\" | \"shell\"])`;
- LlamaIndex `PandasQueryEngine` (evaluates generated pandas code,
  CVE-2023-39662) and `CodeInterpreterToolSpec`.

## Why it matters
These options exist because the behaviour is dangerous: a prompt injection
(in a web page, a document, a user message) steers the model, and the model
steers the interpreter, the loader or the HTTP client. That is remote code
execution or SSRF by text.

## Remediation
Remove the tool or option. When code execution is the product, run it in a
sandbox without credentials or network (a container, gVisor, a remote
sandbox service) and require human approval for side effects.",
    references: &[cwe!(94), cwe!(502), refs::OWASP_LLM06, refs::OWASP_LLM05],
};

pub static LLM_OUTPUT_TO_SINK = Rule {
    id: "AISEC-CODE-009",
    name: "llm-output-to-dangerous-sink",
    summary: "Text generated by a model reaches eval/exec, a shell command or an SQL query",
    default_severity: Severity::High,
    explanation: "\
## What it finds
Within one function (or module body), the result of a model call (OpenAI,
Anthropic, LangChain, LlamaIndex, Gemini, Ollama, LiteLLM, transformers
pipelines...) flowing through assignments, attribute access, indexing and
string building into `eval`, `exec`, `compile`, `os.system`, `os.popen`,
`subprocess.*`, or the query of `cursor.execute`-like calls, `sqlalchemy.text`
and `pandas.read_sql`.

The analysis follows statements in order inside a function; it does not
follow values across functions or through containers mutated in place.

## Why it matters
Model output is attacker-influenced: anyone who can put text in the prompt
(a user, a retrieved document, a web page) can make the model emit
`__import__('os').system(...)` or `'; DROP TABLE users; --`. Treating it as
trusted code is code injection.

## Remediation
Never execute model output. Parse it into a constrained structure (JSON with
a schema, an enum of allowed actions), use parameterised SQL, and pass
arguments to `subprocess` as a list from an allow-list.",
    references: &[cwe!(94), cwe!(95), cwe!(78), cwe!(89), refs::OWASP_LLM05],
};

pub static PROMPT_FROM_REQUEST = Rule {
    id: "AISEC-CODE-010",
    name: "prompt-built-from-request-input",
    summary: "A prompt template is filled with raw HTTP request input and sent to a model",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
Request input (Flask/Django `request.args`/`form`/`json`/`GET`/`POST`,
parameters of route handlers) interpolated into a string (f-string,
`+`, `%`, `.format`) that is passed to a model call in the same function.

## Why it matters
Mixing instructions and untrusted input in one string is the root of prompt
injection: the user writes \"ignore the above and ...\" and the model obeys,
leaking the system prompt or driving tools. Passing user text as its own
`user` message does not fix injection, but keeps roles apart and lets the
model and guardrails tell instructions from data.

## Remediation
Keep system instructions in a separate system message, pass user input as a
user message, delimit and length-limit it, and never let the output trigger
privileged actions without checks.",
    references: &[cwe!(1427), cwe!(74), refs::OWASP_LLM01],
};

pub static TLS_VERIFY_DISABLED = Rule {
    id: "AISEC-CODE-011",
    name: "tls-verification-disabled",
    summary: "HTTPS certificate verification turned off (verify=False, unverified SSL context)",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
`requests`/`httpx` calls and sessions with `verify=False`, and
`ssl._create_unverified_context()`.

## Why it matters
Without certificate checks, anyone on the network path can impersonate the
server: swap downloaded weights or datasets, or read the API keys sent to a
model provider.

## Remediation
Keep verification on; point `verify=` at a CA bundle for private
certificate authorities.",
    references: &[cwe!(295), refs::OWASP_LLM03],
};

pub static HTTP_DOWNLOAD = Rule {
    id: "AISEC-CODE-012",
    name: "artifact-download-over-http",
    summary: "A model, dataset or file is downloaded over plain http://",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A literal `http://` URL (directly or through a module-level constant) given
to a download or fetch call: `urllib.request.urlretrieve`/`urlopen`,
`requests`/`httpx` requests, `wget.download`, `torch.hub.load_state_dict_from_url`,
`torch.hub.download_url_to_file`, torchvision `download_url`,
`keras.utils.get_file`, `gdown.download`, `pandas.read_*`, `datasets.load_dataset`.
Loopback and `.local` hosts are ignored.

## Why it matters
Plain HTTP can be read and rewritten on the way. A replaced checkpoint is a
pickle that runs code; a replaced dataset is poisoned training data.

## Remediation
Use `https://` and check a published hash of the file after download
(`torch.hub` takes `check_hash=True`).",
    references: &[cwe!(319), cwe!(494), refs::ATLAS_SUPPLY_CHAIN],
};

pub static TAR_EXTRACTALL = Rule {
    id: "AISEC-CODE-013",
    name: "tarfile-extract-without-filter",
    summary: "tarfile extractall/extract (or shutil.unpack_archive) without a safe filter",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
`extractall`/`extract` on a `tarfile.open(...)` object without `filter=`
(or with `filter=\"fully_trusted\"`), and `shutil.unpack_archive` without
`filter=`. Model and dataset archives are routinely untarred after download.

## Why it matters
Before Python 3.14, tar extraction honours `../` names, absolute paths and
links (CVE-2007-4559): a crafted archive overwrites files outside the target
directory, such as `~/.bashrc` or a Python module on the path.

## Remediation
Pass `filter=\"data\"` (Python 3.12+, backported to 3.8.17+), or check every
member's resolved path before extracting.",
    references: &[refs::CWE_22, refs::ATLAS_SUPPLY_CHAIN],
};

pub static EXPOSED_APP = Rule {
    id: "AISEC-CODE-014",
    name: "exposed-model-server",
    summary: "A Flask/Gradio/FastAPI app runs with the debugger on, or listens on all interfaces without authentication",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
- Flask `app.run(debug=True)` (high when it also listens on `0.0.0.0`);
- Gradio `launch(share=True)` or `launch(server_name=\"0.0.0.0\")` without
  `auth=`;
- `app.run`/`uvicorn.run` on `0.0.0.0` in a file that shows no sign of
  authentication (no auth/login/JWT/security imports, no `Depends`).

## Why it matters
The Werkzeug debugger is an interactive Python console: exposed, it is remote
code execution. A demo on all interfaces or behind a public share link gives
anyone the model, its GPU time and any tools or data behind it.

## Remediation
Never enable debug outside a developer machine. Bind to `127.0.0.1` and put
the app behind an authenticating proxy, or pass `auth=` to Gradio and add an
authentication dependency to FastAPI routes.",
    references: &[cwe!(489), cwe!(306), cwe!(668)],
};

}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_documented_and_referenced() {
        for (i, r) in RULES.iter().enumerate() {
            assert_eq!(r.id, format!("AISEC-CODE-{:03}", i + 1));
            for section in ["## What it finds", "## Why it matters", "## Remediation"] {
                assert!(r.explanation.contains(section), "{} lacks {section}", r.id);
            }
            assert!(
                r.references.iter().any(|x| x.id.starts_with("CWE-")),
                "{}",
                r.id
            );
        }
    }
}
