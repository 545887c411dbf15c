//! Pseudo-terminals: the simulated modem's AT ports and the firmware's console. The other end
//! opens the slave path like any serial device (tokio-serial by path).
//!
//! The rig keeps a slave descriptor open itself, so that reading the master does not fail with
//! EIO while the client is between opens (pseudo-terminals report a closed slave that way).

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::pty::OpenptFlags;
use rustix::termios::{OptionalActions, QueueSelector};
use tokio::io::unix::AsyncFd;

pub struct Pty {
    master: AsyncFd<OwnedFd>,
    _slave: OwnedFd,
    path: PathBuf,
}

impl Pty {
    /// Opens a new pseudo-terminal in raw mode (no echo, no line editing, no CR/LF mapping).
    /// Must be called within a tokio runtime.
    pub fn open() -> io::Result<Pty> {
        let master = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        rustix::io::ioctl_fionbio(&master, true)?;
        rustix::pty::grantpt(&master)?;
        rustix::pty::unlockpt(&master)?;
        let name = rustix::pty::ptsname(&master, Vec::new())?;
        let path = PathBuf::from(name.to_string_lossy().into_owned());
        let slave = rustix::fs::open(&path, OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC, Mode::empty())?;
        make_raw(&slave)?;
        // SAFETY: the AsyncFd takes the OwnedFd and owns it until it is dropped; an OwnedFd's
        // descriptor stays open and its number never changes while it lives.
        let master = unsafe { AsyncFd::register(master) }?;
        Ok(Pty { master, _slave: slave, path })
    }

    /// Throws away what was written to the client and not read yet (stale output from before
    /// the client's current run).
    pub fn discard_pending(&self) {
        let _ = rustix::termios::tcflush(&self._slave, QueueSelector::IFlush);
    }

    /// The path a client opens, e.g. `/dev/pts/7`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads what the client wrote; waits for at least one byte.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.master.readable().await?;
            match guard.try_io(|fd| Ok(rustix::io::read(fd, &mut *buf)?)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes all of `data` to the client.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut guard = self.master.writable().await?;
            match guard.try_io(|fd| Ok(rustix::io::write(fd, data)?)) {
                Ok(Ok(n)) => data = &data[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }
}

fn make_raw(fd: &OwnedFd) -> io::Result<()> {
    let mut t = rustix::termios::tcgetattr(fd)?;
    t.make_raw();
    rustix::termios::tcsetattr(fd, OptionalActions::Now, &t)?;
    Ok(())
}

/// Copies what arrives on `from` to `to` until either side fails.
pub async fn pump(from: &Pty, to: &Pty) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[tokio::test]
    async fn a_client_talks_to_the_master_through_the_slave_path() {
        let pty = Pty::open().unwrap();
        let mut client = std::fs::OpenOptions::new().read(true).write(true).open(pty.path()).unwrap();
        client.write_all(b"AT\r").unwrap();
        let mut buf = [0u8; 16];
        let n = pty.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"AT\r");
        pty.write_all(b"\r\nOK\r\n").await.unwrap();
        let mut got = [0u8; 6];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"\r\nOK\r\n");
    }
}
