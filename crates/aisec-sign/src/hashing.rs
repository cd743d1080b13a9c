//! Content digests of a model: whole files or fixed-size shards, memory-mapped
//! and hashed in parallel.
//!
//! The work list is flattened to one item per file (files mode) or per shard
//! (shards mode) so that rayon can balance a directory of one 5 GB file and a
//! thousand small ones alike; BLAKE3 additionally splits a large file across
//! threads itself, since its tree hash allows it (SHA-256 and BLAKE2b are
//! sequential within one digest, which is the format's limit, not ours).

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::{Advice, Mmap};
use rayon::prelude::*;
use sha2::Digest;

use crate::Error;

/// A content hash the format knows, by its `hash_type` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha256,
    /// BLAKE2b with its default 64-byte output and no key (Python's
    /// `hashlib.blake2b()`).
    Blake2b,
    Blake3,
}

impl HashAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Blake2b => "blake2b",
            HashAlgorithm::Blake3 => "blake3",
        }
    }

    /// Parses a `hash_type`. `blake2` is accepted as the API spelling that
    /// model_signing's own configuration uses for the same hash.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(HashAlgorithm::Sha256),
            "blake2b" | "blake2" => Some(HashAlgorithm::Blake2b),
            "blake3" => Some(HashAlgorithm::Blake3),
            _ => None,
        }
    }

    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 | HashAlgorithm::Blake3 => 32,
            HashAlgorithm::Blake2b => 64,
        }
    }

    /// Digest of `data`. Large BLAKE3 inputs are hashed on several threads.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlgorithm::Blake2b => blake2b_simd::blake2b(data).as_bytes().to_vec(),
            HashAlgorithm::Blake3 => {
                let mut h = blake3::Hasher::new();
                // Below a few MiB the thread hand-off costs more than it gains.
                if data.len() >= 4 << 20 {
                    h.update_rayon(data);
                } else {
                    h.update(data);
                }
                h.finalize().as_bytes().to_vec()
            }
        }
    }
}

/// A file to hash: its resource name (relative POSIX path, `.` for a
/// single-file model) and where it is on disk.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub name: String,
    pub path: PathBuf,
}

/// One hashed item: a whole file (`range` is `None`) or one shard.
#[derive(Debug, Clone)]
pub struct Hashed {
    pub file: String,
    pub range: Option<(u64, u64)>,
    pub digest: Vec<u8>,
}

/// An open file's bytes. Empty files are not mapped (a zero-length map is an
/// error on some systems).
enum Content {
    Empty,
    Mapped(Mmap),
}

impl Content {
    fn bytes(&self) -> &[u8] {
        match self {
            Content::Empty => &[],
            Content::Mapped(m) => m,
        }
    }
}

fn map(path: &Path) -> Result<Content, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok(Content::Empty);
    }
    // SAFETY: the map is read-only and lives only while we hash. A file
    // truncated by another process meanwhile can fault the read; signing a
    // model that is being rewritten is meaningless either way, and the
    // format's reference reads files without locking too.
    let mmap = unsafe { Mmap::map(&file) }.map_err(io)?;
    // Advice is a hint; failing to give it changes nothing but speed.
    let _ = mmap.advise(Advice::Sequential);
    Ok(Content::Mapped(mmap))
}

/// Runs `f` on a pool with more threads than cores when there are few, large
/// work items. A SHA-256 or BLAKE2b digest cannot be split, so with three
/// 1 GB files on two cores a core-sized pool leaves one core idle for the
/// whole third file; with one thread per item the OS time-slices them and
/// both cores stay busy to the end (the reference gets the same effect from
/// its oversized thread pool).
fn with_pool<T: Send>(items: usize, f: impl FnOnce() -> T + Send) -> T {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = items.clamp(cores, cores * 4);
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(f),
        // No threads to be had: the global pool still gives a correct result.
        Err(_) => f(),
    }
}

/// Hashes every file whole, in parallel over files, largest first.
pub fn hash_files(files: &[FileEntry], alg: HashAlgorithm) -> Result<Vec<Hashed>, Error> {
    let mut sized: Vec<(u64, &FileEntry)> = files
        .iter()
        .map(|f| (std::fs::metadata(&f.path).map_or(0, |m| m.len()), f))
        .collect();
    sized.sort_by_key(|s| std::cmp::Reverse(s.0));
    with_pool(files.len(), || {
        sized
            .par_iter()
            .with_max_len(1)
            .map(|(_, f)| {
                let content = map(&f.path)?;
                Ok(Hashed {
                    file: f.name.clone(),
                    range: None,
                    digest: alg.digest(content.bytes()),
                })
            })
            .collect()
    })
}

/// Hashes every non-empty file in `[k*S, min((k+1)*S, size))` pieces, in
/// parallel over all shards of all files. Empty files yield no shard at all,
/// as in the reference.
pub fn hash_shards(
    files: &[FileEntry],
    alg: HashAlgorithm,
    shard_size: u64,
) -> Result<Vec<Hashed>, Error> {
    if shard_size == 0 {
        return Err(Error::Statement("shard_size must be positive".into()));
    }
    let contents: Vec<Content> = files
        .par_iter()
        .map(|f| map(&f.path))
        .collect::<Result<_, _>>()?;
    let mut jobs: Vec<(usize, u64, u64)> = Vec::new();
    for (i, c) in contents.iter().enumerate() {
        let size = c.bytes().len() as u64;
        let mut start = 0u64;
        while start < size {
            let end = start.saturating_add(shard_size).min(size);
            jobs.push((i, start, end));
            start = end;
        }
    }
    // Largest first, so that a short tail shard never starts last.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.2 - j.1));
    Ok(with_pool(jobs.len(), || {
        jobs.par_iter()
            .with_max_len(1)
            .map(|&(i, start, end)| {
                let bytes = &contents[i].bytes()[start as usize..end as usize];
                Hashed {
                    file: files[i].name.clone(),
                    range: Some((start, end)),
                    digest: alg.digest(bytes),
                }
            })
            .collect()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_of_empty_input() {
        assert_eq!(
            hex::encode(HashAlgorithm::Sha256.digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(HashAlgorithm::Blake3.digest(b"")),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(HashAlgorithm::Blake2b.digest(b"").len(), 64);
    }

    #[test]
    fn large_blake3_matches_sequential() {
        let data: Vec<u8> = (0..(5u32 << 20)).map(|i| (i % 251) as u8).collect();
        let par = HashAlgorithm::Blake3.digest(&data);
        assert_eq!(par, blake3::hash(&data).as_bytes().to_vec());
    }

    #[test]
    fn shards_cover_the_file_and_skip_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("w"), vec![7u8; 300]).unwrap();
        std::fs::write(dir.path().join("e"), b"").unwrap();
        let files = vec![
            FileEntry {
                name: "w".into(),
                path: dir.path().join("w"),
            },
            FileEntry {
                name: "e".into(),
                path: dir.path().join("e"),
            },
        ];
        let mut got = hash_shards(&files, HashAlgorithm::Sha256, 64).unwrap();
        got.sort_by_key(|h| h.range);
        let ranges: Vec<_> = got.iter().map(|h| h.range.unwrap()).collect();
        assert_eq!(
            ranges,
            vec![(0, 64), (64, 128), (128, 192), (192, 256), (256, 300)]
        );
        assert!(got.iter().all(|h| h.file == "w"));
        assert_eq!(got[4].digest, HashAlgorithm::Sha256.digest(&[7u8; 44]));
    }
}
