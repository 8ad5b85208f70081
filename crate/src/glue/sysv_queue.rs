//! `NativeSysVQueue`: a System V message queue handle (Linux).

use super::cancel::NativeCancel;
use super::convert::{to_napi, to_u64, OrNapi, WritableBytes};
use super::handles::Table;
use crate::error::{Code, IpcError};
use crate::sysv_mq::{self, OpenOptions, SysVQueue};
use crate::wait::{deadline_after, Cancel, Stops};
use napi::bindgen_prelude::{Buffer, PromiseRaw, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use std::cell::Cell;
use std::sync::Arc;

struct Shared {
    queue: SysVQueue,
    closed: Cancel,
}

#[napi(object)]
pub struct SysVStats {
    pub messages: f64,
    pub bytes: f64,
    pub max_bytes: f64,
}

#[napi(object)]
pub struct SysVMessage {
    pub data: Buffer,
    #[napi(js_name = "type")]
    pub mtype: f64,
}

/// A message type: a safe integer (the facade checks the sign for each use).
fn to_type(value: f64) -> napi::Result<i64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if !(value.is_finite() && value.fract() == 0.0 && value.abs() <= MAX_SAFE) {
        return Err(to_napi(IpcError::invalid(format!(
            "type must be a safe integer, got {value}"
        ))));
    }
    Ok(value as i64)
}

#[napi]
pub struct NativeSysVQueue {
    shared: Option<Arc<Shared>>,
    /// This handle's number in SYSV_HANDLES while it is open.
    id: u32,
}

impl NativeSysVQueue {
    fn shared(&self) -> napi::Result<&Arc<Shared>> {
        self.shared.as_ref().ok_or_else(|| {
            to_napi(IpcError::new(
                Code::Closed,
                "SysV message queue handle is closed",
            ))
        })
    }

    fn stops<'a>(shared: &'a Shared, abort: &'a Cancel, timeout_ms: Option<f64>) -> Stops<'a> {
        Stops {
            abort,
            closed: &shared.closed,
            deadline: deadline_after(timeout_ms),
            what: shared.queue.what(),
        }
    }
}

/// A handle collected without close(): forget its number. Its pending async calls (if any)
/// hold their own reference and finish normally; the queue closes after them.
impl Drop for NativeSysVQueue {
    fn drop(&mut self) {
        let _ = SYSV_HANDLES.try_with(|t| t.remove(self.id));
    }
}

#[napi]
impl NativeSysVQueue {
    #[napi(factory)]
    pub fn open(
        key: i32,
        create: bool,
        exclusive: bool,
        mode: u32,
        max_bytes: Option<f64>,
    ) -> napi::Result<Self> {
        let opts = OpenOptions {
            create,
            exclusive,
            mode,
            max_bytes: max_bytes.map(|n| to_u64(n, "maxBytes")).transpose()?,
        };
        let queue = sysv_mq::open(key, &opts).or_napi()?;
        let shared = Arc::new(Shared {
            queue,
            closed: Cancel::new(),
        });
        let id = SYSV_HANDLES.with(|t| t.insert(Arc::clone(&shared)));
        Ok(NativeSysVQueue {
            shared: Some(shared),
            id,
        })
    }

    #[napi(getter)]
    pub fn key(&self) -> napi::Result<i32> {
        Ok(self.shared()?.queue.key)
    }

    #[napi(getter)]
    pub fn id(&self) -> napi::Result<i32> {
        Ok(self.shared()?.queue.id)
    }

    /// kernel.msgmax when the queue was opened: the largest message.
    #[napi(getter)]
    pub fn max_message_size(&self) -> napi::Result<f64> {
        Ok(self.shared()?.queue.msgmax() as f64)
    }

    #[napi]
    pub fn stats(&self) -> napi::Result<SysVStats> {
        let s = self.shared()?.queue.stats().or_napi()?;
        Ok(SysVStats {
            messages: s.messages as f64,
            bytes: s.bytes as f64,
            max_bytes: s.max_bytes as f64,
        })
    }

    #[napi]
    pub fn remove(&self) -> napi::Result<()> {
        self.shared()?.queue.remove().or_napi()
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        data: Uint8ArraySlice,
        mtype: f64,
        timeout_ms: Option<f64>,
        cancel: &NativeCancel,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let mtype = to_type(mtype)?;
        let shared = Arc::clone(self.shared()?);
        let abort = Arc::clone(&cancel.inner);
        let data = data.to_vec();
        env.spawn_future(async move {
            let stops = Self::stops(&shared, &abort, timeout_ms);
            shared.queue.send(&data, mtype, &stops).await.or_napi()
        })
    }

    /// The handle the hot-path functions take (see `sysvTrySend`); it does not keep the
    /// queue handle open.
    #[napi]
    pub fn fast_handle(&self) -> napi::Result<u32> {
        self.shared()?;
        Ok(self.id)
    }

