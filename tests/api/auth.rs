//! Accounts and tokens: register → login → me, and every 401 case.

use patchbay_tests::{Backend, Options, TEST_JWT_SECRET, TestApp, on_both_backends, run_with};
use serde_json::{Value, json};

use crate::support::register;

async fn register_login_me(app: &TestApp) {
    let (user, register_token) = register(app, "Ada@Example.com").await;
    assert_eq!(user["email"], "ada@example.com", "emails are normalised");
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(
        user["is_admin"], true,
        "the first user is the instance admin"
    );
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());

    let res = app
        .client
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "ADA@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["user"]["id"], user["id"]);
    let token = body["token"].as_str().unwrap();

    for t in [token, register_token.as_str()] {
        let me = app.client.get("/api/v1/me", Some(t)).await;
        assert_eq!(me.status, 200, "{}", me.text());
        assert_eq!(me.json()["id"], user["id"]);
        assert_eq!(me.json()["email"], "ada@example.com");
    }

    let (second, _) = register(app, "grace@example.com").await;
    assert_eq!(second["is_admin"], false, "only the first user is admin");
}

async fn duplicate_email_is_409_case_insensitively(app: &TestApp) {
    register(app, "ada@example.com").await;
    let res = app
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "ADA@EXAMPLE.COM", "password": "another password", "name": "Imposter"}),
        )
        .await;
    res.assert_error(409, "Conflict", "A user with this email already exists");
}

async fn invalid_registrations_are_400_and_create_nothing(app: &TestApp) {
    // Each message names the field at fault; a password is never repeated.
    let cases = [
        (
            json!({"email": "not-an-email", "password": "long enough", "name": "A"}),
            "email: 'not-an-email' is not a valid email address: it must contain exactly one '@'",
        ),
        (
            json!({"email": "a@b@example.com", "password": "long enough", "name": "A"}),
            "email: 'a@b@example.com' is not a valid email address: it must contain exactly one '@'",
        ),
        (
            json!({"email": "a@example.com", "password": "short", "name": "A"}),
            "password: a password must be at least 8 characters long",
        ),
        (
            json!({"email": "a@example.com", "password": "x".repeat(129), "name": "A"}),
            "password: a password must be at most 128 characters long",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "name": "  "}),
            "name: '  ' is not a valid name: it must not be empty",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough"}),
            "Invalid JSON body: missing field `name`",
        ),
        (
            json!({"email": 7, "password": "long enough", "name": "A"}),
            "email: invalid type: integer `7`, expected a string",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "name": "A", "is_admin": true}),
            "is_admin: unknown field `is_admin`, expected one of `email`, `password`, `name`",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "name": "A", "id": "x"}),
            "id: unknown field `id`, expected one of `email`, `password`, `name`",
        ),
    ];
    for (body, message) in cases {
        let res = app.client.post("/api/auth/register", None, &body).await;
        res.assert_error(400, "Bad Request", message);
    }
    // Nothing was created: the address is still free.
    let (user, _) = register(app, "a@example.com").await;
    assert_eq!(user["is_admin"], true, "still the first user");
}

async fn wrong_password_and_unknown_email_are_the_same_401(app: &TestApp) {
    register(app, "ada@example.com").await;
    let wrong = app
        .client
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "ada@example.com", "password": "wrong password"}),
        )
        .await;
    let unknown = app
        .client
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "nobody@example.com", "password": "wrong password"}),
        )
        .await;
    wrong.assert_error(401, "Unauthorized", "Invalid email or password");
    unknown.assert_error(401, "Unauthorized", "Invalid email or password");
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
}

