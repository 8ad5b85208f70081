//! FIFO handles: non-blocking descriptors watched by napi-rs's Tokio reactor (epoll/kqueue), so
//! a waiting read or write holds no thread. `close()` wakes any pending call.

use super::convert::{to_napi, to_u64, OrNapi};
use crate::error::{Code, IpcError};
use crate::fifo::{self, Io};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::watch;

struct Shared {
    fd: AsyncFd<OwnedFd>,
    closed: watch::Sender<bool>,
}

fn closed_error(what: &str) -> napi::Error {
    to_napi(IpcError::new(Code::Closed, format!("{what} is closed")))
}

fn watch_fd(fd: OwnedFd, interest: Interest) -> napi::Result<Arc<Shared>> {
    // SAFETY: the OwnedFd is a valid descriptor that only this AsyncFd owns and closes.
    let fd = unsafe { AsyncFd::register_with_interest(fd, interest) }
        .map_err(|e| to_napi(IpcError::new(Code::Os, format!("watch fifo: {e}"))))?;
    let (closed, _) = watch::channel(false);
    Ok(Arc::new(Shared { fd, closed }))
}

/// The handle's descriptor; a Mutex because `close()` may run while an async call holds `&self`.
type Slot = Mutex<Option<Arc<Shared>>>;

fn get(slot: &Slot, what: &str) -> napi::Result<Arc<Shared>> {
    slot.lock()
        .map_err(|_| closed_error(what))?
        .clone()
        .ok_or_else(|| closed_error(what))
}

fn take(slot: &Slot) {
    let shared = slot.lock().ok().and_then(|mut s| s.take());
    if let Some(shared) = shared {
        shared.closed.send_replace(true);
    }
}

#[napi]
pub fn fifo_create(path: String, mode: u32) -> napi::Result<()> {
    fifo::create(&path, mode).or_napi()
}

#[napi]
pub struct NativeFifoReader {
    shared: Slot,
}

#[napi]
pub struct NativeFifoWriter {
    shared: Slot,
}

/// Opens the read end at once; reads wait for a writer and data.
#[napi]
pub async fn fifo_open_reader(path: String) -> napi::Result<NativeFifoReader> {
    let fd = fifo::open_reader(&path).or_napi()?;
    Ok(NativeFifoReader {
        shared: Mutex::new(Some(watch_fd(fd, Interest::READABLE)?)),
    })
}

/// The write end, or null while no reader has the FIFO open (the facade retries on a timer).
#[napi]
pub async fn fifo_try_open_writer(path: String) -> napi::Result<Option<NativeFifoWriter>> {
    match fifo::try_open_writer(&path).or_napi()? {
        None => Ok(None),
        Some(fd) => Ok(Some(NativeFifoWriter {
            shared: Mutex::new(Some(watch_fd(fd, Interest::WRITABLE)?)),
        })),
    }
}

#[napi]
impl NativeFifoReader {
    /// The next chunk of at most `max` bytes, or null at EOF (every writer has closed).
    #[napi]
    pub async fn read(&self, max: u32) -> napi::Result<Option<Buffer>> {
        let shared = get(&self.shared, "FifoReader")?;
        let mut closed = shared.closed.subscribe();
        let mut buf = vec![0u8; max.max(1) as usize];
        loop {
            if *closed.borrow() {
                return Err(closed_error("FifoReader"));
            }
            tokio::select! {
                ready = shared.fd.readable() => {
                    let mut guard = ready.map_err(|e| to_napi(IpcError::new(Code::Os, format!("poll fifo: {e}"))))?;
                    match fifo::read(guard.get_inner(), &mut buf).or_napi()? {
                        Io::Done(0) => return Ok(None),
                        Io::Done(n) => {
                            buf.truncate(n);
                            return Ok(Some(buf.into()));
                        }
                        Io::WouldBlock => guard.clear_ready(),
                    }
                }
                _ = closed.changed() => return Err(closed_error("FifoReader")),
            }
        }
    }

    #[napi]
    pub fn close(&self) {
        take(&self.shared);
    }
}

#[napi]
impl NativeFifoWriter {
    /// Writes all of `data`, waiting (without a thread) while the pipe is full: backpressure.
    #[napi]
    pub async fn write(&self, data: Buffer) -> napi::Result<()> {
        let shared = get(&self.shared, "FifoWriter")?;
        let mut closed = shared.closed.subscribe();
        let mut offset = 0usize;
        while offset < data.len() {
            if *closed.borrow() {
                return Err(closed_error("FifoWriter"));
            }
            tokio::select! {
                ready = shared.fd.writable() => {
                    let mut guard = ready.map_err(|e| to_napi(IpcError::new(Code::Os, format!("poll fifo: {e}"))))?;
                    match fifo::write(guard.get_inner(), &data[offset..]).or_napi()? {
                        Io::Done(n) => offset += n,
                        Io::WouldBlock => guard.clear_ready(),
                    }
                }
                _ = closed.changed() => return Err(closed_error("FifoWriter")),
            }
        }
        Ok(())
    }

    /// Writes all of `data`, blocking the calling thread while the pipe is full.
    #[napi]
    pub fn write_sync(&self, data: Buffer, timeout: Option<f64>) -> napi::Result<()> {
        let shared = get(&self.shared, "FifoWriter")?;
        let timeout = timeout.map(|t| to_u64(t.ceil(), "timeout")).transpose()?;
        fifo::write_all_blocking(shared.fd.get_ref(), &data, timeout).or_napi()
    }

    #[napi]
    pub fn close(&self) {
        take(&self.shared);
    }
}
