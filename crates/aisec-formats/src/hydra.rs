//! Hydra / OmegaConf configs that name callables (`_target_`): the configs
//! NeMo (`.nemo` → `model_config.yaml`), Lightning and many research
//! codebases hand to `hydra.utils.instantiate`, which imports the dotted name
//! and calls it with the mapping's other keys as arguments
//! (CVE-2025-23304: NeMo's `restore_from` instantiates the archive's config).
//!
//! Content decides: a YAML or JSON document with a mapping that has a
//! `_target_` key. The document is read as a stream of saphyr-parser events,
//! never built into a tree, so aliases are never expanded (a billion-laughs
//! file costs what its bytes cost); every loop has a named bound.
//!
//! The dangerous-callable table below overlaps the pickle crate's deny list
//! (`aisec-pickle/src/deny.txt`) on purpose and in small: scanners depend on
//! core only, and the pickle list is not exported. What a config can reach is
//! narrower than what a pickle can (a config calls one callable with keyword
//! arguments; it cannot chain results through a stack), so the table keeps
//! the sinks a single call reaches: processes, code evaluation, imports,
//! nested deserialisation, native code, file system mutation.

use std::collections::HashMap;

use saphyr_parser::Event;

use crate::yaml_events::{BoundedEvents, MAX_DEPTH, too_deep};

/// `_target_` keys collected per file; a model config has tens.
pub const MAX_TARGETS: usize = 10_000;
/// Anchored scalars remembered for `_target_: *alias` (bounded by events too).
const MAX_ANCHORS: usize = 100_000;
/// Longest `_target_` value kept: dotted Python names are far shorter.
const MAX_TARGET_LEN: usize = 4096;

/// Keys Hydra reads beside `_target_` that change how it is called.
const KEY_TARGET: &str = "_target_";
const KEY_PARTIAL: &str = "_partial_";

/// One `_target_` key and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    /// 1-based line of the value.
    pub line: u32,
    /// `_partial_: true` in the same mapping: Hydra returns a
    /// `functools.partial` that the consumer calls later.
    pub partial: bool,
}

#[derive(Debug, Default)]
pub struct HydraConfig {
    pub targets: Vec<Target>,
    /// Where and why reading stopped early, if it did; the targets found
    /// before are kept.
    pub error: Option<(u32, String)>,
}

/// What the parser is waiting for inside one open collection.
enum Frame {
    Seq,
    Map {
        /// `None` while a key is expected; `Some(key)` while its value is
        /// (an empty key stands for a non-scalar key).
        key: Option<String>,
        partial: bool,
        /// Indexes into the targets of this mapping, to mark `_partial_`
        /// wherever it appears among the keys.
        targets: Vec<usize>,
    },
}

/// Every `_target_` of every document in `text`, in order.
pub fn read(text: &str) -> HydraConfig {
    let mut out = HydraConfig::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, String> = HashMap::new();
    for next in BoundedEvents::new(text) {
        let (event, line) = match next {
            Ok(e) => e,
            Err(stopped) => {
                out.error = Some(stopped);
                return out;
            }
        };
        let scalar = match event {
            Event::Scalar(value, _, anchor, _) => {
                if anchor > 0 && anchors.len() < MAX_ANCHORS && value.len() <= MAX_TARGET_LEN {
                    anchors.insert(anchor, value.to_string());
                }
                Some(value.into_owned())
            }
            // An alias to an anchored scalar stands for that scalar; an alias
            // to a collection is a complete node whose targets were reported
            // where the anchor defined them.
            Event::Alias(id) => Some(anchors.get(&id).cloned().unwrap_or_default()),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    out.error = Some(too_deep(line));
                    return out;
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        key: None,
                        partial: false,
                        targets: Vec::new(),
                    }
                } else {
                    Frame::Seq
                });
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(Frame::Map {
                    partial: true,
                    targets,
                    ..
                }) = stack.pop()
                {
                    for i in targets {
                        out.targets[i].partial = true;
                    }
                }
                None
            }
            Event::DocumentStart(_) => {
                anchors.clear();
                continue;
            }
            _ => continue,
        };
        // A node is complete: advance the collection it belongs to.
        let Some(Frame::Map {
            key,
            partial,
            targets,
        }) = stack.last_mut()
        else {
            continue;
        };
        match key.take() {
            None => *key = Some(scalar.unwrap_or_default()),
            Some(k) => {
                let Some(value) = scalar else { continue };
                if k == KEY_TARGET {
                    if out.targets.len() >= MAX_TARGETS {
                        out.error =
                            Some((line, format!("more than {MAX_TARGETS} `_target_` keys")));
                        return out;
                    }
                    targets.push(out.targets.len());
                    out.targets.push(Target {
                        name: value.chars().take(MAX_TARGET_LEN).collect(),
                        line,
                        partial: *partial,
                    });
                } else if k == KEY_PARTIAL && is_true(&value) {
                    *partial = true;
                }
            }
        }
    }
    out
}

