use std::io::{self, Write};

use aisec_core::{EXCERPT_CHARS, Finding, Report, RuleRegistry, Severity, escape_control, excerpt};
use anstyle::{AnsiColor, Style};

use crate::source::SourceLines;

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new()
            .bold()
            .fg_color(Some(AnsiColor::BrightRed.into())),
        Severity::High => Style::new().fg_color(Some(AnsiColor::Red.into())),
        Severity::Medium => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Severity::Low => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
        Severity::Info => Style::new().dimmed(),
    }
}

/// Where the lines under a finding's row start: under its rule id.
const INDENT: &str = "           ";

/// Rule families whose findings are about a value in the line itself (a
/// credential, personal data): they get no snippet. Their evidence already
/// shows the match masked by the detector that knows its shape; the generic
/// masking of [`excerpt`] might not recognise a short password or an e-mail
/// address that the detector did.
const NO_SNIPPET_FAMILIES: &[&str] = &["SEC", "DATA"];

/// Findings grouped by file, one row each, then a summary line. Under a row:
/// the evidence, the source line with a caret under the span (text files on
/// disk, from `source`), the first sentence of the rule's remediation and a
/// pointer to `aisec explain ID`, so that a finding says what to do, as
/// rustc's and cargo-deny's diagnostics do. `color` adds ANSI styles (the
/// caller decides: TTY, `--color`, `NO_COLOR`).
///
/// Paths, members, messages, evidence and source lines come from scanned
/// files, so their control characters are escaped ([`escape_control`]): a
/// file named `ESC]0;...` must not retitle the terminal, nor a newline split a
/// row. Source lines are quoted through [`excerpt`]: capped, credentials
/// masked.
pub fn write_table(
    report: &Report,
    rules: &RuleRegistry,
    source: &dyn SourceLines,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    let paint = |style: Style, text: &str| -> String {
        if color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    };
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    // rustc's colour for gutters and `=` notes.
    let gutter = Style::new()
        .bold()
        .fg_color(Some(AnsiColor::BrightBlue.into()));

    let mut current: Option<&str> = None;
    for f in &report.findings {
        if current != Some(f.location.path.as_str()) {
            if current.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{}", paint(bold, &escape_control(&f.location.path)))?;
            current = Some(&f.location.path);
        }
        let mut place = String::new();
        if let Some(m) = &f.location.member {
            place.push('!');
            place.push_str(&escape_control(m));
        }
        if let Some(line) = f.location.line {
            place.push_str(&format!(":{line}"));
            if let Some(c) = f.location.column {
                place.push_str(&format!(":{c}"));
            }
        } else if let Some(r) = f.location.byte_range {
            place.push_str(&format!(" @{}", r.start));
        }
        let sev = format!("{:<8}", f.severity.as_str().to_uppercase());
        writeln!(
            out,
            "  {} {} {}{}",
            paint(severity_style(f.severity), &sev),
            paint(dim, &escape_control(&f.rule_id)),
            escape_control(&f.message),
            if place.is_empty() {
                String::new()
            } else {
                paint(dim, &format!("  [{}]", place.trim_start()))
            }
        )?;
        if let Some(e) = &f.evidence {
            let one_line = escape_control(e);
            writeln!(
                out,
                "{INDENT}{}",
                paint(dim, &format!("evidence: {one_line}"))
            )?;
        }
        if let Some(snippet) = snippet(f, source) {
            let number = snippet.line.to_string();
            let pad = " ".repeat(number.len());
            let bar = paint(gutter, "|");
            writeln!(out, "{INDENT}{pad} {bar}")?;
            writeln!(
                out,
                "{INDENT}{} {bar} {}",
                paint(gutter, &number),
                snippet.text
            )?;
            let carets = format!("{}{}", " ".repeat(snippet.start), "^".repeat(snippet.width));
            writeln!(
                out,
                "{INDENT}{pad} {bar} {}",
                paint(severity_style(f.severity), &carets)
            )?;
        }
        if let Some(rule) = rules.get(&f.rule_id) {
            if let Some(help) = rule.help() {
                writeln!(
                    out,
                    "{INDENT}{} {} {}",
                    paint(gutter, "="),
                    paint(bold, "help:"),
                    escape_control(&help)
                )?;
            }
            writeln!(
                out,
                "{INDENT}{} {} `aisec explain {}` for the whole rule",
                paint(gutter, "="),
                paint(bold, "note:"),
                rule.id
            )?;
        }
    }
    if current.is_some() {
        writeln!(out)?;
    }

    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = report.stats.by_severity.get(s).copied().unwrap_or(0);
            (n > 0).then(|| paint(severity_style(*s), &format!("{n} {s}")))
        })
        .collect();
    let total = report.findings.len();
    let suppressed = &report.stats.suppressed;
    let hidden = suppressed.by_config + suppressed.by_waiver + suppressed.by_baseline;
    write!(
        out,
        "{} finding{} in {} file{} ({} bytes)",
        total,
        if total == 1 { "" } else { "s" },
        report.stats.files_scanned,
        if report.stats.files_scanned == 1 {
            ""
        } else {
            "s"
        },
        report.stats.bytes_scanned,
    )?;
    if !counts.is_empty() {
        write!(out, ": {}", counts.join(", "))?;
    }
    if hidden > 0 {
        write!(
            out,
            "; {hidden} suppressed ({} by config, {} waived, {} in baseline)",
            suppressed.by_config, suppressed.by_waiver, suppressed.by_baseline
        )?;
    }
    writeln!(out)
}

