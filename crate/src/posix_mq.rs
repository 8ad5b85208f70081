//! POSIX message queues (mq_open) on Linux, where a queue descriptor is a pollable fd.
//!
//! One blocking descriptor per handle, used three ways: the Sync forms are the plain blocking
//! calls (mq_timedsend/mq_timedreceive with the caller's deadline), exactly what a C program
//! does; the try forms pass an already-expired deadline, so they never sleep; the async forms
//! wait for readiness through Tokio's reactor (epoll), then try, with no thread parked.

use crate::error::{last_errno, Code, IpcError, Result};
use crate::wait::Stops;
use std::ffi::CString;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::OnceLock;
use std::time::Instant;
use tokio::io::unix::AsyncFd;

/// Linux's MQ_PRIO_MAX: priorities are 0..=32767.
pub const PRIO_MAX: u32 = 32768;

const PROC_MQ: &str = "/proc/sys/fs/mqueue";

fn proc_limit(file: &str) -> Option<u64> {
    std::fs::read_to_string(format!("{PROC_MQ}/{file}"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub max_messages: u64,
    pub message_size: u64,
    pub current_messages: u64,
}

pub struct OpenOptions {
    pub create: bool,
    pub exclusive: bool,
    pub max_messages: Option<u64>,
    pub message_size: Option<u64>,
    pub mode: u32,
}

/// How long one send or receive may sleep in the kernel.
#[derive(Clone, Copy)]
enum Until {
    /// Not at all: an expired absolute timeout makes the call fail at once instead of sleeping.
    Now,
    /// Until this CLOCK_REALTIME instant (the clock mq_timed* use).
    Realtime(libc::timespec),
    Forever,
}

impl Until {
    fn from_deadline(deadline: Option<Instant>) -> Until {
        let Some(deadline) = deadline else {
            return Until::Forever;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        // SAFETY: clock_gettime fills a timespec we own.
        let mut now: libc::timespec = unsafe { std::mem::zeroed() };
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
        let nanos = now.tv_nsec as u64 + left.subsec_nanos() as u64;
        let secs = (now.tv_sec as u64)
            .saturating_add(left.as_secs())
            .saturating_add(nanos / 1_000_000_000)
            .min(i64::MAX as u64 / 2);
        Until::Realtime(libc::timespec {
            tv_sec: secs as libc::time_t,
            tv_nsec: (nanos % 1_000_000_000) as _,
        })
    }

    fn timespec(self) -> Option<libc::timespec> {
        match self {
            Until::Now => Some(libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            }),
            Until::Realtime(ts) => Some(ts),
            Until::Forever => None,
        }
    }
}

/// The raw descriptor as Tokio sees it; the queue owns and closes it.
struct Registered(RawFd);

impl AsRawFd for Registered {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

pub struct MessageQueue {
    pub name: String,
    pub message_size: usize,
    /// Registered with the reactor on first async use (that needs a runtime context), once:
    /// epoll refuses a second registration of one descriptor.
    reactor: OnceLock<std::result::Result<AsyncFd<Registered>, IpcError>>,
    fd: RawFd,
    what: String,
}

impl std::fmt::Debug for MessageQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageQueue")
            .field("name", &self.name)
            .field("fd", &self.fd)
            .finish()
    }
}

impl Drop for MessageQueue {
    fn drop(&mut self) {
        // Deregister from epoll before the descriptor closes.
        drop(self.reactor.take());
        // SAFETY: the descriptor came from mq_open and is closed exactly once, here.
        unsafe { libc::mq_close(self.fd) };
    }
}

fn c_name(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| IpcError::invalid(format!("{name:?} contains a NUL byte")))
}

fn describe(name: &str) -> String {
    format!("POSIX message queue {name:?}")
}

fn limit_error(what: &str, value: u64, file: &str, limit: u64) -> IpcError {
    IpcError::new(
        Code::Limit,
        format!(
            "{what} {value} exceeds the kernel limit fs.mqueue.{file} = {limit}; raise it with \
             `sysctl -w fs.mqueue.{file}=N` (as root; persist in /etc/sysctl.d) or ask for less"
        ),
    )
}

