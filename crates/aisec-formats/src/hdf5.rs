//! A bounded reader for the string attributes of an HDF5 file's root group:
//! where legacy Keras (`model.save("x.h5")`) keeps `model_config` and
//! `training_config`, the JSON that `keras.models.load_model` deserialises.
//!
//! Why our own reader: the HDF5 crates bind the C library (`hdf5`, `hdf5-metno`),
//! which would put a large C parser with a history of CVEs on hostile input
//! into the scan path and a C toolchain into the build; the only pure-Rust
//! readers we found are unmaintained. We need a small slice of the format
//! (superblock, object headers and their continuation blocks, attribute,
//! datatype and dataspace messages, global heap collections for
//! variable-length strings), so it is written here with a bound on every loop.
//!
//! What it reads: superblock versions 0-3 (at offset 0 or a power of two from
//! 512, after a user block), version 1 and 2 object headers, attribute
//! messages version 1-3 holding fixed-length or variable-length strings.
//! What it does not: attributes in dense storage (a fractal heap, used when an
//! object has many or very large attributes with `libver="latest"`) and shared
//! attribute messages. Those are reported in [`RootAttributes::unread`] so the
//! caller can fall back and say so; they are never silently skipped.

use std::fmt;

const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// Object-header messages read per object, across continuation blocks.
const MAX_MESSAGES: usize = 65_536;
/// Continuation blocks followed per object header (loops are cut by this too).
const MAX_CONTINUATIONS: usize = 1_024;
/// Objects walked inside one global heap collection.
const MAX_HEAP_OBJECTS: usize = 1 << 20;

const MSG_DATATYPE_STRING: u8 = 3;
const MSG_DATATYPE_VLEN: u8 = 9;
const MSG_CONTINUATION: u16 = 0x0010;
const MSG_ATTRIBUTE: u16 = 0x000C;
const MSG_ATTRIBUTE_INFO: u16 = 0x0015;

/// A string attribute of the root group and where its value starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringAttribute {
    pub name: String,
    /// The bytes as stored, padding removed (not necessarily UTF-8).
    pub value: Vec<u8>,
    /// File offset of the value's first byte.
    pub offset: usize,
}

/// The root group's attributes that could be read, and what could not.
#[derive(Debug, Default)]
pub struct RootAttributes {
    /// Wanted attributes found with a string value.
    pub strings: Vec<StringAttribute>,
    /// Why some attributes were not read (dense storage, shared messages,
    /// non-string values of a wanted name).
    pub unread: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hdf5Error(String);

impl fmt::Display for Hdf5Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, Hdf5Error> {
    Err(Hdf5Error(msg.into()))
}

/// Sizes that the superblock fixes for the whole file.
#[derive(Clone, Copy)]
struct Geometry {
    offset_size: usize,
    length_size: usize,
    base: u64,
}

struct Reader<'a> {
    bytes: &'a [u8],
    geo: Geometry,
}

impl<'a> Reader<'a> {
    fn slice(&self, at: usize, len: usize) -> Result<&'a [u8], Hdf5Error> {
        at.checked_add(len)
            .and_then(|end| self.bytes.get(at..end))
            .map_or_else(
                || {
                    err(format!(
                        "{len} bytes at offset {at} lie beyond the end of the file"
                    ))
                },
                Ok,
            )
    }

    fn uint(&self, at: usize, width: usize) -> Result<u64, Hdf5Error> {
        Ok(le(self.slice(at, width)?))
    }

    /// An address field, made absolute; `None` for the undefined address.
    fn address(&self, at: usize) -> Result<Option<usize>, Hdf5Error> {
        let raw = self.uint(at, self.geo.offset_size)?;
        let undefined = if self.geo.offset_size >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * self.geo.offset_size)) - 1
        };
        if raw == undefined {
            return Ok(None);
        }
        match raw
            .checked_add(self.geo.base)
            .and_then(|a| usize::try_from(a).ok())
        {
            Some(a) if a < self.bytes.len() => Ok(Some(a)),
            _ => err(format!("address {raw:#x} lies beyond the end of the file")),
        }
    }
}

fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| acc.wrapping_shl(8) | u64::from(b))
}

