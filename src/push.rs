//! Web Push (issue 17, part 3): the rule for sending a push, and the two
//! pieces of cryptography a push needs: the payload encrypted for the
//! browser (RFC 8291, `aes128gcm`, RFC 8188) and the VAPID authorization
//! (RFC 8292, an ES256 JWT).
//!
//! The cryptography is `ring`'s (ECDH and ECDSA on P-256, HKDF-SHA-256,
//! AES-128-GCM), which is already in the tree as rustls's provider (the NATS
//! bus): no new crate. The `web-push` crate needs OpenSSL (through `ece`),
//! and `web-push-native` brings the RustCrypto stack (`p256`, `aes-gcm`,
//! `elliptic-curve`…), about twenty crates for what `ring` already does.
//!
//! Not built yet: the subscription routes, the VAPID keys kept in the
//! database, and the durable queue that applies [`should_push`] after the
//! delay and sends (see the report on issue 17).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use ring::{aead, agreement, hkdf};

use crate::error::FieldError;
use crate::model::{NotifyLevel, UserId};
use crate::{AppError, Hearth};

/// What is known about one message and one member when the push delay has
/// passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushFacts {
    /// The member's level for the room.
    pub level: NotifyLevel,
    /// The message mentions them.
    pub mentioned: bool,
    /// Their read marker reached the message before the delay ran out (on
    /// any device).
    pub read_in_time: bool,
    /// One of their tabs has the room open and visible.
    pub room_visible: bool,
    /// They paused their notifications, and the pause holds now
    /// ([`crate::pause`]).
    pub paused: bool,
}

/// The rule: push only a message the member's level lets through, that is
/// still unread after the delay, whose room none of their tabs shows, while
/// they have not paused their notifications (not even for a mention).
pub fn should_push(facts: PushFacts) -> bool {
    facts.level.notifies(facts.mentioned) && !facts.read_in_time && !facts.room_visible && !facts.paused
}

/// A failure of the push cryptography: a subscription's keys that are not
/// a P-256 point and a 16-byte secret, or a stored key that does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("web push: {0}")]
pub struct PushError(pub &'static str);

/// The record size this encoder writes (one record: a payload must fit).
const RECORD_SIZE: u32 = 4096;
/// The largest payload one record holds (RFC 8291 allows 3993 bytes).
pub const PAYLOAD_MAX: usize = 3993;

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf_expand(prk: &hkdf::Prk, info: &[&[u8]], len: usize) -> Result<Vec<u8>, PushError> {
    let mut out = vec![0; len];
    prk.expand(info, Len(len)).and_then(|okm| okm.fill(&mut out)).map_err(|_| PushError("key derivation failed"))?;
    Ok(out)
}

/// The content key and nonce of RFC 8291 §3.4 and RFC 8188 §2.2, from the
/// ECDH secret, the subscription's auth secret, both public keys and the salt.
fn content_keys(
    ecdh_secret: &[u8],
    auth_secret: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), PushError> {
    let prk_key = hkdf::Salt::new(hkdf::HKDF_SHA256, auth_secret).extract(ecdh_secret);
    let ikm = hkdf_expand(&prk_key, &[b"WebPush: info\0", ua_public, as_public], 32)?;
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(&ikm);
    let cek = hkdf_expand(&prk, &[b"Content-Encoding: aes128gcm\0"], 16)?;
    let nonce = hkdf_expand(&prk, &[b"Content-Encoding: nonce\0"], 12)?;
    Ok((cek, nonce))
}

/// Encrypts `payload` for a subscription (`p256dh`: the browser's public
/// key, 65 bytes uncompressed; `auth`: its 16-byte secret) as one
/// `aes128gcm` record with a fresh key pair and salt: the request body of a
/// push, sent with `Content-Encoding: aes128gcm`.
pub fn encrypt(payload: &[u8], p256dh: &[u8], auth: &[u8]) -> Result<Vec<u8>, PushError> {
    if payload.len() > PAYLOAD_MAX {
        return Err(PushError("the payload is too long for one record"));
    }
    if auth.len() != 16 {
        return Err(PushError("the auth secret is not 16 bytes"));
    }
    let rng = SystemRandom::new();
    let private =
        agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).map_err(|_| PushError("no key pair"))?;
    let public = private.compute_public_key().map_err(|_| PushError("no public key"))?;
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, p256dh);
    let secret = agreement::agree_ephemeral(private, &peer, |s| s.to_vec())
        .map_err(|_| PushError("the subscription's key is not a P-256 point"))?;
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| PushError("no random salt"))?;
    let (cek, nonce) = content_keys(&secret, auth, p256dh, public.as_ref(), &salt)?;
    let key = aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| PushError("bad content key"))?,
    );
    let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).map_err(|_| PushError("bad nonce"))?;
    // The last (and only) record ends with the delimiter 2, no padding.
    let mut record = Vec::with_capacity(payload.len() + 17);
    record.extend_from_slice(payload);
    record.push(2);
    key.seal_in_place_append_tag(nonce, aead::Aad::empty(), &mut record).map_err(|_| PushError("encryption failed"))?;
    let keyid = public.as_ref();
    let mut body = Vec::with_capacity(16 + 4 + 1 + keyid.len() + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(keyid.len() as u8);
    body.extend_from_slice(keyid);
    body.extend_from_slice(&record);
    Ok(body)
}

