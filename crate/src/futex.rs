//! Cross-process waiting on a 32-bit word in shared memory, and process liveness.
//!
//! Linux: FUTEX_WAIT / FUTEX_WAKE, the shared (non-private) variants, because the waiters
//! live in different processes. This is the one seam to port: macOS would use
//! `os_sync_wait_on_address` / `__ulock_wait` with the shared flag, Windows has no cross-process
//! WaitOnAddress (it needs a named event per word). Everything above this file only asks
//! "sleep while *word == expected" and "wake n sleepers of word".

use crate::error::{Code, IpcError, Result};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// Why a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The word no longer held `expected` (or a wake-up came; the caller re-checks anyway).
    Changed,
    /// It changed while we were still spinning: no syscall was needed (callers adapt their spin).
    ChangedWhileSpinning,
    TimedOut,
    Cancelled,
}

/// Longest single kernel sleep: a bounded slice lets a wait notice cancellation and lets a
/// caller's deadline be honoured even if a wake-up is lost to a crashed peer.
const SLICE: Duration = Duration::from_millis(250);

#[cfg(target_os = "linux")]
fn futex_wait_raw(word: &AtomicI32, expected: i32, timeout: Option<Duration>) -> Result<bool> {
    let ts = timeout.map(|d| libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAIT only reads it and sleeps.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts_ptr,
            std::ptr::null::<u32>(),
            0,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    match crate::error::last_errno() {
        libc::EAGAIN | libc::EINTR => Ok(true),
        libc::ETIMEDOUT => Ok(false),
        errno => Err(IpcError::os("futex", errno, "FUTEX_WAIT")),
    }
}

#[cfg(target_os = "linux")]
fn futex_wake_raw(word: &AtomicI32, count: i32) -> Result<u32> {
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE does not touch its value.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            count,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0,
        )
    };
    if rc < 0 {
        return Err(IpcError::last_os("futex", "FUTEX_WAKE"));
    }
    Ok(rc as u32)
}

#[cfg(not(target_os = "linux"))]
fn futex_wait_raw(_: &AtomicI32, _: i32, _: Option<Duration>) -> Result<bool> {
    Err(IpcError::new(
        Code::Unsupported,
        "cross-process wait-on-address is implemented for Linux only",
    ))
}

#[cfg(not(target_os = "linux"))]
fn futex_wake_raw(_: &AtomicI32, _: i32) -> Result<u32> {
    Err(IpcError::new(
        Code::Unsupported,
        "cross-process wait-on-address is implemented for Linux only",
    ))
}

/// Sleeps while `*word == expected`, first spinning up to `spin` (a peer that answers within
/// microseconds then costs no syscall on either side), then in the kernel. `timeout` None waits
/// without limit. `cancel` is checked between slices; whoever sets it must also `wake` the word.
pub fn wait(
    word: &AtomicI32,
    expected: i32,
    timeout: Option<Duration>,
    spin: Duration,
    cancel: Option<&AtomicBool>,
) -> Result<WaitOutcome> {
    let start = Instant::now();
    let deadline = timeout.map(|t| start + t);
    if !spin.is_zero() {
        let spin_end = start + spin.min(timeout.unwrap_or(spin));
        let mut n = 0u32;
        while word.load(Ordering::SeqCst) == expected {
            std::hint::spin_loop();
            n += 1;
            if n.is_multiple_of(64) && Instant::now() >= spin_end {
                break;
            }
        }
        if word.load(Ordering::SeqCst) != expected {
            return Ok(WaitOutcome::ChangedWhileSpinning);
        }
    }
    loop {
        if cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
            return Ok(WaitOutcome::Cancelled);
        }
        if word.load(Ordering::SeqCst) != expected {
            return Ok(WaitOutcome::Changed);
        }
        let slice = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(WaitOutcome::TimedOut);
                }
                (d - now).min(SLICE)
            }
            None => SLICE,
        };
        if futex_wait_raw(word, expected, Some(slice))? {
            if cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
                return Ok(WaitOutcome::Cancelled);
            }
            return Ok(WaitOutcome::Changed);
        }
    }
}

/// Wakes up to `count` sleepers on `word` in any process; returns how many woke.
pub fn wake(word: &AtomicI32, count: u32) -> Result<u32> {
    futex_wake_raw(word, count.min(i32::MAX as u32) as i32)
}

/// Whether a process with this pid exists (EPERM means it exists but is not ours).
pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks existence and permission; nothing is delivered.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || crate::error::last_errno() == libc::EPERM
}

/// The word at `offset` of a mapping of `len` bytes at `base`, checked to be inside and aligned.
///
/// # Safety
/// `base` must point to a live mapping of at least `len` bytes that outlives the returned reference.
pub unsafe fn word_at<'a>(base: *mut u8, len: usize, offset: usize) -> Result<&'a AtomicI32> {
    if !offset.is_multiple_of(4) || offset.checked_add(4).is_none_or(|end| end > len) {
        return Err(IpcError::new(
            Code::InvalidArgument,
            format!("word offset {offset} is not a 4-byte aligned offset inside {len} bytes"),
        ));
    }
    // SAFETY: in bounds and aligned (mappings are page aligned, offset % 4 == 0); shared memory
    // is accessed only atomically at this address by every participant.
    Ok(unsafe { &*(base.add(offset) as *const AtomicI32) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn wait_returns_at_once_when_the_word_differs() {
        let w = AtomicI32::new(5);
        let r = wait(&w, 4, Some(Duration::from_secs(5)), Duration::ZERO, None).unwrap();
        assert_eq!(r, WaitOutcome::Changed);
    }

    #[test]
    fn wait_times_out() {
        let w = AtomicI32::new(0);
        let t = Instant::now();
        let r = wait(
            &w,
            0,
            Some(Duration::from_millis(30)),
            Duration::from_micros(10),
            None,
        )
        .unwrap();
        assert_eq!(r, WaitOutcome::TimedOut);
        assert!(t.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn wake_ends_a_wait_and_cancel_is_seen() {
        let w = Arc::new(AtomicI32::new(0));
        let c = Arc::new(AtomicBool::new(false));
        let (w2, c2) = (Arc::clone(&w), Arc::clone(&c));
        let h = std::thread::spawn(move || wait(&w2, 0, None, Duration::ZERO, Some(&c2)).unwrap());
        std::thread::sleep(Duration::from_millis(20));
        c.store(true, Ordering::SeqCst);
        wake(&w, u32::MAX).unwrap();
        assert_eq!(h.join().unwrap(), WaitOutcome::Cancelled);
        let w3 = Arc::clone(&w);
        let h = std::thread::spawn(move || wait(&w3, 0, None, Duration::ZERO, None).unwrap());
        std::thread::sleep(Duration::from_millis(20));
        w.store(1, Ordering::SeqCst);
        wake(&w, 1).unwrap();
        assert_eq!(h.join().unwrap(), WaitOutcome::Changed);
    }

    #[test]
    fn liveness() {
        assert!(pid_alive(std::process::id() as i32));
        assert!(!pid_alive(0));
        assert!(!pid_alive(i32::MAX));
    }

    #[test]
    fn word_offsets_are_checked() {
        let mut buf = [0u8; 16];
        let base = buf.as_mut_ptr();
        // SAFETY: base points at 16 live bytes; only the checks are exercised for bad offsets.
        unsafe {
            assert!(word_at(base, 16, 2).is_err());
            assert!(word_at(base, 16, 16).is_err());
            assert!(word_at(base, 16, usize::MAX - 1).is_err());
        }
    }
}
