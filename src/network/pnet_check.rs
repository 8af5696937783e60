//! Telling a swarm key mismatch from other failures. libp2p's pnet layer
//! exchanges 24-byte nonces in the clear, then XSalsa20-encrypts everything
//! with the pre-shared key; peers with different keys (or one without any)
//! read each other's bytes as noise, and the failure would surface as a
//! broken protocol negotiation or a reset connection.
//!
//! But the first bytes either side receives after the nonces are known:
//! every libp2p connection starts with the multistream-select header
//! (`\x13/multistream/1.0.0\n`), sent by the dialer at once and by the
//! listener as its first answer. [`KeyCheck`] compares the first bytes it
//! decrypts with that header: a mismatch is a different key, beyond
//! doubt (a chance match of 20 bytes is 2^-160). A peer that closes the
//! connection before sending a single byte after the nonces is one whose
//! own check failed (it read our bytes as noise) or that has no pnet layer
//! at all: that is reported as a mismatch too, on the dialer's side.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{AsyncRead, AsyncWrite};

/// What every libp2p connection sends first: multistream-select's header,
/// length-prefixed.
const HEADER: &[u8] = b"\x13/multistream/1.0.0\n";

/// A swarm key mismatch, found on a private network's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyMismatch {
    /// The peer's bytes do not decrypt with our key.
    #[error(
        "swarm key mismatch: the peer's bytes do not decrypt with this network's swarm key (it uses another key, or none)"
    )]
    Garbled,
    /// The peer closed the connection before answering.
    #[error(
        "swarm key mismatch: the peer closed the connection in the private network handshake (it uses another swarm key, or none)"
    )]
    Closed,
}

impl KeyMismatch {
    fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// The mismatch in `e`, if `e` (or an I/O error inside its chain) is one.
    pub fn find(e: &(dyn std::error::Error + 'static)) -> Option<KeyMismatch> {
        let mut next = Some(e);
        while let Some(err) = next {
            if let Some(m) = err.downcast_ref::<KeyMismatch>() {
                return Some(*m);
            }
            // io::Error's `source` skips the error it wraps: look inside.
            next = match err.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => err.source(),
            };
        }
        None
    }
}

/// Maps a failed pnet handshake: a peer that hung up during the nonce
/// exchange has no pnet layer (or dropped us at once); anything else stays
/// as it was.
pub fn handshake_error(e: libp2p::pnet::PnetError) -> io::Error {
    match e {
        libp2p::pnet::PnetError::HandshakeError(io)
            if matches!(
                io.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
            ) =>
        {
            KeyMismatch::Closed.into_io()
        }
        libp2p::pnet::PnetError::HandshakeError(io) | libp2p::pnet::PnetError::IoError(io) => io,
    }
}

/// A pnet connection whose first decrypted bytes are checked; see the
/// module docs.
#[derive(Debug)]
pub struct KeyCheck<S> {
    inner: S,
    /// How many of [`HEADER`]'s bytes have been seen, and matched.
    seen: usize,
}

impl<S> KeyCheck<S> {
    /// Checks the connection `inner` (already through the pnet handshake).
    pub fn new(inner: S) -> Self {
        KeyCheck { inner, seen: 0 }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for KeyCheck<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if this.seen >= HEADER.len() {
            return result;
        }
        match result {
            Poll::Ready(Ok(0)) if this.seen == 0 => Poll::Ready(Err(KeyMismatch::Closed.into_io())),
            Poll::Ready(Err(e)) if this.seen == 0 && e.kind() == io::ErrorKind::ConnectionReset => {
                Poll::Ready(Err(KeyMismatch::Closed.into_io()))
            }
            Poll::Ready(Ok(n)) => {
                let expected = &HEADER[this.seen..];
                let k = n.min(expected.len());
                if buf[..k] != expected[..k] {
                    return Poll::Ready(Err(KeyMismatch::Garbled.into_io()));
                }
                this.seen += k;
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }
}

impl<S> KeyCheck<S> {
    /// A write refused before the peer answered anything: the peer hung up
    /// on our first bytes (its key check failed, or it has no pnet layer).
    fn on_write<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(Err(e))
                if self.seen == 0
                    && matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                    ) =>
            {
                Poll::Ready(Err(KeyMismatch::Closed.into_io()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for KeyCheck<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.on_write(result)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.on_write(result)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_close(cx);
        self.on_write(result)
    }
}

#[cfg(test)]
mod tests {
    use futures::AsyncReadExt;

    use super::*;

    fn read_all(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut check = KeyCheck::new(futures::io::Cursor::new(bytes.to_vec()));
        let mut out = vec![0; 64];
        let n = futures::executor::block_on(check.read(&mut out))?;
        out.truncate(n);
        Ok(out)
    }

    #[test]
    fn the_header_passes_and_anything_else_is_a_mismatch() {
        let mut good = HEADER.to_vec();
        good.extend_from_slice(b"\x07/noise\n");
        assert_eq!(read_all(&good).unwrap(), good);
        let e = read_all(b"\x13/multistrexm").unwrap_err();
        assert_eq!(KeyMismatch::find(&e), Some(KeyMismatch::Garbled));
        let e = read_all(b"").unwrap_err();
        assert_eq!(KeyMismatch::find(&e), Some(KeyMismatch::Closed));
        let wrapped = io::Error::other(e);
        assert_eq!(KeyMismatch::find(&wrapped), Some(KeyMismatch::Closed));
    }
}
