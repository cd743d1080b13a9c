//! Compressed streams: gzip, bzip2, xz, lzma, zlib, lz4 and zstd, each
//! decoded within the limits and its content scanned as a member of its own.

use std::cell::Cell;

use aisec_core::{FileInput, FileKind, Finding, ScanContext};

use crate::inflate::{self, Collector, Counted, Inflated};
use crate::{looks_like_text, malformed, rules};

/// A `Write` over a [`Collector`], for decoders that push their output
/// (lzma-rs) rather than being read from; fails once a bound is reached.
struct PushSink<'c, 'f, 'n> {
    collector: Collector<'c, 'f>,
    consumed: &'n Cell<u64>,
    stopped: bool,
}

impl std::io::Write for PushSink<'_, '_, '_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if !self.collector.accept(data, self.consumed.get()) {
            self.stopped = true;
            return Err(std::io::Error::other("decompression limit reached"));
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes every frame of a zstd stream (frames are independent, and a
/// second frame is where an appended payload would sit) within the limits,
/// and checks each frame's content checksum as `zstd -d` does.
fn read_zstd_frames(bytes: &[u8], ctx: &ScanContext<'_>, file: &FileInput<'_>) -> Inflated {
    let consumed = Cell::new(0);
    let mut input = Counted::new(bytes, &consumed);
    let mut sink = Collector::new(ctx, file);
    while consumed.get() < bytes.len() as u64 {
        let before = consumed.get();
        let mut decoder = match ruzstd::decoding::StreamingDecoder::new(&mut input) {
            Ok(d) => d,
            Err(e) => return sink.finish(Some(e.to_string())),
        };
        if let Some(e) = inflate::pull_into(&mut decoder, &consumed, &mut sink) {
            return sink.finish(Some(e));
        }
        if sink.stopped() {
            return sink.finish(None);
        }
        let frame = decoder.into_frame_decoder();
        if let (Some(stored), Some(computed)) = (
            frame.get_checksum_from_data(),
            frame.get_calculated_checksum(),
        ) {
            if stored != computed {
                return sink.finish(Some(
                    "a frame's content checksum does not match its data".to_owned(),
                ));
            }
        }
        if consumed.get() == before {
            break;
        }
    }
    sink.finish(None)
}

/// Unix `compress` (LZW) and its `pack` cousin: `.Z` files aisec does not decode.
const LZW_MAGIC: &[u8] = b"\x1f\x9d";

/// Decompresses a gzip, bzip2, xz, lzma, zlib, zstd or lz4 stream within the
/// limits and scans what came out as a member of its own.
pub(crate) fn scan_compressed(
    file: &FileInput<'_>,
    ctx: &ScanContext<'_>,
    kind: FileKind,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let claimed = kind != file.kind;
    if claimed && kind == FileKind::Zlib && file.bytes.starts_with(LZW_MAGIC) {
        return vec![Finding::new(
            &rules::UNSCANNABLE_MEMBER,
            file,
            "Unix compress (LZW) data, which aisec does not decode; it was not scanned",
        )];
    }
    let consumed = Cell::new(0);
    let input = Counted::new(file.bytes, &consumed);
    let mut out = match kind {
        FileKind::Gzip => inflate::pull(
            flate2::bufread::MultiGzDecoder::new(input),
            &consumed,
            ctx,
            file,
        ),
        FileKind::Zlib => inflate::inflate(file.bytes, true, ctx, file),
        FileKind::Bzip2 => inflate::pull(
            bzip2::bufread::MultiBzDecoder::new(input),
            &consumed,
            ctx,
            file,
        ),
        FileKind::Zstd => read_zstd_frames(file.bytes, ctx, file),
        FileKind::Lz4 => {
            let mut out = inflate::pull(
                lz4_flex::frame::FrameDecoder::new(input),
                &consumed,
                ctx,
                file,
            );
            if out.stop.is_none() && out.error.is_none() {
                out.error = inflate::lz4_frames_complete(file.bytes).err();
            }
            out
        }
        FileKind::Xz | FileKind::Lzma => {
            let mut sink = PushSink {
                collector: Collector::new(ctx, file),
                consumed: &consumed,
                stopped: false,
            };
            let mut input = input;
            // lzma-rs 0.3 overflows an addition on crafted xz headers (a panic
            // when overflow checks are on, found by our fuzzer): contain it
            // here and report the stream as malformed like any other error.
            let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if kind == FileKind::Xz {
                    lzma_rs::xz_decompress(&mut input, &mut sink)
                } else {
                    lzma_rs::lzma_decompress(&mut input, &mut sink)
                }
            }));
            let error = match decoded {
                Err(_) => Some("decoder failed on a malformed header".to_owned()),
                Ok(Err(_)) if sink.stopped => None,
                Ok(Err(e)) => Some(format!("{e:?}")),
                Ok(Ok(())) => None,
            };
            sink.collector.finish(error)
        }
        _ => return findings,
    };
    if out.budget_spent() {
        // The context holds the one finding; what was decoded is not scanned.
        return findings;
    }
    // zlib's two-byte header is a weak signal: text that starts `x^` and
    // does not decode was never zlib, and is left to the other scanners.
    if kind == FileKind::Zlib && !claimed && out.error.is_some() && looks_like_text(file.bytes) {
        return findings;
    }
    let what = kind.as_str();
    if let Some(why) = out.limit() {
        let (severity, rest) = out.cut_grade();
        findings.push(
            Finding::new(
                &rules::DECOMPRESSION_BOMB,
                file,
                format!("{what} stream {why}; scanned the first part only{rest}"),
            )
            .severity(severity),
        );
    }
    if let Some(e) = out.error.take() {
        let what = if claimed {
            format!("named as {what} but not a readable {what} stream")
        } else {
            format!("broken {what} stream")
        };
        findings.push(malformed(file, &what, e));
    }
    if claimed && out.data.is_empty() {
        return findings;
    }
    let name = file.name();
    let lower = name.to_ascii_lowercase();
    let inner = if lower.ends_with(".tgz") || lower.ends_with(".tbz2") || lower.ends_with(".txz") {
        format!("{}.tar", &name[..name.len() - 4])
    } else if let Some(dot) = name.rfind('.').filter(|_| {
        [".gz", ".bz2", ".xz", ".lzma", ".z", ".zlib", ".lz4", ".zst"]
            .iter()
            .any(|ext| lower.ends_with(ext))
    }) {
        name[..dot].to_owned()
    } else {
        format!("{name}.{what}-decompressed")
    };
    findings.extend(ctx.scan_member(file, &inner, &out.data));
    findings
}
