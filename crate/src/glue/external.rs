//! The one path by which the glue hands memory it does not own to JS: an external ArrayBuffer.
//!
//! V8 builds with the memory sandbox (Electron >= 21, Chromium-based embedders) refuse external
//! buffers with `napi_no_external_buffers_allowed`; napi-rs's own `ArrayBuffer::from_external`
//! would then silently copy, which for shared memory means writes that never reach the other
//! process. Everything that shares memory (SharedMemory, Channel) goes through this module, which
//! never copies: it refuses with ERR_IPC_UNSUPPORTED instead.

use super::convert::to_napi;
use crate::error::{Code, IpcError};
use napi::{sys, Env};
use napi_derive::napi;
use std::ffi::c_void;

/// Set in a test's environment to make every external-buffer creation behave as it does under a
/// V8 sandbox (the status is replaced before it is interpreted). Never set it in production.
const FORBID_FOR_TESTS: &str = "IPCKIT_TEST_FORBID_EXTERNAL_BUFFERS";

/// What a failed `napi_create_external_arraybuffer` means for the caller.
pub fn refusal(status: sys::napi_status) -> IpcError {
    if status == sys::Status::napi_no_external_buffers_allowed {
        IpcError::new(
            Code::Unsupported,
            "this runtime forbids external ArrayBuffers (Electron >= 21 or a V8 sandbox): \
             memory cannot be shared zero-copy here; run ipckit in a plain Node.js, Deno or Bun process",
        )
    } else {
        IpcError::new(
            Code::Os,
            format!("napi_create_external_arraybuffer failed (status {status})"),
        )
    }
}

fn forbidden_for_tests() -> bool {
    std::env::var_os(FORBID_FOR_TESTS).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Wraps `len` bytes at `ptr` in an ArrayBuffer without copying. On success the engine owns
/// `hint` and calls `finalize(env, ptr, hint)` once when the buffer is collected; on failure it
/// was not taken and the caller still owns it.
///
/// # Safety
/// `ptr..ptr+len` must stay valid and not be wrapped by another external buffer until
/// `finalize` runs.
pub unsafe fn external_arraybuffer(
    env: sys::napi_env,
    ptr: *mut c_void,
    len: usize,
    finalize: sys::napi_finalize,
    hint: *mut c_void,
) -> Result<sys::napi_value, IpcError> {
    if forbidden_for_tests() {
        return Err(refusal(sys::Status::napi_no_external_buffers_allowed));
    }
    let mut value = std::ptr::null_mut();
    // SAFETY: the caller guarantees the memory outlives the buffer; napi writes `value` only.
    let status =
        unsafe { sys::napi_create_external_arraybuffer(env, ptr, len, finalize, hint, &mut value) };
    if status == sys::Status::napi_ok {
        Ok(value)
    } else {
        Err(refusal(status))
    }
}

unsafe extern "C" fn free_probe(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Box<u8> leaked by `external_buffers_allowed`, freed once here.
    drop(unsafe { Box::from_raw(data.cast::<u8>()) });
}

/// Whether this runtime lets native code share memory with JS (false under a V8 sandbox, e.g.
/// Electron >= 21). The facade asks once at load and turns the answer into `capabilities`.
#[napi]
pub fn external_buffers_allowed(env: &Env) -> napi::Result<bool> {
    let byte = Box::into_raw(Box::new(0u8));
    // SAFETY: a fresh one-byte allocation, owned by the buffer until `free_probe` runs.
    match unsafe {
        external_arraybuffer(
            env.raw(),
            byte.cast(),
            1,
            Some(free_probe),
            std::ptr::null_mut(),
        )
    } {
        Ok(_) => Ok(true),
        Err(e) => {
            // SAFETY: the engine did not take the allocation; reclaim it.
            drop(unsafe { Box::from_raw(byte) });
            if e.code == Code::Unsupported {
                Ok(false)
            } else {
                Err(to_napi(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandboxed_runtime_is_refused_as_unsupported_never_copied() {
        let e = refusal(sys::Status::napi_no_external_buffers_allowed);
        assert_eq!(e.code, Code::Unsupported);
        assert!(e.message.contains("Electron"));
    }

    #[test]
    fn other_failures_stay_os_errors() {
        let e = refusal(sys::Status::napi_generic_failure);
        assert_eq!(e.code, Code::Os);
    }
}