/// A source line ready to print: quoted through [`excerpt`], with the
/// underline's start and width in printed characters.
struct Snippet {
    line: u32,
    text: String,
    start: usize,
    width: usize,
}

/// The snippet for `f`: only for a line of a file on disk (not an archive
/// member, whose bytes the writer has no way to reach), and never for rules
/// whose finding is the value on the line ([`NO_SNIPPET_FAMILIES`]).
///
/// Rendered here rather than with `annotate-snippets`: what we draw is one
/// line and one underline, and the quoting must go through [`excerpt`] (masked,
/// escaped, capped), so positions are measured on the quoted text, which a
/// general renderer would measure on the raw line. (The crate was also not
/// reachable from this build's registry.)
fn snippet(f: &Finding, source: &dyn SourceLines) -> Option<Snippet> {
    let loc = &f.location;
    let family = f.rule_id.split('-').nth(1).unwrap_or("");
    if loc.member.is_some() || NO_SNIPPET_FAMILIES.contains(&family) {
        return None;
    }
    let line = loc.line?;
    let raw = source.line(&loc.path, line)?;
    let body = raw.trim_start();
    if body.trim_end().is_empty() {
        return None;
    }
    let indent = raw.len() - body.len();
    let text = excerpt(body);
    let shown = text.chars().count();
    // The span in bytes of `body`: from the column (1-based; a byte offset,
    // as the scanners' line indexes count) for the byte range's length when
    // it stays on the line, else to the end of the word; the whole line when
    // there is no column.
    let (from, to) = match loc.column {
        Some(col) => {
            let from = floor_boundary(
                body,
                (col as usize).saturating_sub(1).saturating_sub(indent),
            );
            let len = loc
                .byte_range
                .filter(|_| loc.end_line.is_none_or(|e| e == line))
                .map(|r| usize::try_from(r.end.saturating_sub(r.start)).unwrap_or(usize::MAX));
            let to = match len {
                Some(n) if n > 0 => floor_boundary(body, from.saturating_add(n)),
                _ => body[from..]
                    .find(char::is_whitespace)
                    .map_or(body.len(), |n| from + n),
            };
            (from, to)
        }
        None => (0, body.trim_end().len()),
    };
    // Positions on the quoted text: what quoting the prefix would print. The
    // prefix is only measured, never printed, so cutting it mid-token cannot
    // leak what masking the whole line hid.
    let start = quoted_width(&body[..from]).min(shown.saturating_sub(1));
    let end = quoted_width(&body[..to]).min(shown);
    Some(Snippet {
        line,
        text,
        start,
        width: end.saturating_sub(start).max(1),
    })
}

/// Printed width of `prefix` once quoted: [`excerpt`] trims, so trailing
/// blanks (which still move the caret) are counted apart.
fn quoted_width(prefix: &str) -> usize {
    let kept = prefix.trim_end();
    let blanks: usize = prefix[kept.len()..]
        .chars()
        .map(|c| escape_control(c.encode_utf8(&mut [0; 4])).chars().count())
        .sum();
    let quoted = excerpt(kept).chars().count();
    // Past the cap the quote ends in `…`: what lies beyond is under it.
    if quoted > EXCERPT_CHARS {
        return EXCERPT_CHARS + 1;
    }
    quoted + blanks
}

fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoSource;
    use aisec_core::{Rule, ToolInfo, generic};
    use std::collections::HashMap;

    /// Lines by (path, line): the table's input without a file system.
    struct Lines(HashMap<(&'static str, u32), &'static str>);

    impl SourceLines for Lines {
        fn line(&self, path: &str, line: u32) -> Option<String> {
            self.0
                .iter()
                .find(|((p, l), _)| *p == path && *l == line)
                .map(|(_, t)| (*t).to_owned())
        }
    }

    static IAC: Rule = Rule {
        id: "AISEC-IAC-017",
        name: "mutable-base-image",
        summary: "A base image is named by a mutable tag",
        default_severity: Severity::Medium,
        explanation: "## What it finds\nA tag.\n\n## Remediation\nPin the image to a digest\n(`FROM image@sha256:...`). Tags move.",
        references: &[],
    };

    static SECRET: Rule = Rule {
        id: "AISEC-SEC-001",
        name: "secret",
        summary: "A credential in a file",
        default_severity: Severity::High,
        explanation: "## Remediation\nRevoke the key, then remove it.",
        references: &[],
    };

    fn registry() -> RuleRegistry {
        let tables: [&[&'static Rule]; 2] = [&[&IAC, &SECRET], &[&generic::MALFORMED]];
        RuleRegistry::new(tables).unwrap()
    }

    fn report(findings: Vec<Finding>) -> Report {
        let mut report = Report::new(
            ToolInfo {
                name: "aisec".into(),
                version: "0".into(),
            },
            vec![".".into()],
        );
        report.findings = findings;
        report.recount();
        report
    }

    fn table(report: &Report, source: &dyn SourceLines, color: bool) -> String {
        let mut out = Vec::new();
        write_table(report, &registry(), source, &mut out, color).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn dockerfile() -> Lines {
        Lines(HashMap::from([
            (("Dockerfile", 1), "  FROM python:latest AS base\r"),
            (
                ("Dockerfile", 2),
                "RUN pip install --index-url https://alice:hunter2@pypi.example/simple torch",
            ),
            (
                ("keys.env", 1),
                "AWS_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
        ]))
    }

    #[test]
    fn a_finding_with_line_and_column_shows_the_line_with_a_caret() {
        let mut f = Finding::at_path(&IAC, "Dockerfile", "base image uses `latest`")
            .evidence("FROM python:latest")
            .line(1, Some(8));
        f.location.byte_range = Some(aisec_core::ByteRange { start: 7, end: 20 });
        let text = table(&report(vec![f]), &dockerfile(), false);
        assert_eq!(
            text,
            "\
Dockerfile
  MEDIUM   AISEC-IAC-017 base image uses `latest`  [:1:8]
           evidence: FROM python:latest
             |
           1 | FROM python:latest AS base
             |      ^^^^^^^^^^^^^
           = help: Pin the image to a digest (`FROM image@sha256:...`).
           = note: `aisec explain AISEC-IAC-017` for the whole rule

1 finding in 0 files (0 bytes): 1 medium
"
        );
    }

    #[test]
    fn a_line_without_a_column_is_underlined_whole_and_masked() {
        let f = Finding::at_path(&IAC, "Dockerfile", "index with a password").line(2, None);
        let text = table(&report(vec![f]), &dockerfile(), false);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains(
                "\
           2 | RUN pip install --index-url https://alice:***@pypi.example/s…
             | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_finding_without_a_line_has_no_snippet_but_help() {
        let f = Finding::at_path(&generic::MALFORMED, "Dockerfile", "truncated").bytes(4, 9);
        let text = table(&report(vec![f]), &dockerfile(), false);
        assert_eq!(
            text,
            "\
Dockerfile
  MEDIUM   AISEC-GEN-002 truncated  [@4]
           = help: Regenerate the file from a trusted source.
           = note: `aisec explain AISEC-GEN-002` for the whole rule

1 finding in 0 files (0 bytes): 1 medium
"
        );
    }

    #[test]
    fn a_secret_finding_never_quotes_its_line() {
        let f = Finding::at_path(&SECRET, "keys.env", "an AWS secret key")
            .evidence("wJal…[redacted]")
            .line(1, Some(12));
        for color in [false, true] {
            let text = strip_sgr(&table(&report(vec![f.clone()]), &dockerfile(), color));
            assert!(!text.contains("XRfiCY"), "{text}");
            assert!(!text.contains(" | "), "{text}");
            assert!(
                text.contains("= help: Revoke the key, then remove it."),
                "{text}"
            );
        }
    }

    #[test]
    fn an_unknown_rule_or_a_member_gets_neither_help_nor_snippet() {
        let mut f = Finding::at_path(&IAC, "Dockerfile", "m").line(1, None);
        f.location.member = Some("inner/Dockerfile".into());
        f.rule_id = "AISEC-XYZ-001".into();
        let text = table(&report(vec![f]), &dockerfile(), false);
        assert!(!text.contains("help:") && !text.contains(" | "), "{text}");
        assert_eq!(
            table(&report(vec![]), &NoSource, false),
            "0 findings in 0 files (0 bytes)\n"
        );
    }

    #[test]
    fn carets_count_printed_characters_and_stop_at_the_cap() {
        let long = "x".repeat(70);
        let source = Lines(HashMap::from([
            (("a.yaml", 1), "naïve: é"),
            (
                ("a.yaml", 2),
                Box::leak(format!("k: {long} tail").into_boxed_str()) as &str,
            ),
        ]));
        // Column 9 is a byte offset: after the two-byte `ï` and `é` starts there.
        let f = Finding::at_path(&IAC, "a.yaml", "m").line(1, Some(9));
        let text = table(&report(vec![f]), &source, false);
        assert!(
            text.contains("1 | naïve: é\n             |        ^\n"),
            "{text}"
        );
        // A column past what the quote shows points at its `…`.
        let f = Finding::at_path(&IAC, "a.yaml", "m").line(2, Some(76));
        let text = table(&report(vec![f]), &source, false);
        let caret = format!("             | {}^\n", " ".repeat(EXCERPT_CHARS));
        assert!(text.contains(&caret), "{text}");
    }

    #[test]
    fn colour_only_when_asked() {
        let f = Finding::at_path(&IAC, "Dockerfile", "m").line(1, Some(3));
        let plain = table(&report(vec![f.clone()]), &dockerfile(), false);
        let coloured = table(&report(vec![f]), &dockerfile(), true);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert!(coloured.contains('\u{1b}'), "{coloured}");
        assert_eq!(strip_sgr(&coloured), plain);
        assert!(
            plain.contains("1 | FROM python:latest AS base\n             | ^^^^\n"),
            "{plain}"
        );
    }

    fn strip_sgr(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("\u{1b}[") {
            out.push_str(&rest[..at]);
            let tail = &rest[at + 2..];
            let len = tail
                .find(|c: char| !(c.is_ascii_digit() || c == ';'))
                .unwrap_or(tail.len());
            if tail[len..].starts_with('m') {
                rest = &tail[len + 1..];
            } else {
                // Not a style: keep the ESC so the assertion sees it.
                out.push('\u{1b}');
                rest = &rest[at + 1..];
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn scanned_text_cannot_drive_the_terminal_or_split_rows() {
        let mut report = Report::new(
            ToolInfo {
                name: "aisec".into(),
                version: "0".into(),
            },
            vec![".".into()],
        );
        let mut finding = Finding::at_path(
            &generic::MALFORMED,
            "title\u{1b}]0;owned\u{7}.pkl",
            "bad line \u{1b}[2J\nFAKE ROW",
        )
        .evidence("\u{202e}gpj.exe\r\n");
        finding.location.member = Some("inner\u{9b}31m".into());
        report.findings.push(finding);
        // A text finding whose line is hostile too.
        report.findings.push(
            Finding::at_path(&IAC, "ctl\u{1b}[31m.tf", "tag \u{1b}]0;x\u{7}").line(1, Some(3)),
        );
        report.recount();
        let source = Lines(HashMap::from([(
            ("ctl\u{1b}[31m.tf", 1),
            "a\u{1b}[2Jb \u{202e}FAKE\r\nROW",
        )]));
        for color in [false, true] {
            let mut out = Vec::new();
            write_table(&report, &registry(), &source, &mut out, color).unwrap();
            let text = String::from_utf8(out).unwrap();
            // Only the writer's own styles (SGR: ESC [ digits ; m) and line
            // ends remain.
            let stripped = strip_sgr(&text);
            assert!(
                !stripped.chars().any(|c| c.is_control() && c != '\n'),
                "{text:?}"
            );
            assert!(
                !text.contains('\u{202e}') && !text.contains('\u{9b}'),
                "{text:?}"
            );
            assert!(text.contains("title\\u{1b}]0;owned\\u{7}.pkl"), "{text}");
            assert!(text.contains("bad line \\u{1b}[2J\\nFAKE ROW"), "{text}");
            assert!(!text.lines().any(|l| l.starts_with("FAKE ROW")), "{text}");
            assert!(text.contains("evidence: \\u{202e}gpj.exe\\r\\n"), "{text}");
            let plain = strip_sgr(&text);
            assert!(plain.contains("ctl\\u{1b}[31m.tf\n"), "{plain}");
            assert!(
                plain.contains(
                    "1 | a\\u{1b}[2Jb \\u{202e}FAKE\\r\\nROW\n             |        ^^^^\n"
                ),
                "{plain}"
            );
        }
    }
}
