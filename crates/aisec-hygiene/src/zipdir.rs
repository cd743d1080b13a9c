//! A bounded, zero-copy reader of zip structure: the end record, the central
//! directory and local headers, as they are, disagreements included.
//!
//! Written here rather than taken from the `zip` crate because that crate's
//! job is to present one consistent archive: it rejects or normalises exactly
//! the anomalies (duplicate names, local/central mismatches, overlapping
//! entries) that we must see and report, and it copies what we can slice.

/// Bytes searched backwards for the end-of-central-directory record: the
/// record (22) plus the longest possible comment (65535).
/// Size of a zip64 end record without extensible data.
const ZIP64_EOCD_LEN: usize = 56;
const EOCD_SEARCH: usize = 22 + 65535;
/// Central directory entries read at most, whatever the archive claims.
pub const MAX_ENTRIES: usize = 1_000_000;

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_ZIP64_EOCD: u32 = 0x0606_4b50;
const SIG_ZIP64_LOCATOR: u32 = 0x0706_4b50;

/// General-purpose flag bits.
pub const FLAG_ENCRYPTED: u16 = 1;
pub const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub name: &'a [u8],
    pub flags: u16,
    pub method: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    pub local_header_offset: u64,
    /// Host system in the high byte of "version made by" (3 = Unix).
    pub made_by_host: u8,
    pub external_attributes: u32,
}

