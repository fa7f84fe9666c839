//! Signing and verifying reports with Ed25519.
//!
//! The signature covers [`Report::signing_bytes`]: the report as compact JSON with `signature`
//! set to `null`. The signer's public key travels in the report, so anyone can check that a
//! report was not changed after signing ([`verify`]); an operator who knows which key their
//! service signs with pins it ([`verify_with`]), which also proves *who* signed. A report read
//! from a file is checked with [`verify_json`], which in addition refuses content the signature
//! does not cover (fields the report format does not know).
//!
//! Keys are PKCS#8 PEM files (`openssl genpkey -algorithm ed25519` makes one) or 64 hex digits.
//! [`KeySource::resolve`] picks the key a run signs with: the path given (CLI flag or
//! configuration), else the PEM file named by [`KEY_ENV`], else this user's local key, generated
//! on first use. A local key only shows that a report was not changed since it was made on that
//! machine; say so whenever it signs ([`KeySource`]'s `Display` does).
//!
//! ```
//! use sandkasse_suite::sign;
//! # fn demo(mut report: sandkasse_suite::report::Report) -> Result<(), sign::VerifyError> {
//! let key = sign::generate_key();
//! sign::sign(&mut report, &key);
//! sign::verify(&report)?;
//! sign::verify_with(&report, &sign::public_key_hex(&key))?;
//! # Ok(()) }
//! ```

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::spki::der::zeroize::Zeroizing;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde_json::Value;

use crate::report::{REPORT_FORMAT, Report, Signature};

/// The one algorithm of [`Signature::algorithm`].
pub const ALGORITHM: &str = "ed25519";

/// Environment variable naming the operator's signing key (a PKCS#8 PEM file).
pub const KEY_ENV: &str = "SANDKASSE_SIGNING_KEY";

/// File name of the local key in `$XDG_CONFIG_HOME/sandkasse/` (default `~/.config/sandkasse/`).
pub const LOCAL_KEY_FILE: &str = "signing-key.pem";

/// Why a signing key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the signing key {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the signing key {} is not an Ed25519 private key in PKCS#8 PEM: {source}", path.display())]
    NotPkcs8 {
        path: PathBuf,
        #[source]
        source: ed25519_dalek::pkcs8::Error,
    },
    #[error("a hex signing key must be 64 hex digits (a 32-byte Ed25519 seed)")]
    BadHex,
    #[error("cannot create the local signing key {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no place for a local signing key: set {KEY_ENV}, XDG_CONFIG_HOME or HOME")]
    NoConfigDir,
}

/// Why a report's signature does not hold.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the report is not signed")]
    Unsigned,
    #[error("the report is signed with {0:?}; only {ALGORITHM} is accepted")]
    BadAlgorithm(String),
    #[error("the report's public key is not a usable Ed25519 key: {0}")]
    BadKey(String),
    #[error("the signature does not match the report: the report was changed after it was signed")]
    BadSignature,
    #[error("the trusted key is not an Ed25519 public key of 64 hex digits: {0}")]
    BadTrustedKey(String),
    #[error("the report is signed by {found}, not by the trusted key {trusted}")]
    UntrustedKey { trusted: String, found: String },
    #[error("not a JSON report: {0}")]
    NotAReport(#[source] serde_json::Error),
    #[error("report format {found:?} is not {REPORT_FORMAT:?}")]
    UnknownFormat { found: String },
    #[error("the file holds content the signature does not cover, at {path}")]
    Uncovered { path: String },
}

/// A new random key, from the operating system's generator.
pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// A key from PKCS#8 PEM text (`-----BEGIN PRIVATE KEY-----`, v1 or v2).
pub fn key_from_pem(pem: &str) -> Result<SigningKey, ed25519_dalek::pkcs8::Error> {
    SigningKey::from_pkcs8_pem(pem)
}

/// A key from a PKCS#8 PEM file.
pub fn key_from_pem_file(path: &Path) -> Result<SigningKey, KeyError> {
    let pem = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?,
    );
    key_from_pem(&pem).map_err(|source| KeyError::NotPkcs8 {
        path: path.to_owned(),
        source,
    })
}

