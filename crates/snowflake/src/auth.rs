//! Snowflake's key-pair authentication: an RSA private key read from PKCS#8 PEM (encrypted or
//! not), its public key's fingerprint, and the RS256 JWT that Snowflake's sign-in accepts.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use pkcs8::der::asn1::{AnyRef, BitStringRef};
use pkcs8::der::{Decode as _, Encode as _, Reader as _, SecretDocument, SliceReader};
use pkcs8::{
    pkcs5, AlgorithmIdentifierRef, EncryptedPrivateKeyInfoRef, ObjectIdentifier, PrivateKeyInfoRef,
    SubjectPublicKeyInfoRef,
};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

/// `rsaEncryption`, the algorithm of an RSA key in PKCS#8 and SubjectPublicKeyInfo.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The encryption schemes an encrypted key may use, for the messages that name them.
const SUPPORTED: &str = "Rosetta decrypts PKCS#8 keys encrypted with PBES2: PBKDF2 \
    (HMAC-SHA-1/224/256/384/512) or scrypt, with AES-128/192/256-CBC, AES-128/256-GCM or \
    DES-EDE3-CBC, as `openssl pkcs8 -topk8 -v2 aes-256-cbc` or `-v2 des3` makes them";

/// The conversion to a key Rosetta can read.
const CONVERT: &str = "openssl pkcs8 -topk8 -v2 aes-256-cbc -in rsa_key.pem -out rsa_key.p8";

/// Why a private key cannot be used. No message contains the passphrase or any key bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file cannot be read.
    #[error("cannot read the private key file {}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The kind of I/O error (`entity not found`, `permission denied`, …).
        reason: String,
    },
    /// The text is not a PEM private key.
    #[error(
        "the private key is not a PEM private key ({found}): Snowflake's key-pair \
         authentication needs an RSA key in PKCS#8 PEM, `-----BEGIN PRIVATE KEY-----` or \
         `-----BEGIN ENCRYPTED PRIVATE KEY-----`"
    )]
    NotPem {
        /// What was found instead (a PEM label, binary data, …).
        found: String,
    },
    /// A PKCS#1 key (`-----BEGIN RSA PRIVATE KEY-----`).
    #[error(
        "the private key is a PKCS#1 key (`-----BEGIN RSA PRIVATE KEY-----`) but Snowflake's \
         key-pair authentication needs PKCS#8: convert it with `{CONVERT}` (or \
         `openssl pkcs8 -topk8 -nocrypt …` to leave it unencrypted)"
    )]
    Pkcs1,
    /// The key is encrypted and no passphrase was given.
    #[error(
        "the private key is encrypted and no passphrase was given: set the key's passphrase \
         (the destination's private_key_passphrase)"
    )]
    PassphraseMissing,
    /// Decryption failed: most likely a wrong passphrase, since the scheme itself was readable.
    #[error(
        "the private key cannot be decrypted: the passphrase is wrong, or the key is encrypted \
         with a scheme Rosetta does not support ({SUPPORTED})"
    )]
    WrongPassphrase,
    /// The key is encrypted with a scheme Rosetta cannot decrypt.
    #[error(
        "the private key is encrypted with {scheme}, which Rosetta cannot decrypt ({SUPPORTED}); \
         re-encrypt it with `{CONVERT}`"
    )]
    EncryptionUnsupported {
        /// The scheme (PBES1, or the object identifier of a cipher or PRF).
        scheme: String,
    },
    /// The key is readable but cannot sign for Snowflake (not RSA, too small, damaged).
    #[error("the private key cannot be used for Snowflake: {reason}")]
    Unsupported {
        /// Why, and what Snowflake needs instead.
        reason: String,
    },
    /// Signing a token failed (ring refused; it does not with a key it accepted).
    #[error("signing the Snowflake sign-in token with the private key failed")]
    Signing,
}

/// An RSA private key for Snowflake's key-pair authentication, with its public fingerprint.
pub struct KeyPair {
    key: RsaKeyPair,
    public_key_der: Vec<u8>,
    fingerprint: String,
}

