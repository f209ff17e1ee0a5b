//! One key of a JWK set (RFC 7517): its id, the one algorithm it verifies, and its public key.
//!
//! Keys are read one by one so that a key this server cannot use (ES512, a symmetric key, a
//! malformed entry) is skipped with a reason instead of failing the whole set.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

/// The smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// A published key this server can verify signatures with.
pub(super) struct VerifyingKey {
    /// The key id tokens name in their `kid` header.
    pub kid: String,
    /// The one algorithm this key verifies: from its `alg`, else from its type and curve.
    pub algorithm: Algorithm,
    /// The public key.
    pub key: DecodingKey,
}

/// Why a published key was skipped (for the warning in the logs).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct SkippedKey {
    /// The key's `kid`, when it has one.
    pub kid: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

/// The members of a JWK this server reads; the rest are ignored.
#[derive(Deserialize)]
struct PublishedKey {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    crv: Option<String>,
    #[serde(rename = "use")]
    public_key_use: Option<String>,
    key_ops: Option<Vec<String>>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// Reads one entry of a JWK set's `keys` array.
pub(super) fn parse(entry: &Value) -> Result<VerifyingKey, SkippedKey> {
    let kid = entry.get("kid").and_then(Value::as_str).map(str::to_owned);
    let skip = |reason: String| SkippedKey {
        kid: kid.clone(),
        reason,
    };
    let published = PublishedKey::deserialize(entry)
        .map_err(|why| skip(format!("not a well-formed JWK: {why}")))?;
    let Some(kid) = published.kid.clone().filter(|k| !k.is_empty()) else {
        return Err(skip("it has no `kid`, so no token can name it".into()));
    };
    if published
        .public_key_use
        .as_deref()
        .is_some_and(|u| u != "sig")
    {
        return Err(skip("its `use` is not `sig`".into()));
    }
    if let Some(ops) = &published.key_ops
        && !ops.iter().any(|op| op == "verify")
    {
        return Err(skip("its `key_ops` do not include `verify`".into()));
    }
    let algorithm = algorithm_of(&published).map_err(skip)?;
    let key = decoding_key(&published, algorithm).map_err(skip)?;
    Ok(VerifyingKey {
        kid,
        algorithm,
        key,
    })
}

/// The algorithm a key verifies: its `alg` if present (and consistent with the key), else the one
/// its type and curve imply (`OKP`/`Ed25519` → EdDSA, `EC`/`P-256` → ES256, `RSA` → RS256).
fn algorithm_of(key: &PublishedKey) -> Result<Algorithm, String> {
    let crv = key.crv.as_deref();
    let (default, allowed): (Algorithm, &[Algorithm]) = match (key.kty.as_str(), crv) {
        ("OKP", Some("Ed25519")) => (Algorithm::EdDSA, &[Algorithm::EdDSA]),
        ("EC", Some("P-256")) => (Algorithm::ES256, &[Algorithm::ES256]),
        ("RSA", _) => (Algorithm::RS256, &[Algorithm::RS256, Algorithm::PS256]),
        ("oct", _) => return Err("symmetric (`oct`) keys are never trusted from a key set".into()),
        (kty, Some(crv)) => {
            return Err(format!(
                "key type `{kty}` with curve `{crv}` is not supported (supported: EdDSA, ES256, \
                 RS256, PS256)"
            ));
        }
        (kty, None) => return Err(format!("key type `{kty}` is not supported")),
    };
    let Some(alg) = key.alg.as_deref() else {
        return Ok(default);
    };
    alg.parse::<Algorithm>()
        .ok()
        .filter(|a| allowed.contains(a))
        .ok_or_else(|| {
            format!(
                "algorithm `{alg}` is not supported for a `{}` key (supported: EdDSA, ES256, \
                 RS256, PS256)",
                key.kty
            )
        })
}

fn decoding_key(key: &PublishedKey, algorithm: Algorithm) -> Result<DecodingKey, String> {
    let member = |name: &str, value: &Option<String>| -> Result<Vec<u8>, String> {
        let raw = value
            .as_deref()
            .ok_or_else(|| format!("`{name}` is missing"))?;
        URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| format!("`{name}` is not base64url"))
    };
    let invalid = |why: jsonwebtoken::errors::Error| format!("unusable key material: {why}");
    match algorithm {
        Algorithm::EdDSA => {
            if member("x", &key.x)?.len() != 32 {
                return Err("an Ed25519 `x` must be 32 bytes".into());
            }
            DecodingKey::from_ed_components(key.x.as_deref().unwrap_or_default()).map_err(invalid)
        }
        Algorithm::ES256 => {
            if member("x", &key.x)?.len() != 32 || member("y", &key.y)?.len() != 32 {
                return Err("P-256 `x` and `y` must be 32 bytes each".into());
            }
            DecodingKey::from_ec_components(
                key.x.as_deref().unwrap_or_default(),
                key.y.as_deref().unwrap_or_default(),
            )
            .map_err(invalid)
        }
        _ => {
            let n = member("n", &key.n)?;
            let e = member("e", &key.e)?;
            let significant = n.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err(format!(
                    "an RSA modulus of {} bits is too short (at least 2048)",
                    significant * 8
                ));
            }
            if e.is_empty() || e.len() > 8 {
                return Err("the RSA exponent `e` is invalid".into());
            }
            Ok(DecodingKey::from_rsa_raw_components(&n, &e))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    const ED25519_X: &str = "F6VPBS7i-Uy9ef_cZbDwP2L2SPQo_QUk2patHX5SBRc";
    const P256_X: &str = "kpjhSHA4UpSfgrFCJaILmeiyv9AZ2ABfJxgpgYN_teQ";
    const P256_Y: &str = "Z24aNhNrMEp9GFSDrNNBmCz--BQXFqFDUcbhV4akhGQ";

    fn rsa_n(bytes: usize) -> String {
        URL_SAFE_NO_PAD.encode(vec![0xc5; bytes])
    }

    fn algorithm(entry: Value) -> Algorithm {
        parse(&entry).map(|k| k.algorithm).unwrap()
    }

    fn skipped(entry: Value) -> String {
        match parse(&entry) {
            Ok(key) => panic!("{entry} was accepted as {:?}", key.algorithm),
            Err(skipped) => skipped.reason,
        }
    }

    #[test]
    fn better_auths_keys_are_read_with_their_algorithm() {
        let key = parse(&json!({
            "alg": "EdDSA", "crv": "Ed25519", "x": ED25519_X, "kty": "OKP",
            "kid": "xexSnFiSzf554vGhj4vKpSsNImvSMFta"
        }))
        .unwrap();
        assert_eq!(key.kid, "xexSnFiSzf554vGhj4vKpSsNImvSMFta");
        assert_eq!(key.algorithm, Algorithm::EdDSA);
        assert_eq!(
            algorithm(
                json!({"alg": "ES256", "crv": "P-256", "kty": "EC", "x": P256_X, "y": P256_Y, "kid": "k"})
            ),
            Algorithm::ES256
        );
        assert_eq!(
            algorithm(
                json!({"alg": "PS256", "kty": "RSA", "n": rsa_n(256), "e": "AQAB", "kid": "k"})
            ),
            Algorithm::PS256
        );
    }

    #[test]
    fn without_alg_the_algorithm_follows_the_key_type() {
        assert_eq!(
            algorithm(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "kid": "k"})),
            Algorithm::EdDSA
        );
        assert_eq!(
            algorithm(json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "kid": "k"})),
            Algorithm::ES256
        );
        assert_eq!(
            algorithm(json!({"kty": "RSA", "n": rsa_n(256), "e": "AQAB", "kid": "k"})),
            Algorithm::RS256
        );
    }

    #[test]
    fn unusable_keys_are_skipped_with_a_reason() {
        let cases = [
            (
                json!({"kty": "EC", "crv": "P-521", "alg": "ES512", "x": "AZI1", "y": "ADTR", "kid": "k"}),
                "P-521",
            ),
            (
                json!({"kty": "oct", "k": "c2VjcmV0", "kid": "k"}),
                "symmetric",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "alg": "ES256", "kid": "k"}),
                "`ES256` is not supported",
            ),
            (
                json!({"kty": "RSA", "n": rsa_n(256), "e": "AQAB", "alg": "HS256", "kid": "k"}),
                "`HS256` is not supported",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X}),
                "no `kid`",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": "k"}),
                "32 bytes",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": "!!", "kid": "k"}),
                "base64url",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "kid": "k"}),
                "`x` is missing",
            ),
            (
                json!({"kty": "EC", "crv": "P-256", "x": P256_X, "kid": "k"}),
                "`y` is missing",
            ),
            (
                json!({"kty": "RSA", "n": rsa_n(128), "e": "AQAB", "kid": "k"}),
                "1024 bits",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "use": "enc", "kid": "k"}),
                "`use`",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "key_ops": ["sign"], "kid": "k"}),
                "`key_ops`",
            ),
            (json!({"kid": "k"}), "well-formed"),
            (json!("a string"), "well-formed"),
        ];
        for (entry, expected) in cases {
            let reason = skipped(entry.clone());
            assert!(reason.contains(expected), "{entry}: {reason}");
        }
    }
}
