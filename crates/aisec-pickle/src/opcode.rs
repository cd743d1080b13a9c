//! Every opcode CPython's unpickler understands (protocols 0 to 5), with the
//! shape of its inline argument. The table mirrors `pickletools.opcodes`; the
//! argument shapes are what `Modules/_pickle.c` actually reads, which is what
//! matters for a scanner (the C loader is the one that runs payloads).

/// How an opcode's inline argument is laid out in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgShape {
    None,
    /// Unsigned little-endian integer of 1, 2 or 4 bytes.
    U1,
    U2,
    U4,
    /// Unsigned little-endian 8-byte integer not followed by a payload
    /// (FRAME: the frame's content is ordinary opcodes).
    U8,
    /// Signed little-endian 4-byte integer (BININT).
    I4,
    /// 8-byte IEEE-754 double, big-endian (BINFLOAT).
    F8Be,
    /// One line up to `\n` (protocol 0 text forms).
    Line,
    /// Two lines (GLOBAL, INST: module then name).
    TwoLines,
    /// A length prefix of N bytes, then that many bytes of payload.
    Len1,
    Len4,
    /// BINSTRING's length is a *signed* 4-byte integer; negative is an error.
    Len4Signed,
    Len8,
}

macro_rules! opcodes {
    ($( $variant:ident = $code:literal, $shape:ident, $proto:literal, $doc:literal; )*) => {
        /// A pickle opcode. The discriminant is the byte in the stream. Variants
        /// keep `pickletools`' spelling so that analysts can grep for them.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Opcode {
            $( #[doc = $doc] $variant = $code, )*
        }

        impl Opcode {
            /// Every opcode, in table order.
            pub const ALL: &'static [Opcode] = &[ $( Opcode::$variant, )* ];

            pub fn from_byte(b: u8) -> Option<Opcode> {
                OPCODE_BY_BYTE[b as usize]
            }

            /// The name `pickletools` uses.
            pub fn name(self) -> &'static str {
                match self { $( Opcode::$variant => stringify!($variant), )* }
            }

            /// A table lookup: this runs once per opcode of every scan.
            pub fn arg_shape(self) -> ArgShape {
                ARG_SHAPE_BY_BYTE[self as u8 as usize]
            }

            /// The protocol that introduced the opcode. The C loader accepts
            /// every opcode under any protocol header, so this is only shown.
            pub fn protocol(self) -> u8 {
                match self { $( Opcode::$variant => $proto, )* }
            }
        }

        static ARG_SHAPE_BY_BYTE: [ArgShape; 256] = {
            let mut table = [ArgShape::None; 256];
            $( table[$code as usize] = ArgShape::$shape; )*
            table
        };

        static OPCODE_BY_BYTE: [Option<Opcode>; 256] = {
            let mut table = [None; 256];
            $( table[$code as usize] = Some(Opcode::$variant); )*
            table
        };
    };
}

