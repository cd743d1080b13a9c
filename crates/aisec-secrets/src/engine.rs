//! The matching engine: one Aho-Corasick pass over the text finds the literal
//! every detector needs (a prefix such as `ghp_`, or a keyword such as
//! `cohere`); only then does that detector's regex run, and only on a small
//! window after the literal. Text without any literal costs one SIMD scan.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use aisec_core::{Confidence, Rule, Severity};
use regex::bytes::Regex;

use crate::rules::*;
use aisec_core::redact;

/// How far past its literal a detector's regex may look.
#[derive(Clone, Copy)]
enum Window {
    /// To the end of the line, at most this many bytes.
    Line(usize),
    /// Across lines (PEM blocks, JSON key files), at most this many bytes.
    Forward(usize),
}

/// Extra judgement after the regex matched.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Structural placeholder test only (`xxxx`, `****`, too few distinct chars).
    Token,
    /// Keyword context: also needs mixed character classes.
    KeywordValue,
    /// The generic rule: entropy, placeholders, code-like values.
    Entropy,
    Jwt,
    DbPassword,
    PrivateKey,
    Stripe,
}

struct Detector {
    rule: &'static Rule,
    what: &'static str,
    literals: &'static [&'static str],
    pattern: String,
    window: Window,
    /// Bytes of the secret that are a public prefix, safe to show.
    shown: usize,
    check: Check,
    /// The byte before the secret must not be alphanumeric.
    boundary: bool,
    /// How far before its literal a match may start (a marker in the middle
    /// of a key, such as OpenAI's `T3BlbkFJ`).
    back: usize,
    confidence: Confidence,
}

/// One secret found in a text. Holds no copy of the secret: `redacted` is the
/// only form that leaves this crate.
#[derive(Debug, Clone)]
pub struct SecretMatch {
    pub rule: &'static Rule,
    /// What kind of secret, for messages ("GitHub personal access token").
    pub what: &'static str,
    /// Byte span of the secret itself within the scanned text.
    pub start: usize,
    pub end: usize,
    /// A short public prefix, the length and a SHA-256 prefix.
    pub redacted: String,
    pub severity: Severity,
    pub confidence: Confidence,
}

/// `KEYWORD ... = "VALUE"` in code, config and `.env` files.
fn keyword_value(keywords: &str, value: &str) -> String {
    format!(
        r#"(?i-u)(?:{keywords})[\w.\-]{{0,30}}["'\]]?[ \t]*(?:[:=]{{1,2}}|=>|\(|,)[ \t]*(?:[a-z_]{{1,20}}[ \t]*=[ \t]*)?[bruf]?["'`]?({value})(?:["'`\s,);]|$)"#
    )
}

