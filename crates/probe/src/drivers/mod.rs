//! One driver per credential type. Each speaks just enough of its protocol
//! to prove the peer is there and accepts the credentials, dials only
//! addresses the egress guard checked, and reports failures as a
//! [`Failure`] (coarse reason + log detail). None of them enforces a time
//! limit: [`crate::Prober`] runs each inside the one budget.

mod http;
mod mysql;
mod postgres;
mod s3;
mod sftp;
mod sqlite;
mod tcp;

use patchbay_app::ports::ProbeRequest;
use patchbay_domain::CredentialType;

use crate::Context;
use crate::failure::Failure;
use crate::net::Trace;

/// The name a type's driver reports (`driver` in the API's answer).
pub(crate) const fn name(conn_type: CredentialType) -> &'static str {
    match conn_type {
        CredentialType::Postgres => "tokio-postgres",
        CredentialType::Mysql => "mysql_async",
        CredentialType::Sqlite => "sqlite",
        CredentialType::Http => "reqwest",
        CredentialType::Sftp => "russh",
        CredentialType::S3 => "s3-sigv4",
        CredentialType::Generic => "tcp",
    }
}

/// Runs the driver for `request.conn_type`.
pub(crate) async fn run(
    ctx: &Context,
    request: &ProbeRequest,
    trace: &Trace,
) -> Result<(), Failure> {
    match request.conn_type {
        CredentialType::Postgres => postgres::probe(ctx, request, trace).await,
        CredentialType::Mysql => mysql::probe(ctx, request, trace).await,
        CredentialType::Sqlite => sqlite::probe(ctx, request, trace).await,
        CredentialType::Http => http::probe(ctx, request, trace).await,
        CredentialType::Sftp => sftp::probe(ctx, request, trace).await,
        CredentialType::S3 => s3::probe(ctx, request, trace).await,
        CredentialType::Generic => tcp::probe(ctx, request, trace).await,
    }
}

/// The host and port every network driver needs.
///
/// # Errors
/// A [`Failure::config`] naming the missing field.
pub(crate) fn host_port(request: &ProbeRequest) -> Result<(&str, u16), Failure> {
    let host = request
        .host
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Failure::config("host is required"))?;
    let port = request
        .port
        .filter(|p| *p != 0)
        .ok_or_else(|| Failure::config("port is required"))?;
    Ok((host, port))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod test_support {
    //! Requests and a prober for the drivers' unit tests (loopback only).

    use std::time::Duration;

    use patchbay_app::ports::{ProbeRequest, SecretString};
    use patchbay_domain::CredentialType;

    use crate::{ProbeSettings, Prober};

    /// A request of `conn_type` for `host:port`.
    pub(crate) fn request(conn_type: CredentialType, host: &str, port: u16) -> ProbeRequest {
        ProbeRequest {
            conn_type,
            host: Some(host.into()),
            port: Some(port),
            schema: None,
            login: None,
            password: None,
            extra: None,
        }
    }

    /// `extra` as the port carries it.
    pub(crate) fn secret(text: &str) -> Option<SecretString> {
        Some(SecretString::from(text.to_owned()))
    }

    /// A prober allowed to reach loopback, with a short budget.
    pub(crate) fn prober(allow_loopback: bool) -> Prober {
        Prober::new(ProbeSettings {
            timeout: Duration::from_secs(2),
            allow_loopback,
            allow_private: false,
            sqlite_roots: Vec::new(),
        })
    }

    /// A loopback port nothing listens on.
    pub(crate) fn closed_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }
}
