//! The first bytes of a client connection, read once to tell an h2c preface from HTTP/1 and
//! then handed to the protocol's parser ahead of the socket.
//!
//! hyper-util's `auto` builder does the same with a 24-byte read, so every connection cost
//! one extra `recvfrom` (the request's first 24 bytes, then the rest) and a copy of those
//! bytes; with a new connection per request that is one of three reads per request. Here
//! the first read takes what the client has sent, usually the whole request head.

use hyper::rt::{Read, ReadBuf, ReadBufCursor, Write};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The connection preface of HTTP/2 with prior knowledge (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How much the first read takes at most; a larger request head is read on by the parser.
const FIRST_READ: usize = 4096;

/// A connection whose first bytes were already read.
pub struct Head<I> {
    io: I,
    buf: Vec<u8>,
    at: usize,
}

impl<I: Read + Unpin> Head<I> {
    /// Reads until the bytes either are or cannot become the h2 preface (one read for any
    /// HTTP/1 request). `Ok(None)` when the client closed without sending anything.
    pub async fn read(mut io: I) -> io::Result<Option<(Head<I>, bool)>> {
        let mut buf = vec![0u8; FIRST_READ];
        let mut filled = 0;
        loop {
            let n = poll_fn(|cx| {
                let Some(rest) = buf.get_mut(filled..) else {
                    return Poll::Ready(Ok(0));
                };
                let mut rb = ReadBuf::new(rest);
                match Pin::new(&mut io).poll_read(cx, rb.unfilled()) {
                    Poll::Ready(Ok(())) => Poll::Ready(Ok(rb.filled().len())),
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await?;
            if n == 0 {
                break;
            }
            filled += n;
            let got = buf.get(..filled).unwrap_or_default();
            let may_be_h2 = got.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(got);
            if !may_be_h2 {
                break;
            }
        }
        if filled == 0 {
            return Ok(None);
        }
        buf.truncate(filled);
        let h2 = buf.starts_with(H2_PREFACE);
        Ok(Some((Head { io, buf, at: 0 }, h2)))
    }
}

impl<I: Read + Unpin> Read for Head<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut out: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(rest) = this.buf.get(this.at..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(out.remaining());
            if let Some(part) = rest.get(..n) {
                out.put_slice(part);
                this.at += n;
            }
            if this.at >= this.buf.len() {
                // Handed over: the connection no longer holds the buffer.
                this.buf = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, out)
    }
}

impl<I: Write + Unpin> Write for Head<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn first_bytes(sent: &[&[u8]]) -> Option<(Vec<u8>, bool)> {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let sent: Vec<Vec<u8>> = sent.iter().map(|s| s.to_vec()).collect();
        let writer = tokio::spawn(async move {
            let mut client = client;
            for s in sent {
                client.write_all(&s).await.expect("write");
                tokio::task::yield_now().await;
            }
            client.shutdown().await.expect("shutdown");
        });
        let read = Head::read(TokioIo::new(server)).await.expect("read");
        let out = match read {
            None => None,
            Some((head, h2)) => {
                let mut io = TokioIo::new(head);
                let mut all = Vec::new();
                io.read_to_end(&mut all).await.expect("read on");
                Some((all, h2))
            }
        };
        writer.await.expect("writer");
        out
    }

    #[tokio::test]
    async fn http1_bytes_come_back_whole_and_in_order() {
        let req: &[u8] = b"GET / HTTP/1.1\r\nhost: a\r\n\r\n";
        let body = vec![b'x'; 10_000];
        let got = first_bytes(&[req, &body]).await.expect("bytes");
        assert!(!got.1);
        assert_eq!(got.0, [req, &body[..]].concat());
    }

    #[tokio::test]
    async fn h2_preface_split_over_reads_is_recognised() {
        let (a, b) = H2_PREFACE.split_at(5);
        let got = first_bytes(&[a, b, b"\0\0\0\x04"]).await.expect("bytes");
        assert!(got.1);
        assert_eq!(got.0, [H2_PREFACE, b"\0\0\0\x04"].concat());
    }

    #[tokio::test]
    async fn a_short_prefix_of_the_preface_is_http1() {
        let got = first_bytes(&[b"PRI"]).await.expect("bytes");
        assert_eq!(got, (b"PRI".to_vec(), false));
        assert_eq!(first_bytes(&[]).await, None);
    }
}