fn is_true(v: &str) -> bool {
    matches!(v.trim(), "true" | "True" | "TRUE" | "yes" | "on")
}

/// How a `_target_` is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Reaches a process, code, import, deserialisation, native-code or
    /// file-system sink in one call; the text says which.
    Dangerous(&'static str),
    /// A framework callable models are built from (layers, optimisers,
    /// tokenizers, NeMo modules): silent.
    Known,
    /// Anything else: imported and called, effect unknown.
    Unknown,
}

/// Dotted names (a name and everything below it) that reach a sink in one
/// call, with what they do. `suffix`: also matched against every dotted
/// suffix of a target, because Hydra's `_locate` imports the longest
/// importable prefix and then follows attributes, so `torch.os.system` is
/// `os.system` (torch imports `os`). Generic words (`code`) are matched only
/// as the whole name, since real submodules carry them.
struct Deny {
    name: &'static str,
    what: &'static str,
    suffix: bool,
}

const fn deny(name: &'static str, what: &'static str) -> Deny {
    Deny {
        name,
        what,
        suffix: true,
    }
}

const fn deny_exact(name: &'static str, what: &'static str) -> Deny {
    Deny {
        name,
        what,
        suffix: false,
    }
}

const DENY: &[Deny] = &[
    deny("os.system", "runs a shell command"),
    deny("os.popen", "runs a shell command"),
    deny("os.exec", "replaces the process with another program"),
    deny("os.spawn", "starts another program"),
    deny("os.posix_spawn", "starts another program"),
    deny("os.fork", "forks the process"),
    deny("os.kill", "signals processes"),
    deny("os.remove", "deletes files"),
    deny("os.unlink", "deletes files"),
    deny("os.rmdir", "deletes directories"),
    deny("os.removedirs", "deletes directories"),
    deny("os.rename", "moves files"),
    deny("os.replace", "moves files"),
    deny("os.chmod", "changes file permissions"),
    deny("os.chown", "changes file ownership"),
    deny("os.symlink", "creates links"),
    deny("os.link", "creates links"),
    deny("os.open", "opens files"),
    deny("os.write", "writes to file descriptors"),
    deny("os.putenv", "changes the environment"),
    deny("os.environ", "reads or changes the environment"),
    deny("os.startfile", "starts another program"),
    deny("posix", "reaches the operating system directly"),
    deny("nt", "reaches the operating system directly"),
    deny("subprocess", "starts another program"),
    deny("_posixsubprocess", "starts another program"),
    deny("pty", "starts a program on a terminal"),
    deny("commands", "runs a shell command"),
    deny("popen2", "runs a shell command"),
    deny("platform.popen", "runs a shell command"),
    deny("multiprocessing", "starts processes"),
    deny("asyncio.create_subprocess_exec", "starts another program"),
    deny("asyncio.create_subprocess_shell", "runs a shell command"),
    deny("asyncio.subprocess", "starts another program"),
    deny("webbrowser", "starts a browser on a URL"),
    deny("builtins.eval", "evaluates Python code"),
    deny("builtins.exec", "executes Python code"),
    deny("builtins.compile", "compiles Python code"),
    deny("builtins.__import__", "imports any module"),
    deny("builtins.open", "opens any file"),
    deny("builtins.getattr", "reaches any attribute"),
    deny("builtins.setattr", "changes any attribute"),
    deny("builtins.delattr", "deletes any attribute"),
    deny("builtins.globals", "reaches interpreter globals"),
    deny("builtins.vars", "reaches object internals"),
    deny("builtins.breakpoint", "starts a debugger"),
    deny("builtins.input", "reads the terminal"),
    deny("builtins.exit", "ends the process"),
    deny("builtins.quit", "ends the process"),
    deny("importlib", "imports any module"),
    deny("runpy", "runs a module or file as a script"),
    deny_exact("code", "runs an interactive interpreter or code string"),
    deny_exact("codeop", "compiles Python code"),
    deny("timeit", "executes code strings"),
    deny("pdb", "runs code under a debugger"),
    deny("bdb", "runs code under a debugger"),
    deny_exact("profile", "executes code strings"),
    deny("cProfile", "executes code strings"),
    deny_exact("trace", "executes code strings"),
    deny("ctypes", "loads native code"),
    deny("_ctypes", "loads native code"),
    deny("cffi", "loads native code"),
    deny("sys", "changes the interpreter"),
    deny("shutil", "copies, moves or deletes files"),
    deny("socket", "opens network connections"),
    deny("marshal", "loads Python bytecode"),
    deny("pickle", "unpickles data, which runs code"),
    deny("_pickle", "unpickles data, which runs code"),
    deny("cPickle", "unpickles data, which runs code"),
    deny("dill", "unpickles data, which runs code"),
    deny("cloudpickle", "unpickles data, which runs code"),
    deny("shelve", "unpickles data, which runs code"),
    deny("jsonpickle", "unpickles data, which runs code"),
    deny("joblib.load", "unpickles data, which runs code"),
    deny("pandas.read_pickle", "unpickles data, which runs code"),
    deny("numpy.load", "unpickles object arrays"),
    deny("yaml.load", "loads YAML with Python object tags"),
    deny("yaml.unsafe_load", "loads YAML with Python object tags"),
    deny("yaml.full_load", "loads YAML with Python object tags"),
    deny("torch.load", "unpickles a checkpoint"),
    deny("torch.serialization.load", "unpickles a checkpoint"),
    deny(
        "torch.jit.load",
        "loads TorchScript, unchecked by weights_only",
    ),
    deny("torch.hub.load", "downloads and runs a repository's code"),
    deny("torch.package", "imports code shipped in a package"),
    deny(
        "torch.utils.cpp_extension",
        "compiles and loads native code",
    ),
    deny("torch.ops.load_library", "loads native code"),
    deny("torch.classes.load_library", "loads native code"),
    deny(
        "hydra.utils.call",
        "instantiates a nested config assembled at run time",
    ),
    deny(
        "hydra.utils.instantiate",
        "instantiates a nested config assembled at run time",
    ),
];

