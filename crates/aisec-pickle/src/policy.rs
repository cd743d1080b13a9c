//! What an imported name means: denied (runs code, spawns, imports, opens,
//! networks, reflects), allowed (known to only rebuild data), or unknown.
//!
//! Names are canonicalised first (Python 2 aliases, platform modules such as
//! `posix` for `os`), and the deny list is matched against every dotted
//! suffix, because the loader resolves dotted names attribute by attribute:
//! `numpy.testing._private.utils.os.system` *is* `os.system`.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use aisec_core::Severity;

/// Why a name is denied, shown in findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    CodeExecution,
    ProcessSpawn,
    DynamicImport,
    Reflection,
    FileSystem,
    Network,
    /// Loads another serialized object (pickle, marshal, yaml...): the nested
    /// payload runs with the same power as this one.
    NestedDeserialization,
    NativeCode,
    InterpreterState,
}

impl Category {
    pub fn describe(self) -> &'static str {
        match self {
            Category::CodeExecution => "executes code",
            Category::ProcessSpawn => "spawns processes",
            Category::DynamicImport => "imports modules dynamically",
            Category::Reflection => "reaches arbitrary attributes (reflection)",
            Category::FileSystem => "reads or writes files",
            Category::Network => "opens network connections",
            Category::NestedDeserialization => "deserializes a nested payload",
            Category::NativeCode => "loads or calls native code",
            Category::InterpreterState => "changes interpreter state",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Deny {
        severity: Severity,
        category: Category,
        /// The deny-list entry that matched, e.g. `os` or `builtins.eval`.
        pattern: &'static str,
        /// Where the entry comes from (`deny.txt`): tools and advisories.
        sources: &'static str,
    },
    Allow,
    Unknown,
    /// A name under `torch.jit._pickle` that is none of the helpers
    /// TorchScript writes: the archive was damaged or edited. TorchScript's
    /// loader rejects it and Python's finds no such attribute; it is not a
    /// callable that runs code, and is reported as what it is.
    UnknownTorchScript,
}

use Category::*;
use Severity::{Critical, High};

/// The deny list, kept as data with the provenance of every entry: see the
/// header of `deny.txt` for its format and sources.
static DENY_LIST: &str = include_str!("deny.txt");

/// One parsed line of `deny.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenyEntry {
    /// `os`, `builtins.eval`, or a `*`-terminated prefix.
    pub pattern: &'static str,
    /// `None` for `reviewed` lines, which document a name another tool
    /// denies and aisec judges otherwise.
    pub severity: Option<Severity>,
    pub category: Category,
    /// The tools and advisories the entry comes from, as written.
    pub sources: &'static str,
}

impl DenyEntry {
    /// The GHSA and CVE identifiers among the sources.
    pub fn advisories(&self) -> impl Iterator<Item = &'static str> {
        self.sources
            .split_whitespace()
            .filter(|s| s.starts_with("GHSA-") || s.starts_with("CVE-"))
    }
}

fn parse_category(token: &str) -> Option<Category> {
    Some(match token {
        "code" => CodeExecution,
        "process" => ProcessSpawn,
        "import" => DynamicImport,
        "reflection" => Reflection,
        "file" => FileSystem,
        "network" => Network,
        "nested" => NestedDeserialization,
        "native" => NativeCode,
        "interpreter" => InterpreterState,
        _ => return None,
    })
}

/// Parses `deny.txt`; an error names the line (the unit tests hold the
/// committed file to it, so the scanner never runs on a broken list).
pub fn parse_deny_list(text: &'static str) -> Result<Vec<DenyEntry>, String> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut tokens = line.split_whitespace();
        let (Some(pattern), Some(severity), Some(category)) =
            (tokens.next(), tokens.next(), tokens.next())
        else {
            return Err(format!("deny.txt line {}: too few fields", n + 1));
        };
        let severity = match severity {
            "critical" => Some(Critical),
            "high" => Some(High),
            "reviewed" => None,
            other => return Err(format!("deny.txt line {}: severity {other:?}", n + 1)),
        };
        let category = parse_category(category)
            .ok_or_else(|| format!("deny.txt line {}: category {category:?}", n + 1))?;
        // The sources are the rest of the line (comments already cut).
        let sources = match tokens.next() {
            Some(first) => &line[first.as_ptr() as usize - line.as_ptr() as usize..],
            None => return Err(format!("deny.txt line {}: no source", n + 1)),
        };
        out.push(DenyEntry {
            pattern,
            severity,
            category,
            sources,
        });
    }
    Ok(out)
}

