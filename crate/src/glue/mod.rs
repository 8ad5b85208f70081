//! `#[napi]` glue: one file per capability, plus the shared conversions in `convert`.

pub mod convert;
pub mod external;
pub mod shared_memory;

use napi_derive::napi;

/// The crate version, so the facade can detect a binding from another release.
#[napi]
pub fn binding_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
