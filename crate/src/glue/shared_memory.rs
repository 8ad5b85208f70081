//! `SharedMemory` handles: the segment and the single external ArrayBuffer over it.

use super::convert::{to_napi, to_u64, OrNapi};
use super::external::external_arraybuffer;
use crate::error::{Code, IpcError};
use crate::shm::{self, Segment};
use napi::bindgen_prelude::{ArrayBuffer, FromNapiValue};
use napi::{sys, Env};
use napi_derive::napi;
use std::ffi::c_void;
use std::sync::Arc;

#[napi]
pub struct NativeSharedMemory {
    segment: Option<Arc<Segment>>,
    buffer_made: bool,
}

impl NativeSharedMemory {
    fn new(segment: Segment) -> Self {
        NativeSharedMemory {
            segment: Some(Arc::new(segment)),
            buffer_made: false,
        }
    }

    /// A share of the mapping that keeps it alive (e.g. across a wait on another thread).
    pub(crate) fn segment_arc(&self) -> napi::Result<Arc<Segment>> {
        self.segment().map(Arc::clone)
    }

    fn segment(&self) -> napi::Result<&Arc<Segment>> {
        self.segment
            .as_ref()
            .ok_or_else(|| to_napi(IpcError::new(Code::Closed, "shared memory is closed")))
    }
}

/// Runs when the engine frees the ArrayBuffer's backing store: drops that buffer's share of
/// the segment, so the pages are unmapped only after the last view is gone.
unsafe extern "C" fn release_segment(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<Arc<Segment>> leaked in `buffer`, released exactly once here.
    drop(unsafe { Box::from_raw(hint.cast::<Arc<Segment>>()) });
}

#[napi]
impl NativeSharedMemory {
    #[napi(factory)]
    pub fn create(name: String, size: f64, mode: u32, exclusive: bool) -> napi::Result<Self> {
        let size = to_u64(size, "size")?;
        shm::create(&name, size, mode, exclusive)
            .map(Self::new)
            .or_napi()
    }

    #[napi(factory)]
    pub fn open(name: String, readonly: bool) -> napi::Result<Self> {
        shm::open(&name, readonly).map(Self::new).or_napi()
    }

    #[napi(factory)]
    pub fn from_file(
        path: String,
        size: Option<f64>,
        create: bool,
        mode: u32,
    ) -> napi::Result<Self> {
        let size = size.map(|s| to_u64(s, "size")).transpose()?;
        shm::from_file(&path, size, create, mode)
            .map(Self::new)
            .or_napi()
    }

    #[napi(getter)]
    pub fn name(&self) -> napi::Result<String> {
        Ok(self.segment()?.name.clone())
    }

    #[napi(getter)]
    pub fn size(&self) -> napi::Result<f64> {
        Ok(self.segment()?.len() as f64)
    }

    /// The one ArrayBuffer over the mapping (a second one over the same pointer is not allowed
    /// by V8). Refuses runtimes that would silently copy instead of sharing.
    #[napi]
    pub fn buffer<'env>(&mut self, env: &'env Env) -> napi::Result<ArrayBuffer<'env>> {
        if self.buffer_made {
            return Err(to_napi(IpcError::invalid(
                "the buffer of this handle was already made",
            )));
        }
        let segment = Arc::clone(self.segment()?);
        let ptr = segment.mapping.as_ptr();
        let len = segment.len();
        let hint = Box::into_raw(Box::new(segment));
        // SAFETY: ptr/len describe a live mapping kept alive by `hint` until the finalizer runs,
        // and `buffer_made` keeps this the only external buffer over it.
        let created = unsafe {
            external_arraybuffer(
                env.raw(),
                ptr.cast(),
                len,
                Some(release_segment),
                hint.cast(),
            )
        };
        let value = match created {
            Ok(value) => value,
            Err(e) => {
                // SAFETY: the engine did not take the hint; reclaim it.
                drop(unsafe { Box::from_raw(hint) });
                return Err(to_napi(e));
            }
        };
        self.buffer_made = true;
        // SAFETY: `value` is the ArrayBuffer napi just created in this env.
        unsafe { ArrayBuffer::from_napi_value(env.raw(), value) }
    }

    /// Drops this handle's share of the mapping; views already handed out keep theirs until
    /// the facade detaches them.
    #[napi]
    pub fn close(&mut self) {
        self.segment = None;
    }
}

#[napi]
pub fn shm_unlink(name: String) -> napi::Result<()> {
    shm::unlink(&name).or_napi()
}

/// Detaches an ArrayBuffer handed out by `buffer`, so no JS code can touch the mapping again.
#[napi]
pub fn detach_array_buffer(buffer: ArrayBuffer) -> napi::Result<()> {
    buffer.detach()
}

/// Free bytes on the filesystem holding `path` (for `/dev/shm` checks and `ipckit doctor`).
#[napi]
pub fn free_bytes(path: String) -> napi::Result<f64> {
    shm::free_bytes(&path).map(|n| n as f64).or_napi()
}
