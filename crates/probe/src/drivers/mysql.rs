//! The mysql driver (MySQL and MariaDB): mysql_async's handshake, auth
//! (`mysql_native_password`, `caching_sha2_password` incl. its RSA
//! exchange, cleartext refused), then `COM_PING`. The client gets the
//! checked addresses as `resolved_ips`, so it dials exactly those and uses
//! the configured host name only for TLS; it never looks for a Unix socket.
//!
//! TLS follows `extra.sslmode` like the postgres driver, where the type's
//! fields allow `extra`: `disable` (default; mysql_async cannot fall back
//! from TLS to plain, so there is no `prefer`), `require` (certificate not
//! checked), `verify-ca`, `verify-full` (Mozilla roots; rustls on ring).

use mysql_async::prelude::Queryable as _;
use patchbay_app::ports::{ExposeSecret, ProbeFailure, ProbeRequest};

use crate::Context;
use crate::extra::Extra;
use crate::failure::{Failure, chain, find_io, find_source, from_io};
use crate::net::Trace;

/// Server error codes that mean the credentials (or their grants) were
/// refused: `ER_DBACCESS_DENIED_ERROR` 1044, `ER_ACCESS_DENIED_ERROR` 1045,
/// `ER_HOST_NOT_PRIVILEGED` 1130, `ER_NOT_SUPPORTED_AUTH_MODE` 1251,
/// `ER_ACCESS_DENIED_NO_PASSWORD_ERROR` 1698, `ER_ACCOUNT_HAS_BEEN_LOCKED`
/// 3118, `ER_MUST_CHANGE_PASSWORD_LOGIN` 1862 (MySQL / MariaDB error
/// references).
const AUTH_CODES: &[u16] = &[1044, 1045, 1130, 1251, 1698, 1862, 3118];

pub(crate) async fn probe(
    ctx: &Context,
    request: &ProbeRequest,
    trace: &Trace,
) -> Result<(), Failure> {
    let (host, port) = super::host_port(request)?;
    let extra = Extra::parse(request.extra.as_ref())?;
    let ssl = ssl_opts(extra.str("sslmode")?)?;
    drop(extra);
    let login = request
        .login
        .as_deref()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| Failure::config("login is required"))?;

    let addrs = crate::guard::resolve(&ctx.policy, host, port).await?;
    if let Some(first) = addrs.first() {
        trace.dialling(*first);
    }
    let ips: Vec<std::net::IpAddr> = addrs.iter().map(std::net::SocketAddr::ip).collect();
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(crate::guard::bare_host(host))
        .resolved_ips(Some(ips))
        .tcp_port(port)
        .prefer_socket(false)
        .user(Some(login))
        .pass(
            request
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_owned()),
        )
        .db_name(request.schema.as_deref().filter(|s| !s.is_empty()))
        .stmt_cache_size(0)
        .ssl_opts(ssl);
    let mut conn = mysql_async::Conn::new(opts)
        .await
        .map_err(|e| map_error(&e, host, port))?;
    trace.stage("ping");
    let result = conn.ping().await.map_err(|e| map_error(&e, host, port));
    let _ = conn.disconnect().await;
    result
}

fn ssl_opts(raw: Option<&str>) -> Result<Option<mysql_async::SslOpts>, Failure> {
    let opts = mysql_async::SslOpts::default();
    match raw.map(str::trim).unwrap_or("disable") {
        "disable" => Ok(None),
        "require" => Ok(Some(opts.with_danger_accept_invalid_certs(true))),
        "verify-ca" => Ok(Some(opts.with_danger_skip_domain_validation(true))),
        "verify-full" => Ok(Some(opts)),
        _ => Err(Failure::config(
            "extra.sslmode must be one of disable, require, verify-ca, verify-full",
        )),
    }
}

/// Maps a mysql_async error. Server messages name the user and whether a
/// password was used, never the password itself.
fn map_error(e: &mysql_async::Error, host: &str, port: u16) -> Failure {
    use mysql_async::{DriverError, Error, IoError};
    let detail = format!("{host}:{port}: {}", chain(e));
    let reason = match e {
        Error::Server(server) if AUTH_CODES.contains(&server.code) => ProbeFailure::Auth,
        Error::Server(_) | Error::Url(_) | Error::Other(_) => ProbeFailure::Protocol,
        Error::Io(IoError::Tls(_)) => ProbeFailure::Tls,
        Error::Io(IoError::Io(io)) => from_io(io),
        Error::Driver(
            DriverError::CleartextPluginDisabled
            | DriverError::MysqlOldPasswordDisabled
            | DriverError::UnknownAuthPlugin { .. },
        ) => ProbeFailure::Auth,
        Error::Driver(DriverError::NoClientSslFlagFromServer) => ProbeFailure::Tls,
        Error::Driver(_) => {
            if find_source::<rustls::Error>(e).is_some() {
                ProbeFailure::Tls
            } else if let Some(io) = find_io(e) {
                from_io(io)
            } else {
                ProbeFailure::Protocol
            }
        }
    };
    Failure::new(reason, detail)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use patchbay_app::ports::{ConnectivityTester, ProbeOutcome};
    use patchbay_domain::CredentialType;

    use super::*;
    use crate::drivers::test_support::{closed_port, prober, request, secret};

    fn failed(reason: ProbeFailure) -> ProbeOutcome {
        ProbeOutcome::Failed {
            reason,
            driver: "mysql_async",
        }
    }

    fn mysql(host: &str, port: u16) -> ProbeRequest {
        let mut req = request(CredentialType::Mysql, host, port);
        req.login = Some("u".into());
        req
    }

    #[test]
    fn sslmodes_parse() {
        assert!(ssl_opts(None).unwrap().is_none());
        assert!(ssl_opts(Some("require")).unwrap().is_some());
        assert!(ssl_opts(Some("verify-full")).unwrap().is_some());
        assert!(ssl_opts(Some("prefer")).is_err());
    }

    #[test]
    fn access_denied_is_auth() {
        let e = mysql_async::Error::Server(mysql_async::ServerError {
            code: 1045,
            message: "Access denied for user 'u'@'localhost' (using password: YES)".into(),
            state: "28000".into(),
        });
        assert_eq!(map_error(&e, "h", 1).reason, ProbeFailure::Auth);
    }

    #[tokio::test]
    async fn refused_blocked_and_misconfigured() {
        let t = prober(true);
        assert_eq!(
            t.test(mysql("127.0.0.1", closed_port())).await,
            failed(ProbeFailure::Refused)
        );
        assert_eq!(
            t.test(mysql("[::]", 3306)).await,
            failed(ProbeFailure::Blocked)
        );
        let mut req = mysql("127.0.0.1", 3306);
        req.login = None;
        assert_eq!(t.test(req).await, failed(ProbeFailure::Protocol));
        let mut req = mysql("127.0.0.1", 3306);
        req.extra = secret(r#"{"sslmode": 1}"#);
        assert_eq!(t.test(req).await, failed(ProbeFailure::Protocol));
    }
}