/// Decrypts an `aes128gcm` push body as the browser does, with the
/// subscription's private key (used once, as `ring` keys for ECDH are) and
/// auth secret: for tests that play the browser.
#[doc(hidden)]
pub fn decrypt(body: &[u8], private: agreement::EphemeralPrivateKey, auth: &[u8]) -> Result<Vec<u8>, PushError> {
    let short = PushError("the body is shorter than its header");
    let (salt, rest) = body.split_at_checked(16).ok_or(short.clone())?;
    let (_rs, rest) = rest.split_at_checked(4).ok_or(short.clone())?;
    let (&idlen, rest) = rest.split_first().ok_or(short.clone())?;
    let (as_public, record) = rest.split_at_checked(usize::from(idlen)).ok_or(short)?;
    let ua_public = private.compute_public_key().map_err(|_| PushError("no public key"))?;
    let ua_public = ua_public.as_ref().to_vec();
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, as_public);
    let secret = agreement::agree_ephemeral(private, &peer, |s| s.to_vec())
        .map_err(|_| PushError("the sender's key is not a P-256 point"))?;
    let (cek, nonce) = content_keys(&secret, auth, &ua_public, as_public, salt)?;
    let key = aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| PushError("bad content key"))?,
    );
    let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).map_err(|_| PushError("bad nonce"))?;
    let mut record = record.to_vec();
    let plain = key
        .open_in_place(nonce, aead::Aad::empty(), &mut record)
        .map_err(|_| PushError("the record does not decrypt"))?;
    // Strip the padding and the delimiter (2 for the last record).
    let end = plain.iter().rposition(|&b| b != 0).ok_or(PushError("no delimiter"))?;
    if plain[end] != 2 {
        return Err(PushError("not a last record"));
    }
    Ok(plain[..end].to_vec())
}

/// The server's VAPID key pair (ECDSA P-256), kept as PKCS#8.
pub struct Vapid {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
}

impl Vapid {
    /// A new key pair (on the first start; then kept in the database).
    pub fn generate() -> Result<Self, PushError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| PushError("no VAPID key pair"))?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// The key pair as stored.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, PushError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new())
            .map_err(|_| PushError("the stored VAPID key does not load"))?;
        Ok(Self { pair, pkcs8: pkcs8.to_vec() })
    }

    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public key, base64url: the browser's `applicationServerKey`.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref())
    }

    /// The `Authorization` header of a push to a service at `audience`
    /// (the endpoint's origin, `https://host`): `vapid t=<JWT>, k=<key>`,
    /// the JWT signed ES256 with `aud`, `exp` (`expires`, Unix seconds, at
    /// most 24 h ahead) and `sub` (a `mailto:` or `https:` contact).
    pub fn authorization(&self, audience: &str, expires: i64, subject: &str) -> Result<String, PushError> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": expires, "sub": subject });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| PushError("signing the VAPID token failed"))?;
        let signature = URL_SAFE_NO_PAD.encode(signature.as_ref());
        Ok(format!("vapid t={signing_input}.{signature}, k={}", self.public_key()))
    }
}

