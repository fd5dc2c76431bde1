//! The http driver: one request with reqwest to `scheme://host:port/path`
//! — `HEAD`, repeated once as `GET` when the server answers 405 or 501 to
//! `HEAD`. The host is pinned to the checked addresses (`resolve_to_addrs`),
//! proxies are off (a proxy would dial on our behalf, past the guard), and
//! redirects are not followed.
//!
//! Success: any status below 500 except 401 and 403 (a 302 or a 404 still
//! proves the server is there). 401/403 → `auth`; ≥ 500 → `protocol`.
//!
//! Fields: `login`/`password` → HTTP basic auth; `extra` →
//! `{"path": "/health", "scheme": "http"|"https", "verify_tls": true}`.
//! The scheme defaults to `https` on port 443 and `http` otherwise; HTTPS
//! verifies the certificate against the Mozilla roots unless `verify_tls`
//! is `false`.

use std::net::SocketAddr;

use patchbay_app::ports::{ExposeSecret, ProbeFailure, ProbeRequest};
use reqwest::{Method, StatusCode, Url};

use crate::Context;
use crate::extra::Extra;
use crate::failure::{Failure, chain, find_io, find_source, from_io};
use crate::net::Trace;
use crate::tls::Verify;

pub(crate) async fn probe(
    ctx: &Context,
    request: &ProbeRequest,
    trace: &Trace,
) -> Result<(), Failure> {
    let (host, port) = super::host_port(request)?;
    let extra = Extra::parse(request.extra.as_ref())?;
    let url = target_url(host, port, extra.str("scheme")?, extra.str("path")?)?;
    let verify = if extra.bool("verify_tls")?.unwrap_or(true) {
        Verify::Full
    } else {
        Verify::Nothing
    };
    drop(extra);

    let addrs = guard_url(ctx, &url).await?;
    let client = client(ctx, &url, &addrs, verify)?;
    if let Some(first) = addrs.first() {
        trace.dialling(*first);
    }
    trace.stage("request");
    let mut status = send(&client, Method::HEAD, &url, request).await?;
    if status == StatusCode::METHOD_NOT_ALLOWED || status == StatusCode::NOT_IMPLEMENTED {
        status = send(&client, Method::GET, &url, request).await?;
    }
    judge(status)
}

/// Resolves and checks the host of `url` as the URL parser understood it
/// (so `http://0x7f.1/` is judged as the 127.0.0.1 reqwest would dial).
///
/// # Errors
/// As [`crate::guard::resolve`]; a URL without host or port is a
/// [`Failure::config`].
pub(crate) async fn guard_url(ctx: &Context, url: &Url) -> Result<Vec<SocketAddr>, Failure> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| Failure::config("URL has no port"))?;
    let host = match url.host() {
        Some(url::Host::Domain(domain)) => domain.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(Failure::config("URL has no host")),
    };
    crate::guard::resolve(&ctx.policy, &host, port).await
}

/// One client per test: pinned to `addrs`, no proxy, no redirects, no
/// connection reuse.
pub(crate) fn client(
    ctx: &Context,
    url: &Url,
    addrs: &[SocketAddr],
    verify: Verify,
) -> Result<reqwest::Client, Failure> {
    let tls = ctx
        .tls
        .get(verify)
        .map_err(|e| Failure::new(ProbeFailure::Tls, e))?;
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .user_agent(concat!("patchbay-probe/", env!("CARGO_PKG_VERSION")))
        .use_preconfigured_tls((*tls).clone());
    if let Some(url::Host::Domain(domain)) = url.host() {
        builder = builder.resolve_to_addrs(domain, addrs);
    }
    builder
        .build()
        .map_err(|e| Failure::new(ProbeFailure::Protocol, format!("HTTP client: {e}")))
}

async fn send(
    client: &reqwest::Client,
    method: Method,
    url: &Url,
    request: &ProbeRequest,
) -> Result<StatusCode, Failure> {
    let mut builder = client.request(method.clone(), url.clone());
    if let Some(login) = request.login.as_deref().filter(|l| !l.is_empty()) {
        builder = builder.basic_auth(
            login,
            request
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_owned()),
        );
    }
    let response = builder.send().await.map_err(|e| map_error(e, &method))?;
    Ok(response.status())
}

/// The coarse verdict on a status (seed 003 and SPEC §8: < 500 except
/// 401/403 is a success).
fn judge(status: StatusCode) -> Result<(), Failure> {
    match status.as_u16() {
        401 | 403 => Err(Failure::new(
            ProbeFailure::Auth,
            format!("server answered {status}"),
        )),
        500.. => Err(Failure::new(
            ProbeFailure::Protocol,
            format!("server answered {status}"),
        )),
        _ => Ok(()),
    }
}

