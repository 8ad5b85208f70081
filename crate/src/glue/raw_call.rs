//! Hand-written Node-API callbacks for the message-queue hot paths.
//!
//! napi-rs 3 wraps every generated callback that takes arguments in a native-borrow scope: an
//! `Arc<Mutex<..>>` allocated and freed per call, pushes and pops on thread-local stacks and a
//! barrier. Profiled here (`perf record`, a send+receive loop) that is ~0.3 µs per message,
//! about as much as the user-space half of the C program's whole cost. The callbacks built with
//! this module read their arguments with plain Node-API calls instead, check each one (type,
//! and the TypedArray kind), never panic across the FFI boundary, and throw the same encoded
//! errors as `convert::to_napi`, so the facade sees no difference.

use super::convert::to_napi;
use crate::error::IpcError;
use napi::bindgen_prelude::Object;
use napi::sys;
use napi::Env;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

pub type Out<T> = Result<T, napi::Error>;

/// The arguments of one callback invocation (missing ones read as `undefined`).
pub struct Call<const N: usize> {
    env: sys::napi_env,
    args: [sys::napi_value; N],
}

fn invalid(msg: String) -> napi::Error {
    to_napi(IpcError::invalid(msg))
}

impl<const N: usize> Call<N> {
    /// # Safety
    /// `env` and `info` must be the ones Node-API passed to the running callback.
    unsafe fn new(env: sys::napi_env, info: sys::napi_callback_info) -> Out<Self> {
        let mut argc = N;
        let mut args = [ptr::null_mut(); N];
        // SAFETY: `args` has room for `argc` values; Node-API fills absent ones with undefined.
        let status = unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                args.as_mut_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if status != sys::Status::napi_ok {
            return Err(invalid("could not read the call's arguments".into()));
        }
        Ok(Call { env, args })
    }

    fn type_of(&self, i: usize) -> sys::napi_valuetype {
        let mut ty = -1;
        // SAFETY: a live value of this call.
        unsafe { sys::napi_typeof(self.env, self.args[i], &mut ty) };
        ty
    }

    /// The type is checked first with `napi_typeof`: Deno's `napi_get_value_*` coerce some
    /// values of other types where Node's refuse them.
    fn number_arg(&self, i: usize) -> Option<f64> {
        if self.type_of(i) != sys::ValueType::napi_number {
            return None;
        }
        let mut v = 0f64;
        // SAFETY: a live number value of this call.
        let status = unsafe { sys::napi_get_value_double(self.env, self.args[i], &mut v) };
        (status == sys::Status::napi_ok).then_some(v)
    }

