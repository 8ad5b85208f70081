//! `NativeMessageQueue`: a POSIX message queue handle (Linux).

use super::cancel::NativeCancel;
use super::convert::{to_napi, to_u64, OrNapi, WritableBytes};
use super::handles::Table;
use crate::error::{Code, IpcError};
use crate::posix_mq::{self, MessageQueue, OpenOptions};
use crate::wait::{deadline_after, Cancel, Stops};
use napi::bindgen_prelude::{Buffer, PromiseRaw, Uint8ArraySlice};
use napi::Env;
use napi_derive::napi;
use std::cell::Cell;
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
    /// This handle's number in MQ_HANDLES while it is open.
    id: u32,
}

impl NativeMessageQueue {
    fn shared(&self) -> napi::Result<&Arc<Shared>> {
        self.shared
            .as_ref()
            .ok_or_else(|| to_napi(IpcError::new(Code::Closed, "message queue is closed")))
    }
}

/// A handle collected without close(): forget its number. Its pending async calls (if any)
/// hold their own reference and finish normally; the queue closes after them.
impl Drop for NativeMessageQueue {
    fn drop(&mut self) {
        let _ = MQ_HANDLES.try_with(|t| t.remove(self.id));
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
        let shared = Arc::new(Shared {
            queue,
            closed: Cancel::new(),
        });
        let id = MQ_HANDLES.with(|t| t.insert(Arc::clone(&shared)));
        Ok(NativeMessageQueue {
            shared: Some(shared),
            id,
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
            let stops = Stops {
                abort: &abort,
                closed: &shared.closed,
                deadline,
                what: shared.queue.what(),
            };
            shared.queue.send(&data, priority, &stops).await.or_napi()
        })
    }

    /// The handle the hot-path functions (`mqTrySend`, `mqSendSync`, `mqTryReceive`,
    /// `mqReceiveSync`) take. It does not keep the queue open: after close() they fail.
    #[napi]
    pub fn fast_handle(&self) -> napi::Result<u32> {
        self.shared()?;
        Ok(self.id)
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
            // During thread teardown the table may already be gone; nothing to remove then.
            let _ = MQ_HANDLES.try_with(|t| t.remove(self.id));
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

// The hot path. Class methods cost ~0.5 µs each here (unwrap, type-tag check, borrow
// tracking), as much as the syscall, so the Sync and try forms are free functions over a
// numeric handle (see glue/handles.rs); the priority of the last message received on this
// thread is read with `mqLastPriority()` instead of building an object per message.

thread_local! {
    static MQ_HANDLES: Table<Shared> = Table::default();
    static LAST_PRIORITY: Cell<u32> = const { Cell::new(0) };
}

fn live(handle: u32) -> napi::Result<Arc<Shared>> {
    MQ_HANDLES
        .with(|t| t.get(handle))
        .filter(|s| !s.closed.is_cancelled())
        .ok_or_else(|| to_napi(IpcError::new(Code::Closed, "message queue is closed")))
}

#[napi(ts_args_type = "handle: number, data: Uint8Array, priority: number")]
pub fn mq_try_send(handle: u32, data: Uint8ArraySlice, priority: u32) -> napi::Result<bool> {
    live(handle)?.queue.try_send(&data, priority).or_napi()
}

#[napi(
    ts_args_type = "handle: number, data: Uint8Array, priority: number, timeoutMs?: number | undefined | null"
)]
pub fn mq_send_sync(
    handle: u32,
    data: Uint8ArraySlice,
    priority: u32,
    timeout_ms: Option<f64>,
) -> napi::Result<()> {
    let deadline = deadline_after(timeout_ms);
    live(handle)?
        .queue
        .send_sync(&data, priority, deadline)
        .or_napi()
}

/// Receives into `buf` at `offset` (with at least messageSize bytes from there): the message
/// length, or -1 when `wait` is false and the queue is empty. The priority is
/// `mqLastPriority()`. The kernel copies straight into the facade's receive pool, whose views
/// are the messages handed out: one copy per message, no native Buffer per message.
#[napi(
    ts_args_type = "handle: number, buf: Uint8Array, offset: number, wait: boolean, timeoutMs?: number | undefined | null"
)]
pub fn mq_receive_into(
    handle: u32,
    buf: WritableBytes,
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

/// The priority of the message the last mqReceiveInto on this thread returned.
#[napi]
pub fn mq_last_priority() -> u32 {
    LAST_PRIORITY.get()
}
