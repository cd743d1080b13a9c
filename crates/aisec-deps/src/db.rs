//! The local advisory database: import of an OSV export, the stored file, and
//! opening it for a scan.
//!
//! ## Format (`osv.db`, one file)
//!
//! ```text
//! "AISECOSV"            8 bytes, magic
//! format version        u32 little-endian (FORMAT_VERSION)
//! header length         u64 little-endian
//! header                JSON: DbMeta + index {ecosystem: {name: [offset, len]}}
//! data                  per package, a JSON array of StoredAdvisory
//! ```
//!
//! Why: opening reads the file and parses only the header (a few thousand
//! index entries, well under a millisecond); the advisories of a package are
//! parsed only when a scan meets that package. JSON inside keeps the file
//! inspectable and schema changes cheap; the version number makes an old
//! binary refuse a newer file (and vice versa) with a clear message instead of
//! misreading it. Writes go to a temporary file renamed into place, so a
//! crashed import leaves the previous database intact.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ecosystem::{self, Ecosystem};
use crate::osv::{self, OsvRecord, RangeKind, StoredAdvisory, StoredRange};

const MAGIC: &[u8; 8] = b"AISECOSV";
/// Bumped whenever the stored layout or [`StoredAdvisory`] changes meaning.
pub const FORMAT_VERSION: u32 = 1;
/// File name of the database inside the database directory.
pub const DB_FILE: &str = "osv.db";
/// Environment variable that overrides [`default_db_dir`].
pub const DB_DIR_ENV: &str = "AISEC_DB_DIR";
/// One advisory is a few kilobytes; anything far larger is not an advisory,
/// and reading it whole would let a crafted export exhaust memory.
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;
/// Where `aisec db update` fetches the PyPI export from.
pub const PYPI_EXPORT_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip";

/// Everything that can go wrong with the database, each naming the file.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no advisory database at {0} (run `aisec db import FILE` or `aisec db update`)")]
    Missing(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable zip archive: {source}")]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("{path}: member {member}: {message}")]
    Member {
        path: PathBuf,
        member: String,
        message: String,
    },
    #[error("{0}: not an aisec advisory database (bad magic)")]
    NotADatabase(PathBuf),
    #[error(
        "{path}: database format {found}, this aisec reads format {expected}; re-run `aisec db import` or `aisec db update`"
    )]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("{path}: corrupt advisory database: {message}; re-import it")]
    Corrupt { path: PathBuf, message: String },
    #[error(
        "{path}: no OSV advisories of a supported ecosystem found (is this an OSV all.zip export?)"
    )]
    Empty { path: PathBuf },
    #[error(
        "`aisec db update` needs network support, which this build leaves out; download {url} and run `aisec db import` on it"
    )]
    NoNetwork { url: &'static str },
    #[error("downloading {url}: {message}")]
    Download { url: String, message: String },
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DbError + '_ {
    move |source| DbError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Facts about a stored database, for `aisec db status` and the scan banner.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DbMeta {
    pub format_version: u32,
    /// The imported file (or URL) as given.
    pub source: String,
    /// SHA-256 of the imported export, to tell two snapshots apart.
    pub source_sha256: String,
    /// When the import ran (RFC 3339, UTC).
    pub imported_at: String,
    /// The newest `modified` among the advisories: how fresh the data is.
    pub newest_advisory: String,
    /// Advisories stored (withdrawn ones excluded).
    pub advisories: u64,
    /// Of those, known-malicious-package records (`MAL-`).
    pub malicious: u64,
    pub withdrawn_skipped: u64,
    /// Records of ecosystems aisec does not match yet.
    pub other_ecosystem_skipped: u64,
    /// Records that were not valid OSV JSON, with the first few reasons.
    pub invalid_skipped: u64,
    #[serde(default)]
    pub invalid_examples: Vec<String>,
    /// Per ecosystem: packages with at least one advisory.
    pub packages: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    meta: DbMeta,
    /// ecosystem → normalised package name → (offset, length) in the data.
    index: BTreeMap<String, BTreeMap<String, (u64, u32)>>,
    data_len: u64,
}

/// What an import did, for the CLI to print.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub meta: DbMeta,
    pub db_path: PathBuf,
    pub db_bytes: u64,
    pub seconds: f64,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.meta;
        write!(
            f,
            "imported {} advisories ({} malicious-package records) for {} packages from {} in {:.2}s into {} ({} KiB)",
            m.advisories,
            m.malicious,
            m.packages.values().sum::<u64>(),
            m.source,
            self.seconds,
            self.db_path.display(),
            self.db_bytes / 1024,
        )?;
        if m.withdrawn_skipped > 0 {
            write!(f, "; {} withdrawn skipped", m.withdrawn_skipped)?;
        }
        if m.other_ecosystem_skipped > 0 {
            write!(
                f,
                "; {} of unsupported ecosystems skipped",
                m.other_ecosystem_skipped
            )?;
        }
        if m.invalid_skipped > 0 {
            write!(
                f,
                "; {} invalid records skipped (first: {})",
                m.invalid_skipped,
                m.invalid_examples.first().map(String::as_str).unwrap_or("")
            )?;
        }
        Ok(())
    }
}

