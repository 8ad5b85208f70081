//! `NativeMessageQueue`: a POSIX message queue handle (Linux).

use super::cancel::NativeCancel;
use super::convert::{to_napi, to_u64, OrNapi};
use crate::error::{Code, IpcError};
use crate::posix_mq::{self, MessageQueue, OpenOptions};
use crate::wait::{deadline_after, Cancel, Stops};
use napi::bindgen_prelude::{Buffer, BufferSlice, PromiseRaw, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use std::sync::Arc;

struct Shared {
    queue: MessageQueue,
    /// Raised by close(): every pending async call ends with ERR_IPC_CLOSED.
    closed: Cancel,
}

#[napi(object)]
pub struct MqAttributes {
    pub max_messages: f64,
    pub message_size: f64,
    pub current_messages: f64,
}

#[napi(object)]
pub struct MqMessage {
    pub data: Buffer,
    pub priority: u32,
}

#[napi]
pub struct NativeMessageQueue {
    shared: Option<Arc<Shared>>,
    /// Receive buffer of messageSize bytes for the Sync and try forms (JS thread only).
    scratch: Vec<u8>,
    last_priority: u32,
}

impl NativeMessageQueue {
    fn shared(&self) -> napi::Result<&Arc<Shared>> {
        self.shared
            .as_ref()
            .ok_or_else(|| to_napi(IpcError::new(Code::Closed, "message queue is closed")))
    }
}

#[napi]
impl NativeMessageQueue {
    #[napi(factory)]
    pub fn open(
        name: String,
        create: bool,
        exclusive: bool,
        max_messages: Option<f64>,
        message_size: Option<f64>,
        mode: u32,
    ) -> napi::Result<Self> {
        let opts = OpenOptions {
            create,
            exclusive,
            max_messages: max_messages.map(|n| to_u64(n, "maxMessages")).transpose()?,
            message_size: message_size.map(|n| to_u64(n, "messageSize")).transpose()?,
            mode,
        };
        let queue = posix_mq::open(&name, &opts).or_napi()?;
        Ok(NativeMessageQueue {
            scratch: vec![0; queue.message_size],
            shared: Some(Arc::new(Shared {
                queue,
                closed: Cancel::new(),
            })),
            last_priority: 0,
        })
    }

    #[napi(getter)]
    pub fn name(&self) -> napi::Result<String> {
        Ok(self.shared()?.queue.name.clone())
    }

    #[napi]
    pub fn attributes(&self) -> napi::Result<MqAttributes> {
        let a = self.shared()?.queue.attributes().or_napi()?;
        Ok(MqAttributes {
            max_messages: a.max_messages as f64,
            message_size: a.message_size as f64,
            current_messages: a.current_messages as f64,
        })
    }

    #[napi]
    pub fn try_send(&self, data: Uint8ArraySlice, priority: u32) -> napi::Result<bool> {
        self.shared()?.queue.try_send(&data, priority).or_napi()
    }

    #[napi]
    pub fn send_sync(
        &self,
        data: Uint8ArraySlice,
        priority: u32,
        timeout_ms: Option<f64>,
    ) -> napi::Result<()> {
        let deadline = deadline_after(timeout_ms);
        self.shared()?
            .queue
            .send_sync(&data, priority, deadline)
            .or_napi()
    }

    /// The data is copied now, so the caller may reuse its buffer while the send waits.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        data: Uint8ArraySlice,
        priority: u32,
        timeout_ms: Option<f64>,
        cancel: &NativeCancel,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let shared = Arc::clone(self.shared()?);
        let abort = Arc::clone(&cancel.inner);
        let deadline = deadline_after(timeout_ms);
        let data = data.to_vec();
        env.spawn_future(async move {
            let stops = Stops {
                abort: &abort,
                closed: &shared.closed,
                deadline,
                what: shared.queue.what(),
            };
            shared.queue.send(&data, priority, &stops).await.or_napi()
        })
    }

    /// The next message, or null when the queue is empty; its priority is `lastPriority`.
    #[napi]
    pub fn try_receive<'env>(&mut self, env: &'env Env) -> napi::Result<Option<BufferSlice<'env>>> {
        let shared = Arc::clone(self.shared()?);
        match shared.queue.try_receive_into(&mut self.scratch).or_napi()? {
            None => Ok(None),
            Some((n, priority)) => {
                self.last_priority = priority;
                BufferSlice::copy_from(env, &self.scratch[..n]).map(Some)
            }
        }
    }

    /// Blocks until a message arrives; its priority is `lastPriority`.
    #[napi]
    pub fn receive_sync<'env>(
        &mut self,
        env: &'env Env,
        timeout_ms: Option<f64>,
    ) -> napi::Result<BufferSlice<'env>> {
        let shared = Arc::clone(self.shared()?);
        let (n, priority) = shared
            .queue
            .receive_sync_into(&mut self.scratch, deadline_after(timeout_ms))
            .or_napi()?;
        self.last_priority = priority;
        BufferSlice::copy_from(env, &self.scratch[..n])
    }

    /// The priority of the message the last tryReceive/receiveSync returned.
    #[napi(getter)]
    pub fn last_priority(&self) -> u32 {
        self.last_priority
    }

    #[napi(ts_return_type = "Promise<MqMessage>")]
    pub fn receive<'env>(
        &self,
        env: &'env Env,
        timeout_ms: Option<f64>,
        cancel: &NativeCancel,
    ) -> napi::Result<PromiseRaw<'env, MqMessage>> {
        let shared = Arc::clone(self.shared()?);
        let abort = Arc::clone(&cancel.inner);
        let deadline = deadline_after(timeout_ms);
        env.spawn_future(async move {
            let stops = Stops {
                abort: &abort,
                closed: &shared.closed,
                deadline,
                what: shared.queue.what(),
            };
            let (data, priority) = shared.queue.receive(&stops).await.or_napi()?;
            Ok(MqMessage {
                data: data.into(),
                priority,
            })
        })
    }

    /// Ends pending async calls (ERR_IPC_CLOSED) and drops this handle's share of the
    /// descriptor; it closes when the last pending call has let go of it.
    #[napi]
    pub fn close(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.closed.cancel();
        }
    }
}

#[napi]
pub fn mq_unlink(name: String) -> napi::Result<()> {
    posix_mq::unlink(&name).or_napi()
}

/// Linux's MQ_PRIO_MAX (priorities are 0..mqPrioMax-1).
#[napi]
pub fn mq_prio_max() -> u32 {
    posix_mq::PRIO_MAX
}
