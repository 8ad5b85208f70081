//! The wait loops of the Sync-with-timeout and async forms (see the `sysv_mq` module comment).

use super::{local_wakeup, SysVQueue};
use crate::error::Result;
use crate::wait::{timeout_error, Stops};
use std::time::{Duration, Instant};

const SPIN: Duration = Duration::from_micros(50);
const ASYNC_FIRST_SLEEP: Duration = Duration::from_millis(1);
const ASYNC_MAX_SLEEP: Duration = Duration::from_millis(10);
const SYNC_FIRST_SLEEP: Duration = Duration::from_micros(50);
const SYNC_MAX_SLEEP: Duration = Duration::from_millis(5);

impl SysVQueue {
    pub(super) fn backoff_sync<T>(
        &self,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let mut delay = SYNC_FIRST_SLEEP;
        loop {
            if let Some(t) = attempt()? {
                return Ok(t);
            }
            let now = Instant::now();
            let left = deadline.map_or(delay, |d| d.saturating_duration_since(now));
            if left.is_zero() {
                return Err(timeout_error(&self.what));
            }
            std::thread::sleep(delay.min(left));
            delay = (delay * 2).min(SYNC_MAX_SLEEP);
        }
    }

    /// The async wait loop shared by send and receive (see the module comment).
    pub(super) async fn backoff_async<T>(
        &self,
        stops: &Stops<'_>,
        mut attempt: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        stops.check()?;
        if let Some(t) = attempt()? {
            return Ok(t);
        }
        let spin_until = Instant::now() + SPIN;
        while Instant::now() < spin_until {
            tokio::task::yield_now().await;
            stops.check()?;
            if let Some(t) = attempt()? {
                return Ok(t);
            }
        }
        let wakeup = local_wakeup(self.id);
        let mut delay = ASYNC_FIRST_SLEEP;
        loop {
            let notified = wakeup.notified();
            tokio::pin!(notified);
            // Registered before the attempt, so a local change right after it is not missed.
            notified.as_mut().enable();
            if let Some(t) = attempt()? {
                return Ok(t);
            }
            stops
                .race(async {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep(delay) => {}
                    }
                })
                .await?;
            delay = (delay * 2).min(ASYNC_MAX_SLEEP);
        }
    }
}