impl KeyPair {
    /// Reads a PEM key file; see [`KeyPair::from_pem`].
    ///
    /// # Errors
    ///
    /// `Unreadable` (naming the path and the I/O error's kind), `NotPem` for a binary file, and
    /// those of [`KeyPair::from_pem`].
    pub fn read(path: &Path, passphrase: Option<&str>) -> Result<Self, KeyError> {
        let bytes = std::fs::read(path).map_err(|error| KeyError::Unreadable {
            path: path.to_owned(),
            reason: error.kind().to_string(),
        })?;
        let pem = String::from_utf8(bytes).map_err(|_| KeyError::NotPem {
            found: "binary data, perhaps a DER key; convert it with `openssl pkcs8 -topk8 \
                    -inform DER …`"
                .to_owned(),
        })?;
        Self::from_pem(&pem, passphrase)
    }

    /// Parses a PKCS#8 PEM key: `-----BEGIN PRIVATE KEY-----`, or `-----BEGIN ENCRYPTED
    /// PRIVATE KEY-----` decrypted with `passphrase`. A passphrase given for a key that is not
    /// encrypted is ignored; an empty one counts as none. Text around the PEM block is ignored.
    ///
    /// # Errors
    ///
    /// `NotPem`, `Pkcs1`, `PassphraseMissing`, `WrongPassphrase`, `EncryptionUnsupported`, and
    /// `Unsupported` for a key that is not RSA or that ring refuses (under 2048 bits, damaged).
    pub fn from_pem(pem: &str, passphrase: Option<&str>) -> Result<Self, KeyError> {
        if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
            return Err(KeyError::Pkcs1);
        }
        let block = pem_block(pem).ok_or_else(|| KeyError::NotPem {
            found: "no `-----BEGIN …-----` line".to_owned(),
        })?;
        let (label, document) = SecretDocument::from_pem(block).map_err(|_| KeyError::NotPem {
            found: "a damaged PEM block".to_owned(),
        })?;
        match label {
            "PRIVATE KEY" => Self::from_pkcs8(document.as_bytes()),
            "ENCRYPTED PRIVATE KEY" => {
                let passphrase = passphrase.filter(|p| !p.is_empty());
                Self::from_pkcs8(decrypt(&document, passphrase)?.as_bytes())
            }
            other => Err(KeyError::NotPem {
                found: format!("a PEM block labelled {other}"),
            }),
        }
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::try_from(der).map_err(|_| KeyError::Unsupported {
            reason: "its PKCS#8 structure cannot be read (the file is damaged)".to_owned(),
        })?;
        let algorithm = info.algorithm.oid;
        if algorithm != RSA_ENCRYPTION {
            return Err(KeyError::Unsupported {
                reason: format!(
                    "it is {}, not an RSA key; Snowflake's key-pair authentication needs RSA \
                     (2048 bits or more)",
                    algorithm_name(algorithm)
                ),
            });
        }
        let key = RsaKeyPair::from_pkcs8(der).map_err(|rejected| KeyError::Unsupported {
            reason: match rejected.to_string().as_str() {
                "TooSmall" => "the RSA key is smaller than 2048 bits; Snowflake and Rosetta \
                               need 2048 bits or more"
                    .to_owned(),
                "TooLarge" => "the RSA key is larger than 8192 bits".to_owned(),
                other => format!("the RSA key is refused ({other})"),
            },
        })?;
        let public_key_der = spki_der(key.public().as_ref())?;
        let digest = ring::digest::digest(&ring::digest::SHA256, &public_key_der);
        let fingerprint = format!("SHA256:{}", STANDARD.encode(digest.as_ref()));
        Ok(Self {
            key,
            public_key_der,
            fingerprint,
        })
    }

    /// `SHA256:` and the base64 of the SHA-256 of the public key's DER: what Snowflake shows as
    /// the user's `RSA_PUBLIC_KEY_FP`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The public key as SubjectPublicKeyInfo DER (the body of a `BEGIN PUBLIC KEY` PEM, which
    /// `ALTER USER … SET RSA_PUBLIC_KEY` takes without its armour).
    pub fn public_key_der(&self) -> Vec<u8> {
        self.public_key_der.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| KeyError::Signing)?;
        Ok(signature)
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// The first PEM block of `text`, without what surrounds it (OpenSSL's `Bag Attributes`, …).
fn pem_block(text: &str) -> Option<&str> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start..];
    let Some(end_line) = rest.find("-----END ") else {
        return Some(rest);
    };
    let after = end_line + "-----END ".len();
    Some(match rest[after..].find("-----") {
        Some(close) => &rest[..after + close + "-----".len()],
        None => rest,
    })
}