/// Builtin functions denied when a config names them bare (`_target_: eval`):
/// `pydoc.locate` and similar resolvers find builtins without the module.
const BARE_BUILTINS: &[&str] = &[
    "eval",
    "exec",
    "compile",
    "__import__",
    "open",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "vars",
    "breakpoint",
];

/// Names models are built from: silent. A prefix matches the name and
/// everything below it; the deny table is consulted first, so
/// `torch.load` is still dangerous.
const KNOWN: &[&str] = &[
    "torch",
    "torchvision",
    "torchaudio",
    "torchmetrics",
    "torchtext",
    "nemo",
    "lightning",
    "pytorch_lightning",
    "lightning_fabric",
    "megatron",
    "apex",
    "transformers",
    "tokenizers",
    "sentencepiece",
    "timm",
    "diffusers",
    "peft",
    "omegaconf",
    "numpy",
    "scipy",
    "sklearn",
    "math",
    "functools.partial",
    "collections.OrderedDict",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.set",
    "builtins.frozenset",
    "builtins.int",
    "builtins.float",
    "builtins.str",
    "builtins.bool",
    "builtins.range",
    "builtins.slice",
];

/// Module names folded onto the one the tables spell.
fn canonical(name: &str) -> String {
    let name = name.trim().replace(':', ".");
    for (alias, real) in [("__builtin__.", "builtins."), ("posixpath.", "os.path.")] {
        if let Some(rest) = name.strip_prefix(alias) {
            return format!("{real}{rest}");
        }
    }
    name
}

fn under(name: &str, prefix: &str) -> bool {
    name == prefix
        || name
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.'))
        // `os.exec` covers `os.execv`, `os.spawn` covers `os.spawnlp`.
        || (prefix.starts_with("os.")
            && (prefix.ends_with(".exec") || prefix.ends_with(".spawn"))
            && name.starts_with(prefix))
}

