//! Waiting without blocking a JS thread: deadlines and cancellation.
//!
//! Async forms run as futures on napi-rs's Tokio runtime. Each one races its wait against
//! three things: its own `Cancel` (an AbortSignal fired in JS), the handle's `Cancel` (the handle
//! was closed), and an optional deadline. No thread is parked for the wait itself.

use crate::error::{Code, IpcError, Result};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A one-shot "stop waiting" flag that any thread can raise and any future can await.
#[derive(Debug)]
pub struct Cancel {
    tx: watch::Sender<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancel {
    pub fn new() -> Self {
        Cancel {
            tx: watch::Sender::new(false),
        }
    }

    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once `cancel` has been called (at once if it already was).
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|raised| *raised).await;
    }
}

/// What ends an async wait early, besides the awaited event itself.
pub struct Stops<'a> {
    /// The caller's AbortSignal.
    pub abort: &'a Cancel,
    /// The handle's close().
    pub closed: &'a Cancel,
    pub deadline: Option<Instant>,
    /// Names the object in errors, e.g. `POSIX message queue "/jobs"`.
    pub what: &'a str,
}

impl Stops<'_> {
    pub fn aborted_error(&self) -> IpcError {
        IpcError::new(
            Code::Aborted,
            format!("{}: the operation was aborted", self.what),
        )
    }

    pub fn closed_error(&self) -> IpcError {
        IpcError::new(Code::Closed, format!("{} is closed", self.what))
    }

    pub fn timeout_error(&self) -> IpcError {
        timeout_error(self.what)
    }

    /// Fails if a stop was already reached (checked before each wait).
    pub fn check(&self) -> Result<()> {
        if self.closed.is_cancelled() {
            return Err(self.closed_error());
        }
        if self.abort.is_cancelled() {
            return Err(self.aborted_error());
        }
        if let Some(d) = self.deadline {
            if Instant::now() >= d {
                return Err(self.timeout_error());
            }
        }
        Ok(())
    }

    /// Awaits `fut` unless a stop comes first. When a stop wins, `fut` is dropped before it
    /// could complete, so nothing it would have done (consume a message) happens.
    pub async fn race<F: Future>(&self, fut: F) -> Result<F::Output> {
        let sleep = async {
            match self.deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = self.closed.cancelled() => Err(self.closed_error()),
            _ = self.abort.cancelled() => Err(self.aborted_error()),
            _ = sleep => Err(self.timeout_error()),
            out = fut => Ok(out),
        }
    }
}

pub fn timeout_error(what: &str) -> IpcError {
    IpcError::new(Code::Timeout, format!("{what}: timed out"))
}

/// A timeout in milliseconds (already validated as a finite number >= 0) as a deadline.
pub fn deadline_after(timeout_ms: Option<f64>) -> Option<Instant> {
    timeout_ms.map(|ms| {
        // Absurdly long timeouts (over a century) behave as "no deadline reached".
        let ms = ms.clamp(0.0, 4e12);
        Instant::now() + Duration::from_micros((ms * 1000.0) as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_zero_is_now() {
        let d = deadline_after(Some(0.0)).unwrap();
        assert!(d <= Instant::now());
        assert!(deadline_after(None).is_none());
        assert!(deadline_after(Some(f64::MAX)).is_some());
    }

    #[test]
    fn cancel_wins_a_race() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let abort = Cancel::new();
            let closed = Cancel::new();
            let stops = Stops {
                abort: &abort,
                closed: &closed,
                deadline: None,
                what: "test",
            };
            abort.cancel();
            let e = stops.race(std::future::pending::<()>()).await.unwrap_err();
            assert_eq!(e.code, Code::Aborted);
            let stops = Stops {
                abort: &Cancel::new(),
                closed: &closed,
                deadline: deadline_after(Some(5.0)),
                what: "test",
            };
            let e = stops.race(std::future::pending::<()>()).await.unwrap_err();
            assert_eq!(e.code, Code::Timeout);
        });
    }
}