fn detectors() -> Vec<Detector> {
    use Check::*;
    use Window::*;
    let d = |rule: &'static Rule,
             what: &'static str,
             literals: &'static [&'static str],
             pattern: String,
             window: Window,
             shown: usize,
             check: Check,
             boundary: bool,
             confidence: Confidence| Detector {
        rule,
        what,
        literals,
        pattern,
        window,
        shown,
        check,
        boundary,
        back: 0,
        confidence,
    };
    let hi = Confidence::High;
    let med = Confidence::Medium;
    vec![
        d(&ANTHROPIC, "Anthropic API key", &["sk-ant-"],
          r"(sk-ant-(?:api|admin|sid)[0-9]{2}-[A-Za-z0-9_\-]{32,})".into(), Line(300), 14, Token, true, hi),
        d(&OPENAI, "OpenAI API key", &["T3BlbkFJ", "sk-proj-"],
          r"(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}|sk-[A-Za-z0-9_\-]{16,}T3BlbkFJ[A-Za-z0-9_\-]{16,})".into(), Line(400), 8, Token, true, hi).back(200),
        d(&HUGGINGFACE, "Hugging Face token", &["\"hf_", "'hf_", "=hf_", " hf_", "\nhf_"],
          r"((?:hf_|api_org_)[A-Za-z]{34})(?:[^A-Za-z0-9]|$)".into(), Line(60), 3, Token, true, hi),
        d(&REPLICATE, "Replicate API token", &["\"r8_", "'r8_", "=r8_"],
          r"(r8_[A-Za-z0-9]{37})(?:[^A-Za-z0-9]|$)".into(), Line(60), 3, Token, true, hi),
        d(&GROQ, "Groq API key", &["gsk_"],
          r"(gsk_[A-Za-z0-9]{52})(?:[^A-Za-z0-9]|$)".into(), Line(80), 4, Token, true, hi),
        d(&GOOGLE, "Google API key", &["AIza"],
          r"(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)".into(), Line(60), 4, Token, true, hi),
        d(&GOOGLE, "Google OAuth client secret", &["GOCSPX-"],
          r"(GOCSPX-[0-9A-Za-z_\-]{28})(?:[^0-9A-Za-z_\-]|$)".into(), Line(60), 7, Token, true, hi),
        d(&AWS, "AWS access key id", &["AKIA", "ASIA"],
          r"((?:AKIA|ASIA)[A-Z2-7]{16})(?:[^A-Za-z0-9]|$)".into(), Line(40), 4, Token, true, hi),
        d(&AWS, "AWS secret access key", &["ecret", "ECRET"],
          keyword_value("aws_?secret_?access_?key|aws_secret|secretaccesskey|secret_access_key", r"[A-Za-z0-9/+]{40}"), Line(200), 0, KeywordValue, false, hi).back(24),
        d(&GCP_SERVICE_ACCOUNT, "Google Cloud service-account key", &["service_account"],
          r#"service_account"(?s:.)*?"private_key"\s*:\s*"(-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[^"]{64,}?)""#.into(), Forward(12_000), 27, PrivateKey, false, hi),
        d(&GITHUB, "GitHub token", &["ghp_", "gho_", "ghs_", "github_pat_"],
          r"(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})(?:[^A-Za-z0-9_]|$)".into(), Line(120), 4, Token, true, hi),
        d(&SLACK, "Slack token", &["xoxb", "xoxp", "xoxe"],
          r"(xox(?:[abprs]|e\.xox[bp]|e)-(?:[0-9]+-)*[0-9A-Za-z\-]{10,})".into(), Line(300), 5, Token, true, hi),
        d(&SLACK, "Slack incoming webhook", &["hooks.slack.com"],
          r"(hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32})".into(), Line(120), 25, Token, false, hi),
        d(&STRIPE, "Stripe secret key", &["k_live_", "k_test_"],
          r"((?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,})".into(), Line(300), 8, Stripe, true, hi).back(2),
        d(&PRIVATE_KEY, "private key", &["-----BEGIN"],
          r"(-----BEGIN (?:[A-Z0-9]{1,12} ){0,2}PRIVATE KEY(?: BLOCK)?-----(?:\\[rn]|[\s\x22',+])*[A-Za-z0-9+/=]{40,}(?:(?:\\[rn]|\s)*[A-Za-z0-9+/=]{8,})*)".into(), Forward(16_000), 0, PrivateKey, false, hi),
        d(&JWT, "JSON Web Token", &["eyJhbGci", "eyJ0eXAi"],
          r"(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,})".into(), Line(13_000), 3, Jwt, true, hi),
        d(&DATABASE_URL, "database URL password",
          &["postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql", "oracle"],
          r#"(?i)(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|clickhouse)(?:\+[a-z0-9]+)?://[^:@/\s'"`]{0,64}:([^@/\s'"`]{3,128})@[^\s'"`/?#]{1,255}"#.into(), Line(600), 0, DbPassword, false, hi),
        d(&OTHER_AI, "LangSmith API key", &["lsv2_"],
          r"(lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})(?:[^A-Za-z0-9]|$)".into(), Line(80), 8, Token, true, hi),
        d(&OTHER_AI, "Perplexity API key", &["pplx-"],
          r"(pplx-[A-Za-z0-9]{48})(?:[^A-Za-z0-9]|$)".into(), Line(80), 5, Token, true, hi),
        d(&OTHER_AI, "xAI API key", &["xai-"],
          r"(xai-[A-Za-z0-9]{80})(?:[^A-Za-z0-9]|$)".into(), Line(120), 4, Token, true, hi),
        d(&OTHER_AI, "Pinecone API key", &["pcsk_"],
          r"(pcsk_[A-Za-z0-9_]{50,90})(?:[^A-Za-z0-9_]|$)".into(), Line(120), 5, Token, true, hi),
        d(&OTHER_AI, "Weights & Biases API key", &["andb", "ANDB"],
          keyword_value("wandb", r"[a-f0-9]{40}"), Line(200), 0, KeywordValue, false, med).back(8),
        d(&COHERE, "Cohere API key", &["ohere", "OHERE"],
          keyword_value("cohere|co_api_key", r"[A-Za-z0-9]{40}"), Line(200), 0, KeywordValue, false, med).back(8),
        d(&MISTRAL, "Mistral API key", &["istral", "ISTRAL"],
          keyword_value("mistral", r"[A-Za-z0-9]{32}"), Line(200), 0, KeywordValue, false, med).back(8),
        d(&AZURE_OPENAI, "Azure OpenAI key", &["zure", "ZURE"],
          keyword_value("azure", r"[a-fA-F0-9]{32}|[A-Za-z0-9]{84}"), Line(240), 0, KeywordValue, false, med).back(8),
        d(&GENERIC, "secret-like value", &["_key", "_KEY", "piKey", "ikey", "IKEY", "ecret", "ECRET", "oken", "OKEN", "assw", "ASSW", "redential", "REDENTIAL"],
          r#"(?i-u)(?P<n>(?:api[_\-]?key|secret|token|passw(?:or)?d|pwd|credentials?|access[_\-]?key|private[_\-]?key|auth[_\-]?key)[\w.\-]{0,24})["'\]]?[ \t]*(?::=|==?|:|=>)[ \t]*[bruf]?["'`]([^"'`\s]{12,200})["'`]"#.into(),
          Line(300), 0, Entropy, false, Confidence::Low).back(16),
    ]
}

impl Detector {
    fn back(mut self, n: usize) -> Self {
        self.back = n;
        self
    }
}

struct Engine {
    detectors: Vec<Detector>,
    regexes: Vec<Regex>,
    ac: AhoCorasick,
    /// Aho-Corasick pattern id -> the detectors that need that literal.
    literal_owners: Vec<Vec<usize>>,
}

/// Teddy, the SIMD literal searcher behind Aho-Corasick's fast path, takes at
/// most this many case-sensitive patterns, and runs several times faster when
/// none is shorter than [`TEDDY_MIN_LEN`] (longer fingerprints, fewer false
/// candidates). With ASCII case folding, overlapping search or more patterns
/// the automaton walks every byte instead (measured: 0.35 GB/s against 2.5).
/// So detectors name case variants or the case-stable middle of a keyword
/// (`ecret` for secret/Secret) and reach back to the word's start, and
/// 3-byte prefixes carry the byte before them (`"hf_`, `=hf_`).
const TEDDY_MAX_PATTERNS: usize = 64;
const TEDDY_MIN_LEN: usize = 4;

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let detectors = detectors();
    let regexes = detectors
        .iter()
        .map(|d| Regex::new(&d.pattern).expect("detector patterns are tested"))
        .collect();
    let mut literals: Vec<&str> = Vec::new();
    let mut literal_owners: Vec<Vec<usize>> = Vec::new();
    for (i, d) in detectors.iter().enumerate() {
        for l in d.literals {
            match literals.iter().position(|x| x == l) {
                Some(p) => literal_owners[p].push(i),
                None => {
                    literals.push(l);
                    literal_owners.push(vec![i]);
                }
            }
        }
    }
    debug_assert!(literals.len() <= TEDDY_MAX_PATTERNS);
    debug_assert!(literals.iter().all(|l| l.len() >= TEDDY_MIN_LEN));
    // Leftmost-first, not overlapping: Teddy only serves non-overlapping
    // searches, and no literal here needs to be seen inside another.
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .build(&literals)
        .expect("literals are valid");
    Engine {
        detectors,
        regexes,
        ac,
        literal_owners,
    }
});

