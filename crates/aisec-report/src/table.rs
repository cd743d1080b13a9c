use std::io::{self, Write};

use aisec_core::{Report, Severity};
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
            writeln!(out, "{}", paint(bold, &f.location.path))?;
            current = Some(&f.location.path);
        }
        let mut place = String::new();
        if let Some(m) = &f.location.member {
            place.push('!');
            place.push_str(m);
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
            paint(dim, &f.rule_id),
            f.message,
            if place.is_empty() {
                String::new()
            } else {
                paint(dim, &format!("  [{}]", place.trim_start()))
            }
        )?;
        if let Some(e) = &f.evidence {
            let one_line: String = e.replace(['\n', '\r'], " ");
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