fn find_superblock(bytes: &[u8]) -> Option<usize> {
    let mut at = 0usize;
    loop {
        if bytes.get(at..at + 8)? == SIGNATURE {
            return Some(at);
        }
        at = if at == 0 { 512 } else { at.checked_mul(2)? };
    }
}

/// Reads the root group's string attributes whose names are in `wanted`.
pub fn root_string_attributes(bytes: &[u8], wanted: &[&str]) -> Result<RootAttributes, Hdf5Error> {
    let Some(sb) = find_superblock(bytes) else {
        return err("no HDF5 superblock signature at offset 0 or any power of two from 512");
    };
    let version = *bytes
        .get(sb + 8)
        .ok_or(Hdf5Error("truncated superblock".into()))?;
    let (geo, root) = match version {
        0 | 1 => {
            let probe = Reader {
                bytes,
                geo: Geometry {
                    offset_size: 8,
                    length_size: 8,
                    base: 0,
                },
            };
            let offset_size = probe.uint(sb + 13, 1)? as usize;
            let length_size = probe.uint(sb + 14, 1)? as usize;
            check_sizes(offset_size, length_size)?;
            // Fixed fields, then 4 more bytes in version 1 (indexed storage K).
            let fields = sb + 24 + if version == 1 { 4 } else { 0 };
            let base = probe.uint(fields, offset_size)?;
            let geo = Geometry {
                offset_size,
                length_size,
                base,
            };
            // base, free-space, end-of-file and driver addresses, then the root
            // group's symbol table entry: link name offset, object header address.
            check_end_of_file(&probe, fields + 2 * offset_size, offset_size, base)?;
            let entry = fields + 4 * offset_size;
            (geo, entry + offset_size)
        }
        2 | 3 => {
            let probe = Reader {
                bytes,
                geo: Geometry {
                    offset_size: 8,
                    length_size: 8,
                    base: 0,
                },
            };
            let offset_size = probe.uint(sb + 9, 1)? as usize;
            let length_size = probe.uint(sb + 10, 1)? as usize;
            check_sizes(offset_size, length_size)?;
            let base = probe.uint(sb + 12, offset_size)?;
            let geo = Geometry {
                offset_size,
                length_size,
                base,
            };
            // base, superblock extension, end of file, root object header.
            check_end_of_file(&probe, sb + 12 + 2 * offset_size, offset_size, base)?;
            (geo, sb + 12 + 3 * offset_size)
        }
        v => return err(format!("unknown superblock version {v}")),
    };
    let reader = Reader { bytes, geo };
    let Some(header) = reader.address(root)? else {
        return err("the root group has no object header address");
    };
    let mut out = RootAttributes::default();
    for message in object_header_messages(&reader, header)? {
        let message = message?;
        match message.kind {
            MSG_ATTRIBUTE if message.shared => out
                .unread
                .push("a shared attribute message (not supported by this reader)".into()),
            MSG_ATTRIBUTE => {
                if let Some(attr) = attribute(&reader, message.at, message.len, wanted)? {
                    match attr {
                        Ok(s) => out.strings.push(s),
                        Err(why) => out.unread.push(why),
                    }
                }
            }
            MSG_ATTRIBUTE_INFO if dense_storage(&reader, message.at)? => {
                out.unread.push(
                    "attributes in dense storage (fractal heap), not supported by this reader"
                        .into(),
                );
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The superblock records where the file ends so that truncation can be
/// told; the HDF5 library refuses to open a file shorter than that
/// ("truncated file"), so a truncated file is damaged, not merely unusual.
/// The comparison allows for the base address the way the library does
/// (stored end <= actual end + base), so user blocks never trip it.
fn check_end_of_file(
    probe: &Reader<'_>,
    at: usize,
    offset_size: usize,
    base: u64,
) -> Result<(), Hdf5Error> {
    let stored = probe.uint(at, offset_size)?;
    let undefined = if offset_size >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * offset_size)) - 1
    };
    let actual = probe.bytes.len() as u64;
    if stored != undefined && stored > actual.saturating_add(base) {
        return err(format!(
            "truncated file: the superblock says it ends at byte {stored}, it has {actual} bytes"
        ));
    }
    Ok(())
}

fn check_sizes(offset_size: usize, length_size: usize) -> Result<(), Hdf5Error> {
    for (what, n) in [("offsets", offset_size), ("lengths", length_size)] {
        if !matches!(n, 2 | 4 | 8) {
            return err(format!("superblock declares {n}-byte {what}"));
        }
    }
    Ok(())
}

struct Message {
    kind: u16,
    shared: bool,
    at: usize,
    len: usize,
}

/// Every message of the object header at `at`, following continuation
/// blocks, in order. Errors end the iteration.
fn object_header_messages<'r>(
    reader: &'r Reader<'_>,
    at: usize,
) -> Result<impl Iterator<Item = Result<Message, Hdf5Error>> + 'r, Hdf5Error> {
    let v2 = reader.slice(at, 4)? == b"OHDR";
    let (first, prefix) = if v2 {
        let version = reader.uint(at + 4, 1)?;
        if version != 2 {
            return err(format!("object header version {version} at offset {at}"));
        }
        let flags = reader.uint(at + 5, 1)? as u8;
        let mut pos = at + 6;
        if flags & 0x20 != 0 {
            pos += 16; // access, modification, change and birth times
        }
        if flags & 0x10 != 0 {
            pos += 4; // attribute phase-change values
        }
        let width = 1usize << (flags & 0x03);
        let size = reader.uint(pos, width)? as usize;
        pos += width;
        (
            Block {
                start: pos,
                end: pos.saturating_add(size),
            },
            MessagePrefix::V2 { flags },
        )
    } else {
        let version = reader.uint(at, 1)?;
        if version != 1 {
            return err(format!(
                "no object header at offset {at} (version byte {version})"
            ));
        }
        let size = reader.uint(at + 8, 4)? as usize;
        // 12 bytes of header, padded to 16 so messages are 8-aligned.
        (
            Block {
                start: at + 16,
                end: (at + 16).saturating_add(size),
            },
            MessagePrefix::V1,
        )
    };
    reader.slice(first.start, first.end - first.start)?;
    Ok(MessageIter {
        reader,
        prefix,
        blocks: vec![first],
        current: None,
        seen: 0,
        continuations: 0,
        failed: false,
    })
}

