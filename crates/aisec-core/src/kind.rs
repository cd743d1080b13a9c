//! What a file is, decided by its content first and its name second.
//!
//! Attackers rename files (`model.safetensors` that is really a pickle); the
//! walker therefore sniffs magic bytes before it looks at an extension, and the
//! hygiene scanner reports a name that lies about the content.

use serde::Serialize;

/// Bytes enough to tell every format below apart and to tell text from binary.
pub const SNIFF_LEN: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A Python pickle stream (protocol 2+ by its PROTO header; protocol 0/1
    /// only by name, their first opcode is not distinctive enough). Content
    /// that is not sniffed here is still judged by the pickle scanner's own
    /// detection (`aisec_pickle::looks_like_pickle`), which runs the opcodes:
    /// a headerless stream that would import a denied name or call something
    /// before its first invalid byte is a pickle under any name. Calling
    /// such text `Pickle` here would take it away from the text scanners.
    Pickle,
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    SevenZip,
    Lz4,
    /// A zlib stream (joblib's default compressor). Its two-byte header is a
    /// weak signal: readers must stay silent when it does not inflate.
    Zlib,
    /// LZMA "alone" format (`.lzma`, joblib's `lzma` compressor).
    Lzma,
    /// NumPy `.npy` (`\x93NUMPY`).
    Numpy,
    Safetensors,
    Gguf,
    Hdf5,
    /// Protobuf has no magic: ONNX, TensorFlow `saved_model.pb`, only by name.
    Protobuf,
    /// Text: UTF-8 (or ASCII) without NUL bytes in the sniffed head.
    Text,
    Binary,
    Empty,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Pickle => "pickle",
            FileKind::Zip => "zip",
            FileKind::Tar => "tar",
            FileKind::Gzip => "gzip",
            FileKind::Bzip2 => "bzip2",
            FileKind::Xz => "xz",
            FileKind::Zstd => "zstd",
            FileKind::SevenZip => "7z",
            FileKind::Lz4 => "lz4",
            FileKind::Zlib => "zlib",
            FileKind::Lzma => "lzma",
            FileKind::Numpy => "numpy",
            FileKind::Safetensors => "safetensors",
            FileKind::Gguf => "gguf",
            FileKind::Hdf5 => "hdf5",
            FileKind::Protobuf => "protobuf",
            FileKind::Text => "text",
            FileKind::Binary => "binary",
            FileKind::Empty => "empty",
        }
    }

    /// Containers whose members get scanned as files of their own.
    pub fn is_archive(self) -> bool {
        matches!(
            self,
            FileKind::Zip
                | FileKind::Tar
                | FileKind::Gzip
                | FileKind::Bzip2
                | FileKind::Xz
                | FileKind::Zstd
                | FileKind::SevenZip
                | FileKind::Lz4
                | FileKind::Zlib
                | FileKind::Lzma
        )
    }
}

/// The kind proven by the content alone, if any magic matches.
pub fn sniff_content(bytes: &[u8]) -> Option<FileKind> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if bytes.is_empty() {
        return Some(FileKind::Empty);
    }
    // PROTO opcode (0x80) then the protocol number; 2..=5 exist today, allow a
    // little headroom so a future protocol is still recognised as a pickle.
    if bytes.len() >= 2 && bytes[0] == 0x80 && (2..=7).contains(&bytes[1]) {
        return Some(FileKind::Pickle);
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return Some(FileKind::Zip);
    }
    if starts(b"\x1f\x8b") {
        return Some(FileKind::Gzip);
    }
    if starts(b"BZh") && bytes.len() > 3 && (b'1'..=b'9').contains(&bytes[3]) {
        return Some(FileKind::Bzip2);
    }
    if starts(b"\xfd7zXZ\x00") {
        return Some(FileKind::Xz);
    }
    if starts(b"\x28\xb5\x2f\xfd") {
        return Some(FileKind::Zstd);
    }
    if starts(b"7z\xbc\xaf\x27\x1c") {
        return Some(FileKind::SevenZip);
    }
    if starts(b"\x04\x22\x4d\x18") {
        return Some(FileKind::Lz4);
    }
    if starts(b"\x93NUMPY") {
        return Some(FileKind::Numpy);
    }
    if starts(b"GGUF") {
        return Some(FileKind::Gguf);
    }
    // HDF5 allows a user block before the superblock, which then sits at 512
    // or a larger power of two (h5py's `userblock_size`). User blocks are
    // zero-filled or text in practice; looking past the first bytes only then
    // keeps the sniff of every tensor of a checkpoint inside its first page
    // (probing offset 4096 of each paged in a second page per tensor).
    const HDF5: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
    if bytes.get(..8) == Some(HDF5)
        || (may_be_user_block(bytes)
            && [512usize, 1024, 2048, 4096]
                .iter()
                .any(|&at| bytes.get(at..at + 8) == Some(HDF5)))
    {
        return Some(FileKind::Hdf5);
    }
    // zlib: CMF 0x78 (deflate, 32K window) and one of the four FLG bytes that
    // zlib writes (no preset dictionary), which make the header check hold.
    if bytes.len() > 2 && bytes[0] == 0x78 && matches!(bytes[1], 0x01 | 0x5e | 0x9c | 0xda) {
        return Some(FileKind::Zlib);
    }
    if looks_like_lzma_alone(bytes) {
        return Some(FileKind::Lzma);
    }
    if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        return Some(FileKind::Tar);
    }
    if looks_like_safetensors(bytes) {
        return Some(FileKind::Safetensors);
    }
    None
}

