//! Hostile input must never panic the code scanner, and findings must point
//! inside the file.

use std::path::Path;

use aisec_code::CodeScanner;
use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use proptest::prelude::*;

/// Fragments that reach the interesting paths: imports, aliases, calls,
/// keywords, taint, notebooks, plus structure that stresses the parser.
const FRAGMENTS: &[&str] = &[
    "import torch as t\n",
    "from pickle import loads as l\n",
    "t.load(",
    "l(",
    "x = ",
    "y = x.content\n",
    "eval(",
    "exec(y)\n",
    "subprocess.run(",
    "weights_only=",
    "True",
    "False",
    ")",
    "(",
    "[",
    "]",
    ",",
    "def f(a):\n",
    "    ",
    "@app.route('/')\n",
    "request.args['q']",
    "f\"{",
    "}\"",
    "'",
    "\"",
    "\n",
    "with tarfile.open(p) as tar:\n",
    "tar.extractall(",
    "client.chat.completions.create(",
    "**kw",
    "*a",
    "from_pretrained(\"a/b\", trust_remote_code=True",
    "yaml.load(s, Loader=",
    "lambda: ",
    "class C:\n",
    "%magic\n",
    "!ls\n",
    "\\\n",
    "#",
    "\u{1F600}",
    "\x00",
    "...",
    "if x:\n",
    "for i in x:\n",
];

fn run(name: &str, bytes: &[u8]) -> Vec<aisec_core::Finding> {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(CodeScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let file = FileInput::on_disk(name, Path::new(name), bytes);
    CodeScanner.scan(&file, &ctx)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run("a.py", &bytes);
        run("a.ipynb", &bytes);
    }

    #[test]
    fn fragment_soup_never_panics_and_lines_are_in_range(
        picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..200)
    ) {
        let src: String = picks.iter().map(|&i| FRAGMENTS[i]).collect();
        let lines = src.lines().count().max(1) as u32 + 1;
        for f in run("soup.py", src.as_bytes()) {
            let line = f.location.line.unwrap();
            prop_assert!(line >= 1 && line <= lines, "{line} > {lines}");
        }
    }

    #[test]
    fn notebook_soup_never_panics(
        picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..60),
        as_array in any::<bool>(),
    ) {
        let src: String = picks.iter().map(|&i| FRAGMENTS[i]).collect();
        let source = if as_array {
            serde_json_like_array(&src)
        } else {
            json_string(&src)
        };
        let nb = format!("{{\"cells\": [{{\"cell_type\": \"code\", \"source\": {source}}}], \"metadata\": {{}}}}");
        run("n.ipynb", nb.as_bytes());
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn serde_json_like_array(s: &str) -> String {
    let parts: Vec<String> = s.split_inclusive('\n').map(json_string).collect();
    format!("[{}]", parts.join(",\n"))
}