    #[napi(ts_return_type = "Promise<SysVMessage>")]
    pub fn receive<'env>(
        &self,
        env: &'env Env,
        mtype: f64,
        timeout_ms: Option<f64>,
        cancel: &NativeCancel,
    ) -> napi::Result<PromiseRaw<'env, SysVMessage>> {
        let mtype = to_type(mtype)?;
        let shared = Arc::clone(self.shared()?);
        let abort = Arc::clone(&cancel.inner);
        env.spawn_future(async move {
            let stops = Self::stops(&shared, &abort, timeout_ms);
            let (data, ty) = shared.queue.receive(mtype, &stops).await.or_napi()?;
            Ok(SysVMessage {
                data: data.into(),
                mtype: ty as f64,
            })
        })
    }

    #[napi]
    pub fn close(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.closed.cancel();
            // During thread teardown the table may already be gone; nothing to remove then.
            let _ = SYSV_HANDLES.try_with(|t| t.remove(self.id));
        }
    }
}

/// ftok(path, projectId).
#[napi]
pub fn sysv_key_from_path(path: String, project_id: u32) -> napi::Result<i32> {
    sysv_mq::key_from_path(&path, project_id).or_napi()
}

// The hot path, as free functions over a numeric handle (see glue/handles.rs for why).

thread_local! {
    static SYSV_HANDLES: Table<Shared> = Table::default();
    static LAST_TYPE: Cell<f64> = const { Cell::new(0.0) };
}

fn live(handle: u32) -> napi::Result<Arc<Shared>> {
    SYSV_HANDLES
        .with(|t| t.get(handle))
        .filter(|s| !s.closed.is_cancelled())
        .ok_or_else(|| {
            to_napi(IpcError::new(
                Code::Closed,
                "SysV message queue handle is closed",
            ))
        })
}

#[napi(ts_args_type = "handle: number, data: Uint8Array, mtype: number")]
pub fn sysv_try_send(handle: u32, data: Uint8ArraySlice, mtype: f64) -> napi::Result<bool> {
    let mtype = to_type(mtype)?;
    live(handle)?.queue.try_send(&data, mtype).or_napi()
}

#[napi(
    ts_args_type = "handle: number, data: Uint8Array, mtype: number, timeoutMs?: number | undefined | null"
)]
pub fn sysv_send_sync(
    handle: u32,
    data: Uint8ArraySlice,
    mtype: f64,
    timeout_ms: Option<f64>,
) -> napi::Result<()> {
    let mtype = to_type(mtype)?;
    live(handle)?
        .queue
        .send_sync(&data, mtype, deadline_after(timeout_ms))
        .or_napi()
}

/// Receives into `buf` at `offset` (at least `sysvReceiveBufferSize(handle)` bytes from there;
/// the message text starts `SYSV_HEADER` bytes later): the text length, or -1 when `wait` is false and nothing of
/// the selected type is queued. The type is `sysvLastType()`.
#[napi(
    ts_args_type = "handle: number, buf: Uint8Array, offset: number, mtype: number, wait: boolean, timeoutMs?: number | undefined | null"
)]
pub fn sysv_receive_into(
    handle: u32,
    buf: WritableBytes,
    offset: u32,
    mtype: f64,
    wait: bool,
    timeout_ms: Option<f64>,
) -> napi::Result<f64> {
    let mtype = to_type(mtype)?;
    let shared = live(handle)?;
    let buf = buf.get_mut(offset as usize..).ok_or_else(|| {
        to_napi(IpcError::invalid(format!(
            "offset {offset} is past the end of the receive buffer"
        )))
    })?;
    let got = if wait {
        Some(
            shared
                .queue
                .receive_sync_into(buf, mtype, deadline_after(timeout_ms))
                .or_napi()?,
        )
    } else {
        shared.queue.receive_into(buf, mtype, false).or_napi()?
    };
    Ok(match got {
        None => -1.0,
        Some((n, ty)) => {
            LAST_TYPE.set(ty as f64);
            n as f64
        }
    })
}

/// The receive buffer size `sysvReceiveInto` needs: the type header plus kernel.msgmax.
#[napi(ts_args_type = "handle: number")]
pub fn sysv_receive_buffer_size(handle: u32) -> napi::Result<u32> {
    Ok((sysv_mq::HEADER + live(handle)?.queue.msgmax()) as u32)
}

/// Bytes before the message text in a `sysvReceiveInto` buffer (a C `long`).
#[napi]
pub const SYSV_HEADER: u32 = sysv_mq::HEADER as u32;

/// The type of the message the last sysvReceiveInto on this thread returned.
#[napi]
pub fn sysv_last_type() -> f64 {
    LAST_TYPE.get()
}