/// Whether a file starts like an HDF5 user block: zeros or printable text.
fn may_be_user_block(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64)];
    head.len() == 64
        && head
            .iter()
            .all(|&b| b == 0 || b.is_ascii_graphic() || b.is_ascii_whitespace())
}

/// LZMA alone: the properties byte liblzma writes for presets (0x5D), a
/// dictionary size of 2^n or 2^n + 2^(n-1), and an uncompressed size that is
/// either unknown (all 0xFF) or plausible (< 2^48).
fn looks_like_lzma_alone(bytes: &[u8]) -> bool {
    if bytes.len() < 13 || bytes[0] != 0x5d {
        return false;
    }
    let dict = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    let dict_ok = dict >= 4096 && {
        let low = dict & dict.wrapping_neg();
        dict == low || dict == low * 3
    };
    let size = u64::from_le_bytes(bytes[5..13].try_into().unwrap_or([0; 8]));
    dict_ok && (size == u64::MAX || size < 1 << 48)
}

/// safetensors: u64 little-endian header length, then a JSON object that fits
/// in the file.
fn looks_like_safetensors(bytes: &[u8]) -> bool {
    if bytes.len() < 10 {
        return false;
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[..8]);
    let header_len = u64::from_le_bytes(len);
    header_len >= 2 && header_len <= (bytes.len() as u64 - 8) && bytes[8] == b'{'
}

/// The kind a file name claims. Ambiguous extensions (`.bin`, `.pt`) claim
/// nothing.
pub fn kind_from_name(name: &str) -> Option<FileKind> {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "pkl" | "pickle" | "dill" | "joblib" => FileKind::Pickle,
        "zip" | "keras" | "npz" | "whl" | "jar" | "mar" => FileKind::Zip,
        "tar" => FileKind::Tar,
        "gz" | "tgz" => FileKind::Gzip,
        "bz2" => FileKind::Bzip2,
        "xz" => FileKind::Xz,
        "zst" => FileKind::Zstd,
        "7z" => FileKind::SevenZip,
        "lz4" => FileKind::Lz4,
        "z" | "zlib" => FileKind::Zlib,
        "lzma" => FileKind::Lzma,
        "npy" => FileKind::Numpy,
        "safetensors" => FileKind::Safetensors,
        "gguf" => FileKind::Gguf,
        "h5" | "hdf5" => FileKind::Hdf5,
        "onnx" | "pb" => FileKind::Protobuf,
        "json" | "txt" | "md" | "py" | "toml" | "yaml" | "yml" | "cfg" | "ini" | "csv" | "tsv"
        | "ipynb" | "tf" | "sh" | "jinja" => FileKind::Text,
        _ => return None,
    })
}

/// Longest zip archive comment (a u16 length), which sits between the
/// end-of-central-directory record and the end of the file.
const ZIP_MAX_COMMENT: usize = u16::MAX as usize;
/// Size of the end-of-central-directory record without its comment.
const ZIP_EOCD_LEN: usize = 22;

/// Whether a zip end-of-central-directory record closes `bytes`, wherever
/// the archive starts. Python's `zipfile` (which Keras, NumPy and PyTorch's
/// Python side use) finds archives this way, from the end, so a zip behind a
/// prefix (zeros, a shell script: a polyglot) still loads; sniffing only the
/// start would let it pass unscanned. Touches only the last 64 KiB.
pub fn zip_end_record(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < ZIP_EOCD_LEN {
        return None;
    }
    let window_start = bytes.len().saturating_sub(ZIP_EOCD_LEN + ZIP_MAX_COMMENT);
    let last_start = bytes.len() - ZIP_EOCD_LEN;
    (window_start..=last_start).rev().find(|&at| {
        bytes[at..].starts_with(b"PK\x05\x06") && {
            let comment = u16::from_le_bytes([bytes[at + 20], bytes[at + 21]]) as usize;
            // The comment must end exactly at the end of the file, as
            // zipfile requires; random "PK\5\6" bytes in data rarely do.
            at + ZIP_EOCD_LEN + comment == bytes.len()
        }
    })
}