/// A key from its 32-byte seed as 64 hex digits (surrounding whitespace ignored).
pub fn key_from_hex(text: &str) -> Result<SigningKey, KeyError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), seed.as_mut()).map_err(|_| KeyError::BadHex)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The key as PKCS#8 PEM, LF line endings. Written as PKCS#8 v1 (the private key alone, as
/// `openssl genpkey -algorithm ed25519` writes it): OpenSSL 3 does not read the v2 form.
pub fn key_to_pem(key: &SigningKey) -> Zeroizing<String> {
    let keypair = KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    keypair
        .to_pkcs8_pem(LineEnding::LF)
        .expect("an Ed25519 key always encodes as PKCS#8")
}

/// The public half of `key`, as lowercase hex (64 digits) — what [`Signature::public_key`] holds.
pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().as_bytes())
}

/// Signs `report` in place: sets [`Report::signature`] over [`Report::signing_bytes`]. An earlier
/// signature is replaced.
pub fn sign(report: &mut Report, key: &SigningKey) {
    report.signature = None;
    let signature = key.sign(&report.signing_bytes());
    report.signature = Some(Signature {
        algorithm: ALGORITHM.to_owned(),
        public_key: public_key_hex(key),
        value: hex::encode(signature.to_bytes()),
    });
}

/// Checks the report's signature against the public key it carries.
///
/// This shows the report was not changed since it was signed, not who signed it: anyone can
/// re-sign a changed report with their own key. Use [`verify_with`] to pin the key.
pub fn verify(report: &Report) -> Result<(), VerifyError> {
    verify_embedded(report).map(|_| ())
}

/// Checks the report's signature and that it was made by `trusted_public_key_hex` (64 hex digits).
pub fn verify_with(report: &Report, trusted_public_key_hex: &str) -> Result<(), VerifyError> {
    let trusted = parse_public_key(trusted_public_key_hex).map_err(VerifyError::BadTrustedKey)?;
    let found = verify_embedded(report)?;
    if found != trusted {
        return Err(VerifyError::UntrustedKey {
            trusted: hex::encode(trusted.as_bytes()),
            found: hex::encode(found.as_bytes()),
        });
    }
    Ok(())
}

/// Reads a report file's bytes and verifies it ([`verify`], or [`verify_with`] when `trusted` is
/// given) — what `sandkasse verify REPORT.json [--key HEX]` does.
///
/// Beyond the signature, the file must say exactly what the signed report says: the signature
/// covers the report as this version of the format knows it, so a field the format does not
/// know, or a value written in another form, is refused as [`VerifyError::Uncovered`] rather
/// than silently ignored. Whitespace and key order may differ.
pub fn verify_json(bytes: &[u8], trusted: Option<&str>) -> Result<Report, VerifyError> {
    let file: Value = serde_json::from_slice(bytes).map_err(VerifyError::NotAReport)?;
    if let Some(found) = file.get("format").and_then(Value::as_str)
        && found != REPORT_FORMAT
    {
        return Err(VerifyError::UnknownFormat {
            found: found.to_owned(),
        });
    }
    let report: Report = serde_json::from_value(file.clone()).map_err(VerifyError::NotAReport)?;
    match trusted {
        Some(key) => verify_with(&report, key)?,
        None => verify(&report)?,
    }
    let covered = serde_json::to_value(&report).expect("reports serialise");
    if let Some(path) = first_difference(&file, &covered, "$") {
        return Err(VerifyError::Uncovered { path });
    }
    Ok(report)
}

/// Verifies against the embedded key and returns it.
fn verify_embedded(report: &Report) -> Result<VerifyingKey, VerifyError> {
    let signature = report.signature.as_ref().ok_or(VerifyError::Unsigned)?;
    if signature.algorithm != ALGORITHM {
        return Err(VerifyError::BadAlgorithm(signature.algorithm.clone()));
    }
    let key = parse_public_key(&signature.public_key).map_err(VerifyError::BadKey)?;
    let mut value = [0u8; 64];
    hex::decode_to_slice(&signature.value, &mut value).map_err(|_| VerifyError::BadSignature)?;
    let value = ed25519_dalek::Signature::from_bytes(&value);
    key.verify_strict(&report.signing_bytes(), &value)
        .map_err(|_| VerifyError::BadSignature)?;
    Ok(key)
}

fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes)
        .map_err(|e| format!("{e} (expected 64 hex digits)"))?;
    let key =
        VerifyingKey::from_bytes(&bytes).map_err(|_| "not a point on the curve".to_owned())?;
    if key.is_weak() {
        return Err("a weak (small-order) key".to_owned());
    }
    Ok(key)
}

