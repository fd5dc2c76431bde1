//! The sftp driver: russh (on `ring`) over a TCP stream this crate opened
//! to the checked address. SSH handshake, then auth — the private key from
//! `extra` if given (OpenSSH, PEM or PuTTY format, optional
//! `private_key_passphrase`), else (or when the key is refused) `password`
//! — then a session channel, the `sftp` subsystem, and the SFTP version
//! exchange (`SSH_FXP_INIT` → `SSH_FXP_VERSION`, draft-ietf-secsh-filexfer
//! §4). Success means a working SFTP server accepted the credentials.
//!
//! Host key: when `extra.host_key_sha256` pins one (OpenSSH's
//! `SHA256:<base64>` fingerprint, bare base64, or 64 hex digits), any other
//! key fails with `tls`, before credentials are sent. Without a pin any
//! host key is accepted: the test proves reachability and credentials, not
//! the server's identity.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use patchbay_app::ports::{ExposeSecret, ProbeFailure, ProbeRequest};
use russh::client::{AuthResult, Handle, Handler};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect};

use crate::Context;
use crate::extra::Extra;
use crate::failure::{Failure, chain, from_io};
use crate::net::{self, Trace};

/// `SSH_FXP_INIT` (type 1) asking for protocol version 3, length-prefixed.
const FXP_INIT_V3: [u8; 9] = [0, 0, 0, 5, 1, 0, 0, 0, 3];
/// `SSH_FXP_VERSION`.
const FXP_VERSION: u8 = 2;

pub(crate) async fn probe(
    ctx: &Context,
    request: &ProbeRequest,
    trace: &Trace,
) -> Result<(), Failure> {
    let (host, port) = super::host_port(request)?;
    let login = request
        .login
        .as_deref()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| Failure::config("login is required"))?
        .to_owned();
    let extra = Extra::parse(request.extra.as_ref())?;
    let pin = extra.str("host_key_sha256")?.map(parse_pin).transpose()?;
    let key = match extra.str("private_key")? {
        Some(pem) if !pem.trim().is_empty() => {
            Some(decode_key(pem, extra.str("private_key_passphrase")?)?)
        }
        _ => None,
    };
    drop(extra);
    if key.is_none() && request.password.is_none() {
        return Err(Failure::config("password or extra.private_key is required"));
    }

    let addrs = crate::guard::resolve(&ctx.policy, host, port).await?;
    let (stream, addr) = net::connect(&addrs, trace).await?;
    trace.stage("handshake");
    let seen = Arc::new(Mutex::new(None));
    let handler = HostKey {
        pin,
        seen: seen.clone(),
    };
    let config = Arc::new(russh::client::Config {
        inactivity_timeout: None,
        nodelay: true,
        ..russh::client::Config::default()
    });
    let mut session = russh::client::connect_stream(config, stream, handler)
        .await
        .map_err(|e| map_error(&e, addr, &seen))?;

    trace.stage("auth");
    let result = authenticate(&mut session, &login, key, request)
        .await
        .map_err(|e| map_error(&e, addr, &seen));
    let result = match result {
        Ok(true) => {
            trace.stage("sftp");
            open_sftp(&session)
                .await
                .map_err(|f| Failure::new(f.reason, format!("{addr}: {}", f.detail)))
        }
        Ok(false) => Err(Failure::new(
            ProbeFailure::Auth,
            format!("{addr}: the server refused the credentials for user {login:?}"),
        )),
        Err(f) => Err(f),
    };
    let _ = session
        .disconnect(Disconnect::ByApplication, "", "en")
        .await;
    result
}

/// Tries the key, then the password. `Ok(false)` when both are refused.
async fn authenticate(
    session: &mut Handle<HostKey>,
    login: &str,
    key: Option<russh::keys::PrivateKey>,
    request: &ProbeRequest,
) -> Result<bool, russh::Error> {
    if let Some(key) = key {
        let hash = if key.algorithm().is_rsa() {
            session.best_supported_rsa_hash().await?.flatten()
        } else {
            None
        };
        let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
        if matches!(
            session.authenticate_publickey(login, key).await?,
            AuthResult::Success
        ) {
            return Ok(true);
        }
    }
    if let Some(password) = &request.password {
        let result = session
            .authenticate_password(login, password.expose_secret())
            .await?;
        return Ok(matches!(result, AuthResult::Success));
    }
    Ok(false)
}