pub fn judge(target: &str) -> Verdict {
    let name = canonical(target);
    if BARE_BUILTINS.contains(&name.as_str()) {
        return Verdict::Dangerous("is a builtin that evaluates code or reaches any object");
    }
    let suffixes = std::iter::once(name.as_str()).chain(
        name.match_indices('.')
            .map(|(i, _)| &name[i + 1..])
            .filter(|s| !s.is_empty()),
    );
    for (i, candidate) in suffixes.enumerate() {
        if let Some(d) = DENY
            .iter()
            .find(|d| (i == 0 || d.suffix) && under(candidate, d.name))
        {
            return Verdict::Dangerous(d.what);
        }
    }
    // `os.path` helpers only compute strings.
    if under(&name, "os.path") {
        return Verdict::Unknown;
    }
    if under(&name, "os") {
        return Verdict::Dangerous("reaches the operating system");
    }
    if KNOWN.iter().any(|k| under(&name, k)) {
        Verdict::Known
    } else {
        Verdict::Unknown
    }
}

/// Whether `bytes` may be a Hydra config worth parsing: the key appears.
pub fn mentions_target(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, KEY_TARGET.as_bytes()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_in_yaml_and_json_with_lines_and_partial() {
        let yaml = "\
name: demo
model:
  preprocessor:
    _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
    sample_rate: 16000
  hook:
    cmd: echo pwned
    _target_: os.system
  later:
    _partial_: true
    _target_: \"subprocess.Popen\"
";
        let cfg = read(yaml);
        assert!(cfg.error.is_none(), "{:?}", cfg.error);
        let got: Vec<(&str, u32, bool)> = cfg
            .targets
            .iter()
            .map(|t| (t.name.as_str(), t.line, t.partial))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
                    4,
                    false
                ),
                ("os.system", 8, false),
                ("subprocess.Popen", 11, true),
            ]
        );
        let json = r#"{"a": [{"_target_": "builtins.eval", "_args_": ["1"]}], "_target_": "torch.nn.Linear"}"#;
        let names: Vec<String> = read(json).targets.into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["builtins.eval", "torch.nn.Linear"]);
    }

    #[test]
    fn values_that_are_not_targets_are_ignored() {
        // `_target_` as a value, as a list item, and a key whose value is a
        // mapping: none names a callable.
        let cfg = read("a: _target_\nb: [_target_, os.system]\n_target_: {x: os.system}\n");
        assert!(cfg.targets.is_empty(), "{:?}", cfg.targets);
    }

    #[test]
    fn aliases_resolve_to_their_scalar_without_expansion() {
        let cfg = read("x: &t os.system\ncfg:\n  _target_: *t\n");
        assert_eq!(cfg.targets[0].name, "os.system");
        // A billion-laughs document is read in bounded time and space.
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..30 {
            bomb.push_str(&format!(
                "{}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
                (b'a' + (i % 26) as u8) as char,
                format_args!("n{i}"),
                p = if i == 1 {
                    "a".to_owned()
                } else {
                    format!("n{}", i - 1)
                }
            ));
        }
        bomb.push_str("m:\n  _target_: builtins.exec\n");
        assert_eq!(read(&bomb).targets.len(), 1);
    }

    #[test]
    fn broken_documents_keep_what_came_before() {
        let cfg = read("a:\n  _target_: os.system\nb: [unclosed\n");
        assert_eq!(cfg.targets.len(), 1);
        assert!(cfg.error.is_some());
    }

    #[test]
    fn judgement() {
        for bad in [
            "os.system",
            "os.execvp",
            "subprocess.Popen",
            "builtins.eval",
            "__builtin__.exec",
            "eval",
            "pickle.loads",
            "dill.loads",
            "torch.load",
            "torch.os.system",
            "shutil.rmtree",
            "importlib.import_module",
            "runpy.run_path",
            "code.interact",
            "posix.system",
            "os:system",
        ] {
            assert!(matches!(judge(bad), Verdict::Dangerous(_)), "{bad}");
        }
        for known in [
            "torch.nn.Linear",
            "torch.optim.AdamW",
            "nemo.collections.asr.modules.ConformerEncoder",
            "lightning.pytorch.callbacks.ModelCheckpoint",
            "builtins.dict",
            "functools.partial",
        ] {
            assert_eq!(judge(known), Verdict::Known, "{known}");
        }
        for unknown in [
            "my_project.models.Net",
            "os.path.join",
            "torch_geometric_fork.code.Thing",
            "transformers_fork.Model",
        ] {
            assert_eq!(judge(unknown), Verdict::Unknown, "{unknown}");
        }
        // A method named like a builtin is not that builtin.
        assert_eq!(judge("torch.nn.Module.eval"), Verdict::Known);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,300}") {
            let cfg = read(&text);
            for t in cfg.targets {
                let _ = judge(&t.name);
            }
        }
    }
}