fn forge(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn every_bad_token_is_401(app: &TestApp) {
    let (user, good) = register(app, "ada@example.com").await;
    let sub = user["id"].as_str().unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = |f: &dyn Fn(&mut Value)| {
        let mut c = json!({"sub": sub, "iat": now, "nbf": now, "exp": now + 600,
                           "iss": "patchbay", "aud": "patchbay-api"});
        f(&mut c);
        c
    };
    let secret = TEST_JWT_SECRET.as_bytes();
    // Sanity: a token forged with the right key and claims works.
    let forged_ok = forge(&claims(&|_| {}), secret);
    assert_eq!(
        app.client.get("/api/v1/me", Some(&forged_ok)).await.status,
        200
    );

    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let alg_none = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims(&|_| {}).to_string())
    );
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("missing", None, "Missing Authorization header"),
        ("malformed", Some("not-a-jwt".into()), "Invalid token"),
        (
            "expired",
            Some(forge(
                &claims(&|c| {
                    c["iat"] = json!(now - 7200);
                    c["nbf"] = json!(now - 7200);
                    c["exp"] = json!(now - 3600);
                }),
                secret,
            )),
            "Token expired",
        ),
        (
            "not yet valid",
            Some(forge(
                &claims(&|c| {
                    c["nbf"] = json!(now + 3600);
                }),
                secret,
            )),
            "Token not yet valid",
        ),
        (
            "foreign key",
            Some(forge(
                &claims(&|_| {}),
                b"another-secret-another-secret-0123456789",
            )),
            "Invalid token",
        ),
        (
            "foreign issuer",
            Some(forge(
                &claims(&|c| {
                    c["iss"] = json!("someone-else");
                }),
                secret,
            )),
            "Token was not issued for this service",
        ),
        (
            "foreign audience",
            Some(forge(
                &claims(&|c| {
                    c["aud"] = json!("other-api");
                }),
                secret,
            )),
            "Token was not issued for this service",
        ),
        (
            "missing nbf",
            Some(forge(
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("nbf");
                }),
                secret,
            )),
            "Invalid token",
        ),
        (
            "missing sub",
            Some(forge(
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
                secret,
            )),
            "Invalid token",
        ),
        (
            "unknown user",
            Some(forge(
                &claims(&|c| {
                    c["sub"] = json!(uuid::Uuid::now_v7().to_string());
                }),
                secret,
            )),
            "Invalid token",
        ),
        // A missing claim fails the claims' decoding before jsonwebtoken's
        // own check for required claims, so it reads "Invalid token".
        (
            "missing exp",
            Some(forge(
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
                secret,
            )),
            "Invalid token",
        ),
        ("alg none", Some(alg_none), "Invalid token"),
        (
            "crit extension",
            Some(
                jsonwebtoken::encode(
                    &jsonwebtoken::Header {
                        crit: Some(vec!["exp".into()]),
                        ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
                    },
                    &claims(&|_| {}),
                    &jsonwebtoken::EncodingKey::from_secret(secret),
                )
                .unwrap(),
            ),
            "Token header lists critical extensions this service does not understand",
        ),
        ("tampered", Some(format!("{good}x")), "Invalid token"),
    ];
    for (what, token, message) in cases {
        let res = app.client.get("/api/v1/me", token.as_deref()).await;
        assert_eq!(res.status, 401, "{what}: {}", res.text());
        res.assert_error(401, "Unauthorized", message);
        assert_eq!(res.header("www-authenticate"), Some("Bearer"), "{what}");
    }
    // A scheme other than Bearer.
    let res = app
        .client
        .raw(
            awc::http::Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", &format!("Basic {good}"))],
        )
        .await;
    res.assert_error(
        401,
        "Unauthorized",
        "Expected 'Authorization: Bearer <token>'",
    );
    // A header value that is not visible ASCII.
    let mut raw = awc::Client::new()
        .get(app.client.url("/api/v1/me"))
        .insert_header((
            "authorization",
            awc::http::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 401);
    let body: Value = serde_json::from_slice(&raw.body().await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"error": "Unauthorized", "message": "Malformed Authorization header"})
    );
    let res = app
        .client
        .raw(
            awc::http::Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", "Bearer")],
        )
        .await;
    res.assert_error(
        401,
        "Unauthorized",
        "Expected 'Authorization: Bearer <token>'",
    );
}

on_both_backends!(
    register_login_me,
    duplicate_email_is_409_case_insensitively,
    invalid_registrations_are_400_and_create_nothing,
    wrong_password_and_unknown_email_are_the_same_401,
    every_bad_token_is_401,
);

async fn signup_can_be_disabled(backend: Backend) {
    let options = Options {
        signup_disabled: true,
        ..Options::default()
    };
    run_with(backend, options, async |app: &TestApp| {
        let res = app
            .client
            .post(
                "/api/auth/register",
                None,
                &json!({"email": "a@example.com", "password": "long enough", "name": "A"}),
            )
            .await;
        res.assert_error(403, "Forbidden", "Sign-up is disabled on this instance");
    })
    .await;
}

async fn login_is_rate_limited(backend: Backend) {
    let options = Options {
        login_rate_per_minute: Some(3),
        ..Options::default()
    };
    run_with(backend, options, async |app: &TestApp| {
        register(app, "ada@example.com").await;
        let body = json!({"email": "ada@example.com", "password": "wrong password"});
        for _ in 0..3 {
            app.client
                .post("/api/auth/login", None, &body)
                .await
                .assert_error(401, "Unauthorized", "Invalid email or password");
        }
        let res = app.client.post("/api/auth/login", None, &body).await;
        res.assert_error(
            429,
            "Too Many Requests",
            "Too many login attempts; try again later",
        );
        assert_eq!(res.header("retry-after"), Some("60"));
    })
    .await;
}

mod signup_disabled {
    #[actix_web::test]
    async fn sqlite() {
        super::signup_can_be_disabled(super::Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        super::signup_can_be_disabled(super::Backend::Postgres).await;
    }
}

mod rate_limit {
    #[actix_web::test]
    async fn sqlite() {
        super::login_is_rate_limited(super::Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        super::login_is_rate_limited(super::Backend::Postgres).await;
    }
}