/// The entries of `deny.txt`, parsed once. A list that does not parse (a
/// build from an edited file whose tests were not run) denies nothing rather
/// than panicking in a scanner; `deny_list_parses` keeps that from shipping.
pub fn deny_entries() -> &'static [DenyEntry] {
    static ENTRIES: OnceLock<Vec<DenyEntry>> = OnceLock::new();
    ENTRIES.get_or_init(|| parse_deny_list(DENY_LIST).unwrap_or_default())
}

/// Attribute names that only show up when someone walks from an innocent
/// object to the interpreter's internals (the classic sandbox escapes).
static DUNDER_ESCAPES: &[&str] = &[
    "__globals__",
    "__builtins__",
    "__subclasses__",
    "__import__",
    "__code__",
    "__closure__",
    "__getattribute__",
    "__getattr__",
    "__class__",
    "__base__",
    "__bases__",
    "__mro__",
    "__dict__",
    "__self__",
    "__func__",
    "__loader__",
    "__spec__",
    "__reduce__",
    "__reduce_ex__",
    "__setattr__",
    "__delattr__",
    "__call__",
    "__init_subclass__",
    "__set_name__",
];

/// Exact names known to rebuild data and nothing else.
static ALLOW_EXACT: &[&str] = &[
    // Containers and scalars.
    "builtins.set",
    "builtins.frozenset",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.bytearray",
    "builtins.bytes",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.complex",
    "builtins.bool",
    "builtins.slice",
    "builtins.range",
    "builtins.object",
    "builtins.NoneType",
    "builtins.Ellipsis",
    "builtins.NotImplemented",
    "builtins.unicode",
    "builtins.long",
    "builtins.basestring",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.deque",
    "collections.Counter",
    "copyreg._reconstructor",
    "copyreg.__newobj__",
    "copyreg.__newobj_ex__",
    "_codecs.encode",
    "codecs.encode",
    "array.array",
    "array._array_reconstructor",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "datetime.timezone",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "uuid.SafeUUID",
    "pathlib.Path",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    "pathlib.PurePath",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
    "re._compile",
    "argparse.Namespace",
    "types.SimpleNamespace",
    "enum.Enum",
    // Judged through its target: the VM resolves `partial(f, ...)` to `f`
    // (calls of the partial are calls of `f`), and `f` is an import of its
    // own that is judged like any other.
    "functools.partial",
    // NumPy.
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.core.multiarray._reconstruct",
    // Resolvers: judged through what they resolve to (the VM folds them);
    // with arguments it cannot fold they are reported as obfuscation.
    "numpy.core._ufunc_reconstruct",
    "numpy._core._ufunc_reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.core.numeric._frombuffer",
    "numpy._core.numeric._frombuffer",
    "numpy.ma.core._mareconstruct",
    "numpy.ma.core.MaskedArray",
    "numpy.matrix",
    "numpy.matrixlib.defmatrix.matrix",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random._pickle.__bit_generator_ctor",
    "numpy.random._pickle.__generator_ctor",
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    "numpy.random._mt19937.MT19937",
    "numpy.random._pcg64.PCG64",
    "numpy.random._pcg64.PCG64DXSM",
    "numpy.random._philox.Philox",
    "numpy.random._sfc64.SFC64",
    "numpy.random.bit_generator.SeedSequence",
    "numpy.random._bit_generator.SeedSequence",
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
    // SciPy sparse matrices (TF-IDF and one-hot features in pipelines).
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._csr.csr_array",
    "scipy.sparse.csr.csr_matrix",
    "scipy.sparse._csc.csc_matrix",
    "scipy.sparse._csc.csc_array",
    "scipy.sparse.csc.csc_matrix",
    "scipy.sparse._coo.coo_matrix",
    "scipy.sparse._coo.coo_array",
    "scipy.sparse.coo.coo_matrix",
    "scipy.sparse._lil.lil_matrix",
    "scipy.sparse._lil.lil_array",
    "scipy.sparse.lil.lil_matrix",
    "scipy.sparse._dok.dok_matrix",
    "scipy.sparse._dok.dok_array",
    "scipy.sparse.dok.dok_matrix",
    "scipy.sparse._bsr.bsr_matrix",
    "scipy.sparse._bsr.bsr_array",
    "scipy.sparse.bsr.bsr_matrix",
    "scipy.sparse._dia.dia_matrix",
    "scipy.sparse._dia.dia_array",
    "scipy.sparse.dia.dia_matrix",
    // pandas frames and series: reconstruction helpers and containers.
    "pandas.core.frame.DataFrame",
    "pandas.core.series.Series",
    "pandas.core.internals.managers.BlockManager",
    "pandas.core.internals.managers.SingleBlockManager",
    "pandas._libs.internals._unpickle_block",
    "pandas.core.internals.blocks.new_block",
    "pandas.core.indexes.base._new_Index",
    "pandas.core.indexes.base.Index",
    "pandas.core.indexes.range.RangeIndex",
    "pandas.core.indexes.multi.MultiIndex",
    "pandas.core.indexes.datetimes.DatetimeIndex",
    "pandas._libs.tslibs.timestamps._unpickle_timestamp",
    "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
    "pandas.core.arrays.categorical.Categorical",
    "pandas.core.dtypes.dtypes.CategoricalDtype",
    "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
    // joblib wraps arrays it stores next to the pickle.
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib.numpy_pickle.NDArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
    // PyTorch.
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_sparse_csr_tensor",
    "torch._utils._rebuild_nested_tensor",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_buffer",
    "torch._tensor._rebuild_from_type",
    "torch._tensor._rebuild_from_type_v2",
    "torch.serialization._get_layout",
    "torch.storage.UntypedStorage",
    "torch.storage.TypedStorage",
    "torch.storage._TypedStorage",
    "torch.storage._UntypedStorage",
    "torch.Size",
    "torch.device",
    "torch.dtype",
    "torch.layout",
    "torch.memory_format",
    "torch.Tensor",
    "torch.torch_version.TorchVersion",
    "torch.nn.parameter.Parameter",
    "torch.nn.parameter.Buffer",
    "torch.nn.parameter.UninitializedParameter",
    "torch.nn.parameter.UninitializedBuffer",
];

