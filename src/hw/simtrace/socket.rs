//! SIMtrace2 framing over a Unix domain socket: the virtual bench's simulated modem speaks
//! it in place of a USB board. A socket is a byte stream, so reads go through the same
//! [`Decoder`] as USB packets; there is no interrupt endpoint, status frames arrive inline.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};

use super::codec::{Decoder, Frame, MAX_FRAME_LEN};
use super::transport::{CardemTransport, TransportError};

/// One card-emulation channel over a connected Unix socket.
#[derive(Debug)]
pub struct SocketTransport {
    device: String,
    reader: OwnedReadHalf,
    writer: OwnedWriteHalf,
    decoder: Decoder,
    buf: Vec<u8>,
}

impl SocketTransport {
    /// Connects to a [`SocketListener`] (or the simulated modem) at `path`.
    pub async fn connect(path: impl AsRef<Path>) -> Result<SocketTransport, TransportError> {
        let path = path.as_ref();
        let stream = UnixStream::connect(path).await.map_err(|e| connect_error(path, e))?;
        Ok(SocketTransport::named(stream, socket_name(path)))
    }

    /// Wraps an already connected stream (one end of `UnixStream::pair()`, say).
    pub fn from_stream(stream: UnixStream) -> SocketTransport {
        let path = stream.peer_addr().ok().and_then(|a| a.as_pathname().map(Path::to_path_buf));
        let path = path.or_else(|| stream.local_addr().ok()?.as_pathname().map(Path::to_path_buf));
        let name = path.map_or_else(|| "unnamed unix socket".to_owned(), |p| socket_name(&p));
        SocketTransport::named(stream, name)
    }

    fn named(stream: UnixStream, device: String) -> SocketTransport {
        let (reader, writer) = stream.into_split();
        SocketTransport { device, reader, writer, decoder: Decoder::new(), buf: vec![0; MAX_FRAME_LEN] }
    }

    /// What error messages call this channel.
    pub fn device(&self) -> &str {
        &self.device
    }

    fn io_error(&self, source: io::Error) -> TransportError {
        match source.kind() {
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                TransportError::Closed { device: self.device.clone() }
            }
            _ => TransportError::Io { device: self.device.clone(), source },
        }
    }
}

impl CardemTransport for SocketTransport {
    async fn send(&mut self, frame: &Frame) -> Result<(), TransportError> {
        let bytes = frame
            .try_encode()
            .map_err(|source| TransportError::Codec { device: self.device.clone(), source })?;
        self.writer.write_all(&bytes).await.map_err(|e| self.io_error(e))
    }

    async fn recv(&mut self) -> Result<Frame, TransportError> {
        loop {
            if let Some(result) = self.decoder.pop() {
                return result
                    .map_err(|source| TransportError::Codec { device: self.device.clone(), source });
            }
            // `read` is cancel-safe and bytes only enter the decoder once read, so a dropped
            // recv() loses nothing.
            let n = self.reader.read(&mut self.buf).await.map_err(|e| self.io_error(e))?;
            if n == 0 {
                if self.decoder.buffered() > 0 {
                    tracing::warn!(device = %self.device, bytes = self.decoder.buffered(), "socket closed mid-frame");
                }
                return Err(TransportError::Closed { device: self.device.clone() });
            }
            self.decoder.push(&self.buf[..n]);
        }
    }
}

/// A listening Unix socket handing out one [`SocketTransport`] per connection. The socket
/// file is removed when the listener is dropped.
#[derive(Debug)]
pub struct SocketListener {
    listener: UnixListener,
    path: PathBuf,
}