/// Opens the `sftp` subsystem and checks the server speaks SFTP.
async fn open_sftp(session: &Handle<HostKey>) -> Result<(), Failure> {
    let protocol = |detail: String| Failure::new(ProbeFailure::Protocol, detail);
    let mut channel = session
        .channel_open_session()
        .await
        .map_err(|e| protocol(format!("cannot open a session channel: {e}")))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| protocol(format!("cannot request the sftp subsystem: {e}")))?;
    loop {
        match channel.wait().await {
            Some(ChannelMsg::Success) => break,
            Some(ChannelMsg::Failure) => {
                return Err(protocol("the server refused the sftp subsystem".into()));
            }
            Some(ChannelMsg::WindowAdjusted { .. }) => {}
            Some(other) => {
                return Err(protocol(format!(
                    "unexpected answer to the sftp subsystem request: {other:?}"
                )));
            }
            None => return Err(protocol("the channel closed".into())),
        }
    }
    channel
        .data(&FXP_INIT_V3[..])
        .await
        .map_err(|e| protocol(format!("cannot send SSH_FXP_INIT: {e}")))?;
    let mut reply = Vec::new();
    while reply.len() < 5 {
        match channel.wait().await {
            Some(ChannelMsg::Data { data }) => reply.extend_from_slice(&data),
            Some(ChannelMsg::WindowAdjusted { .. } | ChannelMsg::ExtendedData { .. }) => {}
            Some(other) => {
                return Err(protocol(format!(
                    "the sftp subsystem answered {other:?} instead of SSH_FXP_VERSION"
                )));
            }
            None => return Err(protocol("the sftp channel closed".into())),
        }
    }
    let _ = channel.close().await;
    if reply[4] == FXP_VERSION {
        Ok(())
    } else {
        Err(protocol(format!(
            "the sftp subsystem answered packet type {} instead of SSH_FXP_VERSION",
            reply[4]
        )))
    }
}

/// Decodes the private key from `extra`.
fn decode_key(pem: &str, passphrase: Option<&str>) -> Result<russh::keys::PrivateKey, Failure> {
    russh::keys::decode_secret_key(pem, passphrase).map_err(|e| {
        let encrypted = matches!(e, russh::keys::Error::KeyIsEncrypted) || passphrase.is_some();
        // The error names a format problem, never key material.
        Failure::new(
            if encrypted {
                ProbeFailure::Auth
            } else {
                ProbeFailure::Protocol
            },
            format!("extra.private_key cannot be decoded: {e}"),
        )
    })
}

/// Parses a SHA-256 host-key pin into its 32 bytes.
fn parse_pin(raw: &str) -> Result<Vec<u8>, Failure> {
    let bad = || {
        Failure::config(
            "extra.host_key_sha256 must be a SHA-256 fingerprint (SHA256:<base64>, base64 or 64 hex digits)",
        )
    };
    let text = raw.trim();
    let text = text
        .strip_prefix("SHA256:")
        .or_else(|| text.strip_prefix("sha256:"))
        .unwrap_or(text);
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    let bytes = if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad())?
    } else {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| bad())?
    };
    if bytes.len() == 32 {
        Ok(bytes)
    } else {
        Err(bad())
    }
}

/// The host-key check: records the key's fingerprint and compares it with
/// the pin, if any.
#[derive(Debug)]
struct HostKey {
    pin: Option<Vec<u8>>,
    /// The fingerprint seen and whether it matched, for the log.
    seen: Arc<Mutex<Option<(String, bool)>>>,
}

