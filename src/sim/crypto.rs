//! Cryptography of the software KMS (semantics.md §8): AES-256-GCM with a per-request key derived
//! by HKDF-SHA256, the canonical encryption-context encoding used as AAD, our own versioned
//! ciphertext blob (§8.3), HMAC and ECDSA P-256. Secrets live in [`Secret`], which is zeroized
//! on drop and never printed.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Sha224, Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use super::KmsError;

/// Secret bytes (key material, plaintext data keys, decrypted plaintext): zeroized on drop,
/// redacted in `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps bytes.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// `n` bytes from the operating system's CSPRNG.
    ///
    /// # Errors
    /// `KMSInternalException` when the CSPRNG fails.
    pub fn random(n: usize) -> Result<Self, KmsError> {
        let mut v = Zeroizing::new(vec![0u8; n]);
        getrandom::getrandom(&mut v).map_err(|e| KmsError::new("KMSInternalException", format!("CSPRNG: {e}")))?;
        Ok(Self(v))
    }

    /// The bytes.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted {} bytes>)", self.0.len())
    }
}

/// Random bytes of a fixed size (nonces, ids).
///
/// # Errors
/// `KMSInternalException` when the CSPRNG fails.
pub fn random_array<const N: usize>() -> Result<[u8; N], KmsError> {
    let mut a = [0u8; N];
    getrandom::getrandom(&mut a).map_err(|e| KmsError::new("KMSInternalException", format!("CSPRNG: {e}")))?;
    Ok(a)
}