#[derive(Clone, Copy)]
struct Block {
    start: usize,
    end: usize,
}

#[derive(Clone, Copy)]
enum MessagePrefix {
    V1,
    V2 { flags: u8 },
}

struct MessageIter<'r, 'a> {
    reader: &'r Reader<'a>,
    prefix: MessagePrefix,
    blocks: Vec<Block>,
    current: Option<(usize, usize)>,
    seen: usize,
    continuations: usize,
    failed: bool,
}

impl Iterator for MessageIter<'_, '_> {
    type Item = Result<Message, Hdf5Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = self.step();
        if !matches!(result, Some(Ok(_))) {
            self.failed = true;
        }
        result
    }
}

impl MessageIter<'_, '_> {
    fn step(&mut self) -> Option<Result<Message, Hdf5Error>> {
        loop {
            let (pos, end) = match self.current {
                Some(c) => c,
                None => {
                    let block = self.blocks.pop()?;
                    (block.start, block.end)
                }
            };
            let header_len = match self.prefix {
                MessagePrefix::V1 => 8,
                MessagePrefix::V2 { flags } => 4 + if flags & 0x04 != 0 { 2 } else { 0 },
            };
            if pos + header_len > end {
                // What is left is a gap (version 2) or padding.
                self.current = None;
                continue;
            }
            self.seen += 1;
            if self.seen > MAX_MESSAGES {
                return Some(err(format!("more than {MAX_MESSAGES} header messages")));
            }
            let r = self.reader;
            let header = match r.slice(pos, header_len) {
                Ok(h) => h,
                Err(e) => return Some(Err(e)),
            };
            let (kind, len, flags) = match self.prefix {
                MessagePrefix::V1 => (
                    le(&header[0..2]) as u16,
                    le(&header[2..4]) as usize,
                    header[4],
                ),
                MessagePrefix::V2 { .. } => {
                    (u16::from(header[0]), le(&header[1..3]) as usize, header[3])
                }
            };
            let at = pos + header_len;
            if at + len > end {
                return Some(err(format!(
                    "header message at offset {pos} ({len} bytes) overruns its block"
                )));
            }
            self.current = Some((at + len, end));
            if kind == MSG_CONTINUATION {
                if let Err(e) = self.follow(at) {
                    return Some(Err(e));
                }
                continue;
            }
            return Some(Ok(Message {
                kind,
                shared: flags & 0x02 != 0,
                at,
                len,
            }));
        }
    }

