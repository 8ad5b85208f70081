//! System V message queues (msgget, msgsnd, msgrcv, msgctl).
//!
//! SysV queues have no descriptor to poll, so waiting is done three ways:
//! - Sync without a timeout: the blocking syscall itself (the kernel wakes us; fastest).
//! - Sync with a timeout: non-blocking attempts with a sleep between them that doubles from
//!   50 µs to 5 ms (msgrcv has no timed variant; a signal to interrupt it is not ours to take).
//! - Async: a task on the Tokio runtime tries without blocking, spins on `yield_now` for at
//!   most 50 µs, then sleeps on a Tokio timer that doubles from 1 ms to 10 ms between attempts.
//!   A send or receive by this process on the same queue wakes its waiters at once (a Notify
//!   per queue id), so only wake-ups caused by other processes wait for the next attempt.
//!   No thread is parked, the loop never blocks, and an idle waiter costs at most ~100 cheap
//!   syscalls a second.

use crate::error::{last_errno, Code, IpcError, Result};
use crate::wait::Stops;
use std::cell::RefCell;
use std::ffi::CString;
use std::sync::OnceLock;
use std::time::Instant;
use tokio::sync::Notify;

pub const HEADER: usize = std::mem::size_of::<libc::c_long>();

fn kernel_limit(file: &str, fallback: u64) -> u64 {
    std::fs::read_to_string(format!("/proc/sys/kernel/{file}"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(fallback)
}

/// kernel.msgmax: the largest message.
pub fn msgmax() -> u64 {
    kernel_limit("msgmax", 8192)
}

/// kernel.msgmnb: the default (and, unprivileged, the largest) bytes per queue.
pub fn msgmnb() -> u64 {
    kernel_limit("msgmnb", 16384)
}

/// ftok(path, projectId): projectId must be 1..=255 (its low 8 bits are used; 0 is refused
/// because some systems then return the same key for every project).
pub fn key_from_path(path: &str, project_id: u32) -> Result<i32> {
    if !(1..=255).contains(&project_id) {
        return Err(IpcError::invalid(format!(
            "projectId must be an integer in 1..255, got {project_id}"
        )));
    }
    let c = CString::new(path).map_err(|_| IpcError::invalid("path contains a NUL byte"))?;
    // SAFETY: NUL-terminated path.
    let key = unsafe { libc::ftok(c.as_ptr(), project_id as libc::c_int) };
    if key == -1 {
        return Err(IpcError::last_os("ftok", path));
    }
    Ok(key)
}

pub struct OpenOptions {
    pub create: bool,
    pub exclusive: bool,
    pub mode: u32,
    pub max_bytes: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    pub messages: u64,
    pub bytes: u64,
    pub max_bytes: u64,
}

#[derive(Debug)]
pub struct SysVQueue {
    pub key: i32,
    pub id: i32,
    msgmax: usize,
    what: String,
}

/// Wakes this process's waiters on a queue after this process changed it. Queues share 64
/// buckets; a wake-up meant for another queue only costs that waiter one extra attempt.
fn local_wakeup(id: i32) -> &'static Notify {
    static BUCKETS: OnceLock<Vec<Notify>> = OnceLock::new();
    let buckets = BUCKETS.get_or_init(|| (0..64).map(|_| Notify::new()).collect());
    &buckets[(id as u32 % 64) as usize]
}

fn stat(id: i32, what: &str) -> Result<libc::msqid_ds> {
    // SAFETY: msgctl fills a zeroed struct we own.
    let mut ds: libc::msqid_ds = unsafe { std::mem::zeroed() };
    if unsafe { libc::msgctl(id, libc::IPC_STAT, &mut ds) } != 0 {
        return Err(removed_or(IpcError::last_os("msgctl", what)));
    }
    Ok(ds)
}

/// EIDRM and (for a valid-looking id) EINVAL both mean someone removed the queue.
fn removed_or(e: IpcError) -> IpcError {
    match e.errno {
        Some(libc::EIDRM) | Some(libc::EINVAL) => {
            let msg = format!("{} (the queue was removed)", e.message);
            e.with_code(Code::NotFound).with_message(msg)
        }
        _ => e,
    }
}

pub fn open(key: i32, opts: &OpenOptions) -> Result<SysVQueue> {
    crate::shm::check_mode(opts.mode)?;
    let what = format!("SysV message queue key {:#x}", key as u32);
    if key == libc::IPC_PRIVATE && !opts.create {
        return Err(IpcError::invalid(
            "key 0 is IPC_PRIVATE, which always makes a new queue: pass create: true for that",
        ));
    }
    if let Some(max) = opts.max_bytes {
        let limit = msgmnb();
        if max == 0 {
            return Err(IpcError::invalid("maxBytes must be at least 1"));
        }
        if max > limit {
            return Err(IpcError::new(
                Code::Limit,
                format!(
                    "maxBytes {max} exceeds the kernel limit kernel.msgmnb = {limit}; raise it with \
                     `sysctl -w kernel.msgmnb=N` (as root; persist in /etc/sysctl.d) or ask for less"
                ),
            ));
        }
    }
    let mode = opts.mode as libc::c_int;
    let get = |flags: libc::c_int| -> Result<i32> {
        // SAFETY: plain syscall with integer arguments.
        let id = unsafe { libc::msgget(key, flags) };
        if id < 0 {
            let e = IpcError::last_os("msgget", &what);
            return Err(if e.errno == Some(libc::ENOSPC) {
                let limit = kernel_limit("msgmni", 32000);
                e.with_code(Code::Limit).with_message(format!(
                    "msgget {what}: the system-wide number of queues kernel.msgmni = {limit} is \
                     reached; remove unused queues (ipcs -q, ipcrm) or raise it with `sysctl -w kernel.msgmni=N`"
                ))
            } else {
                e
            });
        }
        Ok(id)
    };
    let (id, created) = if opts.create {
        match get(libc::IPC_CREAT | libc::IPC_EXCL | mode) {
            Ok(id) => (id, true),
            Err(e) if e.code == Code::Exists && !opts.exclusive => (get(0)?, false),
            Err(e) => return Err(e),
        }
    } else {
        (get(0)?, false)
    };
    let queue = SysVQueue {
        key,
        id,
        msgmax: msgmax() as usize,
        what,
    };
    if let Some(max) = opts.max_bytes {
        let mut ds = stat(id, &queue.what)?;
        if created {
            ds.msg_qbytes = max as _;
            // SAFETY: msgctl reads the struct we own.
            if unsafe { libc::msgctl(id, libc::IPC_SET, &mut ds) } != 0 {
                let e = IpcError::last_os("msgctl", &queue.what);
                let _ = queue.remove();
                return Err(e);
            }
        } else if ds.msg_qbytes as u64 != max {
            return Err(IpcError::new(
                Code::Exists,
                format!(
                    "{} exists with maxBytes {}, not {max}; open it as it is or remove it first",
                    queue.what, ds.msg_qbytes
                ),
            ));
        }
    }
    Ok(queue)
}

thread_local! {
    /// Receive buffer: header plus kernel.msgmax bytes, reused by every receive on this thread.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Send buffer of the Sync and try forms: header plus the message.
    static SEND_FRAME: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl SysVQueue {
    pub fn what(&self) -> &str {
        &self.what
    }

    pub fn msgmax(&self) -> usize {
        self.msgmax
    }

    pub fn stats(&self) -> Result<Stats> {
        let ds = stat(self.id, &self.what)?;
        Ok(Stats {
            messages: ds.msg_qnum as u64,
            bytes: ds.__msg_cbytes as u64,
            max_bytes: ds.msg_qbytes as u64,
        })
    }

    pub fn remove(&self) -> Result<()> {
        // SAFETY: IPC_RMID takes no buffer.
        if unsafe { libc::msgctl(self.id, libc::IPC_RMID, std::ptr::null_mut()) } != 0 {
            return Err(removed_or(IpcError::last_os("msgctl", &self.what)));
        }
        Ok(())
    }

    fn check_message(&self, data: &[u8], mtype: i64) -> Result<()> {
        if mtype <= 0 {
            return Err(IpcError::invalid(format!(
                "type must be an integer > 0 to send, got {mtype}"
            )));
        }
        if data.len() > self.msgmax {
            return Err(IpcError::new(
                Code::TooLarge,
                format!(
                    "a message of {} bytes is larger than kernel.msgmax = {} (raise it with \
                     `sysctl -w kernel.msgmax=N`)",
                    data.len(),
                    self.msgmax
                ),
            ));
        }
        Ok(())
    }

    /// The message as msgsnd wants it: a native `long` type, then the bytes.
    pub fn frame(&self, data: &[u8], mtype: i64) -> Result<Vec<u8>> {
        let mut frame = Vec::with_capacity(HEADER + data.len());
        self.frame_into(&mut frame, data, mtype)?;
        Ok(frame)
    }

    fn frame_into(&self, frame: &mut Vec<u8>, data: &[u8], mtype: i64) -> Result<()> {
        self.check_message(data, mtype)?;
        frame.clear();
        frame.extend_from_slice(&(mtype as libc::c_long).to_ne_bytes());
        frame.extend_from_slice(data);
        Ok(())
    }

    /// Runs `f` with the message framed in this thread's reusable send buffer (the Sync and
    /// try forms), saving an allocation per message.
    fn with_frame<T>(
        &self,
        data: &[u8],
        mtype: i64,
        f: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<T> {
        SEND_FRAME.with_borrow_mut(|frame| {
            self.frame_into(frame, data, mtype)?;
            f(frame)
        })
    }

    /// One msgsnd of a frame; false when the queue has no room (non-blocking only).
    fn send_frame(&self, frame: &[u8], block: bool) -> Result<bool> {
        let flags = if block { 0 } else { libc::IPC_NOWAIT };
        loop {
            // SAFETY: frame holds a long followed by frame.len() - HEADER bytes.
            let rc = unsafe {
                libc::msgsnd(self.id, frame.as_ptr().cast(), frame.len() - HEADER, flags)
            };
            if rc == 0 {
                local_wakeup(self.id).notify_waiters();
                return Ok(true);
            }
            match last_errno() {
                libc::EAGAIN => return Ok(false),
                libc::EINTR => continue,
                errno => return Err(removed_or(IpcError::os("msgsnd", errno, &self.what))),
            }
        }
    }

    /// A message that can never fit the queue would wait forever: refuse it instead.
    fn check_fits(&self, frame: &[u8]) -> Result<()> {
        let max = self.stats()?.max_bytes as usize;
        if frame.len() - HEADER > max {
            return Err(IpcError::new(
                Code::TooLarge,
                format!(
                    "a message of {} bytes can never fit {} (maxBytes {max})",
                    frame.len() - HEADER,
                    self.what
                ),
            ));
        }
        Ok(())
    }

    /// One msgrcv into `buf` (a `long` header, then at least msgmax bytes): the text length
    /// and the type, or None when nothing of the selected type is queued (non-blocking only).
    pub fn receive_into(
        &self,
        buf: &mut [u8],
        mtype: i64,
        block: bool,
    ) -> Result<Option<(usize, i64)>> {
        if buf.len() < HEADER + self.msgmax {
            return Err(IpcError::invalid(format!(
                "receive buffer of {} bytes is smaller than {}",
                buf.len(),
                HEADER + self.msgmax
            )));
        }
        let flags = if block { 0 } else { libc::IPC_NOWAIT };
        loop {
            // SAFETY: buf has room for a long plus buf.len() - HEADER bytes.
            let n = unsafe {
                libc::msgrcv(
                    self.id,
                    buf.as_mut_ptr().cast(),
                    buf.len() - HEADER,
                    mtype as libc::c_long,
                    flags,
                )
            };
            if n >= 0 {
                local_wakeup(self.id).notify_waiters();
                let mut ty = [0u8; HEADER];
                ty.copy_from_slice(&buf[..HEADER]);
                // c_long is 32 bits on some targets.
                #[allow(clippy::unnecessary_cast)]
                let ty = libc::c_long::from_ne_bytes(ty) as i64;
                return Ok(Some((n as usize, ty)));
            }
            match last_errno() {
                libc::ENOMSG | libc::EAGAIN => return Ok(None),
                libc::EINTR => continue,
                libc::E2BIG => {
                    return Err(IpcError::new(
                        Code::TooLarge,
                        format!(
                            "{} holds a message larger than kernel.msgmax was ({} bytes) when it was opened; reopen it",
                            self.what, self.msgmax
                        ),
                    ))
                }
                errno => return Err(removed_or(IpcError::os("msgrcv", errno, &self.what))),
            }
        }
    }

    /// One msgrcv, handing the type and bytes to `take` while they sit in the scratch buffer.
    fn receive_with<R>(
        &self,
        mtype: i64,
        block: bool,
        take: impl FnOnce(&[u8], i64) -> R,
    ) -> Result<Option<R>> {
        SCRATCH.with_borrow_mut(|buf| {
            if buf.len() < HEADER + self.msgmax {
                buf.resize(HEADER + self.msgmax, 0);
            }
            Ok(self
                .receive_into(buf, mtype, block)?
                .map(|(n, ty)| take(&buf[HEADER..HEADER + n], ty)))
        })
    }

    pub fn try_send(&self, data: &[u8], mtype: i64) -> Result<bool> {
        self.with_frame(data, mtype, |frame| {
            if self.send_frame(frame, false)? {
                return Ok(true);
            }
            self.check_fits(frame)?;
            Ok(false)
        })
    }

    pub fn try_receive_with<R>(
        &self,
        mtype: i64,
        take: impl FnOnce(&[u8], i64) -> R,
    ) -> Result<Option<R>> {
        self.receive_with(mtype, false, take)
    }

    pub fn send_sync(&self, data: &[u8], mtype: i64, deadline: Option<Instant>) -> Result<()> {
        self.with_frame(data, mtype, |frame| {
            if self.send_frame(frame, false)? {
                return Ok(());
            }
            self.check_fits(frame)?;
            if deadline.is_none() {
                self.send_frame(frame, true)?;
                return Ok(());
            }
            self.backoff_sync(deadline, || {
                self.send_frame(frame, false).map(|sent| sent.then_some(()))
            })
        })
    }

    /// The Sync receive into a caller's buffer (see `receive_into`).
    pub fn receive_sync_into(
        &self,
        buf: &mut [u8],
        mtype: i64,
        deadline: Option<Instant>,
    ) -> Result<(usize, i64)> {
        if let Some(got) = self.receive_into(buf, mtype, false)? {
            return Ok(got);
        }
        if deadline.is_none() {
            return self
                .receive_into(buf, mtype, true)?
                .ok_or_else(|| IpcError::new(Code::Os, "a blocking msgrcv returned no message"));
        }
        self.backoff_sync(deadline, || self.receive_into(buf, mtype, false))
    }

    pub async fn send(&self, data: &[u8], mtype: i64, stops: &Stops<'_>) -> Result<()> {
        let frame = self.frame(data, mtype)?;
        if self.send_frame(&frame, false)? {
            return Ok(());
        }
        self.check_fits(&frame)?;
        self.backoff_async(stops, || {
            self.send_frame(&frame, false)
                .map(|sent| sent.then_some(()))
        })
        .await
    }

    /// A stop (abort, close, timeout) always wins before an attempt, so it consumes nothing.
    pub async fn receive(&self, mtype: i64, stops: &Stops<'_>) -> Result<(Vec<u8>, i64)> {
        self.backoff_async(stops, || {
            self.receive_with(mtype, false, |b, t| (b.to_vec(), t))
        })
        .await
    }
}

mod backoff;

#[cfg(test)]
mod tests;