fn decrypt(
    document: &SecretDocument,
    passphrase: Option<&str>,
) -> Result<SecretDocument, KeyError> {
    let info = EncryptedPrivateKeyInfoRef::try_from(document.as_bytes())
        .map_err(|_| unreadable_encryption(document.as_bytes()))?;
    let passphrase = passphrase.ok_or(KeyError::PassphraseMissing)?;
    info.decrypt(passphrase).map_err(|error| match error {
        pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::UnsupportedAlgorithm { oid }) => {
            KeyError::EncryptionUnsupported {
                scheme: format!("algorithm {oid}"),
            }
        }
        pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::NoPbes1CryptSupport) => {
            KeyError::EncryptionUnsupported {
                scheme: "PBES1 (`openssl pkcs8 -v1 …`)".to_owned(),
            }
        }
        _ => KeyError::WrongPassphrase,
    })
}

/// Why pkcs5 cannot read an `EncryptedPrivateKeyInfo`: a scheme it does not know, named by its
/// outer algorithm, or a damaged file.
fn unreadable_encryption(der: &[u8]) -> KeyError {
    let outer = SliceReader::new(der).and_then(|mut reader| {
        reader.sequence(|inner| {
            let algorithm = AlgorithmIdentifierRef::decode(inner)?;
            inner.tlv_bytes()?; // the encrypted data, which must be read for the sequence to end
            Ok(algorithm)
        })
    });
    match outer.map(|algorithm| algorithm.oid.to_string()) {
        Ok(oid) if oid.starts_with("1.2.840.113549.1.12.1.") => KeyError::EncryptionUnsupported {
            scheme: format!("PKCS#12 PBE {oid} (`openssl pkcs8 -v1 …`)"),
        },
        Ok(oid) if oid == "1.2.840.113549.1.5.13" => KeyError::EncryptionUnsupported {
            scheme: "PBES2 with a key derivation or cipher outside the supported list".to_owned(),
        },
        Ok(oid) => KeyError::EncryptionUnsupported {
            scheme: format!("algorithm {oid}"),
        },
        Err(_) => KeyError::Unsupported {
            reason: "its encrypted structure cannot be read (the file is damaged)".to_owned(),
        },
    }
}

fn algorithm_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10045.2.1" => "an EC key".to_owned(),
        "1.3.101.112" => "an Ed25519 key".to_owned(),
        "1.2.840.113549.1.1.10" => "an RSA-PSS key".to_owned(),
        "1.2.840.10040.4.1" => "a DSA key".to_owned(),
        other => format!("a key of algorithm {other}"),
    }
}

/// Wraps ring's PKCS#1 `RSAPublicKey` in a SubjectPublicKeyInfo, as OpenSSL writes it.
fn spki_der(pkcs1: &[u8]) -> Result<Vec<u8>, KeyError> {
    let unencodable = |_| KeyError::Unsupported {
        reason: "its public key cannot be encoded".to_owned(),
    };
    SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef {
            oid: RSA_ENCRYPTION,
            parameters: Some(AnyRef::NULL),
        },
        subject_public_key: BitStringRef::from_bytes(pkcs1).map_err(unencodable)?,
    }
    .to_der()
    .map_err(unencodable)
}

/// Issues the JWTs of one Snowflake user's key-pair sign-in, and keeps the last for reuse.
pub struct JwtIssuer {
    account: String,
    user: String,
    /// `ACCOUNT.USER.SHA256:…`, the `iss` claim.
    issuer: String,
    /// `ACCOUNT.USER`, the `sub` claim.
    subject: String,
    key: KeyPair,
    last: Option<Issued>,
}