opcodes! {
    MARK = b'(', None, 0, "Push a mark: the start of a variable-length argument list.";
    STOP = b'.', None, 0, "End of the pickle; the top of the stack is the result.";
    POP = b'0', None, 0, "Discard the top of the stack (or the topmost mark).";
    POP_MARK = b'1', None, 0, "Discard everything down to and including the topmost mark.";
    DUP = b'2', None, 0, "Push the top of the stack again.";
    FLOAT = b'F', Line, 0, "Push a float written in decimal.";
    INT = b'I', Line, 0, "Push an int written in decimal (`00`/`01` are False/True).";
    BININT = b'J', I4, 1, "Push a signed 4-byte int.";
    BININT1 = b'K', U1, 1, "Push an unsigned 1-byte int.";
    LONG = b'L', Line, 0, "Push a long written in decimal, optionally ending in `L`.";
    BININT2 = b'M', U2, 1, "Push an unsigned 2-byte int.";
    NONE = b'N', None, 0, "Push None.";
    PERSID = b'P', Line, 0, "Push persistent_load(id) for a text id.";
    BINPERSID = b'Q', None, 1, "Push persistent_load(top of stack).";
    REDUCE = b'R', None, 0, "Call: pop args tuple and callable, push callable(*args).";
    STRING = b'S', Line, 0, "Push a quoted, escaped byte string.";
    BINSTRING = b'T', Len4Signed, 1, "Push a byte string with a 4-byte length.";
    SHORT_BINSTRING = b'U', Len1, 1, "Push a byte string with a 1-byte length.";
    UNICODE = b'V', Line, 0, "Push a raw-unicode-escape text string.";
    BINUNICODE = b'X', Len4, 1, "Push a UTF-8 string with a 4-byte length.";
    APPEND = b'a', None, 0, "Append the top of the stack to the list below it.";
    BUILD = b'b', None, 0, "Set state: calls __setstate__ or updates __dict__.";
    GLOBAL = b'c', TwoLines, 0, "Import module.name (two text lines) and push it.";
    DICT = b'd', None, 0, "Build a dict from key/value pairs above the mark.";
    EMPTY_DICT = b'}', None, 1, "Push an empty dict.";
    APPENDS = b'e', None, 1, "Extend the list below the mark with the items above it.";
    GET = b'g', Line, 0, "Push a memo entry (decimal index).";
    BINGET = b'h', U1, 1, "Push a memo entry (1-byte index).";
    INST = b'i', TwoLines, 0, "Import module.name and call it with the items above the mark.";
    LONG_BINGET = b'j', U4, 1, "Push a memo entry (4-byte index).";
    LIST = b'l', None, 0, "Build a list from the items above the mark.";
    EMPTY_LIST = b']', None, 1, "Push an empty list.";
    OBJ = b'o', None, 1, "Call the first item above the mark with the rest as arguments.";
    PUT = b'p', Line, 0, "Store the top of the stack in the memo (decimal index).";
    BINPUT = b'q', U1, 1, "Store the top of the stack in the memo (1-byte index).";
    LONG_BINPUT = b'r', U4, 1, "Store the top of the stack in the memo (4-byte index).";
    SETITEM = b's', None, 0, "`obj[key] = value` on the object below.";
    TUPLE = b't', None, 0, "Build a tuple from the items above the mark.";
    EMPTY_TUPLE = b')', None, 1, "Push an empty tuple.";
    SETITEMS = b'u', None, 1, "`obj[k] = v` for each pair above the mark.";
    BINFLOAT = b'G', F8Be, 1, "Push an 8-byte big-endian float.";
    PROTO = 0x80, U1, 2, "Protocol version header.";
    NEWOBJ = 0x81, None, 2, "cls.__new__(cls, *args).";
    EXT1 = 0x82, U1, 2, "Push the object registered under a 1-byte extension code.";
    EXT2 = 0x83, U2, 2, "Push the object registered under a 2-byte extension code.";
    EXT4 = 0x84, I4, 2, "Push the object registered under a 4-byte extension code.";
    TUPLE1 = 0x85, None, 2, "Build a 1-tuple from the top of the stack.";
    TUPLE2 = 0x86, None, 2, "Build a 2-tuple from the top two items.";
    TUPLE3 = 0x87, None, 2, "Build a 3-tuple from the top three items.";
    NEWTRUE = 0x88, None, 2, "Push True.";
    NEWFALSE = 0x89, None, 2, "Push False.";
    LONG1 = 0x8a, Len1, 2, "Push a little-endian two's-complement long (1-byte length).";
    LONG4 = 0x8b, Len4Signed, 2, "Push a little-endian two's-complement long (4-byte length).";
    BINBYTES = b'B', Len4, 3, "Push bytes with a 4-byte length.";
    SHORT_BINBYTES = b'C', Len1, 3, "Push bytes with a 1-byte length.";
    SHORT_BINUNICODE = 0x8c, Len1, 4, "Push a UTF-8 string with a 1-byte length.";
    BINUNICODE8 = 0x8d, Len8, 4, "Push a UTF-8 string with an 8-byte length.";
    BINBYTES8 = 0x8e, Len8, 4, "Push bytes with an 8-byte length.";
    EMPTY_SET = 0x8f, None, 4, "Push an empty set.";
    ADDITEMS = 0x90, None, 4, "Add the items above the mark to the set below it.";
    FROZENSET = 0x91, None, 4, "Build a frozenset from the items above the mark.";
    NEWOBJ_EX = 0x92, None, 4, "cls.__new__(cls, *args, **kwargs).";
    STACK_GLOBAL = 0x93, None, 4, "Import module.name taken from the stack.";
    MEMOIZE = 0x94, None, 4, "Store the top of the stack in the next memo slot.";
    FRAME = 0x95, U8, 4, "Start of a frame of the given length (a read-ahead hint).";
    BYTEARRAY8 = 0x96, Len8, 5, "Push a bytearray with an 8-byte length.";
    NEXT_BUFFER = 0x97, None, 5, "Push the next out-of-band buffer.";
    READONLY_BUFFER = 0x98, None, 5, "Make the buffer on top of the stack read-only.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_pickletools_opcode_once() {
        assert_eq!(Opcode::ALL.len(), 68);
        let mut seen = std::collections::HashSet::new();
        for op in Opcode::ALL {
            assert!(seen.insert(*op as u8), "{} twice", op.name());
            assert_eq!(Opcode::from_byte(*op as u8), Some(*op));
        }
        assert_eq!(Opcode::from_byte(0xff), None);
        assert_eq!(Opcode::from_byte(0x99), None);
    }
}