    fn follow(&mut self, at: usize) -> Result<(), Hdf5Error> {
        self.continuations += 1;
        if self.continuations > MAX_CONTINUATIONS {
            return err(format!("more than {MAX_CONTINUATIONS} continuation blocks"));
        }
        let r = self.reader;
        let Some(start) = r.address(at)? else {
            return err("continuation message with an undefined address");
        };
        let len = r.uint(at + r.geo.offset_size, r.geo.length_size)? as usize;
        r.slice(start, len)?;
        let block = match self.prefix {
            MessagePrefix::V1 => Block {
                start,
                end: start + len,
            },
            MessagePrefix::V2 { .. } => {
                if len < 8 || r.slice(start, 4)? != b"OCHK" {
                    return err(format!("no OCHK continuation block at offset {start}"));
                }
                // Signature before, checksum after the messages.
                Block {
                    start: start + 4,
                    end: start + len - 4,
                }
            }
        };
        // The rest of the current block comes after the continuation's
        // messages in the spec's order, but order does not matter here.
        self.blocks.push(block);
        Ok(())
    }
}

fn dense_storage(reader: &Reader<'_>, at: usize) -> Result<bool, Hdf5Error> {
    let flags = reader.uint(at + 1, 1)?;
    let heap = at + 2 + if flags & 0x01 != 0 { 2 } else { 0 };
    Ok(reader.address(heap)?.is_some())
}

/// Parses one attribute message. `None` when its name is not wanted;
/// `Some(Err(why))` when a wanted attribute holds something other than one string.
fn attribute(
    reader: &Reader<'_>,
    at: usize,
    len: usize,
    wanted: &[&str],
) -> Result<Option<Result<StringAttribute, String>>, Hdf5Error> {
    let body = reader.slice(at, len)?;
    let short = || Hdf5Error(format!("attribute message at offset {at} is truncated"));
    let version = *body.first().ok_or_else(short)?;
    let flags = *body.get(1).ok_or_else(short)?;
    let name_len = le(body.get(2..4).ok_or_else(short)?) as usize;
    let type_len = le(body.get(4..6).ok_or_else(short)?) as usize;
    let space_len = le(body.get(6..8).ok_or_else(short)?) as usize;
    let pad = |n: usize| if version == 1 { n.div_ceil(8) * 8 } else { n };
    let name_at = match version {
        1 | 2 => 8,
        3 => 9, // a character-set byte precedes the name
        v => return err(format!("attribute message version {v} at offset {at}")),
    };
    let type_at = name_at + pad(name_len);
    let space_at = type_at + pad(type_len);
    let data_at = space_at + pad(space_len);
    if data_at > body.len() {
        return Err(short());
    }
    let raw_name = &body[name_at..name_at + name_len];
    let name = String::from_utf8_lossy(raw_name.strip_suffix(b"\0").unwrap_or(raw_name));
    if !wanted.contains(&name.as_ref()) {
        return Ok(None);
    }
    let name = name.into_owned();
    if flags & 0x03 != 0 {
        return Ok(Some(Err(format!(
            "attribute `{name}` uses a shared datatype or dataspace (not supported by this reader)"
        ))));
    }
    let datatype = &body[type_at..type_at + type_len];
    let dataspace = &body[space_at..space_at + space_len];
    let elements = match element_count(dataspace, reader.geo.length_size) {
        Some(n) => n,
        None => return err(format!("attribute `{name}` has a malformed dataspace")),
    };
    if elements != 1 {
        return Ok(Some(Err(format!(
            "attribute `{name}` holds {elements} elements, not one string"
        ))));
    }
    let (Some(&class_byte), Some(size)) = (datatype.first(), datatype.get(4..8).map(le)) else {
        return err(format!("attribute `{name}` has a truncated datatype"));
    };
    let data = &body[data_at..];
    let value_at = at + data_at;
    match class_byte & 0x0F {
        MSG_DATATYPE_STRING => {
            let size = size as usize;
            let Some(value) = data.get(..size) else {
                return err(format!(
                    "attribute `{name}` is shorter than its {size}-byte string type"
                ));
            };
            let end = value
                .iter()
                .rposition(|&b| b != 0 && b != b' ')
                .map_or(0, |p| p + 1);
            Ok(Some(Ok(StringAttribute {
                name,
                value: value[..end].to_vec(),
                offset: value_at,
            })))
        }
        MSG_DATATYPE_VLEN if datatype.get(1).is_some_and(|b| b & 0x0F == 1) => {
            let g = reader.geo;
            let need = 4 + g.offset_size + 4;
            if data.len() < need {
                return err(format!(
                    "attribute `{name}` is shorter than a heap reference"
                ));
            }
            let length = le(&data[..4]) as usize;
            let collection = reader.address(value_at + 4)?;
            let index = le(&data[4 + g.offset_size..need]);
            let Some(collection) = collection else {
                return Ok(Some(Ok(StringAttribute {
                    name,
                    value: Vec::new(),
                    offset: value_at,
                })));
            };
            let (offset, value) = heap_object(reader, collection, index)?;
            let value = value.get(..length).unwrap_or(value);
            Ok(Some(Ok(StringAttribute {
                name,
                value: value.to_vec(),
                offset,
            })))
        }
        class => Ok(Some(Err(format!(
            "attribute `{name}` has datatype class {class}, not a string"
        )))),
    }
}

