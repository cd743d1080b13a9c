//! Chat-template analysis. Templates are lexed with minijinja's own lexer
//! (a real Jinja tokenizer: it unescapes string literals and knows where
//! expressions start and end) and checked with its parser; nothing is ever
//! rendered.
//!
//! Token-level analysis rather than an AST walk: minijinja's AST is an
//! unstable API whose shape changes between releases, while every escape
//! route out of a Jinja sandbox has to spell a dunder or private attribute,
//! a gadget global, or glue such a name together from string literals, all of
//! which are visible in the token stream.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use minijinja::machinery::Token;

/// Byte strings one of which every sandbox escape spells somewhere: dunders
/// (and the escapes that build an underscore inside a string literal),
/// gadget globals, Flask's request and config objects, the `attr` filter.
/// Used only to decide whether a text file under a name that does not say
/// Jinja is worth lexing; the lexer decides what it is.
const SSTI_MARKERS: &[&str] = &[
    "__class__",
    "__globals__",
    "__subclasses__",
    "__builtins__",
    "__import__",
    "__mro__",
    "__base__",
    "__init__",
    "__dict__",
    "__getattribute__",
    "__getitem__",
    "_TemplateReference",
    // `'__gl' ~ 'obals__'`: glued dunders start or end with the underscores.
    "'__",
    "\"__",
    "__'",
    "__\"",
    "\\x5f",
    "\\u005f",
    "\\U0000005f",
    "\\137",
    "\\N{LOW LINE}",
    "cycler",
    "joiner",
    "namespace",
    "lipsum",
    "request.application",
    "url_for",
    "get_flashed_messages",
    "attr(",
    "attr (",
];

static SSTI_FINDER: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| AhoCorasick::new(SSTI_MARKERS).ok());

/// Could this text be a Jinja template that escapes its sandbox? A `{{` or
/// `{%` and one of [`SSTI_MARKERS`], each found in one pass (memchr,
/// Aho-Corasick). A prefilter only: what it passes is lexed by
/// [`analyse`].
pub fn looks_like_ssti(bytes: &[u8]) -> bool {
    let opens_tag =
        memchr::memchr_iter(b'{', bytes).any(|i| matches!(bytes.get(i + 1), Some(b'{' | b'%')));
    opens_tag
        && SSTI_FINDER
            .as_ref()
            .is_none_or(|finder| finder.is_match(bytes))
}

/// Tokens looked at per template; real chat templates have a few thousand.
const MAX_TOKENS: usize = 1_000_000;

/// Jinja2 default globals that are known sandbox-escape gadgets: their
/// `__init__.__globals__` reaches the Python module namespace.
const GADGET_GLOBALS: &[&str] = &[
    "cycler",
    "joiner",
    "lipsum",
    "url_for",
    "get_flashed_messages",
    "request",
    "config",
];

