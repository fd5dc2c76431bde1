//! The s3 driver: a SigV4-signed `HeadBucket` (rusty-s3 signs a presigned
//! URL valid for 60 s) sent with the http driver's pinned, proxy-free,
//! redirect-free reqwest client. Success means the server checked the
//! signature and let these credentials see the bucket.
//!
//! `extra`: `{"bucket", "region", "access_key_id", "secret_access_key",
//! "endpoint_url"?, "path_style"?, "session_token"?}`. Without
//! `endpoint_url` the endpoint is `https://s3.<region>.amazonaws.com`;
//! `path_style` defaults to `true` with a custom endpoint (MinIO, s3s,
//! Garage…) and `false` for AWS.
//!
//! Statuses: 2xx → success; 401/403 (bad signature, unknown key, access
//! denied) → `auth`; 404 (no such bucket), 301/307 (wrong region) and other
//! 3xx/4xx → `protocol`; ≥ 500 → `protocol`.

use std::time::Duration;

use patchbay_app::ports::{ProbeFailure, ProbeRequest};
use reqwest::{Method, Url};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use super::http::{client, guard_url, map_error};
use crate::Context;
use crate::extra::Extra;
use crate::failure::Failure;
use crate::net::Trace;
use crate::tls::Verify;

/// How long the presigned request stays valid; the test ends long before.
const SIGNATURE_TTL: Duration = Duration::from_secs(60);

pub(crate) async fn probe(
    ctx: &Context,
    request: &ProbeRequest,
    trace: &Trace,
) -> Result<(), Failure> {
    let extra = Extra::parse(request.extra.as_ref())?;
    let bucket_name = extra.required_str("bucket")?.trim().to_owned();
    let region = extra.required_str("region")?.trim().to_owned();
    let endpoint_raw = extra
        .str("endpoint_url")?
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let path_style = extra.bool("path_style")?.unwrap_or(endpoint_raw.is_some());
    let endpoint = match endpoint_raw {
        Some(raw) => {
            Url::parse(raw).map_err(|_| Failure::config("extra.endpoint_url is not a valid URL"))?
        }
        None => Url::parse(&format!("https://s3.{region}.amazonaws.com"))
            .map_err(|_| Failure::config("extra.region is not valid in a host name"))?,
    };
    let credentials = match extra.str("session_token")? {
        Some(token) => Credentials::new_with_token(
            extra.required_str("access_key_id")?,
            extra.required_str("secret_access_key")?,
            token,
        ),
        None => Credentials::new(
            extra.required_str("access_key_id")?,
            extra.required_str("secret_access_key")?,
        ),
    };
    drop(extra);
    let style = if path_style {
        UrlStyle::Path
    } else {
        UrlStyle::VirtualHost
    };
    let bucket = Bucket::new(endpoint, style, bucket_name, region)
        .map_err(|e| Failure::config(format!("extra does not make a valid bucket URL: {e}")))?;
    let url = bucket.head_bucket(Some(&credentials)).sign(SIGNATURE_TTL);
    drop(credentials);

    let addrs = guard_url(ctx, &url).await?;
    let client = client(ctx, &url, &addrs, Verify::Full)?;
    if let Some(first) = addrs.first() {
        trace.dialling(*first);
    }
    trace.stage("request");
    let response = client
        .head(url)
        .send()
        .await
        .map_err(|e| map_error(e, &Method::HEAD))?;
    judge(response.status().as_u16())
}

fn judge(status: u16) -> Result<(), Failure> {
    let reason = match status {
        200..=299 => return Ok(()),
        401 | 403 => ProbeFailure::Auth,
        _ => ProbeFailure::Protocol,
    };
    let what = match status {
        301 | 307 => " (the bucket lives in another region)",
        403 => " (signature, key or permissions refused)",
        404 => " (no such bucket)",
        _ => "",
    };
    Err(Failure::new(
        reason,
        format!("HeadBucket answered {status}{what}"),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use patchbay_app::ports::{ConnectivityTester, ProbeOutcome};
    use patchbay_domain::CredentialType;

    use super::*;
    use crate::drivers::test_support::{closed_port, prober, secret};

    fn failed(reason: ProbeFailure) -> ProbeOutcome {
        ProbeOutcome::Failed {
            reason,
            driver: "s3-sigv4",
        }
    }

    fn s3(extra: &str) -> ProbeRequest {
        ProbeRequest {
            conn_type: CredentialType::S3,
            host: None,
            port: None,
            schema: None,
            login: None,
            password: None,
            extra: secret(extra),
        }
    }

    #[test]
    fn statuses_are_judged() {
        assert!(judge(200).is_ok());
        assert_eq!(judge(403).unwrap_err().reason, ProbeFailure::Auth);
        assert_eq!(judge(404).unwrap_err().reason, ProbeFailure::Protocol);
        assert_eq!(judge(301).unwrap_err().reason, ProbeFailure::Protocol);
        assert_eq!(judge(503).unwrap_err().reason, ProbeFailure::Protocol);
    }

    #[tokio::test]
    async fn missing_fields_refused_ports_and_blocked_endpoints() {
        let t = prober(true);
        assert_eq!(
            t.test(s3(r#"{"bucket": "b"}"#)).await,
            failed(ProbeFailure::Protocol)
        );
        let port = closed_port();
        let extra = format!(
            r#"{{"bucket": "b", "region": "us-east-1", "access_key_id": "AK", "secret_access_key": "SK", "endpoint_url": "http://127.0.0.1:{port}"}}"#
        );
        assert_eq!(t.test(s3(&extra)).await, failed(ProbeFailure::Refused));
        for endpoint in [
            "http://0.0.0.0:9000",
            "http://[::]:9000",
            "http://0x7f.1:9000",
        ] {
            let extra = format!(
                r#"{{"bucket": "b", "region": "us-east-1", "access_key_id": "AK", "secret_access_key": "SK", "endpoint_url": "{endpoint}"}}"#
            );
            let expected = if endpoint.contains("0x7f") {
                // 0x7f.1 is 127.0.0.1 to the URL parser: loopback, allowed
                // here, and nothing listens on 9000 in this test's world.
                None
            } else {
                Some(failed(ProbeFailure::Blocked))
            };
            if let Some(expected) = expected {
                assert_eq!(t.test(s3(&extra)).await, expected, "{endpoint}");
            } else {
                assert_eq!(
                    prober(false).test(s3(&extra)).await,
                    failed(ProbeFailure::Blocked),
                    "{endpoint}"
                );
            }
        }
        let extra = r#"{"bucket": "b", "region": "us-east-1", "access_key_id": "AK", "secret_access_key": "SK", "endpoint_url": "http://nonexistent.invalid:9000"}"#;
        assert_eq!(t.test(s3(extra)).await, failed(ProbeFailure::Dns));
    }
}
