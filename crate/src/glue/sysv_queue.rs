//! `NativeSysVQueue`: a System V message queue handle (Linux).

use super::cancel::NativeCancel;
use super::convert::{to_napi, to_u64, OrNapi};
use super::handles::Table;
use super::queue_handle::{Handles, Queue, QueueHandle, Shared};
use super::raw_call::{self, callback};
use crate::error::IpcError;
use crate::sysv_mq::{self, OpenOptions, SysVQueue};
use crate::wait::deadline_after;
use napi::bindgen_prelude::{Buffer, Object, PromiseRaw, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use std::cell::Cell;
use std::sync::Arc;

impl Queue for SysVQueue {
    fn what(&self) -> &str {
        SysVQueue::what(self)
    }
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
    inner: QueueHandle<SysVQueue>,
}

impl NativeSysVQueue {
    fn shared(&self) -> napi::Result<&Arc<Shared<SysVQueue>>> {
        self.inner.shared()
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
        Ok(NativeSysVQueue {
            inner: QueueHandle::new(queue, &HANDLES),
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
            let stops = shared.stops(&abort, deadline_after(timeout_ms));
            shared.queue.send(&data, mtype, &stops).await.or_napi()
        })
    }

    /// The handle the hot-path functions take (`sysvFastPath()`); it does not keep the
    /// queue handle open.
    #[napi]
    pub fn fast_handle(&self) -> napi::Result<u32> {
        self.inner.fast_handle()
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
            let stops = shared.stops(&abort, deadline_after(timeout_ms));
            let (data, ty) = shared.queue.receive(mtype, &stops).await.or_napi()?;
            Ok(SysVMessage {
                data: data.into(),
                mtype: ty as f64,
            })
        })
    }

    #[napi]
    pub fn close(&mut self) {
        self.inner.close();
    }
}

/// ftok(path, projectId).
#[napi]
pub fn sysv_key_from_path(path: String, project_id: u32) -> napi::Result<i32> {
    sysv_mq::key_from_path(&path, project_id).or_napi()
}

// The hot path, as free functions over a numeric handle (see glue/handles.rs for why).

thread_local! {
    static SYSV_HANDLES: Table<Shared<SysVQueue>> = Table::default();
    static LAST_TYPE: Cell<f64> = const { Cell::new(0.0) };
}

static HANDLES: Handles<SysVQueue> = Handles {
    table: &SYSV_HANDLES,
    closed_message: "SysV message queue handle is closed",
};

fn live(handle: u32) -> napi::Result<Arc<Shared<SysVQueue>>> {
    HANDLES.live(handle)
}

fn try_send(handle: u32, data: &[u8], mtype: f64) -> napi::Result<bool> {
    let mtype = to_type(mtype)?;
    live(handle)?.queue.try_send(data, mtype).or_napi()
}

fn send_sync(handle: u32, data: &[u8], mtype: f64, timeout_ms: Option<f64>) -> napi::Result<()> {
    let mtype = to_type(mtype)?;
    live(handle)?
        .queue
        .send_sync(data, mtype, deadline_after(timeout_ms))
        .or_napi()
}

/// Receives into `buf` at `offset` (at least `sysvReceiveBufferSize(handle)` bytes from there;
/// the message text starts `SYSV_HEADER` bytes later): the text length, or -1 when `wait` is false and nothing of
/// the selected type is queued. The type is `sysvLastType()`.
fn receive_into(
    handle: u32,
    buf: &mut [u8],
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

callback!(raw_try_send, 3, |c| {
    let handle = c.u32(0, "handle")?;
    let mtype = c.f64(2, "type")?;
    let sent = try_send(handle, c.bytes(1, "data")?, mtype)?;
    c.boolean(sent)
});

callback!(raw_send_sync, 4, |c| {
    let handle = c.u32(0, "handle")?;
    let mtype = c.f64(2, "type")?;
    let timeout = c.opt_f64(3, "timeoutMs")?;
    send_sync(handle, c.bytes(1, "data")?, mtype, timeout)?;
    c.undefined()
});

callback!(raw_receive_into, 6, |c| {
    let handle = c.u32(0, "handle")?;
    let offset = c.u32(2, "offset")?;
    let mtype = c.f64(3, "type")?;
    let wait = c.bool(4, "wait")?;
    let timeout = c.opt_f64(5, "timeoutMs")?;
    let n = receive_into(handle, c.bytes(1, "buf")?, offset, mtype, wait, timeout)?;
    c.number(n)
});

/// The hot-path functions, as hand-written Node-API callbacks (see glue/raw_call.rs for why).
/// `receiveInto(handle, buf, offset, type, wait, timeoutMs)`: see `receive_into` above.
#[napi(
    ts_return_type = "{ trySend(handle: number, data: Uint8Array, type: number): boolean; sendSync(handle: number, data: Uint8Array, type: number, timeoutMs: number | undefined): void; receiveInto(handle: number, buf: Uint8Array, offset: number, type: number, wait: boolean, timeoutMs: number | undefined): number }"
)]
pub fn sysv_fast_path(env: &Env) -> napi::Result<Object<'_>> {
    raw_call::functions(
        env,
        &[
            ("trySend", raw_try_send),
            ("sendSync", raw_send_sync),
            ("receiveInto", raw_receive_into),
        ],
    )
}

/// The receive buffer size `sysvFastPath().receiveInto` needs: the type header plus kernel.msgmax.
#[napi(ts_args_type = "handle: number")]
pub fn sysv_receive_buffer_size(handle: u32) -> napi::Result<u32> {
    Ok((sysv_mq::HEADER + live(handle)?.queue.msgmax()) as u32)
}

/// Bytes before the message text in a `sysvFastPath().receiveInto` buffer (a C `long`).
#[napi]
pub const SYSV_HEADER: u32 = sysv_mq::HEADER as u32;

/// The type of the message the last receiveInto on this thread returned.
#[napi]
pub fn sysv_last_type() -> f64 {
    LAST_TYPE.get()
}