/// Every secret in `text`, in order, redacted. Overlapping candidates are
/// resolved in favour of the most specific detector (a GitHub token inside
/// `token = "..."` is a GitHub token, not a generic secret).
pub fn find_secrets(text: &str) -> Vec<SecretMatch> {
    find_secrets_in_bytes(text.as_bytes())
}

/// A cheap look at the bytes after a literal, before any regex runs. Most
/// hits of keyword literals (`token` in `tokenizer`, `_key` in `dict_key`)
/// are not followed by an assignment; skipping them here is what keeps the
/// engine at memory speed on real code.
fn worth_a_regex(d: &Detector, text: &[u8], lit_end: usize) -> bool {
    let rest = &text[lit_end..text.len().min(lit_end + 64)];
    match d.check {
        Check::Entropy | Check::KeywordValue => {
            let mut i = 0;
            // The rest of the name, closing quotes and brackets, blanks.
            while i < rest.len()
                && (rest[i].is_ascii_alphanumeric() || b"_.-\"']` \t".contains(&rest[i]))
            {
                i += 1;
            }
            let Some(&op) = rest.get(i) else {
                return false;
            };
            if d.check == Check::KeywordValue {
                return b":=(,>".contains(&op);
            }
            if !b":=".contains(&op) {
                return false;
            }
            // `:=`, `==`, `=>`, blanks, a string prefix, then the quote.
            rest[i + 1..]
                .iter()
                .take(8)
                .find(|b| !b" \t=>:bruf".contains(b))
                .is_some_and(|b| b"\"'`".contains(b))
        }
        Check::DbPassword => {
            rest.len() >= 3 && memchr::memmem::find(&rest[..rest.len().min(24)], b"://").is_some()
        }
        _ => true,
    }
}

