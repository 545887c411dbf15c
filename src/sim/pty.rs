//! Pseudo-terminals: the simulated modem's AT ports and the firmware's console. The other end
//! opens the slave path like any serial device (tokio-serial by path).
//!
//! The rig keeps a slave descriptor open itself, so that reading the master does not fail with
//! EIO while the client is between opens (pseudo-terminals report a closed slave that way).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

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
        // SAFETY: plain libc calls on descriptors this function owns; every return is checked.
        unsafe {
            let master =
                libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC);
            if master < 0 {
                return Err(io::Error::last_os_error());
            }
            let master = OwnedFd::from_raw_fd(master);
            if libc::grantpt(master.as_raw_fd()) != 0 || libc::unlockpt(master.as_raw_fd()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let path = slave_path(master.as_raw_fd())?;
            let slave = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
                .open(&path)?;
            let slave = OwnedFd::from(slave);
            make_raw(slave.as_raw_fd())?;
            Ok(Pty { master: AsyncFd::register(master)?, _slave: slave, path })
        }
    }

    /// Throws away what was written to the client and not read yet (stale output from before
    /// the client's current run).
    pub fn discard_pending(&self) {
        // SAFETY: tcflush on a descriptor this struct owns.
        unsafe { libc::tcflush(self._slave.as_raw_fd(), libc::TCIFLUSH) };
    }

    /// The path a client opens, e.g. `/dev/pts/7`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads what the client wrote; waits for at least one byte.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.master.readable().await?;
            match guard.try_io(|fd| {
                // SAFETY: reading into a valid buffer from an owned descriptor.
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
            }) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes all of `data` to the client.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut guard = self.master.writable().await?;
            match guard.try_io(|fd| {
                // SAFETY: writing from a valid buffer to an owned descriptor.
                let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
                if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
            }) {
                Ok(Ok(n)) => data = &data[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }
}

use std::os::unix::fs::OpenOptionsExt;

fn slave_path(master: RawFd) -> io::Result<PathBuf> {
    let mut buf = [0 as libc::c_char; 128];
    // SAFETY: ptsname_r writes a NUL-terminated name into the buffer of the given length.
    let rc = unsafe { libc::ptsname_r(master, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    // SAFETY: ptsname_r succeeded, so buf holds a NUL-terminated string.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Ok(PathBuf::from(name.to_string_lossy().into_owned()))
}

fn make_raw(fd: RawFd) -> io::Result<()> {
    // SAFETY: termios is plain data; tcgetattr fills it before use.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            return Err(io::Error::last_os_error());
        }
        libc::cfmakeraw(&mut t);
        if libc::tcsetattr(fd, libc::TCSANOW, &t) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
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

/// Copies what arrives on `from` to `to` until either side fails.
pub async fn pump(from: &Pty, to: &Pty) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}
