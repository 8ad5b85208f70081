//! Conversions between JS values and the OS layer's types, and error mapping.

use crate::error::IpcError;

/// Errors cross into JS as a napi error whose message carries the stable code, errno and
/// syscall, separated by U+001F; the facade (src/backend.ts) turns it into an `IpcError`.
pub fn to_napi(e: IpcError) -> napi::Error {
    let errno = e.errno.map(|n| n.to_string()).unwrap_or_default();
    napi::Error::new(
        napi::Status::GenericFailure,
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            e.code.as_str(),
            errno,
            e.syscall.unwrap_or(""),
            e.message
        ),
    )
}

pub trait OrNapi<T> {
    fn or_napi(self) -> napi::Result<T>;
}

impl<T> OrNapi<T> for crate::error::Result<T> {
    fn or_napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// A JS number that must be a non-negative safe integer (the facade checks first; this
/// keeps the glue safe on its own).
pub fn to_u64(value: f64, what: &str) -> napi::Result<u64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if !(value.is_finite() && value.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&value)) {
        return Err(to_napi(IpcError::invalid(format!(
            "{what} must be a non-negative safe integer, got {value}"
        ))));
    }
    Ok(value as u64)
}

/// A Uint8Array argument the native side writes into. Spelled as an alias because the napi
/// macro reads a literal `&mut` argument as a class reference; the alias reaches napi's own
/// `FromNapiValue for &mut [u8]` (napi_get_typedarray_info, no copy). The slice must not be
/// kept past the call that received it.
pub type WritableBytes = &'static mut [u8];
