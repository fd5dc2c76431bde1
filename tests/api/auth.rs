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
    assert_eq!(res.status, 409, "{}", res.text());
    assert_eq!(res.json()["error"], "Conflict");
    assert!(res.json()["message"].as_str().unwrap().contains("email"));
}

async fn invalid_registrations_are_400_and_create_nothing(app: &TestApp) {
    let cases = [
        (
            json!({"email": "not-an-email", "password": "long enough", "name": "A"}),
            "email",
        ),
        (
            json!({"email": "a@b@example.com", "password": "long enough", "name": "A"}),
            "email",
        ),
        (
            json!({"email": "a@example.com", "password": "short", "name": "A"}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": "x".repeat(129), "name": "A"}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "name": "  "}),
            "name",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough"}),
            "name",
        ),
        (
            json!({"email": 7, "password": "long enough", "name": "A"}),
            "email",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "name": "A", "is_admin": true}),
            "is_admin",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "name": "A", "id": "x"}),
            "id",
        ),
    ];
    for (body, field) in cases {
        let res = app.client.post("/api/auth/register", None, &body).await;
        assert_eq!(res.status, 400, "{body} → {}", res.text());
        let err = res.json();
        assert!(err["error"].is_string(), "{err}");
        assert!(
            err["message"].as_str().unwrap().contains(field),
            "message should name {field}: {err}"
        );
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
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.json(), unknown.json());
    assert_eq!(wrong.json()["message"], "Invalid email or password");
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
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("malformed", Some("not-a-jwt".into())),
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
        ),
        (
            "not yet valid",
            Some(forge(
                &claims(&|c| {
                    c["nbf"] = json!(now + 3600);
                }),
                secret,
            )),
        ),
        (
            "foreign key",
            Some(forge(
                &claims(&|_| {}),
                b"another-secret-another-secret-0123456789",
            )),
        ),
        (
            "foreign issuer",
            Some(forge(
                &claims(&|c| {
                    c["iss"] = json!("someone-else");
                }),
                secret,
            )),
        ),
        (
            "foreign audience",
            Some(forge(
                &claims(&|c| {
                    c["aud"] = json!("other-api");
                }),
                secret,
            )),
        ),
        (
            "missing nbf",
            Some(forge(
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("nbf");
                }),
                secret,
            )),
        ),
        (
            "missing sub",
            Some(forge(
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
                secret,
            )),
        ),
        (
            "unknown user",
            Some(forge(
                &claims(&|c| {
                    c["sub"] = json!(uuid::Uuid::now_v7().to_string());
                }),
                secret,
            )),
        ),
        ("alg none", Some(alg_none)),
        ("tampered", Some(format!("{good}x"))),
    ];
    for (what, token) in cases {
        let res = app.client.get("/api/v1/me", token.as_deref()).await;
        assert_eq!(res.status, 401, "{what}: {}", res.text());
        assert_eq!(res.json()["error"], "Unauthorized", "{what}");
        assert!(res.json()["message"].is_string(), "{what}");
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
    assert_eq!(res.status, 401);
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
        assert_eq!(res.status, 403, "{}", res.text());
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
            assert_eq!(
                app.client.post("/api/auth/login", None, &body).await.status,
                401
            );
        }
        let res = app.client.post("/api/auth/login", None, &body).await;
        assert_eq!(res.status, 429, "{}", res.text());
        assert_eq!(res.json()["error"], "Too Many Requests");
        assert!(res.header("retry-after").is_some());
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