impl SocketListener {
    /// Binds `path`. A stale socket file left by a crashed run (nobody accepts on it) is
    /// replaced; a live one is an error. Must be called inside a tokio runtime, like
    /// `tokio::net::UnixListener::bind`.
    pub fn bind(path: impl AsRef<Path>) -> Result<SocketListener, TransportError> {
        let path = path.as_ref().to_path_buf();
        let listener = match UnixListener::bind(&path) {
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && is_stale_socket(&path) => {
                std::fs::remove_file(&path).map_err(|e| bind_error(&path, e))?;
                UnixListener::bind(&path)
            }
            other => other,
        }
        .map_err(|e| bind_error(&path, e))?;
        Ok(SocketListener { listener, path })
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> Result<SocketTransport, TransportError> {
        let (stream, _) = self
            .listener
            .accept()
            .await
            .map_err(|source| TransportError::Io { device: socket_name(&self.path), source })?;
        Ok(SocketTransport::named(stream, socket_name(&self.path)))
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketListener {
    fn drop(&mut self) {
        // Only our own socket file: a later bind of the same path by someone else would have
        // failed while we held it.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn socket_name(path: &Path) -> String {
    format!("SIMtrace2 socket {}", path.display())
}

/// A socket file nobody accepts on: connecting is refused.
fn is_stale_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    is_socket
        && matches!(
            std::os::unix::net::UnixStream::connect(path),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused
        )
}

fn connect_error(path: &Path, source: io::Error) -> TransportError {
    let device = socket_name(path);
    match source.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => TransportError::NotFound {
            device,
            hint: "nothing listens there; start the simulated modem first, or check the socket path in the rig file"
                .to_owned(),
        },
        io::ErrorKind::PermissionDenied => TransportError::Permission {
            device,
            hint: "run the rig as the user that created the socket, or fix the directory's permissions".to_owned(),
        },
        _ => TransportError::Io { device, source },
    }
}

fn bind_error(path: &Path, source: io::Error) -> TransportError {
    let device = socket_name(path);
    match source.kind() {
        io::ErrorKind::PermissionDenied => TransportError::Permission {
            device,
            hint: "choose a socket path in a directory the rig may write (e.g. its run directory)".to_owned(),
        },
        io::ErrorKind::AddrInUse => TransportError::Io {
            device,
            source: io::Error::new(
                source.kind(),
                "another process is listening there (a second rig on this bench?)",
            ),
        },
        _ => TransportError::Io { device, source },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::hw::simtrace::codec::{CemuStatus, Message, data_flags};

    fn rx(data: &[u8]) -> Frame {
        Frame::new(0, Message::RxData { flags: data_flags::TPDU_HDR, data: data.to_vec() })
    }

    #[tokio::test]
    async fn frames_cross_a_socket_pair_both_ways() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut host, mut device) = (SocketTransport::from_stream(a), SocketTransport::from_stream(b));
        let sw = Frame::new(
            0,
            Message::TxData { flags: data_flags::PB_AND_TX | data_flags::FINAL, data: vec![0x90, 0] },
        );
        host.send(&sw).await.unwrap();
        host.send(&Frame::new(0, Message::CardInsert { card_insert: 1 })).await.unwrap();
        assert_eq!(device.recv().await.unwrap(), sw);
        assert_eq!(device.recv().await.unwrap().msg, Message::CardInsert { card_insert: 1 });
        let status = Frame::new(0, Message::Status(CemuStatus { flags: 3, ..Default::default() }));
        device.send(&status).await.unwrap();
        device.send(&rx(&[0xa0, 0xa4, 0, 0, 2])).await.unwrap();
        assert_eq!(host.recv().await.unwrap(), status);
        assert_eq!(host.recv().await.unwrap(), rx(&[0xa0, 0xa4, 0, 0, 2]));
    }

    #[tokio::test]
    async fn listener_accepts_and_partial_writes_reassemble() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slot0.sock");
        let listener = SocketListener::bind(&path).unwrap();
        let connect = tokio::spawn({
            let path = path.clone();
            async move { UnixStream::connect(path).await.unwrap() }
        });
        let mut host = listener.accept().await.unwrap();
        let mut raw = connect.await.unwrap();
        assert!(host.device().contains("slot0.sock"), "{}", host.device());

        // The device writes one frame in two pieces with a pause, then two frames at once.
        let big = rx(&[0x5a; 300]);
        let bytes = big.encode();
        raw.write_all(&bytes[..37]).await.unwrap();
        let pending = tokio::time::timeout(Duration::from_millis(50), host.recv()).await;
        assert!(pending.is_err(), "a partial frame must not be returned");
        raw.write_all(&bytes[37..]).await.unwrap();
        let mut two = rx(&[1]).encode();
        two.extend(rx(&[2]).encode());
        raw.write_all(&two).await.unwrap();
        assert_eq!(host.recv().await.unwrap(), big);
        assert_eq!(host.recv().await.unwrap(), rx(&[1]));
        assert_eq!(host.recv().await.unwrap(), rx(&[2]));

        drop(raw);
        assert!(matches!(host.recv().await, Err(TransportError::Closed { .. })));
        drop(listener);
        assert!(!path.exists(), "listener removes its socket file");
    }

    #[tokio::test]
    async fn connect_to_missing_socket_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nobody.sock");
        let err = SocketTransport::connect(&path).await.unwrap_err();
        assert!(matches!(err, TransportError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("nobody.sock"), "{err}");
    }

    #[tokio::test]
    async fn stale_socket_file_is_replaced_but_live_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slot.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap()); // leaves a stale file
        let live = SocketListener::bind(&path).unwrap();
        assert!(SocketListener::bind(&path).is_err());
        let _client = SocketTransport::connect(&path).await.unwrap();
        drop(live);
    }

    #[tokio::test]
    async fn garbage_from_the_peer_is_a_codec_error_then_the_stream_recovers() {
        let (a, mut raw) = UnixStream::pair().unwrap();
        let mut host = SocketTransport::from_stream(a);
        raw.write_all(&[1, 1, 0, 0, 0, 0, 0xff, 0xff, 0xee, 0xee]).await.unwrap();
        raw.write_all(&rx(&[7]).encode()).await.unwrap();
        let err = host.recv().await.unwrap_err();
        assert!(!err.is_fatal(), "{err}");
        assert_eq!(host.recv().await.unwrap(), rx(&[7]));
    }
}