/// `aisec db status`: where the database is and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct DbStatus {
    pub path: PathBuf,
    pub bytes: u64,
    pub meta: DbMeta,
}

impl fmt::Display for DbStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.meta;
        writeln!(f, "database:        {}", self.path.display())?;
        writeln!(f, "format:          {}", m.format_version)?;
        writeln!(f, "size:            {} KiB", self.bytes / 1024)?;
        writeln!(f, "source:          {}", m.source)?;
        writeln!(f, "source sha256:   {}", m.source_sha256)?;
        writeln!(f, "imported at:     {}", m.imported_at)?;
        writeln!(f, "newest advisory: {}", m.newest_advisory)?;
        writeln!(
            f,
            "advisories:      {} ({} malicious-package records)",
            m.advisories, m.malicious
        )?;
        for (eco, n) in &m.packages {
            writeln!(f, "packages:        {n} ({eco})")?;
        }
        write!(
            f,
            "skipped:         {} withdrawn, {} other ecosystems, {} invalid",
            m.withdrawn_skipped, m.other_ecosystem_skipped, m.invalid_skipped
        )
    }
}

/// The database directory: `$AISEC_DB_DIR` when set (tests, CI, air-gapped
/// mirrors), else `aisec/db` in the user's cache directory, else
/// `aisec-db` in the temporary directory on systems that have no cache
/// directory (no home). Never a path relative to the working directory:
/// `aisec scan .` is typically run inside the tree being scanned, and a
/// scanned repository must not be able to supply the database its own
/// dependencies are judged against (an `.aisec-db/osv.db` without its
/// advisories would hide them).
pub fn default_db_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DB_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    match dirs::cache_dir().filter(|c| c.is_absolute()) {
        Some(cache) => cache.join("aisec").join("db"),
        None => std::env::temp_dir().join("aisec-db"),
    }
}

/// Imports an OSV export (`all.zip`, one `<ID>.json` per advisory) into
/// `db_dir`, replacing the database there. Withdrawn advisories and other
/// ecosystems are skipped and counted; an unreadable zip or member is an
/// error naming it; a member that is not valid OSV JSON is skipped and counted
/// (real exports carry the odd malformed record, which must not block the rest).
pub fn import(zip_path: &Path, db_dir: &Path) -> Result<ImportSummary> {
    import_as(zip_path, &zip_path.display().to_string(), db_dir)
}

