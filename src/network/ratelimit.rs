//! Log lines a remote peer can cause, at most once per interval per key
//! (a peer and a reason, a remote address): a peer must not control how
//! much this node logs.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// How many keys are remembered before old ones are forgotten.
const MAX_KEYS: usize = 10_000;

/// When each key was last logged.
#[derive(Debug)]
pub struct Limiter<K> {
    every: Duration,
    last: HashMap<K, Instant>,
}

impl<K: Hash + Eq> Limiter<K> {
    /// Lets each key through at most once per `every`.
    pub fn new(every: Duration) -> Self {
        Limiter {
            every,
            last: HashMap::new(),
        }
    }

    /// Whether to log `key` now (and if so, notes that it was).
    pub fn due(&mut self, key: K) -> bool {
        let now = Instant::now();
        if self.last.len() > MAX_KEYS {
            let every = self.every;
            self.last
                .retain(|_, t| now.saturating_duration_since(*t) < every);
        }
        match self.last.get(&key) {
            Some(t) if now.saturating_duration_since(*t) < self.every => false,
            _ => {
                self.last.insert(key, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_passes_once_per_interval() {
        let mut l = Limiter::new(Duration::from_secs(60));
        assert!(l.due("a"));
        assert!(!l.due("a"));
        assert!(l.due("b"));
        let mut now = Limiter::new(Duration::ZERO);
        assert!(now.due(1) && now.due(1));
    }
}
