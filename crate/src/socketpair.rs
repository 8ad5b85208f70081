//! A connected pair of Unix stream sockets (socketpair(2)) for `Pipe()`: both ends exist at
//! once, need no filesystem name, and can be inherited by a child through a stdio slot.

use crate::error::{IpcError, Result};
use std::os::fd::{FromRawFd, OwnedFd};

/// Both ends, close-on-exec (a child gets one only when it is placed in its stdio on purpose).
pub fn stream_pair() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1i32; 2];
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    let kind = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    let kind = libc::SOCK_STREAM;
    // SAFETY: socketpair writes two descriptors into the array we own.
    if unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) } != 0 {
        return Err(IpcError::last_os("socketpair", "AF_UNIX"));
    }
    // SAFETY: both descriptors are fresh and owned by nobody else.
    let pair = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    for fd in [&pair.0, &pair.1] {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor we own.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
            return Err(IpcError::last_os("fcntl", "socketpair"));
        }
    }
    Ok(pair)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    #[test]
    fn ends_are_connected_both_ways() {
        let (a, b) = stream_pair().unwrap();
        let mut a = UnixStream::from(a);
        let mut b = UnixStream::from(b);
        a.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        b.write_all(b"pong").unwrap();
        a.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
    }
}
