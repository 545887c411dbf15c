//! Serving virtual cards to pcscd's vpcd driver in *reversed* mode: each card listens on
//! 127.0.0.1 and vpcd connects to it, so nothing listens beyond loopback.
//!
//! Wire protocol (both directions): `u16 big-endian length | payload`. From vpcd a 1-byte
//! payload is a control (00 power off, 01 power on, 02 reset, 04 get ATR); anything longer is
//! a command APDU. The card answers get-ATR and APDUs only.
//!
//! vpcd checks presence by asking for the ATR. A card served here is always present: with
//! vsmartcard-vpcd 3.3 and pcscd 1.9.9 (Debian 12), a card that answers "absent" or hangs up
//! makes vpcd select() on a closed socket and pcscd abort ("bit out of range 0 - FD_SETSIZE"),
//! and a card that stops answering hangs the reader, since vpcd has no receive timeout. Pulled,
//! mute and broken cards are therefore the APDU bridge's business, on the modem's side, exactly
//! as on a lab bench.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A card as vpcd drives it.
pub trait VirtualCard: Send {
    fn atr(&self) -> Vec<u8>;
    fn power_on(&mut self);
    fn power_off(&mut self);
    fn reset(&mut self);
    /// One command APDU in, response data and status word out.
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8>;
}

const CTRL_OFF: u8 = 0x00;
const CTRL_ON: u8 = 0x01;
const CTRL_RESET: u8 = 0x02;
const CTRL_ATR: u8 = 0x04;

/// One reader slot of vpcd and the card in it, shared with whoever wants to look at the card.
#[derive(Clone)]
pub struct CardSlot {
    card: Arc<Mutex<Box<dyn VirtualCard>>>,
}

impl CardSlot {
    pub fn new(card: Box<dyn VirtualCard>) -> CardSlot {
        CardSlot { card: Arc::new(Mutex::new(card)) }
    }

    /// Runs `f` on the card (`None` if a previous user panicked while holding it).
    pub fn with<R>(&self, f: impl FnOnce(&mut dyn VirtualCard) -> R) -> Option<R> {
        let mut guard = self.card.lock().ok()?;
        Some(f(guard.as_mut()))
    }

    /// Seats another card in this reader slot (vpcd still sees a card present).
    pub fn replace(&self, card: Box<dyn VirtualCard>) {
        match self.card.lock() {
            Ok(mut guard) => *guard = card,
            Err(poisoned) => *poisoned.into_inner() = card,
        }
    }
}

/// Fills the second slot of a vpcd reader entry when the number of cards is odd: vpcd needs a
/// present card on both ports. It answers every command "instruction not supported".
pub struct SpareCard;

impl VirtualCard for SpareCard {
    fn atr(&self) -> Vec<u8> {
        // Direct convention, T=0, no historical bytes.
        vec![0x3B, 0x00]
    }
    fn power_on(&mut self) {}
    fn power_off(&mut self) {}
    fn reset(&mut self) {}
    fn transmit(&mut self, _apdu: &[u8]) -> Vec<u8> {
        vec![0x6D, 0x00]
    }
}

/// A card listening for vpcd on a loopback port, until dropped.
pub struct CardServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CardServer {
    /// Serves `slot` on `listener` (already bound to 127.0.0.1).
    pub fn start(listener: TcpListener, slot: CardSlot) -> io::Result<CardServer> {
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("vpcd-card-{port}"))
            .spawn(move || serve(listener, slot, thread_stop))?;
        Ok(CardServer { port, stop, thread: Some(thread) })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for CardServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept() so the thread sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: TcpListener, slot: CardSlot, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        // One vpcd connection at a time; it ends when vpcd hangs up or the card is pulled.
        let _ = session(stream, &slot, &stop);
    }
}

fn session(mut stream: TcpStream, slot: &CardSlot, stop: &AtomicBool) -> io::Result<()> {
    loop {
        let message = read_message(&mut stream)?;
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        match message.as_slice() {
            [CTRL_OFF] => {
                slot.with(|c| c.power_off());
            }
            [CTRL_ON] => {
                slot.with(|c| c.power_on());
            }
            [CTRL_RESET] => {
                slot.with(|c| c.reset());
            }
            [CTRL_ATR] => {
                let atr = slot.with(|c| c.atr()).unwrap_or_default();
                write_message(&mut stream, &atr)?;
            }
            [_] => {} // unknown control: ignore, like vicc does
            apdu => {
                let response = slot.with(|c| c.transmit(apdu)).unwrap_or_else(|| vec![0x6F, 0x00]);
                write_message(&mut stream, &response)?;
            }
        }
    }
}

fn read_message(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    quick_ack(stream);
    stream.read_exact(&mut len)?;
    // vpcd writes the length and the payload separately with Nagle on: the payload waits
    // for our ACK of the length, which Linux would delay by 40 ms. Acknowledge at once.
    quick_ack(stream);
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload)?;
    Ok(payload)
}

/// Turns on TCP_QUICKACK, which Linux clears again after a while, so it is set per read.
fn quick_ack(stream: &TcpStream) {
    // Best effort: without it a transmit may wait 40 ms for a delayed ACK, never fail.
    let _ = rustix::net::sockopt::set_tcp_quickack(stream, true);
}

fn write_message(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len =
        u16::try_from(payload.len()).map_err(|_| io::Error::other("message longer than 65535 bytes"))?;
    let mut buf = Vec::with_capacity(payload.len() + 2);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(payload);
    stream.write_all(&buf)
}

/// Two listeners on consecutive loopback ports P and P+1, as one vpcd reader entry needs.
pub fn bind_port_pair() -> io::Result<(TcpListener, TcpListener)> {
    for _ in 0..64 {
        let first = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = first.local_addr()?.port();
        if port == u16::MAX {
            continue;
        }
        if let Ok(second) = TcpListener::bind((Ipv4Addr::LOCALHOST, port + 1)) {
            return Ok((first, second));
        }
    }
    Err(io::Error::new(io::ErrorKind::AddrInUse, "no two consecutive free loopback ports found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;
    impl VirtualCard for Echo {
        fn atr(&self) -> Vec<u8> {
            vec![0x3B, 0x00]
        }
        fn power_on(&mut self) {}
        fn power_off(&mut self) {}
        fn reset(&mut self) {}
        fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
            [apdu, &[0x90, 0x00]].concat()
        }
    }

    #[test]
    fn port_pairs_are_consecutive_and_on_loopback_only() {
        let (a, b) = bind_port_pair().unwrap();
        let (a, b) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        assert!(a.ip().is_loopback() && b.ip().is_loopback());
        assert_eq!(a.port() + 1, b.port());
    }

    #[test]
    fn speaks_the_vpcd_protocol_as_vpcd_expects() {
        let (listener, _) = bind_port_pair().unwrap();
        let server = CardServer::start(listener, CardSlot::new(Box::new(Echo))).unwrap();
        let mut vpcd = TcpStream::connect((Ipv4Addr::LOCALHOST, server.port())).unwrap();
        // Power on: no answer. Get ATR: the ATR. An APDU: its answer.
        vpcd.write_all(&[0, 1, CTRL_ON, 0, 1, CTRL_ATR]).unwrap();
        assert_eq!(read_message(&mut vpcd).unwrap(), vec![0x3B, 0x00]);
        vpcd.write_all(&[0, 4, 0x00, 0xA4, 0x00, 0x00]).unwrap();
        assert_eq!(read_message(&mut vpcd).unwrap(), vec![0x00, 0xA4, 0x00, 0x00, 0x90, 0x00]);
    }
}
