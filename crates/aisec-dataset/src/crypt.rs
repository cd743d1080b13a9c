//! Encryption at rest with [age](https://age-encryption.org/v1): X25519
//! recipients or a passphrase (scrypt), payload in age's STREAM construction
//! (ChaCha20-Poly1305 over 64 KiB chunks, the last one flagged), so memory is
//! constant and truncation, reordering or any modified byte fails decryption.
//!
//! The age crate is used rather than a framing of our own: its format is
//! specified, interoperable with the `age` and `rage` tools, and reviewed.
//!
//! Both directions write to a temporary file beside the output and rename it
//! into place only once the last chunk has been authenticated: a tampered or
//! truncated file leaves no output at all.

use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::str::FromStr;

pub use age::secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// Copy buffer: a multiple of age's 64 KiB chunk.
const COPY_BUFFER_BYTES: usize = 256 * 1024;

/// Who can decrypt what [`encrypt_stream`] writes.
pub enum EncryptTo {
    /// X25519 recipients (`age1...` public keys).
    Recipients(Vec<age::x25519::Recipient>),
    /// A passphrase, stretched with scrypt. `work_factor` is log2 of scrypt's
    /// N; `None` lets age calibrate it (about one second on this machine).
    Passphrase {
        passphrase: SecretString,
        work_factor: Option<u8>,
    },
}

/// What [`decrypt_stream`] may use.
pub enum DecryptWith {
    /// Identities from an age identity file.
    Identities(Vec<age::x25519::Identity>),
    Passphrase(SecretString),
}

/// Parses one `age1...` recipient.
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    age::x25519::Recipient::from_str(text.trim()).map_err(|e| {
        Error::Key(format!(
            "`{}` is not an age X25519 recipient (age1...): {e}",
            text.trim()
        ))
    })
}

/// Recipients from a file: one `age1...` per line, `#` comments and blank
/// lines ignored.
pub fn read_recipients_file(path: &Path) -> Result<Vec<age::x25519::Recipient>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(
            parse_recipient(line)
                .map_err(|e| Error::Key(format!("{}:{}: {e}", path.display(), i + 1)))?,
        );
    }
    if out.is_empty() {
        return Err(Error::Key(format!(
            "{}: no recipients (expected lines starting with age1)",
            path.display()
        )));
    }
    Ok(out)
}

/// Identities from an age identity file (`AGE-SECRET-KEY-1...` lines, as
/// written by `aisec data keygen` or `age-keygen`).
pub fn read_identity_file(path: &Path) -> Result<Vec<age::x25519::Identity>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The parse error is not shown: it could echo part of the secret.
        let id = age::x25519::Identity::from_str(line).map_err(|_| {
            Error::Key(format!(
                "{}:{}: not an age X25519 identity (expected AGE-SECRET-KEY-1...)",
                path.display(),
                i + 1
            ))
        })?;
        out.push(id);
    }
    if out.is_empty() {
        return Err(Error::Key(format!(
            "{}: no identities (expected a line starting with AGE-SECRET-KEY-1)",
            path.display()
        )));
    }
    Ok(out)
}

/// A new identity: the text of an identity file and its public recipient.
pub fn generate_identity() -> (SecretString, String) {
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let text = format!(
        "# created by aisec data keygen\n# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    );
    (SecretString::from(text), public)
}

/// Encrypts `input` into `output`; returns the plaintext bytes read.
pub fn encrypt_stream<R: Read, W: Write>(
    input_name: &Path,
    mut input: R,
    output: W,
    to: &EncryptTo,
) -> Result<u64> {
    let encryptor = match to {
        EncryptTo::Recipients(rs) => {
            if rs.is_empty() {
                return Err(Error::Usage("no recipient to encrypt to".into()));
            }
            age::Encryptor::with_recipients(rs.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| Error::Key(format!("cannot encrypt to these recipients: {e}")))?
        }
        EncryptTo::Passphrase {
            passphrase,
            work_factor,
        } => {
            let mut r = age::scrypt::Recipient::new(passphrase.clone());
            if let Some(w) = work_factor {
                r.set_work_factor(*w);
            }
            age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
                .map_err(|e| Error::Key(format!("cannot encrypt with this passphrase: {e}")))?
        }
    };
    let out = crate::io::OUTPUT_PLACEHOLDER;
    let mut writer = encryptor
        .wrap_output(output)
        .map_err(|e| Error::io(out, e))?;
    let mut buf = vec![0u8; COPY_BUFFER_BYTES];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(input_name, e)),
        };
        writer.write_all(&buf[..n]).map_err(|e| Error::io(out, e))?;
        total += n as u64;
    }
    let mut inner = writer.finish().map_err(|e| Error::io(out, e))?;
    inner.flush().map_err(|e| Error::io(out, e))?;
    Ok(total)
}