impl Entry<'_> {
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(self.name).into_owned()
    }

    pub fn is_dir(&self) -> bool {
        self.name.ends_with(b"/")
    }

    /// Unix `S_IFLNK` in the mode kept in the high half of the external
    /// attributes, as Info-ZIP and Python's zipfile write it.
    pub fn is_symlink(&self) -> bool {
        self.made_by_host == 3 && (self.external_attributes >> 16) & 0o170000 == 0o120000
    }

    pub fn is_encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTED != 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalHeader<'a> {
    pub name: &'a [u8],
    pub flags: u16,
    pub method: u16,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    /// Offset of the first byte of member data.
    pub data_start: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipError {
    NoEndRecord,
    Truncated(&'static str),
    BadSignature { what: &'static str, offset: u64 },
    TooManyEntries(u64),
}

impl std::fmt::Display for ZipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ZipError::NoEndRecord => {
                f.write_str("no end-of-central-directory record (truncated or not a zip)")
            }
            ZipError::Truncated(what) => write!(f, "truncated {what}"),
            ZipError::BadSignature { what, offset } => {
                write!(f, "bad {what} signature at byte {offset}")
            }
            ZipError::TooManyEntries(n) => {
                write!(
                    f,
                    "claims {n} entries, more than the {MAX_ENTRIES} aisec reads"
                )
            }
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

#[derive(Debug)]
pub struct CentralDirectory<'a> {
    pub entries: Vec<Entry<'a>>,
    /// Bytes before the first local header that the archive does not account
    /// for (self-extracting stubs, or something hidden in front).
    pub prefix_len: u64,
    pub eocd_offset: u64,
}

/// Reads the end record and the central directory.
pub fn read_central_directory(bytes: &[u8]) -> Result<CentralDirectory<'_>, ZipError> {
    let search_from = bytes.len().saturating_sub(EOCD_SEARCH);
    let eocd = (search_from..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(bytes, i) == Some(SIG_EOCD))
        .ok_or(ZipError::NoEndRecord)?;
    let trunc = ZipError::Truncated("end-of-central-directory record");
    let mut count = u64::from(u16_at(bytes, eocd + 10).ok_or(trunc.clone())?);
    let mut cd_size = u64::from(u32_at(bytes, eocd + 12).ok_or(trunc.clone())?);
    let mut cd_offset = u64::from(u32_at(bytes, eocd + 16).ok_or(trunc)?);

    let mut end_of_cd = eocd as u64;
    // A zip64 locator makes the zip64 end record authoritative even when the
    // classic record holds no 0xFFFF markers (PyTorch always writes both), and
    // the directory then ends where the zip64 record starts.
    if eocd >= 20 && u32_at(bytes, eocd - 20) == Some(SIG_ZIP64_LOCATOR) {
        let stated = u64_at(bytes, eocd - 12).ok_or(ZipError::Truncated("zip64 locator"))?;
        // With bytes prepended the stated offset is short by their length;
        // a record without extensible data sits right before the locator.
        let adjacent = (eocd - 20).checked_sub(ZIP64_EOCD_LEN);
        let rec = usize::try_from(stated)
            .ok()
            .filter(|&r| u32_at(bytes, r) == Some(SIG_ZIP64_EOCD))
            .or(adjacent.filter(|&r| u32_at(bytes, r) == Some(SIG_ZIP64_EOCD)))
            .ok_or(ZipError::BadSignature {
                what: "zip64 end record",
                offset: stated,
            })?;
        let trunc = ZipError::Truncated("zip64 end record");
        count = u64_at(bytes, rec + 32).ok_or(trunc.clone())?;
        cd_size = u64_at(bytes, rec + 40).ok_or(trunc.clone())?;
        cd_offset = u64_at(bytes, rec + 48).ok_or(trunc)?;
        end_of_cd = rec as u64;
    }
    if count > MAX_ENTRIES as u64 {
        return Err(ZipError::TooManyEntries(count));
    }
    // Data prepended to the archive shifts every offset; the directory ends
    // where the end record starts, which tells the real start.
    let prefix_len = end_of_cd
        .checked_sub(cd_size)
        .and_then(|real| real.checked_sub(cd_offset))
        .unwrap_or(0);
    let mut at = usize::try_from(cd_offset + prefix_len)
        .map_err(|_| ZipError::Truncated("central directory"))?;

    let mut entries = Vec::with_capacity(count.min(4096) as usize);
    for _ in 0..count {
        if u32_at(bytes, at) != Some(SIG_CENTRAL) {
            return Err(if at + 4 > bytes.len() {
                ZipError::Truncated("central directory")
            } else {
                ZipError::BadSignature {
                    what: "central directory entry",
                    offset: at as u64,
                }
            });
        }
        let t = ZipError::Truncated("central directory entry");
        let field16 = |o| u16_at(bytes, at + o).ok_or(t.clone());
        let field32 = |o| u32_at(bytes, at + o).ok_or(t.clone());
        let made_by = field16(4)?;
        let flags = field16(8)?;
        let method = field16(10)?;
        let crc32 = field32(16)?;
        let mut compressed_size = u64::from(field32(20)?);
        let mut uncompressed_size = u64::from(field32(24)?);
        let name_len = usize::from(field16(28)?);
        let extra_len = usize::from(field16(30)?);
        let comment_len = usize::from(field16(32)?);
        let external_attributes = field32(38)?;
        let mut local_header_offset = u64::from(field32(42)?);
        let name = bytes.get(at + 46..at + 46 + name_len).ok_or(t.clone())?;
        let extra = bytes
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .ok_or(t)?;
        apply_zip64_extra(
            extra,
            &mut uncompressed_size,
            &mut compressed_size,
            &mut local_header_offset,
        );
        entries.push(Entry {
            name,
            flags,
            method,
            crc32,
            compressed_size,
            uncompressed_size,
            local_header_offset: local_header_offset + prefix_len,
            made_by_host: (made_by >> 8) as u8,
            external_attributes,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(CentralDirectory {
        entries,
        prefix_len,
        eocd_offset: eocd as u64,
    })
}

/// The zip64 extra field holds, in this order, only the values whose 32-bit
/// fields are saturated.
fn apply_zip64_extra(extra: &[u8], usize_: &mut u64, csize: &mut u64, offset: &mut u64) {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16_at(extra, at).unwrap_or(0);
        let len = usize::from(u16_at(extra, at + 2).unwrap_or(0));
        let body = extra.get(at + 4..at + 4 + len).unwrap_or(&[]);
        if id == 0x0001 {
            let mut p = 0;
            for field in [usize_, csize, offset] {
                if *field == 0xFFFF_FFFF {
                    if let Some(v) = u64_at(body, p) {
                        *field = v;
                        p += 8;
                    }
                }
            }
            return;
        }
        at += 4 + len;
    }
}

/// Reads the local header at `offset`.
pub fn read_local_header(bytes: &[u8], offset: u64) -> Result<LocalHeader<'_>, ZipError> {
    let at = usize::try_from(offset).map_err(|_| ZipError::Truncated("local header"))?;
    match u32_at(bytes, at) {
        Some(SIG_LOCAL) => {}
        Some(_) => {
            return Err(ZipError::BadSignature {
                what: "local header",
                offset,
            });
        }
        None => return Err(ZipError::Truncated("local header")),
    }
    let t = ZipError::Truncated("local header");
    let flags = u16_at(bytes, at + 6).ok_or(t.clone())?;
    let method = u16_at(bytes, at + 8).ok_or(t.clone())?;
    let mut compressed_size = u64::from(u32_at(bytes, at + 18).ok_or(t.clone())?);
    let mut uncompressed_size = u64::from(u32_at(bytes, at + 22).ok_or(t.clone())?);
    let name_len = usize::from(u16_at(bytes, at + 26).ok_or(t.clone())?);
    let extra_len = usize::from(u16_at(bytes, at + 28).ok_or(t.clone())?);
    let name = bytes.get(at + 30..at + 30 + name_len).ok_or(t.clone())?;
    let extra = bytes
        .get(at + 30 + name_len..at + 30 + name_len + extra_len)
        .ok_or(t)?;
    let mut unused = 0;
    apply_zip64_extra(
        extra,
        &mut uncompressed_size,
        &mut compressed_size,
        &mut unused,
    );
    Ok(LocalHeader {
        name,
        flags,
        method,
        compressed_size,
        uncompressed_size,
        data_start: (at + 30 + name_len + extra_len) as u64,
    })
}

/// Recovers entries from local headers alone, front to back: what a streaming
/// reader sees in an archive whose central directory is missing or broken.
/// Stops at the first header whose sizes are unknown (data descriptor).
pub fn scan_local_headers(bytes: &[u8], max: usize) -> Vec<LocalHeader<'_>> {
    let mut out = Vec::new();
    let mut offset = 0u64;
    while out.len() < max {
        let Ok(h) = read_local_header(bytes, offset) else {
            break;
        };
        if h.flags & FLAG_DATA_DESCRIPTOR != 0 && h.compressed_size == 0 {
            out.push(h);
            break;
        }
        offset = h.data_start.saturating_add(h.compressed_size);
        out.push(h);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal stored-entries zip writer for tests: (name, data) pairs.
    pub(crate) fn build_zip(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in entries {
            let offset = out.len() as u32;
            let crc = crc32fast::hash(data);
            out.extend_from_slice(&SIG_LOCAL.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name);
            out.extend_from_slice(data);

            central.extend_from_slice(&SIG_CENTRAL.to_le_bytes());
            central.extend_from_slice(&[20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&crc.to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name);
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&SIG_EOCD.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn reads_what_it_wrote_and_recovers_from_truncation() {
        let z = build_zip(&[(b"a.txt", b"hello"), (b"dir/b.bin", b"\x80\x04.")]);
        let cd = read_central_directory(&z).unwrap();
        assert_eq!(cd.entries.len(), 2);
        assert_eq!(cd.entries[1].name, b"dir/b.bin");
        let lh = read_local_header(&z, cd.entries[1].local_header_offset).unwrap();
        assert_eq!(lh.name, b"dir/b.bin");
        assert_eq!(lh.compressed_size, 3);

        let cut = &z[..z.len() - 30];
        assert_eq!(
            read_central_directory(cut).unwrap_err(),
            ZipError::NoEndRecord
        );
        let recovered = scan_local_headers(cut, 10);
        assert_eq!(recovered.len(), 2);
    }

    #[test]
    fn zip64_records_without_markers_as_torch_writes_them() {
        // torch.save always writes a zip64 end record and locator, even when
        // the classic end record needs none; the directory ends at the former.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../aisec-cli/tests/fixtures/formats/benign/state_dict.pt"
        );
        let torch = std::fs::read(path).unwrap();
        let cd = read_central_directory(&torch).unwrap();
        assert_eq!(cd.prefix_len, 0);
        assert!(cd.entries.iter().any(|e| e.name.ends_with(b"data.pkl")));
        let mut shifted = vec![b'#'; 100];
        shifted.extend_from_slice(&torch);
        let cd = read_central_directory(&shifted).unwrap();
        assert_eq!(cd.prefix_len, 100);
        let data = cd
            .entries
            .iter()
            .find(|e| e.name.ends_with(b"data.pkl"))
            .unwrap();
        assert!(read_local_header(&shifted, data.local_header_offset).is_ok());
    }

    #[test]
    fn prepended_bytes_are_measured() {
        let mut z = b"#!/bin/sh\nexit 0\n".to_vec();
        z.extend(build_zip(&[(b"a", b"x")]));
        let cd = read_central_directory(&z).unwrap();
        assert_eq!(cd.prefix_len, 17);
        assert!(read_local_header(&z, cd.entries[0].local_header_offset).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            if let Ok(cd) = read_central_directory(&data) {
                for e in &cd.entries {
                    let _ = read_local_header(&data, e.local_header_offset);
                }
            }
            let _ = scan_local_headers(&data, 64);
        }

        #[test]
        fn never_panics_on_mutated_zips(pos in 0usize..200, byte in proptest::num::u8::ANY) {
            let mut z = build_zip(&[(b"a.txt", b"hello"), (b"b", b"world!")]);
            let at = pos % z.len();
            z[at] = byte;
            if let Ok(cd) = read_central_directory(&z) {
                for e in &cd.entries {
                    let _ = read_local_header(&z, e.local_header_offset);
                }
            }
        }
    }
}
