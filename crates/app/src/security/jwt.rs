//! HS256 JWTs: algorithm pinned, every registered claim we rely on required
//! and validated (`exp`, `nbf`, `iat`, `iss`, `aud`, `sub`).

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

/// The minimum secret length for HS256, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// How tokens are issued and checked.
#[derive(Clone)]
pub struct JwtSettings {
    pub secret: Vec<u8>,
    pub issuer: String,
    pub audience: String,
    pub ttl_seconds: i64,
}

impl std::fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSettings")
            .field("secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl_seconds", &self.ttl_seconds)
            .finish()
    }
}

/// The claims patchbay puts in (and requires of) a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// A freshly issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
}

/// Issues and verifies tokens.
#[derive(Clone)]
pub struct TokenService {
    settings: JwtSettings,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// # Errors
    /// When the secret is shorter than [`MIN_SECRET_LEN`] bytes or the ttl is
    /// not positive.
    pub fn new(settings: JwtSettings) -> Result<Self, String> {
        if settings.secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "the JWT secret must be at least {MIN_SECRET_LEN} bytes long"
            ));
        }
        if settings.ttl_seconds <= 0 {
            return Err("the JWT lifetime must be positive".to_owned());
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&[settings.audience.as_str()]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(Self {
            encoding: EncodingKey::from_secret(&settings.secret),
            decoding: DecodingKey::from_secret(&settings.secret),
            validation,
            settings,
        })
    }

    /// Issues a token for `user_id`, valid from `now` for the configured ttl.
    ///
    /// # Errors
    /// Only on an internal encoding failure.
    pub fn issue(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<IssuedToken, AppError> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iat,
            nbf: iat,
            exp: iat + self.settings.ttl_seconds,
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("jwt encode: {e}")))?;
        Ok(IssuedToken {
            token,
            expires_in: self.settings.ttl_seconds,
        })
    }

    /// Verifies a token and returns the user id it was issued for.
    ///
    /// # Errors
    /// 401 for anything wrong with the token: malformed, bad signature,
    /// another algorithm (including `none`), expired, not yet valid, foreign
    /// issuer or audience, missing claims, a subject that is not a UUID, or a
    /// header with a `crit` parameter (RFC 7515 §4.1.11).
    pub fn verify(&self, token: &str) -> Result<Uuid, AppError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| AppError::unauthorized(describe(e.kind())))?;
        // RFC 7515 §4.1.11: a recipient must reject a JWS whose `crit` lists
        // extensions it does not understand; patchbay understands none.
        if data.header.crit.is_some() {
            return Err(AppError::unauthorized(
                "Token header lists critical extensions this service does not understand",
            ));
        }
        if data.claims.iat > data.claims.exp {
            return Err(AppError::unauthorized("Invalid token"));
        }
        Uuid::parse_str(&data.claims.sub).map_err(|_| AppError::unauthorized("Invalid token"))
    }
}

fn describe(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => "Token expired",
        K::ImmatureSignature => "Token not yet valid",
        K::InvalidIssuer | K::InvalidAudience => "Token was not issued for this service",
        K::MissingRequiredClaim(_) => "Token is missing a required claim",
        _ => "Invalid token",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn service(secret: &[u8]) -> TokenService {
        TokenService::new(JwtSettings {
            secret: secret.to_vec(),
            issuer: "patchbay".into(),
            audience: "patchbay-api".into(),
            ttl_seconds: 3600,
        })
        .unwrap()
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn short_secrets_are_refused() {
        let err = TokenService::new(JwtSettings {
            secret: b"short".to_vec(),
            issuer: "i".into(),
            audience: "a".into(),
            ttl_seconds: 10,
        })
        .unwrap_err();
        assert!(err.contains("32 bytes"));
    }

    #[test]
    fn issued_tokens_verify_to_their_subject() {
        let svc = service(SECRET);
        let id = Uuid::now_v7();
        let t = svc.issue(id, Utc::now()).unwrap();
        assert_eq!(t.expires_in, 3600);
        assert_eq!(svc.verify(&t.token).unwrap(), id);
    }

    #[test]
    fn expired_foreign_and_garbage_tokens_are_unauthorized() {
        let svc = service(SECRET);
        let id = Uuid::now_v7();
        let old = svc.issue(id, Utc::now() - Duration::hours(3)).unwrap();
        assert_eq!(svc.verify(&old.token).unwrap_err().message, "Token expired");
        let other = service(b"another-secret-another-secret-xx")
            .issue(id, Utc::now())
            .unwrap();
        assert!(svc.verify(&other.token).is_err());
        assert!(svc.verify("not.a.token").is_err());
        assert!(svc.verify("").is_err());
        // alg: none, with otherwise valid claims
        let now = Utc::now().timestamp();
        let body = serde_json::json!({"sub": id.to_string(), "iat": now, "nbf": now,
            "exp": now + 60, "iss": "patchbay", "aud": "patchbay-api"});
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(body.to_string())
        );
        assert!(svc.verify(&none).is_err());
    }

    #[test]
    fn tokens_with_critical_extensions_are_refused() {
        let svc = service(SECRET);
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: Uuid::now_v7().to_string(),
            iat: now,
            nbf: now,
            exp: now + 60,
            iss: "patchbay".into(),
            aud: "patchbay-api".into(),
        };
        for crit in [vec!["b64".to_owned()], vec![]] {
            let header = Header {
                crit: Some(crit),
                ..Header::new(Algorithm::HS256)
            };
            let token = encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap();
            assert_eq!(
                svc.verify(&token).unwrap_err().message,
                "Token header lists critical extensions this service does not understand"
            );
        }
    }

    #[test]
    fn tokens_missing_a_required_claim_are_refused() {
        let svc = service(SECRET);
        let now = Utc::now().timestamp();
        #[derive(Serialize)]
        struct NoNbf {
            sub: String,
            iat: i64,
            exp: i64,
            iss: String,
            aud: String,
        }
        let token = encode(
            &Header::new(Algorithm::HS256),
            &NoNbf {
                sub: Uuid::now_v7().to_string(),
                iat: now,
                exp: now + 60,
                iss: "patchbay".into(),
                aud: "patchbay-api".into(),
            },
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(svc.verify(&token).is_err());
    }
}
