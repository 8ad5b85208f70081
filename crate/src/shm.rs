//! POSIX shared memory (shm_open) and file-backed mappings.

use crate::error::{last_errno, Code, IpcError, Result};
use crate::mapping::{Access, Mapping};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Longest portable name after the leading slash (macOS allows 31 bytes including it).
pub const MAX_NAME_LEN: usize = 30;
const SHM_DIR: &str = "/dev/shm";

/// `"frames"` and `"/frames"` both name the POSIX object `/frames`.
pub fn object_name(name: &str) -> Result<String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let valid_chars = bare
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if bare.is_empty() || bare.len() > MAX_NAME_LEN || !valid_chars || bare == "." || bare == ".." {
        return Err(IpcError::invalid(format!(
            "invalid name {name:?}: use 1 to {MAX_NAME_LEN} characters of [A-Za-z0-9._-], optionally after one '/'"
        )));
    }
    Ok(format!("/{bare}"))
}

fn c_string(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| IpcError::invalid(format!("{s:?} contains a NUL byte")))
}

/// Checked conversion of a requested size to a mappable length.
pub fn checked_len(size: u64) -> Result<usize> {
    if size == 0 {
        return Err(IpcError::invalid("size must be at least 1 byte"));
    }
    usize::try_from(size)
        .ok()
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| {
            IpcError::invalid(format!("size {size} is larger than this machine can map"))
        })
}

/// Bytes an unprivileged caller can still allocate on the filesystem holding `path`.
pub fn free_bytes(path: &str) -> Result<u64> {
    let c = c_string(path)?;
    // SAFETY: statvfs writes into a zeroed struct we own; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(IpcError::last_os("statvfs", path));
    }
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

fn ensure_room(dir: &str, needed: u64) -> Result<()> {
    let free = free_bytes(dir)?;
    if needed > free {
        return Err(IpcError::new(
            Code::Limit,
            format!(
                "{needed} bytes requested but {dir} has {free} bytes free; free space or enlarge {dir} (e.g. docker --shm-size)"
            ),
        ));
    }
    Ok(())
}

fn fstat(fd: &OwnedFd, context: &str) -> Result<libc::stat> {
    // SAFETY: fstat fills a zeroed struct we own from a descriptor we own.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(IpcError::last_os("fstat", context));
    }
    Ok(st)
}

/// Sets the length and reserves the pages now, so running out of space is an error here
/// rather than a SIGBUS on first touch later.
fn reserve(fd: &OwnedFd, len: u64, context: &str) -> Result<()> {
    // SAFETY: plain syscalls on a descriptor we own.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) } != 0 {
        return Err(IpcError::last_os("ftruncate", context));
    }
    // SAFETY: plain syscall on a descriptor we own.
    let rc = unsafe { libc::posix_fallocate(fd.as_raw_fd(), 0, len as libc::off_t) };
    match rc {
        0 | libc::EOPNOTSUPP | libc::EINVAL => Ok(()),
        errno => Err(IpcError::os("posix_fallocate", errno, context).with_code(Code::Limit)),
    }
}

fn chmod(fd: &OwnedFd, mode: u32, context: &str) -> Result<()> {
    // SAFETY: fchmod on a descriptor we own. Applied after creation so the umask cannot widen
    // or narrow what the caller asked for.
    if unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) } != 0 {
        return Err(IpcError::last_os("fchmod", context));
    }
    Ok(())
}

pub fn check_mode(mode: u32) -> Result<()> {
    if mode > 0o777 {
        return Err(IpcError::invalid(format!(
            "mode {mode:#o} has bits outside 0o777"
        )));
    }
    Ok(())
}

