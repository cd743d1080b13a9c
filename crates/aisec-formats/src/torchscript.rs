//! TorchScript code: the `code/__torch__/**.py` members of a TorchScript
//! archive (`torch.jit.save`), which `torch.jit.load` compiles and runs.
//! `torch.load` hands such archives to `torch.jit.load` (it looks for
//! `constants.pkl`), so `weights_only=True` does not apply to them
//! (CVE-2025-32434 was this path).
//!
//! TorchScript cannot import Python modules, but its operators can touch the
//! file system (`aten::save` writes any path, `aten::from_file` reads one) and
//! operators outside PyTorch's own namespaces exist only if a native library
//! registered them. Methods named `__setstate__` run while the archive loads;
//! everything else runs when the model is called.
//!
//! The source is tokenised (strings and comments skipped, `torch . save` and
//! names split across lines inside brackets joined), not parsed: TorchScript
//! is a subset of Python and every call we look for is a dotted name, so a
//! tokenizer sees what the TorchScript compiler sees without a grammar.

/// Names whose operator reads or writes files or loads native code, with the
/// effect they have. Matched against the dotted name with any leading
/// `torch.` removed, so `torch.ops.aten.save` and `ops.aten.save` are one.
const FILE_AND_NATIVE_OPS: &[(&str, &str)] = &[
    ("save", "writes a file (aten::save)"),
    ("ops.aten.save", "writes a file (aten::save)"),
    ("from_file", "reads a file (aten::from_file)"),
    ("ops.aten.from_file", "reads a file (aten::from_file)"),
    ("load", "loads another serialized object"),
    ("jit.load", "loads another TorchScript archive"),
    ("ops.load_library", "loads a native library"),
    ("classes.load_library", "loads a native library"),
];

/// Operator namespaces that PyTorch itself registers (from
/// `torch._C._jit_get_all_schemas()` on torch 2.x), plus the first-party
/// domain libraries whose ops are in every common install.
const TORCH_NAMESPACES: &[&str] = &[
    "aten",
    "prim",
    "prims",
    "quantized",
    "_quantized",
    "quantized_decomposed",
    "quantization",
    "sparse",
    "cuda",
    "mkldnn",
    "mkldnn_prepacked",
    "mkl",
    "onednn",
    "profiler",
    "c10d",
    "_c10d_functional",
    "_c10d_functional_autograd",
    "symm_mem",
    "static_runtime",
    "inductor",
    "inductor_prims",
    "onnx",
    "export",
    "rngprims",
    "debugprims",
    "fsdp",
    "_dtensor",
    "_native",
    "_native_aot",
    "flex_gemm",
    "prepacked",
    "torchvision",
    "image",
    "torchaudio",
];

/// Tokens examined per file; TorchScript code of real models is far smaller.
const MAX_TOKENS: usize = 4_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsIssue {
    /// A file-system or native-library operator.
    FileOrNative {
        name: String,
        effect: &'static str,
        method: Option<String>,
        line: usize,
        offset: usize,
    },
    /// An operator or class from a namespace PyTorch does not ship.
    CustomOperator {
        name: String,
        namespace: String,
        method: Option<String>,
        line: usize,
        offset: usize,
    },
}

impl TsIssue {
    /// True when the method runs while the archive loads.
    pub fn runs_at_load(&self) -> bool {
        let method = match self {
            TsIssue::FileOrNative { method, .. } | TsIssue::CustomOperator { method, .. } => method,
        };
        method.as_deref() == Some("__setstate__")
    }
}

