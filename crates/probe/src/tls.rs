//! TLS client configurations for the drivers, all on rustls with the `ring`
//! provider (no aws-lc, no OpenSSL): one that verifies the chain against
//! the Mozilla roots (`webpki-roots`) and the host name, one that verifies
//! the chain only (PostgreSQL `verify-ca`), and one that encrypts without
//! verifying the peer (PostgreSQL `prefer`/`require`, as libpq does when no
//! root certificate is configured). Built once per [`crate::Prober`].

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How much of the peer's certificate a driver checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Chain to a trusted root and the host name (`verify-full`, HTTPS).
    Full,
    /// Chain to a trusted root, any name (`verify-ca`).
    ChainOnly,
    /// Encrypt, check nothing about the certificate (`require`, `prefer`).
    Nothing,
}

/// The three client configurations, or why they could not be built.
#[derive(Debug, Clone)]
pub(crate) struct TlsConfigs {
    full: Result<Arc<ClientConfig>, String>,
    chain_only: Result<Arc<ClientConfig>, String>,
    nothing: Result<Arc<ClientConfig>, String>,
}

impl TlsConfigs {
    /// Builds the configurations (cheap; done once per prober).
    pub(crate) fn new() -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = Arc::new(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| format!("cannot build the certificate verifier: {e}"));
        let full = webpki
            .clone()
            .and_then(|v| build(&provider, v as Arc<dyn ServerCertVerifier>));
        let chain_only = webpki.and_then(|inner| {
            build(
                &provider,
                Arc::new(ChainOnly { inner }) as Arc<dyn ServerCertVerifier>,
            )
        });
        let nothing = build(
            &provider,
            Arc::new(NoVerification {
                algorithms: provider.signature_verification_algorithms,
            }),
        );
        Self {
            full,
            chain_only,
            nothing,
        }
    }

    /// The configuration for `verify`.
    ///
    /// # Errors
    /// The (logged) reason it could not be built — in practice never with
    /// the `ring` provider.
    pub(crate) fn get(&self, verify: Verify) -> Result<Arc<ClientConfig>, String> {
        match verify {
            Verify::Full => self.full.clone(),
            Verify::ChainOnly => self.chain_only.clone(),
            Verify::Nothing => self.nothing.clone(),
        }
    }
}

fn build(
    provider: &Arc<CryptoProvider>,
    verifier: Arc<dyn ServerCertVerifier>,
) -> Result<Arc<ClientConfig>, String> {
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot build a TLS configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The server name to present and verify: the host as configured (a DNS
/// name or an IP literal), never the resolved address.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(crate::guard::bare_host(host).to_owned())
        .map_err(|_| format!("'{host}' is not a valid TLS server name"))
}

/// `verify-ca`: the chain must verify; a name mismatch is accepted.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError as C;
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                C::NotValidForName | C::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `require`/`prefer`: any certificate; the handshake signatures are still
/// checked, so the session is at least bound to the certificate shown.
#[derive(Debug)]
struct NoVerification {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_configurations_build_on_ring() {
        let configs = TlsConfigs::new();
        for verify in [Verify::Full, Verify::ChainOnly, Verify::Nothing] {
            assert!(configs.get(verify).is_ok(), "{verify:?}");
        }
        assert!(server_name("db.example").is_ok());
        assert!(server_name("[::1]").is_ok());
        assert!(server_name("bad name").is_err());
    }
}
