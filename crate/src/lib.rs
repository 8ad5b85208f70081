//! ipckit's native core.
//!
//! Two layers live here and never mix: the OS modules (`shm`, `mapping`, `error`, ...) make
//! syscalls and know nothing of napi; `glue/` holds every `#[napi]` item: argument checks,
//! handle classes and error mapping, with no syscalls of its own.

pub mod error;
pub mod fifo;
pub mod futex;
pub mod mapping;
#[cfg(target_os = "linux")]
pub mod posix_mq;
pub mod shm;
pub mod socketpair;
#[cfg(target_os = "linux")]
pub mod sysv_mq;
pub mod wait;

pub mod glue;