fn element_count(dataspace: &[u8], width: usize) -> Option<u64> {
    let version = *dataspace.first()?;
    let rank = *dataspace.get(1)? as usize;
    let (dims_at, null) = match version {
        1 => (8, false),
        2 => (4, *dataspace.get(3)? == 2),
        _ => return None,
    };
    if null {
        return Some(0);
    }
    // Dimension sizes are "lengths", whose width the superblock fixes.
    (0..rank).try_fold(1u64, |n, i| {
        let at = dims_at + i * width;
        n.checked_mul(le(dataspace.get(at..at + width)?))
    })
}

/// Object `index` of the global heap collection at `at`: its offset and bytes.
fn heap_object<'a>(
    reader: &Reader<'a>,
    at: usize,
    index: u64,
) -> Result<(usize, &'a [u8]), Hdf5Error> {
    let l = reader.geo.length_size;
    if reader.slice(at, 4)? != b"GCOL" {
        return err(format!("no global heap collection at offset {at}"));
    }
    let size = reader.uint(at + 8, l)? as usize;
    let end = at.saturating_add(size).min(reader.bytes.len());
    let mut pos = at + 8 + l;
    for _ in 0..MAX_HEAP_OBJECTS {
        if pos + 8 + l > end {
            break;
        }
        let id = reader.uint(pos, 2)?;
        let len = reader.uint(pos + 8, l)? as usize;
        let data = pos + 8 + l;
        if id == 0 {
            break; // free space: no object after it
        }
        if id == index {
            return Ok((data, reader.slice(data, len)?));
        }
        pos = data.saturating_add(len.div_ceil(8).saturating_mul(8));
    }
    err(format!(
        "global heap collection at offset {at} has no object {index}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_hdf5_and_truncated_input_are_errors_not_panics() {
        assert!(root_string_attributes(b"", &["model_config"]).is_err());
        assert!(root_string_attributes(b"\x89HDF\r\n\x1a\n", &["model_config"]).is_err());
        let mut sb = SIGNATURE.to_vec();
        sb.extend_from_slice(&[0, 0, 0, 0, 0, 8, 8, 0]);
        sb.resize(200, 0xff);
        assert!(root_string_attributes(&sb, &["model_config"]).is_err());
    }

    #[test]
    fn superblocks_after_a_user_block_are_found() {
        let mut bytes = vec![0u8; 1024];
        bytes[512..520].copy_from_slice(SIGNATURE);
        assert_eq!(find_superblock(&bytes), Some(512));
        assert_eq!(find_superblock(&bytes[..515]), None);
    }
}
