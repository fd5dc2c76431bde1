//! Dialling: opens a TCP connection to one of the addresses the egress
//! guard checked, never to a name. Every driver that owns its socket
//! (postgres, sftp, generic) starts here; the others pin the same addresses
//! in their client (see each driver).

use std::net::SocketAddr;
use std::sync::Mutex;

use patchbay_app::ports::ProbeFailure;
use tokio::net::TcpStream;

use crate::failure::{Failure, from_io};

/// What a running probe has done so far, kept outside the driver's future
/// so the budget enforcer can log it when it cancels the driver.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    addr: Mutex<Option<SocketAddr>>,
    stage: Mutex<&'static str>,
}

impl Trace {
    /// Records the address being dialled.
    pub(crate) fn dialling(&self, addr: SocketAddr) {
        if let Ok(mut slot) = self.addr.lock() {
            *slot = Some(addr);
        }
        self.stage("connect");
    }

    /// Records the step in progress (`resolve`, `connect`, `handshake`,
    /// `auth`, `query`, …).
    pub(crate) fn stage(&self, stage: &'static str) {
        if let Ok(mut slot) = self.stage.lock() {
            *slot = stage;
        }
    }

    /// The last address dialled, if any.
    pub(crate) fn addr(&self) -> Option<SocketAddr> {
        self.addr.lock().ok().and_then(|a| *a)
    }

    /// The step in progress when last recorded.
    pub(crate) fn current_stage(&self) -> &'static str {
        self.stage.lock().map_or("unknown", |s| *s)
    }
}

/// Connects to the first of `addrs` that accepts, in order (the resolver's
/// order), and returns the stream and the address reached.
///
/// # Errors
/// The failure of the last address tried ([`ProbeFailure::Refused`] for a
/// closed port or unreachable host); [`ProbeFailure::Protocol`] when
/// `addrs` is empty.
pub(crate) async fn connect(
    addrs: &[SocketAddr],
    trace: &Trace,
) -> Result<(TcpStream, SocketAddr), Failure> {
    let mut last = Failure::new(ProbeFailure::Protocol, "no address to dial");
    for &addr in addrs {
        trace.dialling(addr);
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, addr));
            }
            Err(e) => last = Failure::new(from_io(&e), format!("connect {addr}: {e}")),
        }
    }
    Err(last)
}