/// The canonical encoding of an encryption context (§8.3, the ESDK key-value-pair field):
/// empty for an empty map; otherwise `u16 count`, then the pairs sorted by key bytes, each as
/// `u16 len, key, u16 len, value` (big-endian). Order-independent and unambiguous.
///
/// # Errors
/// `ValidationException` for a key or value longer than 65 535 bytes, or more pairs.
pub fn canonical_ec(ec: &BTreeMap<String, String>) -> Result<Vec<u8>, KmsError> {
    if ec.is_empty() {
        return Ok(Vec::new());
    }
    let too_long = || KmsError::new("ValidationException", "encryption context key or value longer than 65535 bytes");
    let mut out = Vec::new();
    out.extend_from_slice(&u16::try_from(ec.len()).map_err(|_| too_long())?.to_be_bytes());
    // `String`'s order is the unsigned byte order of its UTF-8 encoding.
    for (k, v) in ec {
        for s in [k, v] {
            out.extend_from_slice(&u16::try_from(s.len()).map_err(|_| too_long())?.to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    Ok(out)
}

/// Blob format version.
pub const BLOB_VERSION: u8 = 1;
/// Header length: version, flags, key id, material id, nonce.
pub const HEADER_LEN: usize = 1 + 1 + 16 + 32 + 12;
/// GCM tag length.
pub const TAG_LEN: usize = 16;
const HKDF_INFO: &[u8] = b"kms-sim-v1";

/// The cleartext header of a ciphertext blob (§8.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobHeader {
    /// The key id (`1234abcd-…` or `mrk-…`).
    pub key_id: String,
    /// Multi-Region key: resolve the id in the Region of the request.
    pub multi_region: bool,
    /// Key-material id.
    pub material_id: [u8; 32],
    /// Nonce.
    pub nonce: [u8; 12],
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex.
#[must_use]
pub fn to_hex(bytes: &[u8]) -> String {
    hex(bytes)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// The 16 raw bytes of a key id, and whether it is a multi-Region id.
#[must_use]
pub fn key_id_bytes(id: &str) -> Option<([u8; 16], bool)> {
    let (hexpart, mrk) = match id.strip_prefix("mrk-") {
        Some(h) => (h.to_string(), true),
        None => (id.replace('-', ""), false),
    };
    let v = unhex(&hexpart)?;
    let a: [u8; 16] = v.try_into().ok()?;
    Some((a, mrk))
}

/// The key id text of 16 raw bytes.
#[must_use]
pub fn key_id_text(b: &[u8; 16], mrk: bool) -> String {
    let h = hex(b);
    if mrk {
        return format!("mrk-{h}");
    }
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or(""),
        h.get(8..12).unwrap_or(""),
        h.get(12..16).unwrap_or(""),
        h.get(16..20).unwrap_or(""),
        h.get(20..32).unwrap_or("")
    )
}

fn invalid_ciphertext() -> KmsError {
    KmsError::new("InvalidCiphertextException", "")
}

impl BlobHeader {
    fn bytes(&self) -> Result<[u8; HEADER_LEN], KmsError> {
        let (id, mrk) = key_id_bytes(&self.key_id).ok_or_else(|| {
            KmsError::new("KMSInternalException", format!("key id `{}` cannot be encoded", self.key_id))
        })?;
        let mut h = [0u8; HEADER_LEN];
        h[0] = BLOB_VERSION;
        h[1] = u8::from(mrk);
        h[2..18].copy_from_slice(&id);
        h[18..50].copy_from_slice(&self.material_id);
        h[50..62].copy_from_slice(&self.nonce);
        Ok(h)
    }

    /// Parses the header of a blob.
    ///
    /// # Errors
    /// `InvalidCiphertextException` for a blob that is too short, of another version, or with
    /// unknown flags.
    pub fn parse(blob: &[u8]) -> Result<BlobHeader, KmsError> {
        if blob.len() < HEADER_LEN + TAG_LEN || blob.first() != Some(&BLOB_VERSION) {
            return Err(invalid_ciphertext());
        }
        let flags = blob.get(1).copied().unwrap_or(0xff);
        if flags & !1 != 0 {
            return Err(invalid_ciphertext());
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(blob.get(2..18).ok_or_else(invalid_ciphertext)?);
        let mut material_id = [0u8; 32];
        material_id.copy_from_slice(blob.get(18..50).ok_or_else(invalid_ciphertext)?);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(blob.get(50..62).ok_or_else(invalid_ciphertext)?);
        let mrk = flags & 1 == 1;
        Ok(BlobHeader { key_id: key_id_text(&id, mrk), multi_region: mrk, material_id, nonce })
    }
}

fn derive(material: &Secret, nonce: &[u8; 12]) -> Result<Zeroizing<[u8; 32]>, KmsError> {
    let hk = Hkdf::<Sha256>::new(Some(nonce), material.expose());
    let mut okm = Zeroizing::new([0u8; 32]);
    hk.expand(HKDF_INFO, okm.as_mut()).map_err(|_| KmsError::new("KMSInternalException", "HKDF expand failed"))?;
    Ok(okm)
}

/// Raw AES-256-GCM seal (ciphertext || tag), for the known-answer tests and local envelopes.
///
/// # Errors
/// `KMSInternalException` for a key that is not 32 bytes or a failing cipher.
pub fn aes256gcm_seal(key: &[u8], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KmsError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| KmsError::new("KMSInternalException", "bad AES key"))?;
    cipher
        .encrypt(Nonce::from_slice(nonce), Payload { msg: plaintext, aad })
        .map_err(|_| KmsError::new("KMSInternalException", "AES-GCM seal failed"))
}

/// Raw AES-256-GCM open; `None` when the tag does not verify.
#[must_use]
pub fn aes256gcm_open(key: &[u8], nonce: &[u8; 12], aad: &[u8], sealed: &[u8]) -> Option<Secret> {
    let cipher = Aes256Gcm::new_from_slice(key).ok()?;
    cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad }).ok().map(Secret::new)
}

/// Encrypts under key material: a fresh nonce, a derived key, `AAD = header || canonical_ec`.
///
/// # Errors
/// `ValidationException` for an unencodable context; `KMSInternalException` on CSPRNG failure.
pub fn seal(
    material: &Secret,
    key_id: &str,
    material_id: [u8; 32],
    ec: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let nonce = random_array::<12>()?;
    let header =
        BlobHeader { key_id: key_id.to_string(), multi_region: key_id.starts_with("mrk-"), material_id, nonce };
    let hb = header.bytes()?;
    let mut aad = hb.to_vec();
    aad.extend_from_slice(&canonical_ec(ec)?);
    let dk = derive(material, &nonce)?;
    let ct = aes256gcm_seal(dk.as_ref(), &nonce, &aad, plaintext)?;
    let mut blob = hb.to_vec();
    blob.extend_from_slice(&ct);
    Ok(blob)
}

/// Decrypts a blob whose header was parsed, under the material it names.
///
/// # Errors
/// `InvalidCiphertextException` when the tag does not verify (wrong context, tampering).
pub fn open(material: &Secret, blob: &[u8], ec: &BTreeMap<String, String>) -> Result<Secret, KmsError> {
    let header = BlobHeader::parse(blob)?;
    let mut aad = blob.get(..HEADER_LEN).ok_or_else(invalid_ciphertext)?.to_vec();
    aad.extend_from_slice(&canonical_ec(ec)?);
    let dk = derive(material, &header.nonce)?;
    aes256gcm_open(dk.as_ref(), &header.nonce, &aad, blob.get(HEADER_LEN..).ok_or_else(invalid_ciphertext)?)
        .ok_or_else(invalid_ciphertext)
}

/// HMAC of a message with key material, for `HMAC_SHA_224/256/384/512`.
///
/// # Errors
/// `InvalidKeyUsageException` for an unknown algorithm.
pub fn hmac(algorithm: &str, key: &Secret, msg: &[u8]) -> Result<Vec<u8>, KmsError> {
    fn run<M: Mac + KeyInit>(key: &[u8], msg: &[u8]) -> Result<Vec<u8>, KmsError> {
        let mut m =
            <M as Mac>::new_from_slice(key).map_err(|_| KmsError::new("KMSInternalException", "bad HMAC key"))?;
        m.update(msg);
        Ok(m.finalize().into_bytes().to_vec())
    }
    match algorithm {
        "HMAC_SHA_224" => run::<Hmac<Sha224>>(key.expose(), msg),
        "HMAC_SHA_256" => run::<Hmac<Sha256>>(key.expose(), msg),
        "HMAC_SHA_384" => run::<Hmac<Sha384>>(key.expose(), msg),
        "HMAC_SHA_512" => run::<Hmac<Sha512>>(key.expose(), msg),
        other => Err(KmsError::new("InvalidKeyUsageException", format!("unsupported MAC algorithm `{other}`"))),
    }
}

/// Constant-time comparison of two MACs.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh P-256 private scalar (32 bytes).
///
/// # Errors
/// `KMSInternalException` on CSPRNG failure.
pub fn p256_generate() -> Result<Secret, KmsError> {
    loop {
        let s = Secret::random(32)?;
        if p256::ecdsa::SigningKey::from_slice(s.expose()).is_ok() {
            return Ok(s);
        }
    }
}

/// The public key of P-256 material as KMS's `GetPublicKey` returns it: a DER-encoded X.509
/// `SubjectPublicKeyInfo` (RFC 5280; algorithm `id-ecPublicKey` with the `prime256v1` curve,
/// the uncompressed point as the bit string, RFC 5480).
///
/// # Errors
/// `KMSInternalException` for bad material.
pub fn p256_public(secret: &Secret) -> Result<Vec<u8>, KmsError> {
    use p256::pkcs8::EncodePublicKey;
    let sk = p256::ecdsa::SigningKey::from_slice(secret.expose())
        .map_err(|_| KmsError::new("KMSInternalException", "bad P-256 material"))?;
    let der = sk
        .verifying_key()
        .to_public_key_der()
        .map_err(|_| KmsError::new("KMSInternalException", "cannot encode the P-256 public key"))?;
    Ok(der.as_bytes().to_vec())
}

/// A fresh P-256 key pair for `GenerateDataKeyPair` (§8.4): the private key as DER PKCS#8
/// `PrivateKeyInfo` (zeroized on drop) and the public key as DER `SubjectPublicKeyInfo`.
///
/// # Errors
/// `KMSInternalException` on CSPRNG or encoding failure.
pub fn p256_data_key_pair() -> Result<(Secret, Vec<u8>), KmsError> {
    use p256::pkcs8::EncodePrivateKey;
    let scalar = p256_generate()?;
    let sk = p256::ecdsa::SigningKey::from_slice(scalar.expose())
        .map_err(|_| KmsError::new("KMSInternalException", "bad P-256 material"))?;
    let private =
        sk.to_pkcs8_der().map_err(|_| KmsError::new("KMSInternalException", "cannot encode the P-256 private key"))?;
    Ok((Secret::new(private.as_bytes().to_vec()), p256_public(&scalar)?))
}

/// ECDSA_SHA_256 signature (DER) of a RAW message or a 32-byte DIGEST.
///
/// # Errors
/// `ValidationException` for a digest of the wrong length.
pub fn p256_sign(secret: &Secret, msg: &[u8], digest: bool) -> Result<Vec<u8>, KmsError> {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let sk = p256::ecdsa::SigningKey::from_slice(secret.expose())
        .map_err(|_| KmsError::new("KMSInternalException", "bad P-256 material"))?;
    let prehash: Vec<u8> = if digest {
        if msg.len() != 32 {
            return Err(KmsError::new("ValidationException", "a DIGEST message for ECDSA_SHA_256 must be 32 bytes"));
        }
        msg.to_vec()
    } else {
        <Sha256 as sha2::Digest>::digest(msg).to_vec()
    };
    let sig: p256::ecdsa::Signature =
        sk.sign_prehash(&prehash).map_err(|_| KmsError::new("KMSInternalException", "ECDSA signing failed"))?;
    Ok(sig.to_der().as_bytes().to_vec())
}

/// Verifies an ECDSA_SHA_256 DER signature.
#[must_use]
pub fn p256_verify(secret: &Secret, msg: &[u8], digest: bool, signature: &[u8]) -> bool {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let Ok(sk) = p256::ecdsa::SigningKey::from_slice(secret.expose()) else { return false };
    let Ok(sig) = p256::ecdsa::Signature::from_der(signature) else { return false };
    let prehash: Vec<u8> = if digest {
        if msg.len() != 32 {
            return false;
        }
        msg.to_vec()
    } else {
        <Sha256 as sha2::Digest>::digest(msg).to_vec()
    };
    sk.verifying_key().verify_prehash(&prehash, &sig).is_ok()
}

/// The RSA signing algorithms of KMS (§8.1) and their hash: (PSS?, digest length).
fn rsa_scheme(algorithm: &str) -> Option<(bool, usize)> {
    match algorithm {
        "RSASSA_PSS_SHA_256" => Some((true, 32)),
        "RSASSA_PSS_SHA_384" => Some((true, 48)),
        "RSASSA_PSS_SHA_512" => Some((true, 64)),
        "RSASSA_PKCS1_V1_5_SHA_256" => Some((false, 32)),
        "RSASSA_PKCS1_V1_5_SHA_384" => Some((false, 48)),
        "RSASSA_PKCS1_V1_5_SHA_512" => Some((false, 64)),
        _ => None,
    }
}

/// The digest a signature covers: the hash of a RAW message, or a DIGEST of the right length.
fn rsa_digest(algorithm: &str, msg: &[u8], digest: bool) -> Result<Vec<u8>, KmsError> {
    let (_, len) = rsa_scheme(algorithm)
        .ok_or_else(|| KmsError::new("InvalidKeyUsageException", format!("`{algorithm}` is not an RSA algorithm")))?;
    if digest {
        if msg.len() != len {
            return Err(KmsError::new(
                "ValidationException",
                format!("a DIGEST message for `{algorithm}` must be {len} bytes"),
            ));
        }
        return Ok(msg.to_vec());
    }
    Ok(match len {
        32 => <Sha256 as sha2::Digest>::digest(msg).to_vec(),
        48 => <Sha384 as sha2::Digest>::digest(msg).to_vec(),
        _ => <Sha512 as sha2::Digest>::digest(msg).to_vec(),
    })
}

fn rsa_private(secret: &Secret) -> Result<rsa::RsaPrivateKey, KmsError> {
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_der(secret.expose())
        .map_err(|_| KmsError::new("KMSInternalException", "bad RSA material"))
}

/// A fresh RSA key of `bits` bits from the operating system's CSPRNG, as DER PKCS#8
/// `PrivateKeyInfo` (the `rsa` crate zeroizes its own copy of the private exponent and primes
/// on drop).
///
/// # Errors
/// `KMSInternalException` on CSPRNG or encoding failure.
pub fn rsa_generate(bits: usize) -> Result<Secret, KmsError> {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits)
        .map_err(|e| KmsError::new("KMSInternalException", format!("RSA key generation: {e}")))?;
    let der = key.to_pkcs8_der().map_err(|_| KmsError::new("KMSInternalException", "cannot encode the RSA key"))?;
    Ok(Secret::new(der.as_bytes().to_vec()))
}