/// Checks requested sizes against the system limits before mq_open, for every caller: a
/// privileged process could exceed them, but then the same program would fail elsewhere.
fn queue_attr(opts: &OpenOptions) -> Result<Option<libc::mq_attr>> {
    if opts.max_messages.is_none() && opts.message_size.is_none() {
        return Ok(None);
    }
    let check = |value: Option<u64>, what: &str, default_file: &str, max_file: &str| {
        let value = value.unwrap_or_else(|| proc_limit(default_file).unwrap_or(10));
        if value == 0 {
            return Err(IpcError::invalid(format!("{what} must be at least 1")));
        }
        if let Some(limit) = proc_limit(max_file) {
            if value > limit {
                return Err(limit_error(what, value, max_file, limit));
            }
        }
        Ok(value)
    };
    let max_messages = check(opts.max_messages, "maxMessages", "msg_default", "msg_max")?;
    let message_size = check(
        opts.message_size,
        "messageSize",
        "msgsize_default",
        "msgsize_max",
    )?;
    // SAFETY: mq_attr is plain data; zero is a valid value for every field.
    let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
    attr.mq_maxmsg = max_messages as _;
    attr.mq_msgsize = message_size as _;
    Ok(Some(attr))
}

fn open_error(name: &str, creating: bool) -> IpcError {
    let errno = last_errno();
    let e = IpcError::os("mq_open", errno, name);
    match errno {
        libc::EMFILE if creating => {
            let limit = rlimit_msgqueue();
            e.with_code(Code::Limit).with_message(format!(
                "mq_open {name}: the per-user message queue memory limit RLIMIT_MSGQUEUE \
                 ({limit} bytes, about 9 queues of 10 x 8 KiB) or the per-process descriptor limit \
                 is reached; unlink unused queues, make smaller ones, or raise it with `ulimit -q` / \
                 prlimit --msgqueue (limits.conf `msgqueue`)"
            ))
        }
        libc::EMFILE | libc::ENFILE => e.with_code(Code::Limit),
        libc::ENOSPC => {
            let limit = proc_limit("queues_max").unwrap_or(256);
            e.with_code(Code::Limit).with_message(format!(
                "mq_open {name}: the system-wide number of queues fs.mqueue.queues_max = {limit} is \
                 reached; unlink unused queues or raise it with `sysctl -w fs.mqueue.queues_max=N`"
            ))
        }
        _ => e,
    }
}

fn rlimit_msgqueue() -> u64 {
    // SAFETY: getrlimit fills a struct we own.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_MSGQUEUE, &mut rl) } == 0 {
        rl.rlim_cur as u64
    } else {
        0
    }
}

fn mq_open(name: &CString, flags: i32, mode: u32, attr: Option<&mut libc::mq_attr>) -> RawFd {
    let attr_ptr = attr.map_or(std::ptr::null_mut(), |a| a as *mut libc::mq_attr);
    // SAFETY: NUL-terminated name; attr is null or points to a live mq_attr.
    unsafe {
        libc::mq_open(
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::mode_t,
            attr_ptr,
        )
    }
}