/// Modules whose classes (CapWords names) only hold state: instances are
/// rebuilt with `__new__` plus `__setstate__`, and nothing below them runs
/// commands. Functions under them are not covered, only classes.
static ALLOW_CLASSES_UNDER: &[&str] = &["torch.nn.modules.", "torch.optim.", "sklearn."];

/// Whole namespaces of estimators and functions that compute on data.
/// Deny entries still win (`sklearn.datasets`, `sklearn.utils._testing`).
/// `__torch__.*` are TorchScript classes: TorchScript's own (C++) unpickler
/// resolves them to classes compiled from the archive's `code/` (which the
/// formats scanner inspects); Python's pickle cannot import them at all.
static ALLOW_ANYTHING_UNDER: &[&str] = &["sklearn.", "__torch__."];

/// Helpers TorchScript writes into its pickles (`data.pkl`, `constants.pkl`,
/// `*.debug_pkl`). They live under `torch.jit`, which is denied as a whole,
/// but each only returns its argument (torch/jit/_pickle.py), so they are
/// allowed by exact name before the deny list is consulted.
/// The short names of [`TORCHSCRIPT_PICKLE_HELPERS`], for messages.
pub fn torchscript_helpers() -> Vec<&'static str> {
    TORCHSCRIPT_PICKLE_HELPERS
        .iter()
        .map(|h| h.rsplit('.').next().unwrap_or(h))
        .collect()
}

