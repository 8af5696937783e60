//! Framing of DHT messages on a libp2p stream, for rust-libp2p's
//! request-response behaviour: each message is an unsigned-varint length
//! prefix followed by the protobuf bytes (the libp2p kad-dht spec).
//!
//! One request per outbound stream, one response per inbound stream, as
//! rust-libp2p's Kademlia does. ADD_PROVIDER has no response in the spec:
//! the codec remembers, per stream, that the request it wrote expects none
//! and then reads nothing.

use std::io;

use futures::prelude::*;
use libp2p::StreamProtocol;
use prost::Message as _;

use super::wire::{Message, MessageType};

/// The longest varint length prefix (10 bytes encode 64 bits).
const MAX_VARINT_BYTES: usize = 10;

/// How large an oversized request may be and still be read (and thrown
/// away) so that the refusal can be counted and logged: rust-libp2p's
/// request-response reports nothing when reading a request fails. Larger
/// ones end the stream.
const DISCARD_LIMIT: usize = 16 * 1024 * 1024;

/// Encodes and decodes [`Message`]s on request-response streams.
#[derive(Debug, Clone)]
pub struct KadCodec {
    /// The largest message accepted, in bytes (framing excluded).
    max_message: usize,
    /// Whether the request written on this stream expects a response.
    expect_response: bool,
}

impl KadCodec {
    /// A codec refusing messages over `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        KadCodec {
            max_message,
            expect_response: true,
        }
    }

    async fn read<T: AsyncRead + Unpin + Send>(&self, io: &mut T) -> io::Result<Message> {
        let len = read_varint(io).await?;
        let len = usize::try_from(len).map_err(|_| invalid("length does not fit"))?;
        self.read_body(io, len).await
    }

    /// A request: an oversized one (up to [`DISCARD_LIMIT`]) is read,
    /// thrown away and handed on as [`Message::oversized`], so the node can
    /// refuse it visibly.
    async fn read_request_body<T: AsyncRead + Unpin + Send>(
        &self,
        io: &mut T,
    ) -> io::Result<Message> {
        let len = read_varint(io).await?;
        let len = usize::try_from(len).map_err(|_| invalid("length does not fit"))?;
        if len > self.max_message && len <= DISCARD_LIMIT {
            let mut rest = (&mut *io).take(len as u64);
            let copied = futures::io::copy(&mut rest, &mut futures::io::sink()).await?;
            if copied < len as u64 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            return Ok(Message::oversized(len));
        }
        self.read_body(io, len).await
    }

    async fn read_body<T: AsyncRead + Unpin + Send>(
        &self,
        io: &mut T,
        len: usize,
    ) -> io::Result<Message> {
        if len > self.max_message {
            return Err(invalid(format!(
                "message of {len} bytes is over the limit of {} bytes",
                self.max_message
            )));
        }
        let mut buf = vec![0u8; len];
        io.read_exact(&mut buf).await?;
        Message::decode(buf.as_slice()).map_err(|e| invalid(format!("not a DHT message: {e}")))
    }

    async fn write<T: AsyncWrite + Unpin + Send>(&self, io: &mut T, m: &Message) -> io::Result<()> {
        let body = m.encode_to_vec();
        if body.len() > self.max_message {
            return Err(invalid(format!(
                "message of {} bytes is over the limit of {} bytes",
                body.len(),
                self.max_message
            )));
        }
        let mut out = Vec::with_capacity(body.len() + MAX_VARINT_BYTES);
        put_varint(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
        io.write_all(&out).await?;
        io.flush().await
    }
}

fn invalid(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

async fn read_varint<T: AsyncRead + Unpin>(io: &mut T) -> io::Result<u64> {
    let mut n: u64 = 0;
    for i in 0..MAX_VARINT_BYTES {
        let mut b = [0u8; 1];
        io.read_exact(&mut b).await?;
        let bits = u64::from(b[0] & 0x7f);
        let shift = 7 * i as u32;
        if shift == 63 && bits > 1 {
            return Err(invalid("length prefix overflows"));
        }
        n |= bits << shift;
        if b[0] & 0x80 == 0 {
            return Ok(n);
        }
    }
    Err(invalid("length prefix too long"))
}

impl libp2p::request_response::Codec for KadCodec {
    type Protocol = StreamProtocol;
    type Request = Message;
    /// `None` for requests that have no response (ADD_PROVIDER).
    type Response = Option<Message>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Message>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.read_request_body(io).await
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Option<Message>>
    where
        T: AsyncRead + Unpin + Send,
    {
        if !self.expect_response {
            return Ok(None);
        }
        self.read(io).await.map(Some)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Message,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.expect_response = req.kind() != Some(MessageType::AddProvider);
        self.write(io, &req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Option<Message>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match res {
            Some(m) => self.write(io, &m).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;
    use libp2p::request_response::Codec as _;

    const P: StreamProtocol = StreamProtocol::new("/ipfs/kad/1.0.0");

    fn block_on<F: Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn requests_and_responses_round_trip() {
        let mut c = KadCodec::new(1024);
        let m = Message::request(MessageType::GetValue, b"key".to_vec());
        let mut buf = Cursor::new(Vec::new());
        block_on(c.write_request(&P, &mut buf, m.clone())).unwrap();
        buf.set_position(0);
        assert_eq!(block_on(c.read_request(&P, &mut buf)).unwrap(), m);
        let mut buf = Cursor::new(Vec::new());
        block_on(c.write_response(&P, &mut buf, Some(m.clone()))).unwrap();
        buf.set_position(0);
        assert_eq!(block_on(c.read_response(&P, &mut buf)).unwrap(), Some(m));
    }

    #[test]
    fn add_provider_expects_no_response() {
        let mut c = KadCodec::new(1024);
        let m = Message::request(MessageType::AddProvider, b"key".to_vec());
        let mut out = Cursor::new(Vec::new());
        block_on(c.write_request(&P, &mut out, m)).unwrap();
        // Nothing to read, and nothing is read.
        let mut empty = Cursor::new(Vec::new());
        assert_eq!(block_on(c.read_response(&P, &mut empty)).unwrap(), None);
    }

    #[test]
    fn oversized_and_garbage_messages_are_errors() {
        let mut c = KadCodec::new(8);
        let m = Message::request(MessageType::GetValue, vec![7; 64]);
        let mut out = Cursor::new(Vec::new());
        assert!(block_on(c.write_request(&P, &mut out, m.clone())).is_err());
        let mut big = Cursor::new(Vec::new());
        block_on(KadCodec::new(1024).write_request(&P, &mut big, m.clone())).unwrap();
        big.set_position(0);
        // A request too large is read whole and handed on as oversized.
        let r = block_on(c.read_request(&P, &mut big)).unwrap();
        assert_eq!(r.oversized_len(), Some(big.get_ref().len() - 1));
        // A response too large is an error.
        let mut big = Cursor::new(Vec::new());
        block_on(KadCodec::new(1024).write_response(&P, &mut big, Some(m))).unwrap();
        big.set_position(0);
        let e = block_on(c.read_response(&P, &mut big)).unwrap_err();
        assert!(e.to_string().contains("over the limit"), "{e}");
        let mut junk = Cursor::new(vec![0xff; 12]);
        assert!(block_on(c.read_request(&P, &mut junk)).is_err());
        let mut truncated = Cursor::new(vec![5, 1, 2]);
        assert!(block_on(c.read_request(&P, &mut truncated)).is_err());
    }
}
