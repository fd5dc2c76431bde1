//! The postgres driver: tokio-postgres over a TCP stream this crate opened
//! to the checked address (`Config::connect_raw`), so the library never
//! resolves a name. Runs the startup handshake — including SCRAM-SHA-256,
//! md5 or cleartext auth, whichever the server asks for — then `SELECT 1`.
//!
//! `sslmode` comes from `extra` (`{"sslmode": "require"}`), libpq's names:
//! `disable`; `prefer` (the default, as libpq: TLS when the server offers
//! it, certificate not checked); `require` (TLS, certificate not checked);
//! `verify-ca` (TLS, chain checked against the Mozilla roots); `verify-full`
//! (chain and host name). The database is `schema`, default `postgres`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use patchbay_app::ports::{ExposeSecret, ProbeFailure, ProbeRequest};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::{ChannelBinding, TlsConnect};

use crate::Context;
use crate::extra::Extra;
use crate::failure::{Failure, chain, find_io, find_source, from_io};
use crate::net::{self, Trace};
use crate::tls::{self, Verify};

pub(crate) async fn probe(
    ctx: &Context,
    request: &ProbeRequest,
    trace: &Trace,
) -> Result<(), Failure> {
    let (host, port) = super::host_port(request)?;
    let extra = Extra::parse(request.extra.as_ref())?;
    let (mode, verify) = ssl_mode(extra.str("sslmode")?)?;
    drop(extra);
    let login = request
        .login
        .as_deref()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| Failure::config("login is required"))?;

    let mut config = tokio_postgres::Config::new();
    config
        .user(login)
        .dbname(
            request
                .schema
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or("postgres"),
        )
        .application_name("patchbay-probe")
        .ssl_mode(mode);
    if let Some(password) = &request.password {
        config.password(password.expose_secret());
    }
    let connector = Tls(match verify {
        Some(verify) => Some((
            ctx.tls
                .get(verify)
                .map_err(|e| Failure::new(ProbeFailure::Tls, e))?,
            tls::server_name(host).map_err(Failure::config)?,
        )),
        None => None,
    });

    let addrs = crate::guard::resolve(&ctx.policy, host, port).await?;
    let (stream, addr) = net::connect(&addrs, trace).await?;
    trace.stage("handshake");
    let (client, connection) = config
        .connect_raw(stream, connector)
        .await
        .map_err(|e| map_error(&e, addr))?;
    // The connection future does the I/O; drive it beside the query.
    let connection = tokio::spawn(connection);
    trace.stage("query");
    let result = client
        .simple_query("SELECT 1")
        .await
        .map(|_| ())
        .map_err(|e| map_error(&e, addr));
    drop(client);
    let _ = connection.await;
    result
}

/// Reads `sslmode`: the mode tokio-postgres negotiates and how much of the
/// certificate to check (`None` for `disable`).
fn ssl_mode(raw: Option<&str>) -> Result<(SslMode, Option<Verify>), Failure> {
    match raw.map(str::trim).unwrap_or("prefer") {
        "disable" => Ok((SslMode::Disable, None)),
        "prefer" | "allow" => Ok((SslMode::Prefer, Some(Verify::Nothing))),
        "require" => Ok((SslMode::Require, Some(Verify::Nothing))),
        "verify-ca" => Ok((SslMode::Require, Some(Verify::ChainOnly))),
        "verify-full" => Ok((SslMode::Require, Some(Verify::Full))),
        _ => Err(Failure::config(
            "extra.sslmode must be one of disable, prefer, require, verify-ca, verify-full",
        )),
    }
}