static TORCHSCRIPT_PICKLE_HELPERS: &[&str] = &[
    "torch.jit._pickle.build_intlist",
    "torch.jit._pickle.build_tensorlist",
    "torch.jit._pickle.build_doublelist",
    "torch.jit._pickle.build_boollist",
    "torch.jit._pickle.build_tensor_from_id",
    "torch.jit._pickle.restore_type_tag",
];

static TORCH_DTYPES: &[&str] = &[
    "float32",
    "float",
    "float64",
    "double",
    "float16",
    "half",
    "bfloat16",
    "complex32",
    "complex64",
    "complex128",
    "cfloat",
    "cdouble",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "short",
    "int32",
    "int",
    "int64",
    "long",
    "bool",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "quint2x4",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "strided",
    "sparse_coo",
    "sparse_csr",
    "sparse_csc",
    "sparse_bsr",
    "sparse_bsc",
    "_mkldnn",
    "contiguous_format",
    "channels_last",
    "channels_last_3d",
    "preserve_format",
    "per_tensor_affine",
    "per_channel_affine",
    "per_channel_affine_float_qparams",
];

static NUMPY_SCALARS: &[&str] = &[
    "bool_",
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "intc",
    "uintc",
    "intp",
    "uintp",
    "longlong",
    "ulonglong",
    "byte",
    "ubyte",
    "short",
    "ushort",
    "float16",
    "float32",
    "float64",
    "float96",
    "float128",
    "half",
    "single",
    "double",
    "longdouble",
    "complex64",
    "complex128",
    "complex192",
    "complex256",
    "csingle",
    "cdouble",
    "clongdouble",
    "str_",
    "bytes_",
    "unicode_",
    "string_",
    "void",
    "object_",
    "datetime64",
    "timedelta64",
    "generic",
    "number",
];

/// Turns `module` and `name` as written in the pickle into the dotted name
/// the loader ends up resolving, with aliases folded: `__builtin__.eval`,
/// `posix.system`, `nt.system` become `builtins.eval`, `os.system`.
pub fn canonical_name(module: &str, name: &str) -> String {
    let module = module.trim_end_matches('\r');
    let (head, tail) = match module.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None => (module, None),
    };
    let head = match head {
        "__builtin__" | "exceptions" | "__builtins__" if tail.is_none() => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" | "_pickle" | "cpickle" => "pickle",
        "posix" | "nt" | "_posix" => "os",
        "posixpath" | "ntpath" | "macpath" | "genericpath" => "os.path",
        "_io" | "cStringIO" | "StringIO" => "io",
        // Python 2 names the loader maps for protocols 0-2 (`fix_imports`).
        "thread" => "_thread",
        "SocketServer" => "socketserver",
        "BaseHTTPServer" | "SimpleHTTPServer" | "CGIHTTPServer" => "http.server",
        "httplib" => "http.client",
        "urllib2" => "urllib.request",
        "xmlrpclib" => "xmlrpc.client",
        "cookielib" => "http.cookiejar",
        "anydbm" | "whichdb" | "dbhash" | "gdbm" | "dumbdbm" => "dbm",
        "urlparse" => "urllib.parse",
        "Queue" => "queue",
        "repr" => "reprlib",
        "_operator" => "operator",
        "_socket" => "socket",
        "_functools" => "functools",
        "_collections" => "collections",
        "__main__" => "__main__",
        other => other,
    };
    let mut out = String::with_capacity(module.len() + name.len() + 1);
    out.push_str(head);
    if let Some(t) = tail {
        out.push('.');
        out.push_str(t);
    }
    if !name.is_empty() {
        out.push('.');
        out.push_str(name);
    }
    out
}