fn shm_open(name: &str, flags: i32, mode: u32) -> Result<OwnedFd> {
    let c = c_string(name)?;
    // SAFETY: NUL-terminated name; the returned descriptor is checked and then owned.
    let fd = unsafe { libc::shm_open(c.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::mode_t) };
    if fd < 0 {
        return Err(IpcError::last_os("shm_open", name));
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A mapped segment: the mapping and the POSIX name it came from (None for files).
#[derive(Debug)]
pub struct Segment {
    pub name: String,
    pub mapping: Mapping,
}

impl Segment {
    pub fn len(&self) -> usize {
        self.mapping.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mapping.is_empty()
    }
}

pub fn create(name: &str, size: u64, mode: u32, exclusive: bool) -> Result<Segment> {
    let name = object_name(name)?;
    let len = checked_len(size)?;
    check_mode(mode)?;
    let created = match shm_open(&name, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL, mode) {
        Ok(fd) => Some(fd),
        Err(e) if e.code == Code::Exists && !exclusive => None,
        Err(e) => return Err(e),
    };
    let fd = match created {
        Some(fd) => {
            let setup = ensure_room(SHM_DIR, size)
                .and_then(|_| chmod(&fd, mode, &name))
                .and_then(|_| reserve(&fd, size, &name));
            if let Err(e) = setup {
                let _ = unlink(&name);
                return Err(e);
            }
            fd
        }
        None => {
            let fd = shm_open(&name, libc::O_RDWR, 0)?;
            let existing = fstat(&fd, &name)?.st_size as u64;
            if existing == 0 {
                // A creator died before sizing it; finish the job.
                ensure_room(SHM_DIR, size)?;
                reserve(&fd, size, &name)?;
            } else if existing != size {
                return Err(IpcError::new(
                    Code::Exists,
                    format!("{name} exists with size {existing}, not {size}; open it or unlink it first"),
                ));
            }
            fd
        }
    };
    let mapping = Mapping::map(&fd, len, Access::Shared)?;
    Ok(Segment { name, mapping })
}

pub fn open(name: &str, readonly: bool) -> Result<Segment> {
    let name = object_name(name)?;
    let flags = if readonly {
        libc::O_RDONLY
    } else {
        libc::O_RDWR
    };
    let fd = shm_open(&name, flags, 0)?;
    let size = fstat(&fd, &name)?.st_size as u64;
    if size == 0 {
        return Err(IpcError::new(
            Code::InvalidArgument,
            format!("{name} has size 0 (its creator has not sized it yet)"),
        ));
    }
    let access = if readonly {
        Access::PrivateWrites
    } else {
        Access::Shared
    };
    let mapping = Mapping::map(&fd, checked_len(size)?, access)?;
    Ok(Segment { name, mapping })
}

pub fn unlink(name: &str) -> Result<()> {
    let name = object_name(name)?;
    let c = c_string(&name)?;
    // SAFETY: NUL-terminated name.
    if unsafe { libc::shm_unlink(c.as_ptr()) } != 0 {
        return Err(IpcError::last_os("shm_unlink", &name));
    }
    Ok(())
}

/// Maps a regular file. With `size`, a shorter file is extended (and its blocks reserved);
/// without it, the file's current length is mapped.
pub fn from_file(path: &str, size: Option<u64>, create: bool, mode: u32) -> Result<Segment> {
    if path.is_empty() {
        return Err(IpcError::invalid("path must not be empty"));
    }
    check_mode(mode)?;
    if let Some(size) = size {
        checked_len(size)?;
    }
    let c = c_string(path)?;
    let mut flags = libc::O_RDWR | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    if create {
        flags |= libc::O_CREAT;
    }
    // SAFETY: NUL-terminated path; the descriptor is checked, then owned.
    let raw = unsafe { libc::open(c.as_ptr(), flags, mode as libc::c_uint) };
    if raw < 0 {
        let errno = last_errno();
        let e = IpcError::os("open", errno, path);
        return Err(if errno == libc::ELOOP {
            e.with_code(Code::Permission)
        } else {
            e
        });
    }
    // SAFETY: raw is a fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let st = fstat(&fd, path)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(IpcError::invalid(format!("{path} is not a regular file")));
    }
    let current = st.st_size as u64;
    let size = match size {
        Some(size) => {
            if size > current {
                let dir = std::path::Path::new(path)
                    .parent()
                    .and_then(|p| p.to_str())
                    .filter(|p| !p.is_empty())
                    .unwrap_or(".");
                ensure_room(dir, size - current)?;
                reserve(&fd, size, path)?;
            }
            size
        }
        None if current == 0 => {
            return Err(IpcError::invalid(format!(
                "{path} is empty: pass a size to extend it"
            )));
        }
        None => current,
    };
    let mapping = Mapping::map(&fd, checked_len(size)?, Access::Shared)?;
    Ok(Segment {
        name: path.to_string(),
        mapping,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unique(tag: &str) -> String {
        format!("ipckit-t-{tag}-{}", std::process::id())
    }

    #[test]
    fn names_are_normalised_and_validated() {
        assert_eq!(object_name("frames").unwrap(), "/frames");
        assert_eq!(object_name("/frames").unwrap(), "/frames");
        for bad in ["", "/", "a/b", "//x", "..", "sp ace", &"x".repeat(31)] {
            assert_eq!(
                object_name(bad).unwrap_err().code,
                Code::InvalidArgument,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn sizes_are_checked() {
        assert_eq!(checked_len(0).unwrap_err().code, Code::InvalidArgument);
        assert_eq!(
            checked_len(u64::MAX).unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(checked_len(4096).unwrap(), 4096);
    }

    #[test]
    fn create_open_share_unlink() {
        let name = unique("share");
        let a = create(&name, 4096, 0o600, true).unwrap();
        let b = open(&name, false).unwrap();
        assert_eq!(b.len(), 4096);
        // SAFETY: both mappings are 4096 bytes of the same object.
        unsafe {
            *a.mapping.as_ptr().add(100) = 42;
            assert_eq!(*b.mapping.as_ptr().add(100), 42);
        }
        assert_eq!(
            create(&name, 4096, 0o600, true).unwrap_err().code,
            Code::Exists
        );
        assert_eq!(
            create(&name, 8192, 0o600, false).unwrap_err().code,
            Code::Exists
        );
        assert_eq!(create(&name, 4096, 0o600, false).unwrap().len(), 4096);
        unlink(&name).unwrap();
        assert_eq!(open(&name, false).unwrap_err().code, Code::NotFound);
        assert_eq!(unlink(&name).unwrap_err().code, Code::NotFound);
    }

    #[test]
    fn readonly_writes_stay_private() {
        let name = unique("ro");
        let a = create(&name, 4096, 0o600, true).unwrap();
        let ro = open(&name, true).unwrap();
        // SAFETY: both mappings are 4096 bytes.
        unsafe {
            *a.mapping.as_ptr() = 7;
            assert_eq!(*ro.mapping.as_ptr(), 7);
            *ro.mapping.as_ptr().add(1) = 9;
            assert_eq!(*a.mapping.as_ptr().add(1), 0);
        }
        unlink(&name).unwrap();
    }

    #[test]
    fn too_large_is_a_limit_not_a_sigbus() {
        let name = unique("huge");
        let free = free_bytes(SHM_DIR).unwrap();
        let e = create(&name, free + (1 << 30), 0o600, true).unwrap_err();
        assert_eq!(e.code, Code::Limit);
        assert_eq!(open(&name, false).unwrap_err().code, Code::NotFound);
    }

    #[test]
    fn file_backed_mapping_extends_and_persists() {
        let path = std::env::temp_dir().join(unique("file"));
        let p = path.to_str().unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            from_file(p, None, true, 0o600).unwrap_err().code,
            Code::InvalidArgument
        );
        {
            let seg = from_file(p, Some(100), true, 0o600).unwrap();
            // SAFETY: the mapping is 100 bytes long.
            unsafe { *seg.mapping.as_ptr().add(99) = b'z' };
        }
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 100);
        assert_eq!(bytes[99], b'z');
        std::fs::remove_file(&path).unwrap();
    }
}
