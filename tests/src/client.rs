//! A small HTTP client for tests: JSON in, status + headers + JSON out.
//!
//! Every response it sees is checked for what SPEC §4 promises of every
//! response: an `x-request-id` header, and (on API JSON bodies) timestamps
//! in RFC 3339 UTC with milliseconds and ids of their documented types
//! (see [`crate::formats`]). [`Response::assert_error`] checks an error
//! completely: status, `error`, `message`, nothing else in the body.

use std::net::SocketAddr;

use awc::http::Method;
use serde_json::Value;

/// What a request returned.
#[derive(Debug, Clone)]
pub struct Response {
    /// The request that produced it, e.g. `GET /api/v1/me` (for messages).
    pub request: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// Asserts an error in patchbay's shape: `status`, a body of exactly
    /// `{"error": error, "message": message}`, and an `x-request-id`.
    ///
    /// # Panics
    /// When any of these differs.
    #[track_caller]
    #[allow(clippy::panic)]
    pub fn assert_error(&self, status: u16, error: &str, message: &str) {
        self.check_error(status, error, &|m| m == message, message);
    }

    /// Like [`Self::assert_error`], for messages whose tail repeats input or
    /// a library's words: the message must start with `prefix`.
    ///
    /// # Panics
    /// When any of these differs.
    #[track_caller]
    pub fn assert_error_starting(&self, status: u16, error: &str, prefix: &str) {
        self.check_error(
            status,
            error,
            &|m| m.starts_with(prefix),
            &format!("{prefix}…"),
        );
    }

    #[track_caller]
    #[allow(clippy::panic)]
    fn check_error(&self, status: u16, error: &str, ok: &dyn Fn(&str) -> bool, wanted: &str) {
        let body = self.json();
        let got_error = body["error"].as_str().unwrap_or_default();
        let got_message = body["message"].as_str().unwrap_or_default();
        let shape_ok = body.as_object().is_some_and(|o| o.len() == 2);
        if self.status != status || got_error != error || !ok(got_message) || !shape_ok {
            panic!(
                "{}: expected {status} {{\"error\": {error:?}, \"message\": {wanted:?}}}\n\
                 got {} {}",
                self.request,
                self.status,
                self.text()
            );
        }
        assert!(
            self.header("x-request-id").is_some_and(|v| !v.is_empty()),
            "{}: an error without x-request-id",
            self.request
        );
    }

    /// Asserts a 2xx answer (for set-up steps whose failure would leave a
    /// test checking the wrong state).
    ///
    /// # Panics
    /// When the status is not 2xx.
    #[track_caller]
    pub fn assert_success(&self) {
        assert!(
            (200..300).contains(&self.status),
            "{}: {} {}",
            self.request,
            self.status,
            self.text()
        );
    }

    /// The body as JSON (`Value::Null` when it is not JSON).
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A response header, by case-insensitive name.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Talks to one test server.
#[derive(Debug, Clone)]
pub struct TestClient {
    base: String,
}

impl TestClient {
    #[must_use]
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}"),
        }
    }

    /// The absolute URL of `path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; `body` is sent as JSON when given.
    ///
    /// # Panics
    /// When the server cannot be reached at all.
    #[allow(clippy::expect_used)]
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let raw = body.map(|b| (b.to_string().into_bytes(), "application/json"));
        self.raw(method, path, token, raw, &[]).await
    }

    /// Sends raw bytes with a content type and extra headers.
    ///
    /// # Panics
    /// When the server cannot be reached at all.
    #[allow(clippy::expect_used)]
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(Vec<u8>, &str)>,
        headers: &[(&str, &str)],
    ) -> Response {
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .disable_redirects()
            .finish();
        let mut req = client.request(method.clone(), self.url(path));
        if let Some(token) = token {
            req = req.insert_header(("authorization", format!("Bearer {token}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some((bytes, content_type)) => req
                .insert_header(("content-type", content_type))
                .send_body(bytes)
                .await
                .expect("request failed"),
            None => req.send().await.expect("request failed"),
        };
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let body = res
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .expect("body")
            .to_vec();
        let res = Response {
            request: format!("{method} {path}"),
            status,
            headers,
            body,
        };
        assert!(
            res.header("x-request-id").is_some_and(|v| !v.is_empty()),
            "{}: {} without x-request-id",
            res.request,
            res.status
        );
        // RFC 9110 §15.5.2: a 401 carries WWW-Authenticate; §15.3.5: a 204
        // has no content.
        if res.status == 401 {
            assert_eq!(
                res.header("www-authenticate"),
                Some("Bearer"),
                "{}: 401 without WWW-Authenticate",
                res.request
            );
        }
        if res.status == 204 {
            assert!(res.body.is_empty(), "{}: 204 with content", res.request);
        }
        crate::formats::check_response(path, &res);
        res
    }

    /// Sends a body-less request with any method and extra headers (HEAD,
    /// OPTIONS, TRACE, a CORS preflight...).
    pub async fn request_with_headers(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        self.raw(method, path, token, None, headers).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token, None).await
    }
}