/// The deny entry matching `name` or any of its dotted suffixes, worst first.
fn deny_match(name: &str) -> Option<Found> {
    let mut best: Option<Found> = None;
    let tables = deny_tables();
    let mut consider = |candidate: &str| {
        let mut keep = |found: Found| {
            if best.is_none_or(|(s, _, p)| {
                found.0 > s || (found.0 == s && found.2.pattern.len() > p.pattern.len())
            }) {
                best = Some(found);
            }
        };
        // An exact pattern matches the candidate or any dotted prefix of it.
        for (end, _) in candidate.match_indices('.').chain([(candidate.len(), "")]) {
            if let Some(&found) = tables.exact.get(&candidate[..end]) {
                keep(found);
            }
        }
        for &(prefix, found) in &tables.prefixes {
            if candidate.len() > prefix.len() && candidate.starts_with(prefix) {
                keep(found);
            }
        }
    };
    consider(name);
    // Every suffix that starts after a dot: attribute walks such as
    // `torch.os.system` or `numpy.testing._private.utils.os.system`.
    for (i, _) in name.match_indices('.') {
        let suffix = &name[i + 1..];
        consider(suffix);
        // Aliases reached by a walk (`x.posix.system`, `x.__builtin__.eval`).
        if let Some(rest) = suffix.strip_prefix("__builtin__.") {
            consider(&format!("builtins.{rest}"));
        }
        if let Some(rest) = suffix
            .strip_prefix("posix.")
            .or_else(|| suffix.strip_prefix("nt."))
        {
            consider(&format!("os.{rest}"));
        }
    }
    best
}

/// FNV-1a: the tables are fixed at build time, so lookups need no
/// protection against chosen collisions, only speed (names are short).
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvBuild = std::hash::BuildHasherDefault<Fnv>;

/// A deny entry that matched: its severity, category and line.
type Found = (Severity, Category, &'static DenyEntry);

struct DenyTables {
    exact: HashMap<&'static str, Found, FnvBuild>,
    prefixes: Vec<(&'static str, Found)>,
}

/// The deny list indexed once: exact entries by name (checked against every
/// dotted prefix of a candidate), `*` entries as plain prefixes. `reviewed`
/// lines are documentation and are left out.
fn deny_tables() -> &'static DenyTables {
    static TABLES: OnceLock<DenyTables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut exact: HashMap<&'static str, Found, FnvBuild> = HashMap::default();
        let mut prefixes = Vec::new();
        for entry in deny_entries() {
            let Some(severity) = entry.severity else {
                continue;
            };
            let found = (severity, entry.category, entry);
            match entry.pattern.strip_suffix('*') {
                Some(prefix) => prefixes.push((prefix, found)),
                None => {
                    let slot = exact.entry(entry.pattern).or_insert(found);
                    if severity > slot.0 {
                        *slot = found;
                    }
                }
            }
        }
        DenyTables { exact, prefixes }
    })
}

fn allow_exact() -> &'static HashSet<&'static str, FnvBuild> {
    static SET: OnceLock<HashSet<&'static str, FnvBuild>> = OnceLock::new();
    SET.get_or_init(|| ALLOW_EXACT.iter().copied().collect())
}

/// Dotted names longer than this are not looked up suffix by suffix (that
/// costs the square of the number of dots); no real import is this long, and
/// a walk padded to this length is itself suspicious.
pub const MAX_CLASSIFIED_NAME: usize = 1024;

pub fn classify(name: &str) -> Verdict {
    if name.len() > MAX_CLASSIFIED_NAME {
        return Verdict::Deny {
            severity: Severity::High,
            category: Category::Reflection,
            pattern: "overlong dotted name",
            sources: "aisec",
        };
    }
    // Reviewed exact names win over a deny pattern reached through a suffix
    // or a whole module (`numpy.random._pickle.__generator_ctor` ends in
    // `_pickle.__generator_ctor`, `uuid.UUID` is under `uuid`): an exact
    // entry names one callable, so nothing else can hide behind it.
    if TORCHSCRIPT_PICKLE_HELPERS.contains(&name) || allow_exact().contains(name) {
        return Verdict::Allow;
    }
    if let Some(rest) = name.strip_prefix("torch.jit._pickle.") {
        // TorchScript's helper module holds the helpers above and nothing a
        // pickle could use; another name there is no callable at all.
        if !rest.contains('.') {
            return Verdict::UnknownTorchScript;
        }
    }
    if let Some((severity, category, entry)) = deny_match(name) {
        return Verdict::Deny {
            severity,
            category,
            pattern: entry.pattern,
            sources: entry.sources,
        };
    }
    if name
        .split('.')
        .skip(1)
        .any(|seg| DUNDER_ESCAPES.contains(&seg))
    {
        return Verdict::Deny {
            severity: Severity::Critical,
            category: Category::Reflection,
            pattern: "dunder attribute walk",
            sources: "aisec",
        };
    }
    if is_allowed(name) {
        Verdict::Allow
    } else {
        Verdict::Unknown
    }
}

