//! `#[napi]` glue: one file per capability, plus the shared conversions in `convert`.

pub mod cancel;
pub mod connection;
pub mod convert;
pub mod external;
pub mod fifo;
pub mod futex;
pub mod handles;
#[cfg(target_os = "linux")]
pub mod message_queue;
#[cfg(target_os = "linux")]
pub mod queue_handle;
pub mod raw_call;
pub mod shared_memory;
#[cfg(target_os = "linux")]
pub mod sysv_queue;

use napi_derive::napi;

/// The crate version, so the facade can detect a binding from another release.
#[napi]
pub fn binding_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