/// Names that have no business in a chat template as variables or attributes.
const DANGEROUS_NAMES: &[&str] = &[
    "os",
    "subprocess",
    "popen",
    "system",
    "eval",
    "exec",
    "import_module",
    "builtins",
    "f_globals",
    "func_globals",
    "gi_frame",
    "tb_frame",
    "f_back",
    "co_code",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateIssue {
    pub severity: Sev,
    pub what: String,
    /// Byte offset in the template source.
    pub offset: usize,
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sev {
    Suspicious,
    /// An attribute read whose name is built at render time (`attr` with
    /// anything but one string literal): what it reads is hidden from review.
    Hidden,
    Escape,
}

#[derive(Debug, Default)]
pub struct TemplateAnalysis {
    pub issues: Vec<TemplateIssue>,
    /// minijinja could not parse the template (Jinja2 might): why.
    pub parse_error: Option<String>,
}

fn is_dunder(s: &str) -> bool {
    s.len() > 4 && s.starts_with("__") && s.ends_with("__")
}

/// A dunder name anywhere inside a string (`"x.__class__"`, `"__globals__"`).
fn contains_dunder(s: &str) -> Option<&str> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(pos) = s[i..].find("__") {
        let start = i + pos;
        let mut end = start + 2;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        let word = &s[start..end];
        if word.len() > 4
            && word.ends_with("__")
            && word[2..word.len() - 2]
                .bytes()
                .any(|b| b.is_ascii_alphabetic())
        {
            return Some(word);
        }
        i = start + 2;
        if i >= s.len() {
            break;
        }
    }
    None
}

fn line_of(source: &str, offset: usize) -> u32 {
    source.as_bytes()[..offset.min(source.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
        + 1
}

pub fn analyse(source: &str) -> TemplateAnalysis {
    let mut analysis = TemplateAnalysis::default();
    let syntax = minijinja::syntax::SyntaxConfig::default();
    if let Err(e) = minijinja::machinery::parse(source, "chat_template", syntax.clone()) {
        analysis.parse_error = Some(e.to_string());
    }

    let mut tokens: Vec<(Token<'_>, usize)> = Vec::new();
    let mut lex_failed_at = None;
    for item in minijinja::machinery::tokenize(source, false, syntax).take(MAX_TOKENS) {
        match item {
            Ok((tok, span)) => tokens.push((tok, span.start_offset as usize)),
            Err(_) => {
                lex_failed_at = Some(tokens.last().map(|t| t.1).unwrap_or(0));
                break;
            }
        }
    }

    let mut push = |severity: Sev, what: String, offset: usize| {
        analysis.issues.push(TemplateIssue {
            severity,
            what,
            offset,
            line: line_of(source, offset),
        });
    };

    let mut i = 0;
    while i < tokens.len() {
        let (tok, offset) = (&tokens[i].0, tokens[i].1);
        let after_dot = i > 0 && matches!(tokens[i - 1].0, Token::Dot);
        let after_pipe = i > 0 && matches!(tokens[i - 1].0, Token::Pipe);
        match tok {
            Token::Ident(name)
                if after_dot
                    && (is_dunder(name)
                        || name.starts_with('_')
                        || DANGEROUS_NAMES.contains(name)) =>
            {
                push(Sev::Escape, format!("attribute `.{name}`"), offset);
            }
            // Any other attribute (`message.content`) is ordinary data access.
            Token::Ident(_) if after_dot => {}
            Token::Ident(name) if after_pipe && *name == "attr" => {
                let literal = matches!(
                    tokens
                        .get(i + 1..i + 4)
                        .map(|t| [&t[0].0, &t[1].0, &t[2].0]),
                    Some([
                        Token::ParenOpen,
                        Token::Str(_) | Token::String(_),
                        Token::ParenClose
                    ])
                );
                if literal {
                    push(
                        Sev::Suspicious,
                        "the `attr` filter (attribute access by name)".to_owned(),
                        offset,
                    );
                } else {
                    push(
                        Sev::Hidden,
                        "the `attr` filter with a computed attribute name".to_owned(),
                        offset,
                    );
                }
            }
            Token::Ident(name) if !after_pipe => {
                if is_dunder(name) {
                    push(Sev::Escape, format!("name `{name}`"), offset);
                } else if GADGET_GLOBALS.contains(name) {
                    push(
                        Sev::Suspicious,
                        format!("sandbox-escape gadget `{name}`"),
                        offset,
                    );
                } else if DANGEROUS_NAMES.contains(name) {
                    push(Sev::Suspicious, format!("name `{name}`"), offset);
                }
            }
            Token::Str(_) | Token::String(_) => {
                // Fold `'__gl' ~ 'obals__'` and `'__gl' + 'obals__'` the way
                // Jinja would at render time.
                let mut folded = string_value(tok).to_owned();
                let mut j = i + 1;
                while j + 1 < tokens.len()
                    && matches!(tokens[j].0, Token::Tilde | Token::Plus)
                    && matches!(tokens[j + 1].0, Token::Str(_) | Token::String(_))
                {
                    folded.push_str(string_value(&tokens[j + 1].0));
                    j += 2;
                }
                if let Some(word) = contains_dunder(&folded) {
                    let how = if j > i + 1 {
                        " (glued from pieces)"
                    } else {
                        ""
                    };
                    push(Sev::Escape, format!("string `{word}`{how}"), offset);
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }

    if let Some(at) = lex_failed_at {
        // Past a lexer error, fall back to the raw text so that garbage
        // cannot shield what follows it.
        if let Some(word) = contains_dunder(&source[at.min(source.len())..]) {
            let pos = source[at..].find(word).map(|p| p + at).unwrap_or(at);
            push(
                Sev::Escape,
                format!("`{word}` (in text the lexer could not read)"),
                pos,
            );
        }
    }
    analysis
}

fn string_value<'a>(tok: &'a Token<'_>) -> &'a str {
    match tok {
        Token::Str(s) => s,
        Token::String(s) => s,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escapes(src: &str) -> Vec<String> {
        analyse(src)
            .issues
            .into_iter()
            .filter(|i| i.severity == Sev::Escape)
            .map(|i| i.what)
            .collect()
    }

    fn hidden(src: &str) -> bool {
        analyse(src)
            .issues
            .iter()
            .any(|i| i.severity == Sev::Hidden)
    }

    #[test]
    fn attribute_names_built_at_render_time_are_hidden_reads() {
        for src in [
            "{{ ''|attr('%c%cclass%c%c'|format(95,95,95,95)) }}",
            "{{ ''|attr(['_','_','class','_','_']|join) }}",
            "{% set x = '_' * 2 %}{{ ''|attr(x ~ 'class' ~ x) }}",
            "{{ ''|attr('XXclassXX'|replace('X','_')) }}",
        ] {
            assert!(hidden(src), "{src}");
        }
        // One literal name is judged by the name itself.
        assert!(!hidden("{{ message|attr('content') }}"));
    }

    #[test]
    fn real_chat_templates_are_clean() {
        let llama = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
        let a = analyse(llama);
        assert!(a.issues.is_empty(), "{:?}", a.issues);
        assert!(a.parse_error.is_none());
        let ns = "{%- set ns = namespace(found=false) -%}{%- for m in messages -%}{%- if m.role == 'system' -%}{%- set ns.found = true -%}{%- endif -%}{%- endfor -%}{{ raise_exception('x') if not ns.found }}";
        assert!(analyse(ns).issues.is_empty());
    }

    #[test]
    fn classic_payloads_are_escapes() {
        assert!(!escapes("{{ ''.__class__.__mro__[1].__subclasses__() }}").is_empty());
        assert!(
            !escapes("{{ cycler.__init__.__globals__.os.popen('echo pwned').read() }}").is_empty()
        );
        assert!(!escapes("{{ self._TemplateReference__context }}").is_empty());
        assert!(!escapes("{{ x['__glo' ~ 'bals__'] }}").is_empty());
        assert!(
            !escapes("{{ x|attr('\\x5f\\x5fclass\\x5f\\x5f') }}").is_empty(),
            "escapes are decoded by the lexer"
        );
        assert!(!escapes("{{ lipsum|attr('__globals__') }}").is_empty());
    }

    #[test]
    fn garbage_cannot_hide_a_payload() {
        let src = "{{ 'unterminated }} {{ x.__class__ }}";
        let a = analyse(src);
        assert!(a.issues.iter().any(|i| i.severity == Sev::Escape), "{a:?}");
    }

    #[test]
    fn gadgets_alone_are_suspicious_not_escapes() {
        let a = analyse("{{ cycler('a','b').next() }}");
        assert!(a.issues.iter().all(|i| i.severity == Sev::Suspicious));
        assert!(!a.issues.is_empty());
    }

    #[test]
    fn the_prefilter_needs_a_tag_and_a_marker() {
        assert!(looks_like_ssti(
            b"{{ config.__class__.__base__.__subclasses__() }}"
        ));
        assert!(looks_like_ssti(b"{% set x = ''|attr('\\x5f\\x5fclass') %}"));
        assert!(looks_like_ssti(b"{{ x['__gl' ~ 'obals__'] }}"));
        // Markers without a tag, tags without a marker.
        assert!(!looks_like_ssti(
            b"class Foo:\n    def __init__(self): pass\n"
        ));
        assert!(!looks_like_ssti(
            b"<p>{{ user.name }}</p> {% if a %}b{% endif %}"
        ));
        assert!(!looks_like_ssti(b"{ \"a\": 1 } __init__"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(src in "\\PC{0,300}") {
            let _ = analyse(&src);
        }
    }
}
