//! `NativeSysVQueue`: a System V message queue handle (Linux).

use super::cancel::NativeCancel;
use super::convert::{to_napi, to_u64, OrNapi};
use crate::error::{Code, IpcError};
use crate::sysv_mq::{self, OpenOptions, SysVQueue};
use crate::wait::{deadline_after, Cancel, Stops};
use napi::bindgen_prelude::{Buffer, BufferSlice, PromiseRaw, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
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
    last_type: f64,
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
            shared: Some(Arc::new(Shared {
                queue,
                closed: Cancel::new(),
            })),
            last_type: 0.0,
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

    #[napi]
    pub fn try_send(&self, data: Uint8ArraySlice, mtype: f64) -> napi::Result<bool> {
        let mtype = to_type(mtype)?;
        self.shared()?.queue.try_send(&data, mtype).or_napi()
    }

    #[napi]
    pub fn send_sync(
        &self,
        data: Uint8ArraySlice,
        mtype: f64,
        timeout_ms: Option<f64>,
    ) -> napi::Result<()> {
        let mtype = to_type(mtype)?;
        self.shared()?
            .queue
            .send_sync(&data, mtype, deadline_after(timeout_ms))
            .or_napi()
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

    /// The next message of the selected type, or null; its type is `lastType`.
    #[napi]
    pub fn try_receive<'env>(
        &mut self,
        env: &'env Env,
        mtype: f64,
    ) -> napi::Result<Option<BufferSlice<'env>>> {
        let mtype = to_type(mtype)?;
        let shared = Arc::clone(self.shared()?);
        let got = shared
            .queue
            .try_receive_with(mtype, |bytes, ty| (BufferSlice::copy_from(env, bytes), ty))
            .or_napi()?;
        match got {
            None => Ok(None),
            Some((buffer, ty)) => {
                self.last_type = ty as f64;
                buffer.map(Some)
            }
        }
    }

    #[napi]
    pub fn receive_sync<'env>(
        &mut self,
        env: &'env Env,
        mtype: f64,
        timeout_ms: Option<f64>,
    ) -> napi::Result<BufferSlice<'env>> {
        let mtype = to_type(mtype)?;
        let shared = Arc::clone(self.shared()?);
        let (buffer, ty) = shared
            .queue
            .receive_sync_with(mtype, deadline_after(timeout_ms), |bytes, ty| {
                (BufferSlice::copy_from(env, bytes), ty)
            })
            .or_napi()?;
        self.last_type = ty as f64;
        buffer
    }

    /// The type of the message the last tryReceive/receiveSync returned.
    #[napi(getter)]
    pub fn last_type(&self) -> f64 {
        self.last_type
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
        }
    }
}

/// ftok(path, projectId).
#[napi]
pub fn sysv_key_from_path(path: String, project_id: u32) -> napi::Result<i32> {
    sysv_mq::key_from_path(&path, project_id).or_napi()
}
