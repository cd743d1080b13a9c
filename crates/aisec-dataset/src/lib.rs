//! Dataset protection for aisec: masking, tokenisation, encryption at rest,
//! k-anonymity and poisoning signals.

pub mod anonymity;
pub mod crypt;
pub mod error;
mod io;
pub mod mask;
pub mod policy;
pub mod quality;
pub mod table;

pub use error::{Error, Result};
pub use mask::{MaskOptions, MaskSummary, Masker, mask_file, mask_stream};
pub use policy::{Action, MaskKey, Policy};
pub use table::{Dialect, Header, Rejects, RowError};