/// How many literal hits the prefilter reports in `text` (for the benchmark:
/// separates the cost of the scan from the cost of the regexes behind it).
#[doc(hidden)]
pub fn literal_hits(text: &[u8]) -> usize {
    ENGINE.ac.find_iter(text).count()
}

/// [`find_secrets`] over bytes that need not be UTF-8.
pub fn find_secrets_in_bytes(text: &[u8]) -> Vec<SecretMatch> {
    let e = &*ENGINE;
    let mut found: Vec<(usize, SecretMatch)> = Vec::new();
    // Per detector: hits that start before this were inside an earlier window.
    let mut scanned_to = vec![0usize; e.detectors.len()];
    for hit in e.ac.find_iter(text) {
        for &di in &e.literal_owners[hit.pattern().as_usize()] {
            if hit.start() < scanned_to[di] {
                continue;
            }
            let d = &e.detectors[di];
            if !worth_a_regex(d, text, hit.end()) {
                continue;
            }
            let lit = hit.start();
            let start = if d.back == 0 {
                lit
            } else {
                let from = lit.saturating_sub(d.back);
                memchr::memrchr(b'\n', &text[from..lit]).map_or(from, |p| from + p + 1)
            };
            let end = match d.window {
                Window::Line(max) => {
                    let lim = (lit + max).min(text.len());
                    memchr::memchr(b'\n', &text[lit..lim]).map_or(lim, |p| lit + p)
                }
                Window::Forward(max) => (lit + max).min(text.len()),
            };
            // A later literal in the same line opens a window inside this one:
            // nothing new to find there.
            scanned_to[di] = match d.window {
                Window::Line(_) => end,
                Window::Forward(_) => hit.end(),
            };
            for caps in e.regexes[di].captures_iter(&text[start..end]) {
                // The secret is the last group (the generic rule also captures the name).
                let Some(m) = caps.get(caps.len() - 1) else {
                    continue;
                };
                if d.check == Check::Entropy
                    && caps
                        .name("n")
                        .is_some_and(|n| names_a_non_secret(n.as_bytes()))
                {
                    continue;
                }
                let (s, t) = (start + m.start(), start + m.end());
                scanned_to[di] = scanned_to[di].max(start + caps.get(0).map_or(0, |m0| m0.end()));
                if d.boundary && s > 0 && text[s - 1].is_ascii_alphanumeric() {
                    continue;
                }
                if let Some((severity, confidence)) = judge(d, &text[s..t]) {
                    found.push((
                        di,
                        SecretMatch {
                            rule: d.rule,
                            what: d.what,
                            start: s,
                            end: t,
                            redacted: redacted_for(d, &text[s..t]),
                            severity,
                            confidence,
                        },
                    ));
                }
            }
        }
    }
    found.sort_by_key(|(di, m)| (m.start, *di));
    let mut out: Vec<(usize, SecretMatch)> = Vec::with_capacity(found.len());
    for (di, m) in found {
        match out.last_mut() {
            Some((ldi, last)) if m.start < last.end => {
                if di < *ldi {
                    *ldi = di;
                    *last = m;
                }
            }
            _ => out.push((di, m)),
        }
    }
    out.into_iter().map(|(_, m)| m).collect()
}

