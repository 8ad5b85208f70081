//! Named pipes: mkfifo, and opens that never block. A reader opens at once (O_NONBLOCK) and
//! waits for data by polling; a writer's open fails with ENXIO until a reader exists, which the
//! caller retries on a timer instead of parking a thread in open(2).

use crate::error::{Code, IpcError, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn c_path(path: &str) -> Result<CString> {
    if path.is_empty() {
        return Err(IpcError::invalid("path must not be empty"));
    }
    CString::new(path).map_err(|_| IpcError::invalid("path must not contain NUL"))
}

/// Creates the FIFO with exactly `mode` (the umask cannot widen or narrow it). An existing path,
/// symlinks included, is refused with ERR_IPC_EXISTS: mkfifo never follows them.
pub fn create(path: &str, mode: u32) -> Result<()> {
    if mode > 0o777 {
        return Err(IpcError::invalid(format!(
            "mode must be at most 0o777, got {mode:#o}"
        )));
    }
    let c = c_path(path)?;
    // SAFETY: NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) } != 0 {
        return Err(IpcError::last_os("mkfifo", path));
    }
    // SAFETY: NUL-terminated path; the FIFO was just created by us.
    if unsafe { libc::chmod(c.as_ptr(), mode as libc::mode_t) } != 0 {
        return Err(IpcError::last_os("chmod", path));
    }
    Ok(())
}

fn open_nonblocking(path: &str, access: i32) -> Result<Option<OwnedFd>> {
    let c = c_path(path)?;
    let flags = access | libc::O_NONBLOCK | libc::O_CLOEXEC;
    // SAFETY: NUL-terminated path; the descriptor is checked, then owned.
    let raw = unsafe { libc::open(c.as_ptr(), flags) };
    if raw < 0 {
        let errno = crate::error::last_errno();
        if errno == libc::ENXIO {
            return Ok(None);
        }
        return Err(IpcError::os("open", errno, path));
    }
    // SAFETY: raw is a fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat fills a struct we own from a descriptor we own.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(IpcError::last_os("fstat", path));
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFIFO {
        return Err(IpcError::invalid(format!("{path} is not a FIFO")));
    }
    Ok(Some(fd))
}

/// A non-blocking read end; it opens even when no writer exists yet.
pub fn open_reader(path: &str) -> Result<OwnedFd> {
    open_nonblocking(path, libc::O_RDONLY)?
        .ok_or_else(|| IpcError::new(Code::Os, format!("open {path}: unexpected ENXIO")))
}

/// A non-blocking write end, or None while no process has the FIFO open for reading.
pub fn try_open_writer(path: &str) -> Result<Option<OwnedFd>> {
    open_nonblocking(path, libc::O_WRONLY)
}

pub enum Io {
    Done(usize),
    WouldBlock,
}

/// One read(2); Done(0) is EOF.
pub fn read(fd: &OwnedFd, buf: &mut [u8]) -> Result<Io> {
    // SAFETY: buf is valid for buf.len() bytes.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n >= 0 {
        return Ok(Io::Done(n as usize));
    }
    match crate::error::last_errno() {
        libc::EAGAIN | libc::EINTR => Ok(Io::WouldBlock),
        errno => Err(IpcError::os("read", errno, "fifo")),
    }
}

/// One write(2). EPIPE (no reader left) is ERR_IPC_CLOSED.
pub fn write(fd: &OwnedFd, data: &[u8]) -> Result<Io> {
    // SAFETY: data is valid for data.len() bytes.
    let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
    if n >= 0 {
        return Ok(Io::Done(n as usize));
    }
    match crate::error::last_errno() {
        libc::EAGAIN | libc::EINTR => Ok(Io::WouldBlock),
        libc::EPIPE => Err(
            IpcError::new(Code::Closed, "write fifo: the reader closed it").with_errno(libc::EPIPE),
        ),
        errno => Err(IpcError::os("write", errno, "fifo")),
    }
}

/// Writes everything, sleeping in poll(2) while the pipe is full; for `writeSync`.
pub fn write_all_blocking(fd: &OwnedFd, mut data: &[u8], timeout_ms: Option<u64>) -> Result<()> {
    let deadline =
        timeout_ms.map(|ms| std::time::Instant::now() + std::time::Duration::from_millis(ms));
    while !data.is_empty() {
        match write(fd, data)? {
            Io::Done(n) => data = &data[n..],
            Io::WouldBlock => {
                let wait = match deadline {
                    None => -1,
                    Some(d) => {
                        let left = d.saturating_duration_since(std::time::Instant::now());
                        if left.is_zero() {
                            return Err(IpcError::new(Code::Timeout, "writeSync fifo: timed out"));
                        }
                        left.as_millis().min(i32::MAX as u128) as i32
                    }
                };
                let mut pfd = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one pollfd we own.
                if unsafe { libc::poll(&mut pfd, 1, wait) } < 0
                    && crate::error::last_errno() != libc::EINTR
                {
                    return Err(IpcError::last_os("poll", "fifo"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(tag: &str) -> String {
        format!("/tmp/ipckit-fifo-test-{}-{tag}", std::process::id())
    }

    #[test]
    fn create_mode_exists_and_nonblocking_opens() {
        let p = temp_path("a");
        let _ = std::fs::remove_file(&p);
        create(&p, 0o600).unwrap();
        assert_eq!(create(&p, 0o600).unwrap_err().code, Code::Exists);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(try_open_writer(&p).unwrap().is_none(), "no reader yet");
        let r = open_reader(&p).unwrap();
        let w = try_open_writer(&p).unwrap().expect("reader exists now");
        let mut buf = [0u8; 8];
        assert!(matches!(read(&r, &mut buf).unwrap(), Io::WouldBlock));
        assert!(matches!(write(&w, b"hi").unwrap(), Io::Done(2)));
        assert!(matches!(read(&r, &mut buf).unwrap(), Io::Done(2)));
        drop(w);
        assert!(
            matches!(read(&r, &mut buf).unwrap(), Io::Done(0)),
            "EOF after the writer"
        );
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn refuses_bad_paths_and_non_fifos() {
        assert_eq!(create("", 0o600).unwrap_err().code, Code::InvalidArgument);
        assert_eq!(
            create("/tmp/x\0y", 0o600).unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(
            create("/tmp/whatever", 0o7777).unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(
            open_reader("/etc/hostname").unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(
            open_reader("/nonexistent/fifo").unwrap_err().code,
            Code::NotFound
        );
    }
}
