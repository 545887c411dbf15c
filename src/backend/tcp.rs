//! The backend stub on a TCP address, for a lab bench: the DUT reaches it through a real
//! network, so the stub knows only what the report says about the IMSI it came through.
//!
//! Framing: one request per connection, a JSON report ended by a newline (or by the end of the
//! stream); the answer is one JSON line, then the stub closes the connection.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::Backend;

/// The largest request the stub reads.
const MAX_REQUEST: usize = 64 * 1024;

/// A listening stub; stops listening when dropped.
pub struct TcpBackend {
    pub backend: Backend,
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TcpBackend {
    /// Listens on `addr`. Errors name the address.
    pub async fn listen(addr: SocketAddr, backend: Backend) -> Result<TcpBackend, String> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("backend stub: cannot listen on {addr}: {e}"))?;
        let addr = listener.local_addr().unwrap_or(addr);
        let serving = backend.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, serving.clone()));
            }
        });
        Ok(TcpBackend { backend, addr, task })
    }
}

impl Drop for TcpBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(stream: tokio::net::TcpStream, backend: Backend) {
    let (rd, mut wr) = stream.into_split();
    let mut line = Vec::new();
    let mut reader = BufReader::new(tokio::io::AsyncReadExt::take(rd, MAX_REQUEST as u64));
    if reader.read_until(b'\n', &mut line).await.is_err() {
        return;
    }
    let claimed = serde_json::from_slice::<serde_json::Value>(&line)
        .ok()
        .and_then(|v| v.get("imsi").and_then(|i| i.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let mut answer = backend.handle(&claimed, &line);
    answer.push(b'\n');
    let _ = wr.write_all(&answer).await;
    let _ = wr.shutdown().await;
}

/// Sends one request to a TCP backend and returns its answer line (without the newline).
pub async fn request(addr: SocketAddr, payload: &[u8]) -> std::io::Result<Vec<u8>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (rd, mut wr) = stream.into_split();
    wr.write_all(payload).await?;
    wr.write_all(b"\n").await?;
    let mut answer = Vec::new();
    BufReader::new(rd).read_until(b'\n', &mut answer).await?;
    if answer.last() == Some(&b'\n') {
        answer.pop();
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::RigClock;

    #[tokio::test]
    async fn a_report_over_tcp_is_recorded_by_the_imsi_it_claims() {
        let stub = TcpBackend::listen("127.0.0.1:0".parse().unwrap(), Backend::new(RigClock::start()))
            .await
            .unwrap();
        let report = br#"{"type":"report","iccid":"8949020999000000116","imsi":"262029900000011","mcc":"262","site_cells":[],"rats":["lte"]}"#;
        let answer = request(stub.addr, report).await.unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(answer["type"], "vsim");
        let reports = stub.backend.reports();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].imsi, "262029900000011");
    }
}