/// A token [`JwtIssuer::current`] hands out again while it is fresh.
struct Issued {
    token: String,
    issued_at: i64,
    expires_at: i64,
}

impl JwtIssuer {
    /// How long a token is valid (Snowflake accepts at most one hour).
    pub const LIFETIME: TimeDelta = TimeDelta::minutes(10);
    /// [`JwtIssuer::current`] replaces its token when less than this is left of its lifetime.
    pub const RENEW_BEFORE: TimeDelta = TimeDelta::minutes(2);

    /// An issuer for `user` of `account`, both upper-cased; the account is cut at its first `.`
    /// (the locator `xy12345.us-east-2.aws` becomes `XY12345`; `myorg-acct` stays whole).
    pub fn new(account: &str, user: &str, key: KeyPair) -> Self {
        let account = account.trim();
        let account = account
            .split_once('.')
            .map_or(account, |(head, _)| head)
            .to_uppercase();
        let user = user.trim().to_uppercase();
        let subject = format!("{account}.{user}");
        let issuer = format!("{subject}.{}", key.fingerprint());
        Self {
            account,
            user,
            issuer,
            subject,
            key,
            last: None,
        }
    }

    /// The account as the sign-in's `ACCOUNT_NAME` and the token name it (`XY12345`).
    pub fn account_identifier(&self) -> &str {
        &self.account
    }

    /// The user as the sign-in's `LOGIN_NAME` and the token name it (`LOADER`).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// A new token issued at `now` and valid for [`JwtIssuer::LIFETIME`].
    ///
    /// # Errors
    ///
    /// `Signing`, should ring refuse to sign.
    pub fn token(&self, now: DateTime<Utc>) -> Result<String, KeyError> {
        let issued_at = now.timestamp();
        let claims = serde_json::json!({
            "iss": self.issuer,
            "sub": self.subject,
            "iat": issued_at,
            "exp": issued_at + Self::LIFETIME.num_seconds(),
        });
        let mut token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }

    /// The last token while at least [`JwtIssuer::RENEW_BEFORE`] of its lifetime is left at
    /// `now`, else a new one (also when the clock went back before the last one's issue).
    ///
    /// # Errors
    ///
    /// Those of [`JwtIssuer::token`].
    pub fn current(&mut self, now: DateTime<Utc>) -> Result<&str, KeyError> {
        let at = now.timestamp();
        let issued = match self.last.take() {
            Some(last)
                if at >= last.issued_at
                    && last.expires_at - at >= Self::RENEW_BEFORE.num_seconds() =>
            {
                last
            }
            _ => Issued {
                token: self.token(now)?,
                issued_at: at,
                expires_at: at + Self::LIFETIME.num_seconds(),
            },
        };
        Ok(&self.last.insert(issued).token)
    }
}