/// The public key of RSA material as a DER `SubjectPublicKeyInfo` (`rsaEncryption`, RFC 8017).
///
/// # Errors
/// `KMSInternalException` for bad material.
pub fn rsa_public(secret: &Secret) -> Result<Vec<u8>, KmsError> {
    use rsa::pkcs8::EncodePublicKey;
    let der = rsa_private(secret)?
        .to_public_key()
        .to_public_key_der()
        .map_err(|_| KmsError::new("KMSInternalException", "cannot encode the RSA public key"))?;
    Ok(der.as_bytes().to_vec())
}

/// An RSASSA-PSS (salt length = hash length, MGF1 with the same hash) or RSASSA-PKCS1-v1_5
/// signature of a RAW message or a DIGEST.
///
/// # Errors
/// `ValidationException` for a digest of the wrong length; `InvalidKeyUsageException` for an
/// algorithm that is not RSA's.
pub fn rsa_sign(secret: &Secret, algorithm: &str, msg: &[u8], digest: bool) -> Result<Vec<u8>, KmsError> {
    use rsa::{Pkcs1v15Sign, Pss};
    let hashed = rsa_digest(algorithm, msg, digest)?;
    let key = rsa_private(secret)?;
    // PSS needs randomness (the salt); PKCS#1 v1.5 uses it to blind the private-key operation.
    let rng = &mut rand_core::OsRng;
    let r = match algorithm {
        "RSASSA_PSS_SHA_256" => key.sign_with_rng(rng, Pss::new::<Sha256>(), &hashed),
        "RSASSA_PSS_SHA_384" => key.sign_with_rng(rng, Pss::new::<Sha384>(), &hashed),
        "RSASSA_PSS_SHA_512" => key.sign_with_rng(rng, Pss::new::<Sha512>(), &hashed),
        "RSASSA_PKCS1_V1_5_SHA_256" => key.sign_with_rng(rng, Pkcs1v15Sign::new::<Sha256>(), &hashed),
        "RSASSA_PKCS1_V1_5_SHA_384" => key.sign_with_rng(rng, Pkcs1v15Sign::new::<Sha384>(), &hashed),
        _ => key.sign_with_rng(rng, Pkcs1v15Sign::new::<Sha512>(), &hashed),
    };
    r.map_err(|_| KmsError::new("KMSInternalException", "RSA signing failed"))
}

