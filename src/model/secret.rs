//! Secrets (K, OPc, PINs): inline test values, or references to the environment or a file.
//!
//! The value is only ever handed out by [`Secret::expose`]; `Debug` and `Display` print where
//! the secret comes from, never what it is, and no error message carries it.

use std::fmt;
use std::path::PathBuf;

/// What a secret must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretFormat {
    /// Exactly this many hexadecimal digits (K and OPc: 32).
    Hex(usize),
    /// A card PIN: 4 to 8 decimal digits.
    Pin,
}

impl SecretFormat {
    /// Checks `value`; the message describes the problem without quoting the value.
    pub fn check(self, value: &str) -> Result<(), String> {
        match self {
            SecretFormat::Hex(n) => {
                if value.len() != n {
                    return Err(format!("must be {n} hex digits, found {} characters", value.len()));
                }
                if let Some(pos) = value.find(|c: char| !c.is_ascii_hexdigit()) {
                    return Err(format!(
                        "must be {n} hex digits, found a non-hex character at position {}",
                        pos + 1
                    ));
                }
                Ok(())
            }
            SecretFormat::Pin => {
                let ok = (4..=8).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
                if ok { Ok(()) } else { Err("a PIN must be 4 to 8 decimal digits".to_owned()) }
            }
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
enum Source {
    Inline(String),
    Env(String),
    File(PathBuf),
}

#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    source: Source,
    format: SecretFormat,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("environment variable {0} is not set")]
    EnvMissing(String),
    #[error("cannot read secret file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("the secret from {origin} {reason}")]
    Format { origin: String, reason: String },
}

impl Secret {
    /// Reads a fixture value: `env:NAME`, `file:PATH` (relative to `base_dir`) or the value
    /// itself. Inline values are checked against `format` now; references when exposed.
    pub fn parse(raw: &str, format: SecretFormat, base_dir: &std::path::Path) -> Result<Secret, String> {
        let source = if let Some(name) = raw.strip_prefix("env:") {
            let valid = !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit();
            if !valid {
                return Err(format!(
                    "\"env:{name}\" is not a valid environment variable name (letters, digits, _)"
                ));
            }
            Source::Env(name.to_owned())
        } else if let Some(path) = raw.strip_prefix("file:") {
            if path.is_empty() {
                return Err("\"file:\" needs a path after the colon".to_owned());
            }
            Source::File(base_dir.join(path))
        } else if let Some((scheme, _)) = raw.split_once(':').filter(|(s, _)| is_scheme(s)) {
            return Err(format!(
                "unknown secret reference \"{scheme}:...\"; use the value itself, \"env:NAME\" or \"file:PATH\""
            ));
        } else {
            format.check(raw)?;
            Source::Inline(raw.to_owned())
        };
        Ok(Secret { source, format })
    }

    /// The secret's value. Call this only where the value is used (the card, the network).
    pub fn expose(&self) -> Result<String, SecretError> {
        let value = match &self.source {
            Source::Inline(v) => return Ok(v.clone()),
            Source::Env(name) => std::env::var(name).map_err(|_| SecretError::EnvMissing(name.clone()))?,
            Source::File(path) => std::fs::read_to_string(path)
                .map_err(|e| SecretError::File { path: path.clone(), reason: e.kind().to_string() })?
                .trim()
                .to_owned(),
        };
        self.format.check(&value).map_err(|reason| SecretError::Format { origin: self.origin(), reason })?;
        Ok(value)
    }

    /// Where the secret comes from, safe to print.
    pub fn origin(&self) -> String {
        match &self.source {
            Source::Inline(_) => "inline value".to_owned(),
            Source::Env(name) => format!("env:{name}"),
            Source::File(path) => format!("file:{}", path.display()),
        }
    }
}

fn is_scheme(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 16
        && s.bytes().all(|b| b.is_ascii_alphabetic())
        && !s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted {}>)", self.origin())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {}>", self.origin())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";

    #[test]
    fn inline_value_never_printed() {
        let s = Secret::parse(K, SecretFormat::Hex(32), Path::new(".")).unwrap();
        assert!(!format!("{s:?}").contains("465b"));
        assert!(!format!("{s}").contains("465b"));
        assert_eq!(s.expose().unwrap(), K);
    }

    #[test]
    fn bad_inline_value_not_echoed() {
        let err = Secret::parse(&K[..31], SecretFormat::Hex(32), Path::new(".")).unwrap_err();
        assert_eq!(err, "must be 32 hex digits, found 31 characters");
        let err =
            Secret::parse(&format!("{}x", &K[..31]), SecretFormat::Hex(32), Path::new(".")).unwrap_err();
        assert!(!err.contains("465b"), "{err}");
    }

    #[test]
    fn references() {
        let s = Secret::parse("env:SEEDRIG_TEST_UNSET_K", SecretFormat::Hex(32), Path::new(".")).unwrap();
        assert_eq!(s.expose(), Err(SecretError::EnvMissing("SEEDRIG_TEST_UNSET_K".into())));
        assert_eq!(format!("{s:?}"), "Secret(<redacted env:SEEDRIG_TEST_UNSET_K>)");
        assert!(
            Secret::parse("vault:x", SecretFormat::Hex(32), Path::new("."))
                .unwrap_err()
                .contains("unknown secret reference")
        );
    }

    #[test]
    fn file_reference_checked_on_expose_without_echo() {
        let dir = std::env::temp_dir().join(format!("seedrig-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("k"), "0123456789abcdef0123456789abcdeZ\n").unwrap();
        let s = Secret::parse("file:k", SecretFormat::Hex(32), &dir).unwrap();
        let err = s.expose().unwrap_err().to_string();
        assert!(err.contains("non-hex character at position 32") && !err.contains("0123"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