fn redacted_for(d: &Detector, secret: &[u8]) -> String {
    let s = String::from_utf8_lossy(secret);
    match d.check {
        // Show the PEM header, never the body.
        Check::PrivateKey => {
            let header_end = s.find("-----\\n").or_else(|| s.find("-----\n"));
            let shown = header_end
                .map_or(0, |p| p + 5)
                .min(s.find("KEY-----").map_or(0, |p| p + 8));
            redact(&s, shown)
        }
        _ => redact(&s, d.shown),
    }
}

/// Accepts (with severity and confidence) or rejects a regex match.
fn judge(d: &Detector, secret: &[u8]) -> Option<(Severity, Confidence)> {
    let base = (d.rule.default_severity, d.confidence);
    match d.check {
        Check::Token => {
            (!looks_like_placeholder(&secret[d.shown.min(secret.len())..])).then_some(base)
        }
        Check::KeywordValue => {
            let classes = char_classes(secret);
            (classes >= 2 && !looks_like_placeholder(secret)).then_some(base)
        }
        Check::Stripe => {
            if looks_like_placeholder(&secret[8.min(secret.len())..]) {
                return None;
            }
            if secret.windows(6).any(|w| w == b"_test_") {
                Some((Severity::Low, d.confidence))
            } else {
                Some(base)
            }
        }
        Check::PrivateKey => {
            let body_start = secret
                .windows(8)
                .position(|w| w == b"KEY-----")
                .map_or(0, |p| p + 8);
            let body: Vec<u8> = secret[body_start..]
                .iter()
                .copied()
                .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
                .collect();
            if looks_like_placeholder(&body) {
                return None;
            }
            if secret.windows(9).any(|w| w == b"ENCRYPTED") {
                Some((Severity::Medium, d.confidence))
            } else {
                Some(base)
            }
        }
        Check::Jwt => {
            let header = secret.split(|&b| b == b'.').next()?;
            let decoded = b64url_decode(header)?;
            let alg = decoded.windows(5).any(|w| w == b"\"alg\"");
            (decoded.first() == Some(&b'{') && alg).then_some(base)
        }
        Check::DbPassword => {
            let p = std::str::from_utf8(secret).ok()?;
            (!is_placeholder_password(p)).then_some(base)
        }
        Check::Entropy => generic_value_ok(secret).then_some(base),
    }
}

/// Words that mark a value as an example, in any case.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "sample",
    "placeholder",
    "dummy",
    "your",
    "changeme",
    "change_me",
    "redacted",
    "xxxx",
    "****",
    "....",
    "<",
    ">",
    "{",
    "}",
    "$",
    "%(",
    "insert",
    "replace",
    "todo",
    "fixme",
];

fn looks_like_placeholder(body: &[u8]) -> bool {
    let lower = body.to_ascii_lowercase();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if has(b"xxxx") || has(b"****") || has(b"....") || has(b"example") || has(b"0000000000") {
        return true;
    }
    // Random tokens of 16+ characters use many distinct symbols; `aaaa...` or
    // `abcabc...` do not.
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in body {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
        }
    }
    body.len() >= 16 && distinct < 8 || has(b"abcdefghij") || has(b"1234567890")
}

fn char_classes(s: &[u8]) -> u32 {
    let lower = s.iter().any(u8::is_ascii_lowercase);
    let upper = s.iter().any(u8::is_ascii_uppercase);
    let digit = s.iter().any(u8::is_ascii_digit);
    let other = s.iter().any(|b| !b.is_ascii_alphanumeric());
    u32::from(lower) + u32::from(upper) + u32::from(digit) + u32::from(other)
}

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Names that hold something about a secret, not the secret: an id, a
/// path, a length, the name of an environment variable.
fn names_a_non_secret(name: &[u8]) -> bool {
    let l = name.to_ascii_lowercase();
    const SUFFIXES: &[&[u8]] = &[
        b"id",
        b"ids",
        b"name",
        b"path",
        b"file",
        b"url",
        b"uri",
        b"type",
        b"dir",
        b"len",
        b"length",
        b"size",
        b"count",
        b"format",
        b"prefix",
        b"header",
        b"field",
        b"env",
        b"var",
        b"key_id",
        b"endpoint",
    ];
    SUFFIXES.iter().any(|s| l.ends_with(s))
}

