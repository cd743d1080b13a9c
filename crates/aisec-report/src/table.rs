use std::io::{self, Write};

use aisec_core::{Report, Severity, escape_control};
use anstyle::{AnsiColor, Style};

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

/// Findings grouped by file, one line each, then a summary line. `color`
/// adds ANSI styles (the caller decides: TTY, `--color`, `NO_COLOR`).
///
/// Paths, members, messages and evidence come from scanned files, so their
/// control characters are escaped ([`escape_control`]): a file named
/// `ESC]0;...` must not retitle the terminal, nor a newline split a row.
pub fn write_table(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let paint = |style: Style, text: &str| -> String {
        if color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    };
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();

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
                "           {}",
                paint(dim, &format!("evidence: {one_line}"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use aisec_core::{Finding, ToolInfo, generic};

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
        report.recount();
        for color in [false, true] {
            let mut out = Vec::new();
            write_table(&report, &mut out, color).unwrap();
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
        }
    }
}