/// Builds the URL from the fields. The path must be absolute and may carry
/// a query; it can never change the scheme, host or port.
fn target_url(
    host: &str,
    port: u16,
    scheme: Option<&str>,
    path: Option<&str>,
) -> Result<Url, Failure> {
    let scheme = match scheme.map(str::trim) {
        None | Some("") => {
            if port == 443 {
                "https"
            } else {
                "http"
            }
        }
        Some(s) if s.eq_ignore_ascii_case("http") => "http",
        Some(s) if s.eq_ignore_ascii_case("https") => "https",
        Some(_) => return Err(Failure::config("extra.scheme must be http or https")),
    };
    let bare = crate::guard::bare_host(host);
    let authority = if bare.contains(':') {
        format!("[{bare}]")
    } else {
        bare.to_owned()
    };
    let mut url = Url::parse(&format!("{scheme}://{authority}:{port}/"))
        .map_err(|e| Failure::config(format!("host is not valid in a URL: {e}")))?;
    if let Some(path) = path.map(str::trim).filter(|p| !p.is_empty()) {
        if !path.starts_with('/') || path.starts_with("//") {
            return Err(Failure::config("extra.path must start with a single '/'"));
        }
        let (p, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        url.set_path(p);
        url.set_query(query);
    }
    Ok(url)
}

/// Maps a reqwest error. The URL is stripped first: its path and query come
/// from `extra`, which may hold a token.
pub(crate) fn map_error(e: reqwest::Error, method: &Method) -> Failure {
    let e = e.without_url();
    let detail = format!("{method}: {}", chain(&e));
    let reason = if e.is_timeout() {
        ProbeFailure::Timeout
    } else if find_source::<rustls::Error>(&e).is_some() {
        ProbeFailure::Tls
    } else if e.is_connect() {
        find_io(&e).map_or(ProbeFailure::Refused, from_io)
    } else {
        ProbeFailure::Protocol
    };
    Failure::new(reason, detail)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use patchbay_app::ports::{ConnectivityTester, ProbeOutcome};
    use patchbay_domain::CredentialType;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::drivers::test_support::{closed_port, prober, request, secret};

    fn failed(reason: ProbeFailure) -> ProbeOutcome {
        ProbeOutcome::Failed {
            reason,
            driver: "reqwest",
        }
    }

    #[test]
    fn urls_are_built_from_fields_only() {
        let u = target_url("db.example", 8080, None, Some("/health?x=1")).unwrap();
        assert_eq!(u.as_str(), "http://db.example:8080/health?x=1");
        let u = target_url("db.example", 443, None, None).unwrap();
        assert_eq!(u.as_str(), "https://db.example/");
        let u = target_url("[::1]", 8080, Some("HTTPS"), None).unwrap();
        assert_eq!(u.as_str(), "https://[::1]:8080/");
        let u = target_url("::1", 80, None, None).unwrap();
        assert_eq!(u.as_str(), "http://[::1]/");
        assert!(target_url("h", 1, None, Some("//evil.example/")).is_err());
        assert!(target_url("h", 1, None, Some("http://evil.example/")).is_err());
        assert!(target_url("h", 1, Some("ftp"), None).is_err());
        let u = target_url("h", 1, None, Some("/a/../../b")).unwrap();
        assert_eq!(u.host_str(), Some("h"));
    }

    #[test]
    fn statuses_are_judged_as_the_spec_says() {
        for ok in [200, 204, 301, 302, 304, 400, 404, 418, 499] {
            assert!(judge(StatusCode::from_u16(ok).unwrap()).is_ok(), "{ok}");
        }
        for (code, reason) in [
            (401, ProbeFailure::Auth),
            (403, ProbeFailure::Auth),
            (500, ProbeFailure::Protocol),
            (503, ProbeFailure::Protocol),
        ] {
            assert_eq!(
                judge(StatusCode::from_u16(code).unwrap())
                    .unwrap_err()
                    .reason,
                reason
            );
        }
    }

    /// A one-shot HTTP server answering every request with `status`.
    async fn answering(status: &'static str) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 2048];
                let _ = socket.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 {status}\r\nlocation: http://nonexistent.invalid/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        });
        port
    }

    #[tokio::test]
    async fn answers_map_to_outcomes() {
        let t = prober(true);
        let ok = ProbeOutcome::Connected { driver: "reqwest" };
        for (status, expected) in [
            ("200 OK", ok),
            ("302 Found", ok),
            ("404 Not Found", ok),
            ("401 Unauthorized", failed(ProbeFailure::Auth)),
            ("500 Internal Server Error", failed(ProbeFailure::Protocol)),
        ] {
            let port = answering(status).await;
            let req = request(CredentialType::Http, "localhost", port);
            assert_eq!(t.test(req).await, expected, "{status}");
        }
    }

    #[tokio::test]
    async fn refused_blocked_and_bad_extra() {
        let t = prober(true);
        let req = request(CredentialType::Http, "127.0.0.1", closed_port());
        assert_eq!(t.test(req).await, failed(ProbeFailure::Refused));
        let req = request(CredentialType::Http, "0.0.0.0", 80);
        assert_eq!(t.test(req).await, failed(ProbeFailure::Blocked));
        let mut req = request(CredentialType::Http, "127.0.0.1", 80);
        req.extra = secret(r#"{"path": "http://elsewhere.example/"}"#);
        assert_eq!(t.test(req).await, failed(ProbeFailure::Protocol));
    }
}