/// The longest subscription endpoint taken.
const ENDPOINT_MAX: usize = 1000;

/// A subscription's endpoint: an `https` URL, or `http` on this machine
/// (a local push service, as the tests run).
fn check_endpoint(raw: &str) -> Result<(), FieldError> {
    let bad = || FieldError::new("endpoint", "Endpoint must be an https URL");
    if raw.len() > ENDPOINT_MAX {
        return Err(FieldError::new("endpoint", format!("Endpoint is too long (maximum is {ENDPOINT_MAX})")));
    }
    let url = url::Url::parse(raw).map_err(|_| bad())?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err(bad()),
    }
}

/// A base64url key of `len` bytes (padding and the standard alphabet, as
/// some browsers give them, are taken too); returned as unpadded base64url.
fn check_key(field: &str, raw: &str, len: usize) -> Result<String, FieldError> {
    let trimmed = raw.trim().trim_end_matches('=').replace('+', "-").replace('/', "_");
    match URL_SAFE_NO_PAD.decode(&trimmed) {
        Ok(bytes) if bytes.len() == len && (len != 65 || bytes[0] == 4) => Ok(trimmed),
        _ => Err(FieldError::new(field, format!("{field} must be a base64url key of {len} bytes"))),
    }
}

impl Hearth {
    /// The server's VAPID key pair: made on first use and kept in the
    /// database, so every instance (and every restart) signs with it.
    pub async fn vapid(&self) -> Result<Vapid, AppError> {
        let (pkcs8, _) = match self.store.push_key().await? {
            Some(stored) => stored,
            None => {
                let fresh = Vapid::generate().map_err(AppError::internal)?;
                let pkcs8 = URL_SAFE_NO_PAD.encode(fresh.pkcs8());
                self.store.push_key_or_insert((&pkcs8, &fresh.public_key())).await?
            }
        };
        let pkcs8 = URL_SAFE_NO_PAD.decode(pkcs8).map_err(AppError::internal)?;
        Vapid::from_pkcs8(&pkcs8).map_err(AppError::internal)
    }

    /// `GET /push/key`: the browser's `applicationServerKey`.
    pub async fn push_public_key(&self) -> Result<String, AppError> {
        Ok(self.vapid().await?.public_key())
    }