    /// An integer from 0 to u32::MAX.
    pub fn u32(&self, i: usize, what: &str) -> Out<u32> {
        match self.number_arg(i) {
            Some(v) if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) => Ok(v as u32),
            _ => Err(invalid(format!(
                "{what} must be an integer from 0 to 2^32-1"
            ))),
        }
    }

    pub fn f64(&self, i: usize, what: &str) -> Out<f64> {
        self.number_arg(i)
            .ok_or_else(|| invalid(format!("{what} must be a number")))
    }

    /// A number, or None for undefined and null.
    pub fn opt_f64(&self, i: usize, what: &str) -> Out<Option<f64>> {
        let ty = self.type_of(i);
        if ty == sys::ValueType::napi_undefined || ty == sys::ValueType::napi_null {
            return Ok(None);
        }
        self.number_arg(i)
            .map(Some)
            .ok_or_else(|| invalid(format!("{what} must be a number or undefined")))
    }

    pub fn bool(&self, i: usize, what: &str) -> Out<bool> {
        let mut v = false;
        // SAFETY: a live boolean value of this call.
        if self.type_of(i) != sys::ValueType::napi_boolean
            || unsafe { sys::napi_get_value_bool(self.env, self.args[i], &mut v) }
                != sys::Status::napi_ok
        {
            return Err(invalid(format!("{what} must be a boolean")));
        }
        Ok(v)
    }

    /// The bytes of a Uint8Array argument, valid for this call only.
    pub fn bytes(&mut self, i: usize, what: &str) -> Out<&mut [u8]> {
        let mut kind = 0;
        let mut len = 0usize;
        let mut data = ptr::null_mut();
        // SAFETY: a live value of this call; fails with napi_invalid_arg for anything but a
        // TypedArray.
        let status = unsafe {
            sys::napi_get_typedarray_info(
                self.env,
                self.args[i],
                &mut kind,
                &mut len,
                &mut data,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if status != sys::Status::napi_ok || kind != sys::TypedarrayType::uint8_array {
            return Err(invalid(format!("{what} must be a Uint8Array")));
        }
        if data.is_null() || len == 0 {
            return Ok(&mut []);
        }
        // SAFETY: Node-API reports `len` bytes at `data` (a Uint8Array's elements are bytes);
        // the JS value is held by the call's handle scope and no JS runs until we return, so
        // the memory stays valid and unaliased for the borrow, which ends with the call.
        Ok(unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), len) })
    }

    pub fn undefined(&self) -> Out<sys::napi_value> {
        let mut v = ptr::null_mut();
        // SAFETY: writes one value.
        unsafe { sys::napi_get_undefined(self.env, &mut v) };
        Ok(v)
    }

    pub fn boolean(&self, b: bool) -> Out<sys::napi_value> {
        let mut v = ptr::null_mut();
        // SAFETY: writes one value.
        unsafe { sys::napi_get_boolean(self.env, b, &mut v) };
        Ok(v)
    }

    pub fn number(&self, n: f64) -> Out<sys::napi_value> {
        let mut v = ptr::null_mut();
        // SAFETY: writes one value.
        unsafe { sys::napi_create_double(self.env, n, &mut v) };
        Ok(v)
    }
}

/// Runs `body` for the callback and turns an error (or, defensively, a panic) into a thrown
/// JS error.
///
/// # Safety
/// `env` and `info` must be the ones Node-API passed to the running callback.
pub unsafe fn run<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    body: impl FnOnce(&mut Call<N>) -> Out<sys::napi_value>,
) -> sys::napi_value {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded from the caller.
        let mut call = unsafe { Call::<N>::new(env, info) }?;
        body(&mut call)
    }))
    .unwrap_or_else(|_| Err(invalid("internal error in a native call".into())));
    match result {
        Ok(v) => v,
        Err(e) => {
            throw(env, &e.reason);
            ptr::null_mut()
        }
    }
}

fn throw(env: sys::napi_env, message: &str) {
    let mut msg = ptr::null_mut();
    let mut error = ptr::null_mut();
    // SAFETY: the string is passed with its length (it may hold any UTF-8); each call writes
    // one value; if one fails the next sees a null and fails too, and nothing is thrown
    // rather than something undefined.
    unsafe {
        if sys::napi_create_string_utf8(
            env,
            message.as_ptr().cast(),
            message.len() as isize,
            &mut msg,
        ) == sys::Status::napi_ok
            && sys::napi_create_error(env, ptr::null_mut(), msg, &mut error) == sys::Status::napi_ok
        {
            sys::napi_throw(env, error);
        }
    }
}

/// An object whose methods are the given raw callbacks.
pub fn functions<'env>(
    env: &'env Env,
    entries: &[(&str, napi::Callback)],
) -> napi::Result<Object<'env>> {
    let mut object = Object::new(env)?;
    for (name, callback) in entries {
        let f = env.create_function::<(), ()>(name, *callback)?;
        object.set(name, f)?;
    }
    Ok(object)
}

/// Defines `unsafe extern "C" fn $name(env, info)`, a raw Node-API callback of `$n` arguments
/// whose body runs under `run` with `$c` the `Call`.
macro_rules! callback {
    ($name:ident, $n:literal, |$c:ident| $body:block) => {
        unsafe extern "C" fn $name(
            env: napi::sys::napi_env,
            info: napi::sys::napi_callback_info,
        ) -> napi::sys::napi_value {
            // SAFETY: called by Node-API with this callback's env and info.
            unsafe { $crate::glue::raw_call::run::<$n>(env, info, |$c| $body) }
        }
    };
}
pub(crate) use callback;