/// Decrypts `input` into `output`; returns the plaintext bytes written.
/// On an error, what was written to `output` must be discarded: it is
/// unauthenticated ([`decrypt_file`] does this).
pub fn decrypt_stream<R: Read, W: Write>(
    input_name: &Path,
    input: R,
    mut output: W,
    with: &DecryptWith,
) -> Result<u64> {
    let crypto = |message: String| Error::Crypto {
        path: input_name.to_path_buf(),
        message,
    };
    let decryptor =
        age::Decryptor::new_buffered(BufReader::with_capacity(COPY_BUFFER_BYTES, input))
            .map_err(|e| crypto(describe(&e)))?;
    let mut reader = match with {
        DecryptWith::Identities(ids) => {
            if decryptor.is_scrypt() {
                return Err(crypto(
                    "the file is encrypted with a passphrase, not to a recipient: give the passphrase (AISEC_DATA_PASSPHRASE or --passphrase-env)".into(),
                ));
            }
            decryptor.decrypt(ids.iter().map(|i| i as &dyn age::Identity))
        }
        DecryptWith::Passphrase(p) => {
            if !decryptor.is_scrypt() {
                return Err(crypto(
                    "the file is encrypted to recipients, not with a passphrase: give an identity file (--identity)".into(),
                ));
            }
            let id = age::scrypt::Identity::new(p.clone());
            decryptor.decrypt(std::iter::once(&id as &dyn age::Identity))
        }
    }
    .map_err(|e| crypto(describe(&e)))?;
    let mut buf = vec![0u8; COPY_BUFFER_BYTES];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::InvalidData
                    || e.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                return Err(crypto(format!(
                    "authentication failed after {total} good bytes: the file was modified or truncated ({e})"
                )));
            }
            Err(e) => return Err(Error::io(input_name, e)),
        };
        output
            .write_all(&buf[..n])
            .map_err(|e| Error::io(crate::io::OUTPUT_PLACEHOLDER, e))?;
        total += n as u64;
    }
    output
        .flush()
        .map_err(|e| Error::io(crate::io::OUTPUT_PLACEHOLDER, e))?;
    Ok(total)
}

fn describe(e: &age::DecryptError) -> String {
    match e {
        age::DecryptError::InvalidMac => {
            "the header's MAC does not match: the file was modified, or the key is not the one it was encrypted with".into()
        }
        age::DecryptError::NoMatchingKeys => {
            "none of the given identities can decrypt this file".into()
        }
        age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed => {
            "decryption failed: wrong passphrase or key, or the file was modified".into()
        }
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => {
            "not an age-encrypted file, or its header is damaged".into()
        }
        other => other.to_string(),
    }
}

/// Encrypts the file `input` into `output` (temporary file, renamed on success).
pub fn encrypt_file(input: &Path, output: &Path, to: &EncryptTo) -> Result<u64> {
    crate::io::refuse_same_file(input, output)?;
    let file = std::fs::File::open(input).map_err(|e| Error::io(input, e))?;
    let mut tmp = crate::io::TempOutput::beside(output)?;
    let n = encrypt_stream(input, file, std::io::BufWriter::new(tmp.file_mut()), to)
        .map_err(|e| crate::io::rename_paths(e, input, output))?;
    tmp.persist(output)?;
    Ok(n)
}

/// Decrypts the file `input` into `output`. The plaintext goes to a
/// temporary file that is deleted unless every chunk authenticated.
pub fn decrypt_file(input: &Path, output: &Path, with: &DecryptWith) -> Result<u64> {
    crate::io::refuse_same_file(input, output)?;
    let file = std::fs::File::open(input).map_err(|e| Error::io(input, e))?;
    let mut tmp = crate::io::TempOutput::beside(output)?;
    let n = decrypt_stream(input, file, std::io::BufWriter::new(tmp.file_mut()), with)
        .map_err(|e| crate::io::rename_paths(e, input, output))?;
    tmp.persist(output)?;
    Ok(n)
}