/// The JSON path of the first place `a` and `b` differ, if they do.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let here = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => {
                        if let Some(found) = first_difference(value, other, &here) {
                            return Some(found);
                        }
                    }
                    None => return Some(here),
                }
            }
            b.keys()
                .find(|key| !a.contains_key(*key))
                .map(|key| format!("{path}.{key}"))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (a, b))| first_difference(a, b, &format!("{path}[{i}]"))),
        (a, b) if a == b => None,
        _ => Some(path.to_owned()),
    }
}

/// Where the signing key of a run comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An operator's key: a PKCS#8 PEM file given by path (CLI flag or configuration) or by
    /// [`KEY_ENV`]. Never created: a missing file is an error.
    Operator(PathBuf),
    /// This user's local key, created on first use (mode 0600). It shows a report was not
    /// changed, not that an operator vouches for it.
    Local(PathBuf),
}

/// A key and where it came from.
#[derive(Debug)]
pub struct LoadedKey {
    /// `Debug` shows only the public half.
    pub key: SigningKey,
    pub source: KeySource,
    /// Whether the local key was created by this load.
    pub created: bool,
}

impl KeySource {
    /// The key to sign with: `given` (the path from the CLI flag or configuration, already
    /// layered by the caller), else the PEM file named by [`KEY_ENV`], else the local key at
    /// `$XDG_CONFIG_HOME/sandkasse/signing-key.pem` (default `$HOME/.config/sandkasse/…`).
    pub fn resolve(given: Option<&Path>) -> Result<KeySource, KeyError> {
        resolve_from(
            given,
            std::env::var_os(KEY_ENV),
            std::env::var_os("XDG_CONFIG_HOME"),
            std::env::var_os("HOME"),
        )
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        match self {
            KeySource::Operator(path) | KeySource::Local(path) => path,
        }
    }

    /// Whether this is the local key.
    pub fn is_local(&self) -> bool {
        matches!(self, KeySource::Local(_))
    }

    /// Reads the key; the local key is created first if it does not exist yet.
    pub fn load(&self) -> Result<LoadedKey, KeyError> {
        let (key, created) = match self {
            KeySource::Operator(path) => (key_from_pem_file(path)?, false),
            KeySource::Local(path) => load_or_create_local(path)?,
        };
        Ok(LoadedKey {
            key,
            source: self.clone(),
            created,
        })
    }
}

impl fmt::Display for KeySource {
    /// `operator key /etc/…` or `local key ~/.config/… (not an operator key: …)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Operator(path) => write!(f, "operator key {}", path.display()),
            KeySource::Local(path) => write!(
                f,
                "local key {} (made on this machine for local use; it proves the report was not \
                 changed, not that an operator issued it)",
                path.display()
            ),
        }
    }
}

impl fmt::Display for LoadedKey {
    /// `<source>, public key <hex>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, public key {}",
            self.source,
            public_key_hex(&self.key)
        )
    }
}

fn resolve_from(
    given: Option<&Path>,
    env: Option<OsString>,
    xdg_config_home: Option<OsString>,
    home: Option<OsString>,
) -> Result<KeySource, KeyError> {
    if let Some(path) = given {
        return Ok(KeySource::Operator(path.to_owned()));
    }
    if let Some(path) = env.filter(|p| !p.is_empty()) {
        return Ok(KeySource::Operator(PathBuf::from(path)));
    }
    // XDG: a relative XDG_CONFIG_HOME is invalid and ignored.
    let config = xdg_config_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })
        .ok_or(KeyError::NoConfigDir)?;
    Ok(KeySource::Local(
        config.join("sandkasse").join(LOCAL_KEY_FILE),
    ))
}