/// The generic rule's judgement of a quoted value next to a secret-like name.
fn generic_value_ok(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    let lower = s.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w))
        || lower.contains("test")
        || lower.starts_with("http")
        || lower.starts_with("env:")
        || lower.starts_with("os.")
        || looks_like_placeholder(v)
    {
        return false;
    }
    // Code, not a credential: brackets, operators, separators.
    if v.iter().any(|b| b"[](){}<>=,;\\".contains(b)) {
        return false;
    }
    // A value that names itself (`bearer_token_123`, `my-secret-key`) is a
    // fixture or a placeholder; issued credentials do not spell words.
    if ["token", "secret", "passw", "bearer", "key", "pass"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return false;
    }
    // Paths, dotted names and identifiers (`TRAINABLE_TOKENS`,
    // `CountTokensParams`, `m1.encoder.weight`) are references, not secrets.
    let identifier_like = !v.iter().any(u8::is_ascii_digit)
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-/:".contains(b));
    let dotted_path = s.split('.').count() > 1
        && s.split('.').all(|seg| {
            seg.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if dotted_path {
        return false;
    }
    let path_like = s.contains('/') && s.rsplit('/').next().is_some_and(|f| f.contains('.'));
    if identifier_like || path_like || s.contains(' ') {
        return false;
    }
    let classes = char_classes(v);
    // Shorter strings cannot reach high entropy; scale the bar with length.
    let bar = (s.len() as f64).log2().min(4.5) - 0.9;
    classes >= 2 && shannon_entropy(v) >= bar.min(3.5)
}

fn is_placeholder_password(p: &str) -> bool {
    let l = p.to_ascii_lowercase();
    matches!(
        l.as_str(),
        "password"
            | "passwd"
            | "pass"
            | "pwd"
            | "secret"
            | "changeme"
            | "root"
            | "admin"
            | "postgres"
            | "mysql"
            | "user"
            | "guest"
            | "test"
            | "example"
            | "dbpass"
            | "db_password"
    ) || PLACEHOLDER_WORDS.iter().any(|w| l.contains(w))
        || l.starts_with(':')
        || p.bytes().all(|b| b == b'*' || b == b'x' || b == b'X')
}

fn b64url_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_teddy_applies() {
        assert_eq!(ENGINE.regexes.len(), ENGINE.detectors.len());
        assert!(
            ENGINE.literal_owners.len() <= TEDDY_MAX_PATTERNS,
            "{} literals: the SIMD prefilter would be disabled",
            ENGINE.literal_owners.len()
        );
        for d in &ENGINE.detectors {
            for l in d.literals {
                assert!(
                    l.len() >= TEDDY_MIN_LEN,
                    "{l} is too short for a fast Teddy"
                );
            }
        }
        for d in &ENGINE.detectors {
            assert!(!d.literals.is_empty());
        }
    }

    #[test]
    fn entropy_and_b64() {
        assert!(shannon_entropy(b"aaaaaaaa") < 0.01);
        assert!(shannon_entropy(b"a8F!q2Zr") > 2.9);
        assert_eq!(
            b64url_decode(b"eyJhbGciOiJIUzI1NiJ9").unwrap(),
            b"{\"alg\":\"HS256\"}"
        );
        assert!(b64url_decode(b"e!").is_none());
    }

    #[test]
    fn placeholders() {
        assert!(looks_like_placeholder(
            b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        ));
        assert!(looks_like_placeholder(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(!looks_like_placeholder(b"q8Fh2LmZ0pR7sVt4KxWc9YbN3dJe6Ga1"));
        assert!(is_placeholder_password("${DB_PASSWORD}"));
        assert!(is_placeholder_password("<password>"));
        assert!(!is_placeholder_password("S3cr3t-Pr0d!"));
    }
}