fn import_as(zip_path: &Path, source: &str, db_dir: &Path) -> Result<ImportSummary> {
    let start = Instant::now();
    let bytes = fs::read(zip_path).map_err(io(zip_path))?;
    let sha = hex(&Sha256::digest(&bytes));
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).map_err(|source| DbError::Zip {
            path: zip_path.to_owned(),
            source,
        })?;

    let mut meta = DbMeta {
        format_version: FORMAT_VERSION,
        source: source.to_owned(),
        source_sha256: sha,
        imported_at: jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        newest_advisory: String::new(),
        advisories: 0,
        malicious: 0,
        withdrawn_skipped: 0,
        other_ecosystem_skipped: 0,
        invalid_skipped: 0,
        invalid_examples: Vec::new(),
        packages: BTreeMap::new(),
    };
    // ecosystem → package → advisories
    let mut by_package: BTreeMap<&'static str, BTreeMap<String, Vec<StoredAdvisory>>> =
        BTreeMap::new();
    let mut buf = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| DbError::Member {
            path: zip_path.to_owned(),
            member: format!("#{i}"),
            message: e.to_string(),
        })?;
        let name = entry
            .name()
            .map_err(|e| DbError::Member {
                path: zip_path.to_owned(),
                member: format!("#{i}"),
                message: e.to_string(),
            })?
            .into_owned();
        if entry.is_dir() || !name.ends_with(".json") {
            continue;
        }
        if entry.size() > MAX_RECORD_BYTES {
            return Err(DbError::Member {
                path: zip_path.to_owned(),
                member: name,
                message: format!(
                    "{} bytes uncompressed, more than any advisory ({MAX_RECORD_BYTES} allowed)",
                    entry.size()
                ),
            });
        }
        buf.clear();
        // `take` bounds the read even when the declared size lies.
        (&mut entry)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| DbError::Member {
                path: zip_path.to_owned(),
                member: name.clone(),
                message: e.to_string(),
            })?;
        let record: OsvRecord = match serde_json::from_slice(&buf) {
            Ok(r) => r,
            Err(e) => {
                meta.invalid_skipped += 1;
                if meta.invalid_examples.len() < 5 {
                    meta.invalid_examples.push(format!("{name}: {e}"));
                }
                continue;
            }
        };
        if record.withdrawn.is_some() {
            meta.withdrawn_skipped += 1;
            continue;
        }
        let stored = store(record);
        if stored.is_empty() {
            meta.other_ecosystem_skipped += 1;
            continue;
        }
        meta.advisories += 1;
        let first = &stored[0].2;
        if first.is_malicious() {
            meta.malicious += 1;
        }
        if first.modified > meta.newest_advisory {
            meta.newest_advisory = first.modified.clone();
        }
        for (eco, name, adv) in stored {
            by_package
                .entry(eco.name)
                .or_default()
                .entry(name)
                .or_default()
                .push(adv);
        }
    }
    if meta.advisories == 0 {
        return Err(DbError::Empty {
            path: zip_path.to_owned(),
        });
    }

    let mut data = Vec::new();
    let mut index: BTreeMap<String, BTreeMap<String, (u64, u32)>> = BTreeMap::new();
    for (eco, packages) in &mut by_package {
        meta.packages
            .insert((*eco).to_owned(), packages.len() as u64);
        let slot = index.entry((*eco).to_owned()).or_default();
        for (name, advisories) in packages {
            // Deterministic output: same export, same bytes.
            advisories.sort_by(|a, b| a.id.cmp(&b.id));
            let offset = data.len() as u64;
            serde_json::to_writer(&mut data, &advisories).expect("serialising to a Vec");
            slot.insert(name.clone(), (offset, (data.len() as u64 - offset) as u32));
        }
    }
    let header = Header {
        meta: meta.clone(),
        index,
        data_len: data.len() as u64,
    };
    let header_json = serde_json::to_vec(&header).expect("serialising to a Vec");

    fs::create_dir_all(db_dir).map_err(io(db_dir))?;
    let db_path = db_dir.join(DB_FILE);
    let tmp = db_dir.join(format!("{DB_FILE}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(MAGIC)?;
        f.write_all(&FORMAT_VERSION.to_le_bytes())?;
        f.write_all(&(header_json.len() as u64).to_le_bytes())?;
        f.write_all(&header_json)?;
        f.write_all(&data)?;
        f.sync_all()?;
        fs::rename(&tmp, &db_path)
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(DbError::Io {
            path: db_path,
            source: e,
        });
    }
    let db_bytes = (MAGIC.len() + 12 + header_json.len() + data.len()) as u64;
    Ok(ImportSummary {
        meta,
        db_path,
        db_bytes,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The stored forms of one record: one per (supported ecosystem, package) it
/// affects, with all `affected` entries of that package merged (OSV allows
/// several, e.g. one per branch).
fn store(record: OsvRecord) -> Vec<(&'static Ecosystem, String, StoredAdvisory)> {
    let summary = record
        .summary
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or(record.details.as_deref())
        .map(osv::first_sentence)
        .unwrap_or_default();
    let label = record
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str())
        .map(str::to_owned);
    let record_cvss = osv::cvss_score(&record.severity);
    let mut out: Vec<(&'static Ecosystem, String, StoredAdvisory)> = Vec::new();
    for affected in record.affected {
        let Some(pkg) = affected.package else {
            continue;
        };
        let Some(eco) = ecosystem::ecosystem(&pkg.ecosystem) else {
            continue;
        };
        let name = (eco.normalize)(&pkg.name);
        let cvss = osv::cvss_score(&affected.severity).or_else(|| record_cvss.clone());
        let ranges = affected.ranges.into_iter().filter_map(|r| {
            let kind = match r.kind.as_str() {
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "SEMVER" => RangeKind::SemVer,
                _ => return None,
            };
            Some(StoredRange {
                kind,
                events: r.events,
            })
        });
        let slot = match out
            .iter_mut()
            .position(|(e, n, _)| std::ptr::eq(*e, eco) && *n == name)
        {
            Some(i) => &mut out[i].2,
            None => {
                out.push((
                    eco,
                    name,
                    StoredAdvisory {
                        id: record.id.clone(),
                        aliases: record.aliases.clone(),
                        summary: summary.clone(),
                        published: record.published.clone(),
                        modified: record.modified.clone(),
                        cvss: cvss.as_ref().map(|c| c.0.clone()),
                        score: cvss.as_ref().map(|c| c.1),
                        severity_label: label.clone(),
                        ranges: Vec::new(),
                        versions: Vec::new(),
                    },
                ));
                &mut out.last_mut().expect("just pushed").2
            }
        };
        slot.ranges.extend(ranges);
        slot.versions.extend(affected.versions);
    }
    for (eco, _, adv) in &mut out {
        adv.versions = ecosystem::canonical_versions(eco.scheme, &adv.versions);
    }
    out
}

/// An opened advisory database. Cheap to share between scanner threads: it is
/// immutable, and lookups parse only the package they are asked about.
pub struct VulnDb {
    path: PathBuf,
    meta: DbMeta,
    index: BTreeMap<String, BTreeMap<String, (u64, u32)>>,
    data: Vec<u8>,
}

impl fmt::Debug for VulnDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VulnDb")
            .field("path", &self.path)
            .field("advisories", &self.meta.advisories)
            .finish()
    }
}

/// Opens the database in `db_dir` for a scan.
pub fn open(db_dir: &Path) -> Result<VulnDb> {
    let path = db_dir.join(DB_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(DbError::Missing(path)),
        Err(e) => return Err(DbError::Io { path, source: e }),
    };
    VulnDb::from_bytes(path, bytes)
}

/// `aisec db status`.
pub fn status(db_dir: &Path) -> Result<DbStatus> {
    let db = open(db_dir)?;
    Ok(DbStatus {
        bytes: fs::metadata(&db.path).map_or(0, |m| m.len()),
        path: db.path,
        meta: db.meta,
    })
}

impl VulnDb {
    /// A database from its bytes (`path` only names it in errors): for
    /// databases that do not live in a file, and for fuzzing the reader.
    pub fn from_bytes(path: PathBuf, mut bytes: Vec<u8>) -> Result<VulnDb> {
        let corrupt = |message: String| DbError::Corrupt {
            path: path.clone(),
            message,
        };
        if bytes.len() < 20 || &bytes[..8] != MAGIC {
            return Err(DbError::NotADatabase(path));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(DbError::Version {
                path,
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let header_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let header_end = 20u64
            .checked_add(header_len)
            .filter(|&e| e <= bytes.len() as u64)
            .ok_or_else(|| corrupt("header runs past the end of the file".into()))?
            as usize;
        let header: Header = serde_json::from_slice(&bytes[20..header_end])
            .map_err(|e| corrupt(format!("header: {e}")))?;
        if (bytes.len() - header_end) as u64 != header.data_len {
            return Err(corrupt(format!(
                "{} data bytes, header says {} (truncated?)",
                bytes.len() - header_end,
                header.data_len
            )));
        }
        bytes.drain(..header_end);
        Ok(VulnDb {
            path,
            meta: header.meta,
            index: header.index,
            data: bytes,
        })
    }

    pub fn meta(&self) -> &DbMeta {
        &self.meta
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The advisories stored for a package; `name` in any spelling.
    pub fn advisories(&self, eco: &Ecosystem, name: &str) -> Result<Vec<StoredAdvisory>> {
        let key = (eco.normalize)(name);
        let Some(&(offset, len)) = self.index.get(eco.name).and_then(|m| m.get(&key)) else {
            return Ok(Vec::new());
        };
        let slice = usize::try_from(offset)
            .ok()
            .and_then(|o| self.data.get(o..o.checked_add(len as usize)?))
            .ok_or_else(|| DbError::Corrupt {
                path: self.path.clone(),
                message: format!("index entry for {key} points outside the data"),
            })?;
        serde_json::from_slice(slice).map_err(|e| DbError::Corrupt {
            path: self.path.clone(),
            message: format!("advisories of {key}: {e}"),
        })
    }

    /// How many packages of an ecosystem have advisories.
    pub fn package_count(&self, eco: &Ecosystem) -> usize {
        self.index.get(eco.name).map_or(0, BTreeMap::len)
    }
}

/// `aisec db update`: downloads the PyPI export and imports it.
#[cfg(feature = "update")]
pub fn update(db_dir: &Path) -> Result<ImportSummary> {
    let url = PYPI_EXPORT_URL;
    let fail = |message: String| DbError::Download {
        url: url.to_owned(),
        message,
    };
    let response = ureq::get(url).call().map_err(|e| fail(e.to_string()))?;
    // The PyPI export is tens of MiB; a bound keeps a hostile mirror from
    // filling the disk.
    let bytes = response
        .into_body()
        .with_config()
        .limit(1024 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| fail(e.to_string()))?;
    fs::create_dir_all(db_dir).map_err(io(db_dir))?;
    let tmp = db_dir.join("PyPI-all.zip.download");
    fs::write(&tmp, &bytes).map_err(io(&tmp))?;
    let result = import_as(&tmp, url, db_dir);
    let _ = fs::remove_file(&tmp);
    result
}

/// `aisec db update`: this build has no HTTP client (feature `update` off).
#[cfg(not(feature = "update"))]
pub fn update(_db_dir: &Path) -> Result<ImportSummary> {
    Err(DbError::NoNetwork {
        url: PYPI_EXPORT_URL,
    })
}

/// One line for stderr before a scan: which database is used, or why
/// vulnerability matching is skipped (the other scanners still run).
pub fn db_status_line(db: &Result<VulnDb>) -> String {
    match db {
        Ok(db) => format!(
            "aisec: advisory database {} ({} advisories, newest {}, imported {})",
            db.path.display(),
            db.meta.advisories,
            db.meta.newest_advisory,
            db.meta.imported_at
        ),
        Err(e) => format!("aisec: dependency vulnerability matching skipped: {e}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