/// Maps a tokio-postgres error; the detail holds the server's message
/// (never the password: PostgreSQL does not echo it).
fn map_error(e: &tokio_postgres::Error, addr: std::net::SocketAddr) -> Failure {
    let detail = format!("{addr}: {}", chain(e));
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let reason = if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            || *code == SqlState::INSUFFICIENT_PRIVILEGE
        {
            ProbeFailure::Auth
        } else {
            ProbeFailure::Protocol
        };
        return Failure::new(reason, format!("{detail} (SQLSTATE {})", code.code()));
    }
    if find_source::<rustls::Error>(e).is_some() {
        return Failure::new(ProbeFailure::Tls, detail);
    }
    // tokio-postgres keeps its error kinds private; its Display names them.
    let top = e.to_string();
    let reason = if top.starts_with("error performing TLS handshake") {
        ProbeFailure::Tls
    } else if top.starts_with("authentication error") || detail.contains("password missing") {
        ProbeFailure::Auth
    } else if let Some(io) = find_io(e) {
        from_io(io)
    } else {
        ProbeFailure::Protocol
    };
    Failure::new(reason, detail)
}

/// A tokio-postgres [`TlsConnect`] on tokio-rustls, for the stream this
/// driver opened: the configuration and the name to verify, or `None` for
/// `sslmode=disable`.
struct Tls(Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>);

type TlsFuture = Pin<Box<dyn Future<Output = io::Result<TlsStream>> + Send>>;

impl TlsConnect<TcpStream> for Tls {
    type Stream = TlsStream;
    type Error = io::Error;
    type Future = TlsFuture;

    fn connect(self, stream: TcpStream) -> Self::Future {
        Box::pin(async move {
            let (config, server_name) = self
                .0
                .ok_or_else(|| io::Error::other("TLS is disabled (sslmode=disable)"))?;
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(server_name, stream)
                .await?;
            Ok(TlsStream(stream))
        })
    }
}

/// The encrypted stream handed to tokio-postgres. No channel binding is
/// offered, so SCRAM-SHA-256 (not `-PLUS`) runs over TLS too.
struct TlsStream(tokio_rustls::client::TlsStream<TcpStream>);

impl tokio_postgres::tls::TlsStream for TlsStream {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
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
            driver: "tokio-postgres",
        }
    }

    #[test]
    fn sslmodes_parse_as_libpq_names_them() {
        assert_eq!(
            ssl_mode(None).unwrap(),
            (SslMode::Prefer, Some(Verify::Nothing))
        );
        assert_eq!(ssl_mode(Some("disable")).unwrap(), (SslMode::Disable, None));
        assert_eq!(
            ssl_mode(Some("verify-full")).unwrap(),
            (SslMode::Require, Some(Verify::Full))
        );
        assert_eq!(
            ssl_mode(Some("verify-ca")).unwrap(),
            (SslMode::Require, Some(Verify::ChainOnly))
        );
        assert!(ssl_mode(Some("bogus")).is_err());
    }

    #[tokio::test]
    async fn refused_blocked_and_misconfigured() {
        let mut req = request(CredentialType::Postgres, "127.0.0.1", closed_port());
        req.login = Some("u".into());
        assert_eq!(prober(true).test(req).await, failed(ProbeFailure::Refused));

        let mut req = request(CredentialType::Postgres, "0.0.0.0", 5432);
        req.login = Some("u".into());
        assert_eq!(prober(true).test(req).await, failed(ProbeFailure::Blocked));

        let mut req = request(CredentialType::Postgres, "127.0.0.1", 5432);
        req.login = Some("u".into());
        req.extra = secret(r#"{"sslmode": "sometimes"}"#);
        assert_eq!(prober(true).test(req).await, failed(ProbeFailure::Protocol));

        let req = request(CredentialType::Postgres, "127.0.0.1", 5432);
        assert_eq!(prober(true).test(req).await, failed(ProbeFailure::Protocol));
    }

    #[tokio::test]
    async fn a_peer_that_hangs_up_is_a_protocol_failure() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                drop(socket);
            }
        });
        let mut req = request(CredentialType::Postgres, "127.0.0.1", port);
        req.login = Some("u".into());
        req.extra = secret(r#"{"sslmode": "disable"}"#);
        assert_eq!(prober(true).test(req).await, failed(ProbeFailure::Protocol));
    }
}