/// Whether a member path is TorchScript source inside a TorchScript archive.
pub fn is_torchscript_source(member: &str) -> bool {
    let inner = member.rsplit('!').next().unwrap_or(member);
    inner.ends_with(".py")
        && (inner.contains("code/__torch__/")
            || inner.ends_with("code/__torch__.py")
            || inner.starts_with("code/__torch__"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Name,
    Dot,
    Open,
    Close,
    Colon,
    Other,
}

struct Token {
    kind: Tok,
    start: usize,
    end: usize,
    line: usize,
    /// Column of the first token on this token's line (indentation).
    indent: usize,
    first_on_line: bool,
}

fn tokenize(src: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let (mut i, mut line, mut line_start) = (0usize, 1usize, 0usize);
    let mut indent = 0;
    let mut first_on_line = true;
    let mut depth = 0usize;
    while i < src.len() && out.len() < MAX_TOKENS {
        let c = src[i];
        match c {
            b'\n' => {
                i += 1;
                line += 1;
                line_start = i;
                if depth == 0 {
                    first_on_line = true;
                }
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'\\' => {
                // Line continuation: the next line belongs to this one.
                i += 1;
                if src.get(i) == Some(&b'\r') {
                    i += 1;
                }
                if src.get(i) == Some(&b'\n') {
                    i += 1;
                    line += 1;
                    line_start = i;
                }
                continue;
            }
            b'#' => {
                i = memchr::memchr(b'\n', &src[i..]).map_or(src.len(), |p| i + p);
                continue;
            }
            _ => {}
        }
        if first_on_line {
            indent = i - line_start;
        }
        let start = i;
        let kind = if c == b'"' || c == b'\'' {
            i = skip_string(src, i, &mut line, &mut line_start);
            Tok::Other
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < src.len()
                && (src[i].is_ascii_alphanumeric() || src[i] == b'_' || src[i] >= 0x80)
            {
                i += 1;
            }
            // String prefixes: r"..", b'..', f"..", rb"..".
            if matches!(src.get(i), Some(b'"' | b'\'')) && i - start <= 2 {
                i = skip_string(src, i, &mut line, &mut line_start);
                Tok::Other
            } else {
                Tok::Name
            }
        } else {
            i += 1;
            match c {
                b'.' => Tok::Dot,
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    Tok::Open
                }
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    Tok::Close
                }
                b':' => Tok::Colon,
                _ => Tok::Other,
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
            line,
            indent,
            first_on_line,
        });
        first_on_line = false;
    }
    out
}

/// Index just past the string literal whose opening quote is at `at`.
fn skip_string(src: &[u8], at: usize, line: &mut usize, line_start: &mut usize) -> usize {
    let quote = src[at];
    let triple = src.get(at..at + 3) == Some(&[quote, quote, quote][..]);
    let mut i = at + if triple { 3 } else { 1 };
    while i < src.len() {
        match src[i] {
            b'\\' => i += 2,
            b'\n' => {
                *line += 1;
                *line_start = i + 1;
                if !triple {
                    return i; // unterminated: the tokenizer goes on at the newline
                }
                i += 1;
            }
            c if c == quote => {
                if !triple {
                    return i + 1;
                }
                if src.get(i..i + 3) == Some(&[quote, quote, quote][..]) {
                    return i + 3;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    src.len()
}

/// Every file, native-library and custom-namespace operator in `source`.
pub fn analyse(source: &[u8]) -> Vec<TsIssue> {
    let tokens = tokenize(source);
    let text = |t: &Token| std::str::from_utf8(&source[t.start..t.end]).unwrap_or("");
    let mut issues = Vec::new();
    // Open `def`s: (indentation, name).
    let mut defs: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.first_on_line {
            while defs.last().is_some_and(|(indent, _)| *indent >= t.indent) {
                defs.pop();
            }
            if t.kind == Tok::Name && text(t) == "def" {
                if let Some(name) = tokens.get(i + 1).filter(|n| n.kind == Tok::Name) {
                    defs.push((t.indent, text(name).to_string()));
                }
            }
        }
        // A dotted name not preceded by a dot (not an attribute of something
        // else, such as `self.save`).
        let after_dot = i > 0 && tokens[i - 1].kind == Tok::Dot;
        if t.kind != Tok::Name || after_dot {
            i += 1;
            continue;
        }
        let mut parts = vec![text(t)];
        let mut j = i + 1;
        while j + 1 < tokens.len() && tokens[j].kind == Tok::Dot && tokens[j + 1].kind == Tok::Name
        {
            parts.push(text(&tokens[j + 1]));
            j += 2;
        }
        let method = defs.last().map(|(_, n)| n.clone());
        if let Some(issue) = judge(&parts, method, t.line, t.start) {
            issues.push(issue);
        }
        i = j;
    }
    issues
}

fn judge(parts: &[&str], method: Option<String>, line: usize, offset: usize) -> Option<TsIssue> {
    // Only names rooted at `torch` or `ops` reach operators.
    let rest: &[&str] = match *parts.first()? {
        "torch" => &parts[1..],
        "ops" => parts,
        _ => return None,
    };
    let dotted = rest.join(".");
    let full = parts.join(".");
    if let Some(&(_, effect)) = FILE_AND_NATIVE_OPS.iter().find(|(n, _)| *n == dotted) {
        return Some(TsIssue::FileOrNative {
            name: full,
            effect,
            method,
            line,
            offset,
        });
    }
    // `ops.<ns>.<op>` or `classes.<ns>.<Class>` after the optional `torch.`.
    match rest {
        ["ops" | "classes", namespace, _op, ..] if !TORCH_NAMESPACES.contains(namespace) => {
            Some(TsIssue::CustomOperator {
                name: full,
                namespace: (*namespace).to_string(),
                method,
                line,
                offset,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERIALIZED: &str = r#"class M(Module):
  __parameters__ = []
  training : bool
  def forward(self: __torch__.M,
    x: Tensor) -> Tensor:
    y = torch.from_file("/etc/hostname", False, 4)
    _0 = torch.add(ops.aisec_demo.echo(x), torch.relu(x))
    return torch.add(x, torch.sum(y))
  def __setstate__(self: __torch__.M,
    state: Tuple[int, bool]) -> NoneType:
    self.training = (state)[1]
    torch.save(torch.zeros([1]), "/tmp/pwned.pt")
    return None
"#;

    #[test]
    fn file_ops_and_custom_namespaces_with_their_methods() {
        let issues = analyse(SERIALIZED.as_bytes());
        assert_eq!(issues.len(), 3, "{issues:?}");
        assert!(
            matches!(&issues[0], TsIssue::FileOrNative { name, method: Some(m), line: 6, .. }
            if name == "torch.from_file" && m == "forward")
        );
        assert!(
            matches!(&issues[1], TsIssue::CustomOperator { namespace, line: 7, .. }
            if namespace == "aisec_demo")
        );
        assert!(
            matches!(&issues[2], TsIssue::FileOrNative { name, line: 12, .. } if name == "torch.save")
        );
        assert!(issues[2].runs_at_load());
        assert!(!issues[0].runs_at_load());
    }

    #[test]
    fn spelling_tricks_are_seen_and_strings_and_comments_are_not() {
        let src = b"def forward(self, x):\n    a = torch . ops . aten . save(x, 'f')\n    b = torch.ops.\\\n      evil.run(x)\n    c = (torch\n      .from_file('p'))\n    # torch.save(x, 'commented')\n    s = \"torch.save(x, 'in a string')\"\n    t = '''torch.load(\n'''\n    return self.save(x)\n";
        let names: Vec<String> = analyse(src)
            .into_iter()
            .map(|i| match i {
                TsIssue::FileOrNative { name, .. } | TsIssue::CustomOperator { name, .. } => name,
            })
            .collect();
        assert_eq!(
            names,
            [
                "torch.ops.aten.save",
                "torch.ops.evil.run",
                "torch.from_file"
            ]
        );
    }

    #[test]
    fn ordinary_models_are_clean() {
        let src = b"class Linear(Module):\n  def forward(self, input: Tensor) -> Tensor:\n    weight = self.weight\n    _0 = ops.aten.linear(input, weight, None)\n    _1 = torch.ops.quantized.linear(_0)\n    return torch.linear(input, weight, self.bias)\n";
        assert!(analyse(src).is_empty());
    }

    #[test]
    fn member_paths() {
        assert!(is_torchscript_source("archive/code/__torch__/m.py"));
        assert!(is_torchscript_source("ts/code/__torch__.py"));
        assert!(!is_torchscript_source(
            "archive/code/__torch__/m.py.debug_pkl"
        ));
        assert!(!is_torchscript_source("src/model.py"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = analyse(&data);
        }
    }
}
