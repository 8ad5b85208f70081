//! `NativeCancel`: the native end of an AbortSignal. The facade makes one per async call and
//! calls `cancel()` from the signal's abort listener; the waiting future sees it at once.

use crate::wait::Cancel;
use napi_derive::napi;
use std::sync::Arc;

#[napi]
pub struct NativeCancel {
    pub(crate) inner: Arc<Cancel>,
}

impl Default for NativeCancel {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl NativeCancel {
    #[napi(constructor)]
    pub fn new() -> Self {
        NativeCancel {
            inner: Arc::new(Cancel::new()),
        }
    }

    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel();
    }
}
