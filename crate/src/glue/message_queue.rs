//! `NativeMessageQueue`: a POSIX message queue handle (Linux).

use super::cancel::NativeCancel;
use super::convert::{to_napi, to_u64, OrNapi};
use super::handles::Table;
use super::queue_handle::{Handles, Queue, QueueHandle, Shared};
use super::raw_call::{self, callback};
use crate::error::IpcError;
use crate::posix_mq::{self, MessageQueue, OpenOptions};
use crate::wait::deadline_after;
use napi::bindgen_prelude::{Buffer, Object, PromiseRaw, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use std::cell::Cell;
use std::sync::Arc;

impl Queue for MessageQueue {
    fn what(&self) -> &str {
        MessageQueue::what(self)
    }
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
    inner: QueueHandle<MessageQueue>,
}

impl NativeMessageQueue {
    fn shared(&self) -> napi::Result<&Arc<Shared<MessageQueue>>> {
        self.inner.shared()
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
            inner: QueueHandle::new(queue, &HANDLES),
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
            let stops = shared.stops(&abort, deadline);
            shared.queue.send(&data, priority, &stops).await.or_napi()
        })
    }

    /// The handle the hot-path functions (`mqFastPath()`) take. It does not keep the queue open: after close() they fail.
    #[napi]
    pub fn fast_handle(&self) -> napi::Result<u32> {
        self.inner.fast_handle()
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
            let stops = shared.stops(&abort, deadline);
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
        self.inner.close();
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

// The hot path. Class methods cost ~0.5 µs each here (unwrap, type-tag check, borrow
// tracking), as much as the syscall, so the Sync and try forms are free functions over a
// numeric handle (see glue/handles.rs); the priority of the last message received on this
// thread is read with `mqLastPriority()` instead of building an object per message.

thread_local! {
    static MQ_HANDLES: Table<Shared<MessageQueue>> = Table::default();
    static LAST_PRIORITY: Cell<u32> = const { Cell::new(0) };
}

static HANDLES: Handles<MessageQueue> = Handles {
    table: &MQ_HANDLES,
    closed_message: "message queue is closed",
};

fn live(handle: u32) -> napi::Result<Arc<Shared<MessageQueue>>> {
    HANDLES.live(handle)
}

fn try_send(handle: u32, data: &[u8], priority: u32) -> napi::Result<bool> {
    live(handle)?.queue.try_send(data, priority).or_napi()
}

fn send_sync(handle: u32, data: &[u8], priority: u32, timeout_ms: Option<f64>) -> napi::Result<()> {
    let deadline = deadline_after(timeout_ms);
    live(handle)?
        .queue
        .send_sync(data, priority, deadline)
        .or_napi()
}

/// Receives into `buf` at `offset` (with at least messageSize bytes from there): the message
/// length, or -1 when `wait` is false and the queue is empty. The priority is
/// `mqLastPriority()`. The kernel copies straight into the facade's receive pool, whose views
/// are the messages handed out: one copy per message, no native Buffer per message.
fn receive_into(
    handle: u32,
    buf: &mut [u8],
    offset: u32,
    wait: bool,
    timeout_ms: Option<f64>,
) -> napi::Result<f64> {
    let shared = live(handle)?;
    let buf = buf
        .get_mut(offset as usize..)
        .filter(|rest| rest.len() >= shared.queue.message_size)
        .ok_or_else(|| {
            to_napi(IpcError::invalid(format!(
                "receive buffer has fewer than messageSize {} bytes at offset {offset}",
                shared.queue.message_size
            )))
        })?;
    let got = if wait {
        Some(
            shared
                .queue
                .receive_sync_into(buf, deadline_after(timeout_ms))
                .or_napi()?,
        )
    } else {
        shared.queue.try_receive_into(buf).or_napi()?
    };
    Ok(match got {
        None => -1.0,
        Some((n, priority)) => {
            LAST_PRIORITY.set(priority);
            n as f64
        }
    })
}

callback!(raw_try_send, 3, |c| {
    let handle = c.u32(0, "handle")?;
    let priority = c.u32(2, "priority")?;
    let sent = try_send(handle, c.bytes(1, "data")?, priority)?;
    c.boolean(sent)
});

callback!(raw_send_sync, 4, |c| {
    let handle = c.u32(0, "handle")?;
    let priority = c.u32(2, "priority")?;
    let timeout = c.opt_f64(3, "timeoutMs")?;
    send_sync(handle, c.bytes(1, "data")?, priority, timeout)?;
    c.undefined()
});

callback!(raw_receive_into, 5, |c| {
    let handle = c.u32(0, "handle")?;
    let offset = c.u32(2, "offset")?;
    let wait = c.bool(3, "wait")?;
    let timeout = c.opt_f64(4, "timeoutMs")?;
    let n = receive_into(handle, c.bytes(1, "buf")?, offset, wait, timeout)?;
    c.number(n)
});

/// The hot-path functions, as hand-written Node-API callbacks (see glue/raw_call.rs for why).
/// `receiveInto(handle, buf, offset, wait, timeoutMs)`: see `receive_into` above.
#[napi(
    ts_return_type = "{ trySend(handle: number, data: Uint8Array, priority: number): boolean; sendSync(handle: number, data: Uint8Array, priority: number, timeoutMs: number | undefined): void; receiveInto(handle: number, buf: Uint8Array, offset: number, wait: boolean, timeoutMs: number | undefined): number }"
)]
pub fn mq_fast_path(env: &Env) -> napi::Result<Object<'_>> {
    raw_call::functions(
        env,
        &[
            ("trySend", raw_try_send),
            ("sendSync", raw_send_sync),
            ("receiveInto", raw_receive_into),
        ],
    )
}

/// The priority of the message the last receiveInto on this thread returned.
#[napi]
pub fn mq_last_priority() -> u32 {
    LAST_PRIORITY.get()
}