impl fmt::Debug for JwtIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtIssuer")
            .field("account", &self.account)
            .field("user", &self.user)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use chrono::{DateTime, TimeDelta, Utc};
    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    use serde_json::Value;

    use super::{JwtIssuer, KeyError, KeyPair};

    const PASSPHRASE: &str = "Tr0ub4dor-and-3-horses";
    const WRONG: &str = "not-the-passphrase-at-all";

    /// A directory of keys made by the `openssl` tool, removed on drop.
    struct Keys {
        dir: PathBuf,
    }

    impl Keys {
        fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "rosetta-snowflake-auth-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Self { dir }
        }

        fn path(&self, name: &str) -> PathBuf {
            self.dir.join(name)
        }

        fn openssl(&self, args: &[&str]) -> Vec<u8> {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&self.dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }

        /// `k.pem`: an unencrypted PKCS#8 RSA key of `bits`.
        fn pkcs8(&self, bits: u32) -> PathBuf {
            let bits = format!("rsa_keygen_bits:{bits}");
            self.openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                &bits,
                "-out",
                "k.pem",
            ]);
            self.path("k.pem")
        }

        /// `k.pem` encrypted into `name` with PBES2 and `cipher`.
        fn encrypted(&self, cipher: &str, name: &str) -> PathBuf {
            let pass = format!("pass:{PASSPHRASE}");
            self.openssl(&[
                "pkcs8", "-topk8", "-v2", cipher, "-in", "k.pem", "-out", name, "-passout", &pass,
            ]);
            self.path(name)
        }

        fn read(&self, name: &str) -> String {
            std::fs::read_to_string(self.path(name)).unwrap()
        }
    }

    impl Drop for Keys {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn decode_json(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    /// Every error's message, checked for the passphrases and the key's bytes.
    fn assert_clean(error: &KeyError, key_pem: &str) {
        let message = error.to_string();
        assert!(!message.contains(PASSPHRASE), "{message}");
        assert!(!message.contains(WRONG), "{message}");
        for line in key_pem.lines().filter(|line| !line.starts_with("-----")) {
            assert!(!message.contains(line), "{message}");
        }
    }

    #[test]
    fn the_fingerprint_and_public_key_are_what_openssl_computes() {
        let keys = Keys::new();
        let path = keys.pkcs8(2048);
        let key = KeyPair::read(&path, None).unwrap();
        let spki = keys.openssl(&["pkey", "-in", "k.pem", "-pubout", "-outform", "DER"]);
        assert_eq!(key.public_key_der(), spki);
        let digest = Command::new("sh")
            .arg("-c")
            .arg("openssl pkey -in k.pem -pubout -outform DER | openssl dgst -sha256 -binary | base64")
            .current_dir(&keys.dir)
            .output()
            .unwrap();
        let expected = format!(
            "SHA256:{}",
            String::from_utf8(digest.stdout).unwrap().trim()
        );
        assert_eq!(key.fingerprint(), expected);
        assert_eq!(
            format!("{key:?}"),
            format!("KeyPair {{ fingerprint: {expected:?}, .. }}")
        );
    }

    #[test]
    fn keys_encrypted_with_aes_des3_or_an_sha1_prf_decrypt_to_the_same_key() {
        let keys = Keys::new();
        let plain = KeyPair::read(&keys.pkcs8(2048), None).unwrap();
        let pass = format!("pass:{PASSPHRASE}");
        // What LibreSSL (macOS) and OpenSSL 1.0 make: PBKDF2 with HMAC-SHA1.
        keys.openssl(&[
            "pkcs8",
            "-topk8",
            "-v2",
            "des3",
            "-v2prf",
            "hmacWithSHA1",
            "-in",
            "k.pem",
            "-out",
            "sha1.p8",
            "-passout",
            &pass,
        ]);
        let key = KeyPair::read(&keys.path("sha1.p8"), Some(PASSPHRASE)).unwrap();
        assert_eq!(key.fingerprint(), plain.fingerprint());
        for (cipher, name) in [("aes-256-cbc", "aes.p8"), ("des3", "des3.p8")] {
            let path = keys.encrypted(cipher, name);
            assert!(keys.read(name).contains("BEGIN ENCRYPTED PRIVATE KEY"));
            let key = KeyPair::read(&path, Some(PASSPHRASE)).unwrap();
            assert_eq!(key.fingerprint(), plain.fingerprint(), "{cipher}");
        }
    }

    #[test]
    fn a_passphrase_for_an_unencrypted_key_is_ignored() {
        let keys = Keys::new();
        let path = keys.pkcs8(2048);
        let with = KeyPair::read(&path, Some(PASSPHRASE)).unwrap();
        let without = KeyPair::read(&path, None).unwrap();
        assert_eq!(with.fingerprint(), without.fingerprint());
    }

    #[test]
    fn the_token_is_an_rs256_jwt_snowflake_accepts() {
        let keys = Keys::new();
        let key = KeyPair::read(&keys.pkcs8(2048), None).unwrap();
        let fingerprint = key.fingerprint().to_owned();
        let issuer = JwtIssuer::new("xy12345.us-east-2.aws", "loader", key);
        let token = issuer.token(at(1_700_000_000)).unwrap();

        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        assert!(parts
            .iter()
            .all(|p| !p.contains('=') && !p.contains('+') && !p.contains('/')));
        assert_eq!(
            decode_json(parts[0]),
            serde_json::json!({"alg": "RS256", "typ": "JWT"})
        );
        assert_eq!(
            decode_json(parts[1]),
            serde_json::json!({
                "iss": format!("XY12345.LOADER.{fingerprint}"),
                "sub": "XY12345.LOADER",
                "iat": 1_700_000_000,
                "exp": 1_700_000_600,
            })
        );

        let pkcs1 = keys.openssl(&[
            "rsa",
            "-in",
            "k.pem",
            "-RSAPublicKey_out",
            "-outform",
            "DER",
        ]);
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pkcs1);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        public.verify(signed.as_bytes(), &signature).unwrap();

        let forged = serde_json::json!({"iss": "X", "sub": "XY12345.ADMIN", "iat": 0, "exp": 1});
        let forged = format!(
            "{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(forged.to_string())
        );
        assert!(public.verify(forged.as_bytes(), &signature).is_err());
    }

    #[test]
    fn account_and_user_are_named_as_snowflake_wants() {
        let keys = Keys::new();
        let path = keys.pkcs8(2048);
        let cases = [
            ("xy12345.us-east-2.aws", "loader", "XY12345", "LOADER"),
            ("xy12345", "Loader", "XY12345", "LOADER"),
            ("myorg-acct", "etl_user", "MYORG-ACCT", "ETL_USER"),
        ];
        for (account, user, want_account, want_user) in cases {
            let issuer = JwtIssuer::new(account, user, KeyPair::read(&path, None).unwrap());
            assert_eq!(issuer.account_identifier(), want_account);
            assert_eq!(issuer.user(), want_user);
            let claims = decode_json(issuer.token(at(0)).unwrap().split('.').nth(1).unwrap());
            assert_eq!(claims["sub"], format!("{want_account}.{want_user}"));
        }
    }

    #[test]
    fn the_current_token_is_renewed_only_near_its_expiry() {
        let keys = Keys::new();
        let key = KeyPair::read(&keys.pkcs8(2048), None).unwrap();
        let mut issuer = JwtIssuer::new("xy12345", "loader", key);
        let start = at(1_700_000_000);
        let first = issuer.current(start).unwrap().to_owned();
        let last_fresh = start + JwtIssuer::LIFETIME - JwtIssuer::RENEW_BEFORE;
        assert_eq!(
            issuer.current(start + TimeDelta::minutes(1)).unwrap(),
            first
        );
        assert_eq!(issuer.current(last_fresh).unwrap(), first);

        let renewed = issuer
            .current(last_fresh + TimeDelta::seconds(1))
            .unwrap()
            .to_owned();
        assert_ne!(renewed, first);
        let claims = decode_json(renewed.split('.').nth(1).unwrap());
        assert_eq!(
            claims["iat"],
            (last_fresh + TimeDelta::seconds(1)).timestamp()
        );
        assert_eq!(
            issuer.current(last_fresh + TimeDelta::minutes(1)).unwrap(),
            renewed
        );

        // A clock that went back gets a token issued at its time, not one from its future.
        assert_ne!(issuer.current(start).unwrap(), renewed);
        assert!(!format!("{issuer:?}").contains(&renewed));
    }

    #[test]
    fn a_wrong_or_missing_passphrase_is_named_without_revealing_it() {
        let keys = Keys::new();
        keys.pkcs8(2048);
        let path = keys.encrypted("aes-256-cbc", "aes.p8");
        let pem = keys.read("aes.p8");

        let wrong = KeyPair::read(&path, Some(WRONG)).unwrap_err();
        assert!(matches!(wrong, KeyError::WrongPassphrase), "{wrong:?}");
        assert!(wrong.to_string().contains("PBES2"), "{wrong}");
        assert_clean(&wrong, &pem);

        for passphrase in [None, Some("")] {
            let missing = KeyPair::read(&path, passphrase).unwrap_err();
            assert!(
                matches!(missing, KeyError::PassphraseMissing),
                "{missing:?}"
            );
            assert_clean(&missing, &pem);
        }
    }

    #[test]
    fn a_pkcs1_key_is_refused_with_the_command_that_converts_it() {
        let keys = Keys::new();
        keys.openssl(&["genrsa", "-traditional", "-out", "rsa.pem", "2048"]);
        let pem = keys.read("rsa.pem");
        assert!(pem.contains("BEGIN RSA PRIVATE KEY"));
        let error = KeyPair::read(&keys.path("rsa.pem"), Some(PASSPHRASE)).unwrap_err();
        assert!(matches!(error, KeyError::Pkcs1), "{error:?}");
        assert!(
            error.to_string().contains("openssl pkcs8 -topk8"),
            "{error}"
        );
        assert_clean(&error, &pem);
    }

    #[test]
    fn text_that_is_not_a_pem_private_key_is_refused() {
        let keys = Keys::new();
        keys.pkcs8(2048);
        keys.openssl(&["pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem"]);
        for (text, found) in [
            ("hello".to_owned(), "no `-----BEGIN"),
            (keys.read("pub.pem"), "labelled PUBLIC KEY"),
            (
                "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n".to_owned(),
                "damaged",
            ),
        ] {
            let error = KeyPair::from_pem(&text, Some(PASSPHRASE)).unwrap_err();
            assert!(matches!(error, KeyError::NotPem { .. }), "{error:?}");
            assert!(error.to_string().contains(found), "{error}");
            assert_clean(&error, &text);
        }
        let der = keys.openssl(&[
            "pkcs8", "-topk8", "-nocrypt", "-in", "k.pem", "-outform", "DER",
        ]);
        std::fs::write(keys.path("k.der"), der).unwrap();
        let error = KeyPair::read(&keys.path("k.der"), None).unwrap_err();
        assert!(error.to_string().contains("binary data"), "{error}");
    }

    #[test]
    fn text_around_the_pem_block_is_ignored() {
        let keys = Keys::new();
        let plain = KeyPair::read(&keys.pkcs8(2048), None).unwrap();
        let text = format!(
            "Bag Attributes\n    localKeyID: 01\n{}\ntrailing\n",
            keys.read("k.pem")
        );
        let key = KeyPair::from_pem(&text, None).unwrap();
        assert_eq!(key.fingerprint(), plain.fingerprint());
    }

    #[test]
    fn a_missing_file_is_named_with_the_reason() {
        let keys = Keys::new();
        let path = keys.path("absent.p8");
        let error = KeyPair::read(&path, Some(PASSPHRASE)).unwrap_err();
        assert!(matches!(error, KeyError::Unreadable { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("not found"), "{message}");
        assert_clean(&error, "");
    }

    #[test]
    fn keys_snowflake_cannot_use_are_refused_with_the_reason() {
        let keys = Keys::new();
        keys.pkcs8(1024);
        let small = KeyPair::read(&keys.path("k.pem"), None).unwrap_err();
        assert!(matches!(small, KeyError::Unsupported { .. }), "{small:?}");
        assert!(small.to_string().contains("2048 bits"), "{small}");
        assert_clean(&small, &keys.read("k.pem"));

        keys.openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "ec.pem",
        ]);
        let ec = KeyPair::read(&keys.path("ec.pem"), None).unwrap_err();
        assert!(ec.to_string().contains("an EC key, not an RSA key"), "{ec}");

        let pass = format!("pass:{PASSPHRASE}");
        keys.openssl(&[
            "pkcs8",
            "-topk8",
            "-v1",
            "PBE-SHA1-3DES",
            "-in",
            "k.pem",
            "-out",
            "v1.p8",
            "-passout",
            &pass,
        ]);
        let pbes1 = KeyPair::read(&keys.path("v1.p8"), Some(PASSPHRASE)).unwrap_err();
        assert!(pbes1.to_string().contains("PKCS#12 PBE"), "{pbes1}");
        assert!(
            matches!(pbes1, KeyError::EncryptionUnsupported { .. }),
            "{pbes1:?}"
        );
        assert_clean(&pbes1, &keys.read("v1.p8"));
    }

    #[test]
    fn the_fingerprint_is_standard_base64_of_32_bytes() {
        let keys = Keys::new();
        let key = KeyPair::read(&keys.pkcs8(2048), None).unwrap();
        let encoded = key.fingerprint().strip_prefix("SHA256:").unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap().len(), 32);
    }
}