/// Content first, then the name, then text-or-binary.
pub fn detect_kind(bytes: &[u8], name: &str) -> FileKind {
    if let Some(kind) = sniff_content(bytes) {
        return kind;
    }
    if zip_end_record(bytes).is_some() {
        return FileKind::Zip;
    }
    match kind_from_name(name) {
        // A name may claim a format that has no magic; it may not claim one
        // that has magic, since the content just proved it is not that.
        Some(k @ (FileKind::Protobuf | FileKind::Pickle)) => k,
        _ => text_or_binary(bytes),
    }
}

fn text_or_binary(bytes: &[u8]) -> FileKind {
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    if head.contains(&0) {
        return FileKind::Binary;
    }
    match std::str::from_utf8(head) {
        Ok(_) => FileKind::Text,
        // A multi-byte character cut by the sniff window is still text.
        Err(e) if e.error_len().is_none() => FileKind::Text,
        Err(_) => FileKind::Binary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_name() {
        assert_eq!(detect_kind(b"\x80\x04\x95", "notes.txt"), FileKind::Pickle);
        assert_eq!(
            detect_kind(b"PK\x03\x04rest", "model.safetensors"),
            FileKind::Zip
        );
        assert_eq!(detect_kind(b"hello", "x.npy"), FileKind::Text);
    }

    #[test]
    fn hdf5_after_a_user_block_is_hdf5() {
        let mut bytes = b"my user block".to_vec();
        bytes.resize(1024, 0);
        bytes.extend_from_slice(b"\x89HDF\r\n\x1a\n\x03");
        assert_eq!(detect_kind(&bytes, "weights.bin"), FileKind::Hdf5);
        bytes[1024] = b'X';
        assert_ne!(detect_kind(&bytes, "weights.bin"), FileKind::Hdf5);
    }

    #[test]
    fn binary_data_is_not_searched_for_a_user_block() {
        // Tensor bytes: the sniff must not look at offset 4096 (a second page).
        let mut bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80)
            .collect();
        bytes.extend_from_slice(b"\x89HDF\r\n\x1a\n\x03");
        assert_ne!(sniff_content(&bytes), Some(FileKind::Hdf5));
    }

    #[test]
    fn safetensors_header_must_fit() {
        let mut ok = 5u64.to_le_bytes().to_vec();
        ok.extend_from_slice(b"{\"a\":1}");
        assert_eq!(sniff_content(&ok), Some(FileKind::Safetensors));
        let mut too_long = 500u64.to_le_bytes().to_vec();
        too_long.extend_from_slice(b"{}");
        assert_eq!(sniff_content(&too_long), None);
    }

    #[test]
    fn magicless_formats_come_from_the_name() {
        assert_eq!(
            detect_kind(b"\x08\x07\x12", "model.onnx"),
            FileKind::Protobuf
        );
        assert_eq!(detect_kind(b"(dp0\n.", "legacy.pkl"), FileKind::Pickle);
        // A headerless pickle that breaks off after its call keeps the kind
        // its name gives it; the pickle scanner's detection judges it.
        assert_eq!(
            detect_kind(b"cos\nsystem\n(S'x'\ntR\xff", "model.pkl"),
            FileKind::Pickle
        );
        assert_eq!(sniff_content(b"cos\nsystem\n(S'x'\ntR\xff"), None);
        assert_eq!(detect_kind(b"\x00\x01", "blob"), FileKind::Binary);
        assert_eq!(detect_kind(b"", "blob"), FileKind::Empty);
        assert_eq!(kind_from_name("weights.bin"), None);
    }

    #[test]
    fn compressed_streams() {
        assert_eq!(sniff_content(b"\x78\x9c\x01\x02"), Some(FileKind::Zlib));
        assert_eq!(sniff_content(b"x is text"), None);
        let mut lzma = vec![0x5d, 0, 0, 0x10, 0];
        lzma.extend_from_slice(&[0xff; 8]);
        assert_eq!(sniff_content(&lzma), Some(FileKind::Lzma));
        lzma[3] = 0x11;
        assert_eq!(sniff_content(&lzma), None);
    }

    #[test]
    fn a_zip_behind_a_prefix_is_a_zip() {
        let mut eocd = b"PK\x05\x06".to_vec();
        eocd.extend_from_slice(&[0; 16]);
        eocd.extend_from_slice(&3u16.to_le_bytes());
        eocd.extend_from_slice(b"abc");
        let mut polyglot = b"#!/bin/sh\necho pwned\nexit 0\n".to_vec();
        let prefix = polyglot.len();
        polyglot.extend_from_slice(&eocd);
        assert_eq!(detect_kind(&polyglot, "model.keras"), FileKind::Zip);
        assert_eq!(zip_end_record(&polyglot), Some(prefix));
        // A comment length that does not reach the end is not a record.
        polyglot.push(b'x');
        assert_ne!(detect_kind(&polyglot, "model.keras"), FileKind::Zip);
    }

    #[test]
    fn tar_by_ustar_magic() {
        let mut t = vec![0u8; 512];
        t[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff_content(&t), Some(FileKind::Tar));
    }
}