/// Verifies an RSA signature made by [`rsa_sign`] (or by any RSASSA implementation).
#[must_use]
pub fn rsa_verify(secret: &Secret, algorithm: &str, msg: &[u8], digest: bool, signature: &[u8]) -> bool {
    use rsa::{Pkcs1v15Sign, Pss};
    let (Ok(hashed), Ok(key)) = (rsa_digest(algorithm, msg, digest), rsa_private(secret)) else { return false };
    let public = key.to_public_key();
    let r = match algorithm {
        "RSASSA_PSS_SHA_256" => public.verify(Pss::new::<Sha256>(), &hashed, signature),
        "RSASSA_PSS_SHA_384" => public.verify(Pss::new::<Sha384>(), &hashed, signature),
        "RSASSA_PSS_SHA_512" => public.verify(Pss::new::<Sha512>(), &hashed, signature),
        "RSASSA_PKCS1_V1_5_SHA_256" => public.verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, signature),
        "RSASSA_PKCS1_V1_5_SHA_384" => public.verify(Pkcs1v15Sign::new::<Sha384>(), &hashed, signature),
        "RSASSA_PKCS1_V1_5_SHA_512" => public.verify(Pkcs1v15Sign::new::<Sha512>(), &hashed, signature),
        _ => return false,
    };
    r.is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]
    use super::*;

    #[test]
    fn canonical_ec_is_unambiguous_and_order_free() {
        let a: BTreeMap<String, String> = [("a".into(), "bc".into())].into();
        let b: BTreeMap<String, String> = [("ab".into(), "c".into())].into();
        assert_ne!(canonical_ec(&a).unwrap(), canonical_ec(&b).unwrap());
        assert!(canonical_ec(&BTreeMap::new()).unwrap().is_empty());
        assert_eq!(canonical_ec(&a).unwrap(), vec![0, 1, 0, 1, b'a', 0, 2, b'b', b'c']);
    }

    #[test]
    fn key_ids_round_trip() {
        for id in ["1234abcd-12ab-34cd-56ef-1234567890ab", "mrk-1234abcd12ab34cd56ef1234567890ab"] {
            let (b, m) = key_id_bytes(id).unwrap();
            assert_eq!(key_id_text(&b, m), id);
        }
    }
}
