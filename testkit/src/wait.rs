//! Bounded waits. A test never sleeps in place of a readiness check: it
//! polls a condition until it holds, within a bound, and fails with the last
//! answer it saw when the bound passes. The pause between polls only paces
//! the polling; the bound is the wait.

use std::cell::RefCell;
use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};

/// The pause between two polls unless a caller asks for another.
pub const PACE: Duration = Duration::from_millis(50);

/// A bound on a wait and the pace of its polling.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    timeout: Duration,
    pace: Duration,
}

impl Wait {
    /// A wait of at most `timeout`, polling every [`PACE`].
    pub const fn new(timeout: Duration) -> Wait {
        Wait {
            timeout,
            pace: PACE,
        }
    }

    /// The same bound, polling every `pace` (for polls that cost a process
    /// start, such as `docker exec`).
    pub const fn pace(self, pace: Duration) -> Wait {
        Wait { pace, ..self }
    }

    /// Polls `f` until it returns `Some`; `None` once the bound has passed.
    pub fn until<T>(&self, mut f: impl FnMut() -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(v) = f() {
                return Some(v);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(self.pace);
        }
    }

    /// Polls `f` until it returns `Ok`; panics with its last error once the
    /// bound has passed.
    pub fn eventually<T, E: Display>(&self, mut f: impl FnMut() -> Result<T, E>) -> T {
        let mut last = None;
        let found = self.until(|| f().map_err(|e| last = Some(e)).ok());
        found.unwrap_or_else(|| self.expired(last))
    }

    /// Repeats `ask` until `pred` holds on its answer; panics with the last
    /// answer (and `what` was asked) once the bound has passed.
    pub fn answer<A: Display>(
        &self,
        what: &str,
        mut ask: impl FnMut() -> A,
        pred: impl Fn(&A) -> bool,
    ) -> A {
        self.eventually(|| {
            let a = ask();
            if pred(&a) {
                Ok(a)
            } else {
                Err(format!("{what} answered {a}"))
            }
        })
    }

    /// [`Wait::until`] for async conditions, sleeping on the runtime.
    pub async fn until_async<T, F, Fut>(&self, mut f: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if let Some(v) = f().await {
                return Some(v);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(self.pace).await;
        }
    }

    /// [`Wait::eventually`] for async conditions.
    pub async fn eventually_async<T, E, F, Fut>(&self, mut f: F) -> T
    where
        E: Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let last = RefCell::new(None::<String>);
        let found = self
            .until_async(|| {
                let next = f();
                let last = &last;
                async move {
                    next.await
                        .map_err(|e| *last.borrow_mut() = Some(e.to_string()))
                        .ok()
                }
            })
            .await;
        found.unwrap_or_else(|| self.expired(last.into_inner()))
    }

    fn expired<E: Display>(&self, last: Option<E>) -> ! {
        match last {
            Some(e) => panic!("not met within {:?}; last: {e}", self.timeout),
            None => panic!("not met within {:?}", self.timeout),
        }
    }
}

/// Polls `f` until it returns `Ok`, for at most `timeout`; panics with the
/// last error after that.
pub fn eventually<T, E: Display>(timeout: Duration, f: impl FnMut() -> Result<T, E>) -> T {
    Wait::new(timeout).eventually(f)
}

/// Polls the async condition `f` until it returns `Ok`, for at most
/// `timeout`; panics with the last error after that.
pub async fn eventually_async<T, E, F, Fut>(timeout: Duration, f: F) -> T
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    Wait::new(timeout).eventually_async(f).await
}

/// Checks `check` (which asserts) every `pace` until `until`: for a
/// condition that must hold over a span of time, not become true.
pub async fn throughout<F, Fut>(until: tokio::time::Instant, pace: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        check().await;
        if tokio::time::Instant::now() >= until {
            return;
        }
        tokio::time::sleep(pace).await;
    }
}

/// Runs `check` every `pace` until it returns true (the event awaited),
/// failing after `timeout`; `check` asserts what must hold meanwhile, so an
/// invariant is checked over the whole span of the wait.
pub fn holding_until(
    what: &str,
    timeout: Duration,
    pace: Duration,
    mut check: impl FnMut() -> bool,
) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if check() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not seen within {timeout:?}"
        );
        std::thread::sleep(pace);
    }
}

/// A process that answers command lines (a p2pnode, a reference peer): what
/// a test can poll until an answer satisfies it.
pub trait Ask {
    /// One answer.
    type Answer: Display;
    /// The pause between two repeats of a command.
    const PACE: Duration;
    /// Sends one command line and returns its answer.
    fn cmd(&mut self, line: &str) -> Self::Answer;
    /// Who answers, for failure messages.
    fn who(&self) -> String;

    /// Repeats `line` until `pred` holds on its answer, within `timeout`.
    fn wait_for(
        &mut self,
        line: &str,
        timeout: Duration,
        pred: impl Fn(&Self::Answer) -> bool,
    ) -> Self::Answer {
        let what = format!("{}: '{line}'", self.who());
        Wait::new(timeout)
            .pace(Self::PACE)
            .answer(&what, || self.cmd(line), pred)
    }
}