    /// Saves my subscription for this device (`POST /push/subscriptions`,
    /// the browser's `PushSubscription.toJSON()`): one per endpoint. It
    /// lasts as long as `session`, the session it was saved in: a device
    /// signed out (or whose session was ended) is pushed nothing more.
    pub async fn subscribe_push(
        &self,
        me: UserId,
        session: Option<&str>,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> Result<i64, AppError> {
        // Every problem at once, not only the first.
        let (p256dh, auth) =
            match (check_endpoint(endpoint), check_key("p256dh", p256dh, 65), check_key("auth", auth, 16)) {
                (Ok(()), Ok(p256dh), Ok(auth)) => (p256dh, auth),
                (endpoint, p256dh, auth) => {
                    let errors = [endpoint.err(), p256dh.err(), auth.err()].into_iter().flatten().collect();
                    return Err(AppError::Validation(errors));
                }
            };
        self.store.save_push_subscription(me, session, endpoint, &p256dh, &auth).await
    }

    /// Removes my subscription at `endpoint` (404 if I have none there).
    pub async fn unsubscribe_push(&self, me: UserId, endpoint: &str) -> Result<(), AppError> {
        if self.store.delete_push_subscription(me, endpoint).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("push subscription"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    #[test]
    fn a_push_goes_only_for_an_unread_message_the_level_lets_through_in_a_room_no_tab_shows_unpaused() {
        let mut checked = 0;
        for level in [NotifyLevel::Everything, NotifyLevel::Mentions, NotifyLevel::Nothing] {
            for mentioned in [false, true] {
                for read_in_time in [false, true] {
                    for room_visible in [false, true] {
                        for paused in [false, true] {
                            let facts = PushFacts { level, mentioned, read_in_time, room_visible, paused };
                            // The expected answers, listed: only these three send.
                            let expected = matches!(
                                (level, mentioned, read_in_time, room_visible, paused),
                                (NotifyLevel::Everything, false, false, false, false)
                                    | (NotifyLevel::Everything, true, false, false, false)
                                    | (NotifyLevel::Mentions, true, false, false, false)
                            );
                            assert_eq!(should_push(facts), expected, "{facts:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 48, "every combination");
    }

    #[test]
    fn the_keys_match_rfc_8291_appendix_a() {
        let b = |s: &str| URL_SAFE_NO_PAD.decode(s).expect("base64url");
        let (cek, nonce) = content_keys(
            &b("kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"),
            &b("BTBZMqHH6r4Tts7J_aSIgg"),
            &b("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            &b("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"),
            &b("DGv6ra1nlYgDCS1FRnbzlw"),
        )
        .expect("derives");
        assert_eq!(cek, b("oIhVW04MRdy2XN9CiKLxTg"));
        assert_eq!(nonce, b("4h_95klXJ5E_qnoN"));
        // And the appendix's whole message opens with them.
        let body = b(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
        );
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).expect("key"));
        let mut record = body[16 + 4 + 1 + 65..].to_vec();
        let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).expect("nonce");
        let plain = key.open_in_place(nonce, aead::Aad::empty(), &mut record).expect("opens");
        assert_eq!(plain, b"When I grow up, I want to be a watermelon\x02");
    }

    #[test]
    fn an_encrypted_payload_decrypts_with_the_subscriptions_private_key_and_secret_only() {
        let rng = SystemRandom::new();
        let browser = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).expect("key");
        let p256dh = browser.compute_public_key().expect("public").as_ref().to_vec();
        let auth = [7u8; 16];
        let payload = br#"{"room_id":3,"number":9,"title":"alice","body":"@bob hi"}"#;

        let body = encrypt(payload, &p256dh, &auth).expect("encrypts");

        assert_eq!(&body[16..20], &4096u32.to_be_bytes(), "the record size");
        assert_eq!(body[20], 65, "the key id is the sender's public key");
        assert_eq!(body.len(), 16 + 4 + 1 + 65 + payload.len() + 1 + 16);
        assert_eq!(decrypt(&body, browser, &auth).expect("decrypts"), payload);
        let other = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).expect("key");
        assert!(decrypt(&body, other, &auth).is_err(), "another browser's key");
        let again = encrypt(payload, &p256dh, &auth).expect("encrypts");
        assert_ne!(again[..16], body[..16], "a fresh salt each time");
        assert!(encrypt(payload, &p256dh[..64], &auth).is_err(), "not a point");
        assert!(encrypt(payload, &p256dh, &auth[..15]).is_err(), "a short secret");
        assert!(encrypt(&[b'x'; PAYLOAD_MAX + 1], &p256dh, &auth).is_err(), "too long for a record");
    }

    #[test]
    fn the_vapid_header_is_an_es256_jwt_for_the_audience_that_its_key_verifies() {
        let vapid = Vapid::generate().expect("key pair");
        let kept = Vapid::from_pkcs8(vapid.pkcs8()).expect("reloads");
        assert_eq!(kept.public_key(), vapid.public_key());

        let header =
            kept.authorization("https://push.example.net", 1_900_000_000, "mailto:ops@example.com").expect("a header");

        let (token, key) =
            header.strip_prefix("vapid t=").and_then(|rest| rest.split_once(", k=")).expect("vapid t=<jwt>, k=<key>");
        assert_eq!(key, vapid.public_key());
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url claims")).expect("JSON claims");
        assert_eq!(claims["aud"], "https://push.example.net");
        assert_eq!(claims["exp"], 1_900_000_000);
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        let public = URL_SAFE_NO_PAD.decode(key).expect("a base64url key");
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("a base64url signature");
        let signed = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
            .verify(signed.as_bytes(), &signature)
            .expect("verifies");
        let forged = format!("{}.{}", parts[0], URL_SAFE_NO_PAD.encode(br#"{"aud":"https://evil.example"}"#));
        assert!(
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public).verify(forged.as_bytes(), &signature).is_err()
        );
    }
}