impl Handler for HostKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let data = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.key_data().clone(),
            PublicKeyOrCertificate::Certificate(cert) => cert.public_key().clone(),
        };
        let fingerprint = data.fingerprint(HashAlg::Sha256);
        let ok = self
            .pin
            .as_ref()
            .is_none_or(|pin| pin.as_slice() == fingerprint.as_bytes());
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((fingerprint.to_string(), ok));
        }
        Ok(ok)
    }
}

fn map_error(
    e: &russh::Error,
    addr: std::net::SocketAddr,
    seen: &Mutex<Option<(String, bool)>>,
) -> Failure {
    use russh::Error as E;
    let seen = seen.lock().ok().and_then(|s| s.clone());
    if let Some((fingerprint, false)) = seen {
        return Failure::new(
            ProbeFailure::Tls,
            format!("{addr}: host key {fingerprint} does not match extra.host_key_sha256"),
        );
    }
    let reason = match e {
        E::IO(io) => from_io(io),
        E::UnknownKey | E::KeyChanged { .. } | E::WrongServerSig => ProbeFailure::Tls,
        E::ConnectionTimeout | E::KeepaliveTimeout | E::InactivityTimeout | E::Elapsed(_) => {
            ProbeFailure::Timeout
        }
        E::NoAuthMethod | E::UnsupportedAuthMethod | E::NotAuthenticated => ProbeFailure::Auth,
        _ => ProbeFailure::Protocol,
    };
    Failure::new(reason, format!("{addr}: {}", chain(e)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use patchbay_app::ports::{ConnectivityTester, ProbeOutcome, SecretString};
    use patchbay_domain::CredentialType;

    use super::*;
    use crate::drivers::test_support::{closed_port, prober, request, secret};

    fn failed(reason: ProbeFailure) -> ProbeOutcome {
        ProbeOutcome::Failed {
            reason,
            driver: "russh",
        }
    }

    fn sftp(host: &str, port: u16) -> ProbeRequest {
        let mut req = request(CredentialType::Sftp, host, port);
        req.login = Some("u".into());
        req.password = Some(SecretString::from("pw".to_owned()));
        req
    }

    #[test]
    fn pins_parse_in_every_usual_form() {
        let bytes: Vec<u8> = (0u8..32).collect();
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(parse_pin(&format!("SHA256:{b64}")).unwrap(), bytes);
        assert_eq!(parse_pin(&b64).unwrap(), bytes);
        assert_eq!(parse_pin(&format!("{b64}=")).unwrap(), bytes);
        assert_eq!(parse_pin(&hex).unwrap(), bytes);
        assert!(parse_pin("SHA256:short").is_err());
        assert!(parse_pin("").is_err());
    }

    #[test]
    fn undecodable_keys_are_refused_without_echoing_them() {
        let err = decode_key(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nhunter2\n-----END OPENSSH PRIVATE KEY-----\n",
            None,
        )
        .unwrap_err();
        assert_eq!(err.reason, ProbeFailure::Protocol);
        assert!(!err.detail.contains("hunter2"));
    }

    #[tokio::test]
    async fn refused_blocked_and_misconfigured() {
        let t = prober(true);
        assert_eq!(
            t.test(sftp("127.0.0.1", closed_port())).await,
            failed(ProbeFailure::Refused)
        );
        assert_eq!(
            t.test(sftp("0.0.0.0", 22)).await,
            failed(ProbeFailure::Blocked)
        );
        let mut req = sftp("127.0.0.1", 22);
        req.password = None;
        assert_eq!(t.test(req).await, failed(ProbeFailure::Protocol));
        let mut req = sftp("127.0.0.1", 22);
        req.extra = secret(r#"{"host_key_sha256": "nope"}"#);
        assert_eq!(t.test(req).await, failed(ProbeFailure::Protocol));
    }

    #[tokio::test]
    async fn a_peer_that_is_not_ssh_is_a_protocol_failure() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            }
        });
        assert_eq!(
            prober(true).test(sftp("127.0.0.1", port)).await,
            failed(ProbeFailure::Protocol)
        );
    }
}