pub fn open(name: &str, opts: &OpenOptions) -> Result<MessageQueue> {
    let name = crate::shm::object_name(name)?;
    crate::shm::check_mode(opts.mode)?;
    let c = c_name(&name)?;
    let mut attr = if opts.create { queue_attr(opts)? } else { None };
    let mut fd = -1;
    let mut created = false;
    if opts.create {
        fd = mq_open(
            &c,
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
            opts.mode,
            attr.as_mut(),
        );
        if fd >= 0 {
            created = true;
        } else if last_errno() != libc::EEXIST || opts.exclusive {
            return Err(open_error(&name, true));
        }
    }
    if fd < 0 {
        fd = mq_open(&c, libc::O_RDWR, 0, None);
        if fd < 0 {
            return Err(open_error(&name, false));
        }
    }
    let mut queue = MessageQueue {
        name: name.clone(),
        message_size: 0,
        reactor: OnceLock::new(),
        fd,
        what: describe(&name),
    };
    if created {
        // mq_open's mode is reduced by the umask; apply exactly what the caller asked for.
        // SAFETY: fchmod on the descriptor we own.
        if unsafe { libc::fchmod(fd, opts.mode as libc::mode_t) } != 0 {
            let e = IpcError::last_os("fchmod", &name);
            let _ = unlink(&name);
            return Err(e);
        }
    }
    let attrs = queue.attributes()?;
    if !created {
        let clash = |want: Option<u64>, have: u64| want.is_some_and(|w| w != have);
        if opts.create
            && (clash(opts.max_messages, attrs.max_messages)
                || clash(opts.message_size, attrs.message_size))
        {
            return Err(IpcError::new(
                Code::Exists,
                format!(
                    "{name} exists with maxMessages {} and messageSize {}, not what was asked; \
                     open it as it is or unlink it first",
                    attrs.max_messages, attrs.message_size
                ),
            ));
        }
    }
    queue.message_size = attrs.message_size as usize;
    Ok(queue)
}

pub fn unlink(name: &str) -> Result<()> {
    let name = crate::shm::object_name(name)?;
    let c = c_name(&name)?;
    // SAFETY: NUL-terminated name.
    if unsafe { libc::mq_unlink(c.as_ptr()) } != 0 {
        return Err(IpcError::last_os("mq_unlink", &name));
    }
    Ok(())
}

impl MessageQueue {
    pub fn what(&self) -> &str {
        &self.what
    }

    pub fn attributes(&self) -> Result<Attributes> {
        // SAFETY: mq_getattr fills a zeroed struct we own.
        let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
        if unsafe { libc::mq_getattr(self.fd, &mut attr) } != 0 {
            return Err(IpcError::last_os("mq_getattr", &self.name));
        }
        Ok(Attributes {
            max_messages: attr.mq_maxmsg as u64,
            message_size: attr.mq_msgsize as u64,
            current_messages: attr.mq_curmsgs as u64,
        })
    }

    fn check_send(&self, data: &[u8], priority: u32) -> Result<()> {
        if data.len() > self.message_size {
            return Err(IpcError::new(
                Code::TooLarge,
                format!(
                    "a message of {} bytes is larger than the messageSize {} of {}",
                    data.len(),
                    self.message_size,
                    self.name
                ),
            ));
        }
        if priority >= PRIO_MAX {
            return Err(IpcError::invalid(format!(
                "priority must be in 0..{}, got {priority}",
                PRIO_MAX - 1
            )));
        }
        Ok(())
    }

    /// One mq_send that does not wait: false when the queue is full.
    pub fn try_send(&self, data: &[u8], priority: u32) -> Result<bool> {
        self.check_send(data, priority)?;
        self.send_now(data, priority)
    }

    fn send_now(&self, data: &[u8], priority: u32) -> Result<bool> {
        self.send_until(data, priority, Until::Now)
    }

    fn send_until(&self, data: &[u8], priority: u32, until: Until) -> Result<bool> {
        loop {
            // SAFETY: data is a live slice of data.len() bytes; the timespec outlives the call.
            let rc = unsafe {
                match until.timespec() {
                    None => libc::mq_send(self.fd, data.as_ptr().cast(), data.len(), priority),
                    Some(ts) => {
                        libc::mq_timedsend(self.fd, data.as_ptr().cast(), data.len(), priority, &ts)
                    }
                }
            };
            if rc == 0 {
                return Ok(true);
            }
            match last_errno() {
                libc::ETIMEDOUT | libc::EAGAIN => return Ok(false),
                libc::EINTR => continue,
                errno => return Err(IpcError::os("mq_send", errno, &self.name)),
            }
        }
    }

    /// One mq_receive into `buf` (at least message_size long) that does not wait: the length
    /// and priority, or None when the queue is empty.
    pub fn try_receive_into(&self, buf: &mut [u8]) -> Result<Option<(usize, u32)>> {
        self.receive_until(buf, Until::Now)
    }

