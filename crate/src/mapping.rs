//! A memory mapping that is unmapped exactly once, when its last owner drops it.

use crate::error::{IpcError, Result};
use std::os::fd::{AsRawFd, OwnedFd};
use std::ptr::NonNull;

#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; ownership of the address range moves with the value
// and concurrent access is the callers' protocol (as with any shared memory).
unsafe impl Send for Mapping {}
// SAFETY: see Send; `&Mapping` only exposes the pointer and length.
unsafe impl Sync for Mapping {}

/// How the pages are mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reads and writes are shared with every other mapping of the object.
    Shared,
    /// Reads see the object; writes go to private copy-on-write pages, so writing through a
    /// read-only handle can never fault and never reaches other processes.
    PrivateWrites,
}

impl Mapping {
    pub fn map(fd: &OwnedFd, len: usize, access: Access) -> Result<Mapping> {
        if len == 0 {
            return Err(IpcError::invalid("cannot map 0 bytes"));
        }
        let flags = match access {
            Access::Shared => libc::MAP_SHARED,
            Access::PrivateWrites => libc::MAP_PRIVATE,
        };
        // SAFETY: a fresh mapping chosen by the kernel (addr null) over a descriptor we own;
        // the result is checked against MAP_FAILED before use.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                fd.as_raw_fd(),
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(IpcError::last_os("mmap", &format!("{len} bytes")));
        }
        let ptr = NonNull::new(addr.cast::<u8>()).expect("mmap returned null without MAP_FAILED");
        Ok(Mapping { ptr, len })
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: ptr/len are exactly what mmap returned and nobody else unmaps them.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}
