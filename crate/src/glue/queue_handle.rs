//! What the message-queue handle classes share: the state a handle shares with its pending
//! async calls, its number in the hot-path table (see glue/handles.rs), and close().

use super::convert::to_napi;
use super::handles::Table;
use crate::error::{Code, IpcError};
use crate::wait::{Cancel, Stops};
use std::sync::Arc;
use std::thread::LocalKey;
use std::time::Instant;

/// A queue as the OS module has it: its name in errors.
pub trait Queue {
    fn what(&self) -> &str;
}

pub struct Shared<Q> {
    pub queue: Q,
    /// Raised by close(): every pending async call ends with ERR_IPC_CLOSED.
    pub closed: Cancel,
}

impl<Q: Queue> Shared<Q> {
    /// What ends an async wait: `abort`, close(), `deadline`.
    pub fn stops<'a>(&'a self, abort: &'a Cancel, deadline: Option<Instant>) -> Stops<'a> {
        Stops {
            abort,
            closed: &self.closed,
            deadline,
            what: self.queue.what(),
        }
    }
}

/// The thread's table of open handles of one queue kind, and its ERR_IPC_CLOSED message.
pub struct Handles<Q: 'static> {
    pub table: &'static LocalKey<Table<Shared<Q>>>,
    pub closed_message: &'static str,
}

impl<Q> Handles<Q> {
    fn closed(&self) -> napi::Error {
        to_napi(IpcError::new(Code::Closed, self.closed_message))
    }

    /// The open queue behind a hot-path handle number.
    pub fn live(&self, handle: u32) -> napi::Result<Arc<Shared<Q>>> {
        self.table
            .with(|t| t.get(handle))
            .filter(|s| !s.closed.is_cancelled())
            .ok_or_else(|| self.closed())
    }
}

/// A handle class's state: its share of the queue while open, and its number in the table.
pub struct QueueHandle<Q: 'static> {
    shared: Option<Arc<Shared<Q>>>,
    id: u32,
    handles: &'static Handles<Q>,
}

impl<Q> QueueHandle<Q> {
    pub fn new(queue: Q, handles: &'static Handles<Q>) -> Self {
        let shared = Arc::new(Shared {
            queue,
            closed: Cancel::new(),
        });
        let id = handles.table.with(|t| t.insert(Arc::clone(&shared)));
        QueueHandle {
            shared: Some(shared),
            id,
            handles,
        }
    }

    pub fn shared(&self) -> napi::Result<&Arc<Shared<Q>>> {
        self.shared.as_ref().ok_or_else(|| self.handles.closed())
    }

    /// The number the hot-path functions take. It does not keep the queue open: after close()
    /// they fail.
    pub fn fast_handle(&self) -> napi::Result<u32> {
        self.shared()?;
        Ok(self.id)
    }

    /// Ends pending async calls (ERR_IPC_CLOSED) and drops this handle's share of the queue;
    /// it closes when the last pending call has let go of it.
    pub fn close(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.closed.cancel();
            // During thread teardown the table may already be gone; nothing to remove then.
            let _ = self.handles.table.try_with(|t| t.remove(self.id));
        }
    }
}

/// A handle collected without close(): forget its number. Its pending async calls (if any)
/// hold their own reference and finish normally; the queue closes after them.
impl<Q> Drop for QueueHandle<Q> {
    fn drop(&mut self) {
        let _ = self.handles.table.try_with(|t| t.remove(self.id));
    }
}