    fn receive_until(&self, buf: &mut [u8], until: Until) -> Result<Option<(usize, u32)>> {
        debug_assert!(buf.len() >= self.message_size);
        let mut priority: libc::c_uint = 0;
        loop {
            // SAFETY: buf is a live, writable slice of buf.len() bytes.
            let n = unsafe {
                match until.timespec() {
                    None => {
                        libc::mq_receive(self.fd, buf.as_mut_ptr().cast(), buf.len(), &mut priority)
                    }
                    Some(ts) => libc::mq_timedreceive(
                        self.fd,
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        &mut priority,
                        &ts,
                    ),
                }
            };
            if n >= 0 {
                return Ok(Some((n as usize, priority)));
            }
            match last_errno() {
                libc::ETIMEDOUT | libc::EAGAIN => return Ok(None),
                libc::EINTR => continue,
                errno => return Err(IpcError::os("mq_receive", errno, &self.name)),
            }
        }
    }

    pub fn try_receive(&self) -> Result<Option<(Vec<u8>, u32)>> {
        let mut buf = vec![0u8; self.message_size];
        Ok(self.try_receive_into(&mut buf)?.map(|(n, p)| {
            buf.truncate(n);
            // Do not let a short message pin a messageSize allocation.
            buf.shrink_to_fit();
            (buf, p)
        }))
    }

    /// Blocks this thread until the message is queued or the deadline passes.
    pub fn send_sync(&self, data: &[u8], priority: u32, deadline: Option<Instant>) -> Result<()> {
        self.check_send(data, priority)?;
        if self.send_until(data, priority, Until::from_deadline(deadline))? {
            return Ok(());
        }
        Err(crate::wait::timeout_error(&self.what))
    }

    /// Blocks this thread until a message arrives (into `buf`) or the deadline passes.
    pub fn receive_sync_into(
        &self,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> Result<(usize, u32)> {
        self.receive_until(buf, Until::from_deadline(deadline))?
            .ok_or_else(|| crate::wait::timeout_error(&self.what))
    }

    fn reactor(&self) -> Result<&AsyncFd<Registered>> {
        self.reactor
            .get_or_init(|| {
                // SAFETY: the descriptor stays open and unchanged while the AsyncFd lives: `Drop`
                // drops the AsyncFd before it closes the descriptor.
                unsafe { AsyncFd::register(Registered(self.fd)) }.map_err(|e| {
                    let (_, cause) = e.into_parts();
                    IpcError::os("epoll_ctl", cause.raw_os_error().unwrap_or(0), &self.name)
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Sends without blocking any thread: waits for room through the reactor.
    pub async fn send(&self, data: &[u8], priority: u32, stops: &Stops<'_>) -> Result<()> {
        self.check_send(data, priority)?;
        stops.check()?;
        if self.send_now(data, priority)? {
            return Ok(());
        }
        let reactor = self.reactor()?;
        loop {
            let mut guard = stops.race(reactor.writable()).await?.map_err(|e| {
                IpcError::os("epoll_wait", e.raw_os_error().unwrap_or(0), &self.name)
            })?;
            // No await between readiness and the send: a stop that wins the race above
            // leaves the message unsent.
            if self.send_now(data, priority)? {
                return Ok(());
            }
            guard.clear_ready();
        }
    }

    /// Receives without blocking any thread. A stop (abort, close, timeout) consumes nothing.
    pub async fn receive(&self, stops: &Stops<'_>) -> Result<(Vec<u8>, u32)> {
        stops.check()?;
        if let Some(got) = self.try_receive()? {
            return Ok(got);
        }
        let reactor = self.reactor()?;
        loop {
            let mut guard = stops.race(reactor.readable()).await?.map_err(|e| {
                IpcError::os("epoll_wait", e.raw_os_error().unwrap_or(0), &self.name)
            })?;
            if let Some(got) = self.try_receive()? {
                return Ok(got);
            }
            guard.clear_ready();
        }
    }
}

#[cfg(test)]
mod tests;