fn is_allowed(name: &str) -> bool {
    if allow_exact().contains(name) {
        return true;
    }
    let Some((module, last)) = name.rsplit_once('.') else {
        return false;
    };
    if module == "builtins" && is_exception_name(last) {
        return true;
    }
    if module == "torch" && (last.ends_with("Storage") || TORCH_DTYPES.contains(&last)) {
        return true;
    }
    if (module == "numpy" || module == "numpy.dtypes")
        && (NUMPY_SCALARS.contains(&last) || last.ends_with("DType"))
    {
        return true;
    }
    if ALLOW_ANYTHING_UNDER.iter().any(|p| name.starts_with(p)) {
        return true;
    }
    let is_class = last.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    is_class && ALLOW_CLASSES_UNDER.iter().any(|p| name.starts_with(p))
}

fn is_exception_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && (name.ends_with("Error") || name.ends_with("Exception") || name.ends_with("Warning"))
}

/// Callables whose first argument is itself a serialized payload that they
/// deserialize: a literal argument is scanned as a file of its own.
/// Callables that turn strings into imported objects. Their literal
/// arguments are folded into an import that is judged on its own; a call
/// the VM could not fold hides its target and is reported as obfuscation.
pub fn is_resolver(name: &str) -> bool {
    matches!(
        name,
        "numpy.core._ufunc_reconstruct"
            | "numpy._core._ufunc_reconstruct"
            | "pkgutil.resolve_name"
            | "builtins.__import__"
            | "importlib.import_module"
            | "builtins.getattr"
            | "operator.attrgetter"
    )
}