/// Loads the local key, creating it (directory 0700, file 0600) when it does not exist. The new
/// key is written to a temporary file and linked into place, so a concurrent first run never
/// sees a half-written key and never replaces another's.
fn load_or_create_local(path: &Path) -> Result<(SigningKey, bool), KeyError> {
    match std::fs::metadata(path) {
        Ok(_) => return Ok((key_from_pem_file(path)?, false)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(KeyError::Read {
                path: path.to_owned(),
                source,
            });
        }
    }
    let create = |source| KeyError::Create {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(create)?;

    let key = generate_key();
    let pem = key_to_pem(&key);
    let temp = dir.join(format!(".{LOCAL_KEY_FILE}.{}.tmp", std::process::id()));
    let written = write_private(&temp, pem.as_bytes());
    let linked = written.and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok((key, true)),
        // Another run created it first: use theirs.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok((key_from_pem_file(path)?, false)),
        Err(source) => Err(create(source)),
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Outcome;
    use crate::testutil::sample_report;

    fn signed() -> (Report, SigningKey) {
        let key = generate_key();
        let mut report = sample_report();
        sign(&mut report, &key);
        (report, key)
    }

    #[test]
    fn sign_then_verify() {
        let (report, key) = signed();
        let signature = report.signature.as_ref().unwrap();
        assert_eq!(signature.algorithm, "ed25519");
        assert_eq!(signature.public_key, public_key_hex(&key));
        assert_eq!(signature.value.len(), 128);
        verify(&report).unwrap();
        verify_with(&report, &public_key_hex(&key)).unwrap();
        verify_with(&report, &public_key_hex(&key).to_uppercase()).unwrap();
    }

    #[test]
    fn signing_is_deterministic_and_replaces_an_earlier_signature() {
        let key = generate_key();
        let (mut report, _) = signed();
        sign(&mut report, &key);
        let first = report.signature.clone();
        sign(&mut report, &key);
        assert_eq!(report.signature, first);
        verify_with(&report, &public_key_hex(&key)).unwrap();
    }

    #[test]
    fn any_changed_field_is_a_bad_signature() {
        let (report, _) = signed();
        let tampered: [fn(&mut Report); 5] = [
            |r| r.score = 1.0,
            |r| r.vilkar[3].outcome = Outcome::Pass,
            |r| r.vilkar[3].checks[0].evidence.clear(),
            |r| r.generated_at = "2030-01-01T00:00:00Z".to_owned(),
            |r| match &mut r.scenarios[0].calls[0] {
                crate::report::Call::Evidence(e) => e.class = "ok".into(),
                crate::report::Call::Summary(s) => s.class = "ok".into(),
            },
        ];
        for change in tampered {
            let mut copy = report.clone();
            change(&mut copy);
            assert!(matches!(verify(&copy), Err(VerifyError::BadSignature)));
        }
    }

    #[test]
    fn unsigned_bad_algorithm_and_bad_key() {
        assert!(matches!(
            verify(&sample_report()),
            Err(VerifyError::Unsigned)
        ));

        let (report, _) = signed();
        let mut other = report.clone();
        other.signature.as_mut().unwrap().algorithm = "rsa".to_owned();
        assert!(matches!(verify(&other), Err(VerifyError::BadAlgorithm(a)) if a == "rsa"));

        let mut other = report.clone();
        other.signature.as_mut().unwrap().public_key = "zz".to_owned();
        assert!(matches!(verify(&other), Err(VerifyError::BadKey(_))));

        // The identity point is a valid encoding but a weak key.
        let mut other = report.clone();
        other.signature.as_mut().unwrap().public_key = format!("01{}", "00".repeat(31));
        assert!(matches!(verify(&other), Err(VerifyError::BadKey(_))));

        let mut other = report;
        other.signature.as_mut().unwrap().value = "00".repeat(64);
        assert!(matches!(verify(&other), Err(VerifyError::BadSignature)));
    }

    #[test]
    fn a_pinned_key_must_match() {
        let (report, _) = signed();
        let stranger = public_key_hex(&generate_key());
        assert!(matches!(
            verify_with(&report, &stranger),
            Err(VerifyError::UntrustedKey { trusted, .. }) if trusted == stranger
        ));
        assert!(matches!(
            verify_with(&report, "not hex"),
            Err(VerifyError::BadTrustedKey(_))
        ));

        // Changed and re-signed by someone else: valid on its own, refused when pinned.
        let (original, key) = signed();
        let mut forged = original;
        forged.verdict = crate::report::Verdict::Godkjent;
        sign(&mut forged, &generate_key());
        verify(&forged).unwrap();
        assert!(matches!(
            verify_with(&forged, &public_key_hex(&key)),
            Err(VerifyError::UntrustedKey { .. })
        ));
    }

    #[test]
    fn verify_json_accepts_the_file_and_refuses_uncovered_content() {
        let (report, key) = signed();
        let pretty = serde_json::to_vec_pretty(&report).unwrap();
        assert_eq!(verify_json(&pretty, None).unwrap(), report);
        assert_eq!(
            verify_json(&pretty, Some(&public_key_hex(&key))).unwrap(),
            report
        );

        let mut value = serde_json::to_value(&report).unwrap();
        value["vilkar"][0]["approved_by"] = "someone".into();
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(matches!(
            verify_json(&bytes, None),
            Err(VerifyError::Uncovered { path }) if path == "$.vilkar[0].approved_by"
        ));

        let mut value = serde_json::to_value(&report).unwrap();
        value["summary"]["passed"] = 5.into();
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(matches!(
            verify_json(&bytes, None),
            Err(VerifyError::BadSignature)
        ));

        let mut value = serde_json::to_value(&report).unwrap();
        value["format"] = "sandkasse-report/2".into();
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(matches!(
            verify_json(&bytes, None),
            Err(VerifyError::UnknownFormat { .. })
        ));

        assert!(matches!(
            verify_json(b"{", None),
            Err(VerifyError::NotAReport(_))
        ));
    }

    #[test]
    fn keys_from_pem_and_hex() {
        let key = generate_key();
        let pem = key_to_pem(&key);
        // PKCS#8 v1, 48 bytes of DER, as OpenSSL writes and reads it.
        assert!(
            pem.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAw"),
            "{}",
            &pem[..40]
        );
        assert_eq!(key_from_pem(&pem).unwrap().to_bytes(), key.to_bytes());
        let seed = hex::encode(key.to_bytes());
        assert_eq!(
            key_from_hex(&format!(" {seed}\n")).unwrap().to_bytes(),
            key.to_bytes()
        );
        assert!(matches!(key_from_hex("abc"), Err(KeyError::BadHex)));

        // An OpenSSL-made key (PKCS#8 v1, RFC 8410 test vector).
        let openssl = "-----BEGIN PRIVATE KEY-----\n\
                       MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
                       -----END PRIVATE KEY-----\n";
        let key = key_from_pem(openssl).unwrap();
        assert_eq!(
            public_key_hex(&key),
            "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        );
    }

    #[test]
    fn key_source_precedence() {
        let given = Path::new("/etc/sandkasse/key.pem");
        assert_eq!(
            resolve_from(Some(given), Some("/env.pem".into()), None, None).unwrap(),
            KeySource::Operator(given.to_owned())
        );
        assert_eq!(
            resolve_from(None, Some("/env.pem".into()), Some("/xdg".into()), None).unwrap(),
            KeySource::Operator("/env.pem".into())
        );
        assert_eq!(
            resolve_from(
                None,
                Some("".into()),
                Some("/xdg".into()),
                Some("/home/u".into())
            )
            .unwrap(),
            KeySource::Local("/xdg/sandkasse/signing-key.pem".into())
        );
        assert_eq!(
            resolve_from(None, None, Some("relative".into()), Some("/home/u".into())).unwrap(),
            KeySource::Local("/home/u/.config/sandkasse/signing-key.pem".into())
        );
        assert!(matches!(
            resolve_from(None, None, None, None),
            Err(KeyError::NoConfigDir)
        ));
    }

    #[test]
    fn the_local_key_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config/sandkasse").join(LOCAL_KEY_FILE);
        let source = KeySource::Local(path.clone());
        let first = source.load().unwrap();
        assert!(first.created);
        assert!(first.to_string().starts_with("local key "));
        let again = source.load().unwrap();
        assert!(!again.created);
        assert_eq!(again.key.to_bytes(), first.key.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o077, 0);
        }
        // Nothing else is left beside it.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );

        let operator = KeySource::Operator(path.clone()).load().unwrap();
        assert_eq!(operator.key.to_bytes(), first.key.to_bytes());
        let missing = KeySource::Operator(dir.path().join("missing.pem")).load();
        assert!(matches!(missing, Err(KeyError::Read { .. })));
        std::fs::write(dir.path().join("bad.pem"), "not a key").unwrap();
        let bad = KeySource::Operator(dir.path().join("bad.pem")).load();
        assert!(matches!(bad, Err(KeyError::NotPkcs8 { .. })));
    }
}
