//! Installed distributions: `*.dist-info/METADATA` (wheels, modern pip) and
//! `*.egg-info/PKG-INFO` (legacy installs), so a virtualenv, a
//! `site-packages` or a container filesystem can be scanned for what is
//! actually installed. The header block is RFC 822 style (core metadata
//! spec); only `Name` and `Version` are read.

use super::{Dependency, Manifest, ParseError, Pin};

pub fn parse(text: &str) -> Result<Manifest, ParseError> {
    let mut name = None;
    let mut version = None;
    let mut saw_metadata_version = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            // The headers end at the first blank line; the body is the
            // long description, which may contain anything.
            break;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.to_ascii_lowercase().as_str() {
            "metadata-version" => saw_metadata_version = true,
            "name" if name.is_none() => name = Some((value.to_owned(), i as u32 + 1)),
            "version" if version.is_none() => version = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some((name, line)), Some(version)) = (name, version) else {
        return Err(ParseError::new(
            None,
            if saw_metadata_version {
                "package metadata without a Name or Version header"
            } else {
                "not package metadata (no Metadata-Version header)"
            },
        ));
    };
    let spec = format!("{name}=={version}");
    Ok(Manifest {
        dependencies: vec![Dependency::new(name, Pin::Exact(version), spec).at_line(Some(line))],
        ..Manifest::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_name_and_version_from_headers_only() {
        let m = parse("Metadata-Version: 2.1\nName: transformers\nVersion: 4.30.0\nSummary: x\n\nName: not-this\n").unwrap();
        assert_eq!(m.dependencies[0].name, "transformers");
        assert_eq!(m.dependencies[0].version(), Some("4.30.0"));
        assert_eq!(m.dependencies[0].line, Some(2));
        assert!(parse("Metadata-Version: 2.1\nName: x\n").is_err());
        assert!(parse("hello").is_err());
    }
}