pub fn loads_first_argument(name: &str) -> bool {
    matches!(
        name,
        "pickle.loads"
            | "pickle._loads"
            | "dill.loads"
            | "cloudpickle.loads"
            | "numpy.loads"
            | "numpy.core.multiarray.loads"
            | "torch.storage._load_from_bytes"
            | "torch.load"
            | "torch.serialization.load"
            | "joblib.load"
            | "marshal.loads"
            | "yaml.load"
            | "yaml.unsafe_load"
            | "yaml.full_load"
            | "jsonpickle.decode"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(module: &str, name: &str) -> Verdict {
        classify(&canonical_name(module, name))
    }

    fn denied(module: &str, name: &str) -> bool {
        matches!(verdict(module, name), Verdict::Deny { .. })
    }

    #[test]
    fn aliases_resolve_to_the_real_module() {
        assert_eq!(canonical_name("__builtin__", "eval"), "builtins.eval");
        assert_eq!(canonical_name("posix", "system"), "os.system");
        assert_eq!(canonical_name("nt", "system"), "os.system");
        assert_eq!(canonical_name("posixpath", "join"), "os.path.join");
        assert_eq!(
            canonical_name("copy_reg", "_reconstructor"),
            "copyreg._reconstructor"
        );
        assert!(denied("__builtin__", "eval"));
        assert!(denied("posix", "system"));
        assert!(denied("_pickle", "loads"));
        assert!(denied("SocketServer", "TCPServer"));
        assert!(denied("thread", "start_new_thread"));
        assert!(denied("urllib2", "urlopen"));
        assert!(denied("_frozen_importlib", "BuiltinImporter.load_module"));
        assert!(denied(
            "joblib.externals.cloudpickle.cloudpickle",
            "_make_function"
        ));
    }

    #[test]
    fn attribute_walks_reach_the_deny_list() {
        assert!(denied("numpy.testing._private.utils", "os.system"));
        assert!(denied("torch", "os.system"));
        assert!(denied("posixpath", "os.system"));
        assert!(denied("collections", "OrderedDict.__class__"));
        assert!(denied("builtins", "object.__subclasses__"));
        assert!(denied("pathlib", "Path.write_text"));
        assert!(!denied("pathlib", "PosixPath"));
    }

    #[test]
    fn worst_match_wins() {
        match verdict("os", "path") {
            Verdict::Deny { severity, .. } => assert_eq!(severity, Severity::Critical),
            v => panic!("{v:?}"),
        }
        match verdict("torch.serialization", "load") {
            Verdict::Deny { category, .. } => {
                assert_eq!(category, Category::NestedDeserialization)
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn torchscript_helpers_are_allowed_but_the_rest_of_torch_jit_is_not() {
        assert_eq!(classify("torch.jit._pickle.build_intlist"), Verdict::Allow);
        assert_eq!(classify("__torch__.MyModule"), Verdict::Allow);
        assert!(matches!(classify("torch.jit.load"), Verdict::Deny { .. }));
        assert!(matches!(
            classify("torch.jit._pickle.os.system"),
            Verdict::Deny { .. }
        ));
        assert!(matches!(
            classify("__torch__.os.system"),
            Verdict::Deny { .. }
        ));
    }

    #[test]
    fn the_usual_benign_names_are_allowed() {
        for (m, n) in [
            ("torch._utils", "_rebuild_tensor_v2"),
            ("torch", "FloatStorage"),
            ("torch", "bfloat16"),
            ("collections", "OrderedDict"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy", "dtype"),
            ("numpy.dtypes", "Float64DType"),
            ("sklearn.linear_model._logistic", "LogisticRegression"),
            ("torch.nn.modules.linear", "Linear"),
            ("__builtin__", "set"),
            ("builtins", "ValueError"),
        ] {
            assert_eq!(verdict(m, n), Verdict::Allow, "{m}.{n}");
        }
    }

    #[test]
    fn unlisted_is_unknown_not_trusted() {
        assert_eq!(verdict("mylib.models", "Net"), Verdict::Unknown);
        assert_eq!(
            verdict("torch.nn.modules.linear", "helper_fn"),
            Verdict::Unknown
        );
        assert_eq!(verdict("builtins", "map"), Verdict::Unknown);
        // Data classes of otherwise sensitive packages, seen in real
        // checkpoints: unknown (reviewed), not denied.
        for (m, n) in [
            ("urllib.parse", "ParseResult"),
            ("http", "HTTPStatus"),
            ("torch._dynamo.eval_frame", "OptimizedModule"),
            ("torch.distributed._tensor.api", "DTensor"),
            ("inspect", "Parameter"),
        ] {
            assert_eq!(verdict(m, n), Verdict::Unknown, "{m}.{n}");
        }
        assert!(denied("urllib.request", "urlopen"));
        assert!(denied("torch.distributed.rpc", "rpc_sync"));
        assert!(denied(&"a.".repeat(600), "b"));
        assert!(denied("sklearn.utils._testing", "assert_run_python_script"));
        assert!(denied("sklearn.datasets", "fetch_openml"));
    }

    #[test]
    fn deny_list_parses_and_every_entry_has_a_source() {
        let entries = parse_deny_list(DENY_LIST).unwrap();
        assert!(entries.len() > 300, "{}", entries.len());
        assert_eq!(deny_entries().len(), entries.len());
        let known = ["aisec", "picklescan", "modelscan", "fickling", "modelaudit"];
        let mut seen = HashSet::new();
        for e in &entries {
            assert!(seen.insert(e.pattern), "duplicate pattern {}", e.pattern);
            for source in e.sources.split_whitespace() {
                assert!(
                    known.contains(&source)
                        || source.starts_with("GHSA-")
                        || source.starts_with("CVE-"),
                    "{}: unknown source {source:?}",
                    e.pattern
                );
            }
        }
        assert!(parse_deny_list("os critical process").is_err());
        assert!(parse_deny_list("os fatal process aisec").is_err());
        assert!(parse_deny_list("os critical shell aisec").is_err());
    }

    #[test]
    fn callables_named_by_other_scanners_and_advisories_are_critical() {
        for name in [
            "_pyrepl.pager.pipe_pager",
            "_pyrepl.pager.tempfile_pager",
            "test.support.script_helper.assert_python_ok",
            "torch.utils._config_module.ConfigModule.load_config",
            "torch._inductor.codecache.compile_file",
            "torch.fx.experimental.symbolic_shapes.ShapeEnv.evaluate_guards_expression",
            "torch.utils.data.datapipes.utils.decoder.basichandlers",
            "torch.storage._load_from_bytes",
            "numpy.testing._private.utils.runstring",
            "pip.main",
            "uuid._get_command_stdout",
            "operator.attrgetter",
            "operator.itemgetter",
            "operator.methodcaller",
            "operator.getitem",
            "logging.FileHandler",
            "imaplib.IMAP4_stream",
            "types.CodeType",
            "types.FunctionType",
            "functools.reduce",
            "builtins.input",
            "asyncio.run",
            "glob.glob",
            "tempfile.mktemp",
            "cloudpickle.cloudpickle._make_function",
            "idlelib.pyshell.ModifiedInterpreter.runcode",
            "lib2to3.pgen2.grammar.Grammar.loads",
            "doctest.debug_script",
            "ensurepip._run_pip",
            "distutils.file_util.write_file",
            "torch.distributed.rpc.rpc_sync",
            // Source builders that exec generated code (ModelAudit's bypass
            // write-up, turn 9: a default value runs at load).
            "dataclasses._create_fn",
            "typing.ForwardRef",
            "typing.get_type_hints",
        ] {
            match classify(name) {
                Verdict::Deny { severity, .. } => {
                    assert_eq!(severity, Severity::Critical, "{name}")
                }
                v => panic!("{name}: {v:?}"),
            }
        }
        let Verdict::Deny { sources, .. } = classify("_pyrepl.pager.pipe_pager") else {
            unreachable!()
        };
        assert!(sources.contains("GHSA-g38g-8gr9-h9xp"), "{sources}");
    }

    #[test]
    fn exact_allow_entries_beat_suffix_and_module_denies() {
        // `numpy.random._pickle.X` ends in `_pickle.X`; `uuid.UUID` is under
        // the denied `uuid`: both are reviewed data constructors.
        for name in [
            "numpy.random._pickle.__generator_ctor",
            "numpy.random._pickle.__randomstate_ctor",
            "numpy.random._pickle.__bit_generator_ctor",
            "uuid.UUID",
            "types.SimpleNamespace",
            "joblib.numpy_pickle.NumpyArrayWrapper",
            "functools.partial",
        ] {
            assert_eq!(classify(name), Verdict::Allow, "{name}");
        }
        assert!(matches!(classify("uuid._popen"), Verdict::Deny { .. }));
        assert!(matches!(
            classify("numpy.random._pickle.os.system"),
            Verdict::Deny { .. }
        ));
    }

    #[test]
    fn reviewed_lines_deny_nothing() {
        assert_eq!(classify("http.HTTPStatus"), Verdict::Unknown);
        assert_eq!(classify("inspect.Parameter"), Verdict::Unknown);
        assert!(matches!(
            classify("inspect.getattr_static"),
            Verdict::Deny { .. }
        ));
    }

    #[test]
    fn unknown_torchscript_helpers_are_their_own_verdict() {
        assert_eq!(
            classify("torch.jit._pickle.build_intlisu"),
            Verdict::UnknownTorchScript
        );
        assert!(matches!(
            classify("torch.jit._pickle.torch.load"),
            Verdict::Deny { .. }
        ));
        assert!(matches!(classify("torch.jit.load"), Verdict::Deny { .. }));
    }
}
