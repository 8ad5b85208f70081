//! Waiting and waking on words of a shared-memory segment, for the JS side of Channel, Queue
//! and the sync primitives (their fast paths run in JS with Atomics; only sleeping is native).
//!
//! Async waits run on napi-rs's Tokio blocking pool (never libuv's 4-thread pool): each pending
//! wait holds one pooled thread asleep in the kernel, and resolves its Promise through napi's
//! threadsafe machinery when the word changes, the timeout passes or it is cancelled.

use super::convert::{to_napi, OrNapi};
use super::shared_memory::NativeSharedMemory;
use crate::error::{IpcError, Result};
use crate::futex::{self, WaitOutcome};
use crate::shm::Segment;
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn outcome_code(o: WaitOutcome) -> u32 {
    match o {
        WaitOutcome::Changed => 0,
        WaitOutcome::TimedOut => 1,
        WaitOutcome::Cancelled => 2,
        WaitOutcome::ChangedWhileSpinning => 3,
    }
}

fn timeout_of(ms: Option<f64>) -> napi::Result<Option<Duration>> {
    match ms {
        None => Ok(None),
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some(Duration::from_secs_f64(ms / 1000.0))),
        Some(ms) if ms == f64::INFINITY => Ok(None),
        Some(ms) => Err(to_napi(IpcError::invalid(format!(
            "timeout must be a number of milliseconds >= 0, got {ms}"
        )))),
    }
}

/// Resolves the word inside the segment; the Arc keeps the mapping alive while it is used.
fn with_word<T>(
    segment: &Arc<Segment>,
    offset: u32,
    f: impl FnOnce(&AtomicI32) -> Result<T>,
) -> Result<T> {
    // SAFETY: the mapping is alive as long as `segment`, which outlives this call.
    let word = unsafe { futex::word_at(segment.mapping.as_ptr(), segment.len(), offset as usize)? };
    f(word)
}

/// Blocks this thread while the word at `offset` equals `expected`: 0 when it changed (or a
/// wake-up came) after sleeping, 3 when it changed while still spinning, 1 on timeout.
/// Spins up to `spin_us` microseconds first.
#[napi]
pub fn futex_wait(
    shm: &NativeSharedMemory,
    offset: u32,
    expected: i32,
    timeout_ms: Option<f64>,
    spin_us: u32,
) -> napi::Result<u32> {
    let segment = shm.segment_arc()?;
    let timeout = timeout_of(timeout_ms)?;
    with_word(&segment, offset, |w| {
        futex::wait(
            w,
            expected,
            timeout,
            Duration::from_micros(spin_us as u64),
            None,
        )
    })
    .map(outcome_code)
    .or_napi()
}

/// Wakes up to `count` waiters on the word, in every process.
#[napi]
pub fn futex_wake(shm: &NativeSharedMemory, offset: u32, count: u32) -> napi::Result<u32> {
    let segment = shm.segment_arc()?;
    with_word(&segment, offset, |w| futex::wake(w, count)).or_napi()
}

/// Whether the process `pid` still exists (robust locks use it to find dead owners).
#[napi]
pub fn pid_alive(pid: i32) -> bool {
    futex::pid_alive(pid)
}

/// Cancels one async wait: set it, then wake the word, and the wait resolves with 2.
#[napi]
pub struct NativeWaitCancel {
    flag: Arc<AtomicBool>,
}

#[napi]
impl NativeWaitCancel {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeWaitCancel {
            flag: Arc::new(AtomicBool::new(false)),
        }
    }

    #[napi]
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }
}

/// The async form of `futex_wait`, off the event loop: resolves 0 (changed), 1 (timeout),
/// 2 (cancelled) or 3 (changed while spinning).
#[napi(ts_return_type = "Promise<number>")]
pub fn futex_wait_async<'env>(
    env: &'env Env,
    shm: &NativeSharedMemory,
    offset: u32,
    expected: i32,
    timeout_ms: Option<f64>,
    spin_us: u32,
    cancel: Option<&NativeWaitCancel>,
) -> napi::Result<PromiseRaw<'env, u32>> {
    let segment = shm.segment_arc()?;
    let timeout = timeout_of(timeout_ms)?;
    // Check the offset now, so a bad one rejects synchronously-built promises immediately.
    with_word(&segment, offset, |_| Ok(())).or_napi()?;
    let flag = cancel.map(|c| Arc::clone(&c.flag));
    let spin = Duration::from_micros(spin_us as u64);
    env.spawn_future(async move {
        let job = napi::bindgen_prelude::spawn_blocking(move || {
            with_word(&segment, offset, |w| {
                futex::wait(w, expected, timeout, spin, flag.as_deref())
            })
        });
        match job.await {
            Ok(result) => result.map(outcome_code).or_napi(),
            Err(e) => Err(napi::Error::from_reason(format!(
                "waiter thread failed: {e}"
            ))),
        }
    })
}
