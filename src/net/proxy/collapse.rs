//! Request collapsing: concurrent misses for one primary key wait for the first one's
//! upstream fetch (the leader) instead of each going upstream. Whether a waiter may take
//! the leader's response is the core's decision ([`crate::edge::collapse_shares`]:
//! `on` = only a stored response whose `Vary` matches the waiter, `naive` = anything).
//!
//! The in-flight table is sharded; a shard's lock is held only to look up, insert or
//! remove one key, never across an `.await`.

use super::store::Wire;
use crate::edge::Variant;
use crate::message::Response;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

const SHARDS: usize = 32;

/// The leader's finished response, as waiters see it.
#[derive(Debug)]
pub struct Shared {
    /// The core's view (with the body), for the core's collapse decision and the verdict.
    pub response: Arc<Response>,
    /// The wire form, and the leader's request (`wire.by()`).
    pub wire: Arc<Wire>,
    /// The variant it was stored as, if stored.
    pub variant: Option<Variant>,
}

#[derive(Clone, Debug)]
enum Slot {
    Pending,
    Done(Option<Arc<Shared>>),
}

/// The in-flight table.
pub struct Inflight {
    shards: Vec<Mutex<HashMap<String, watch::Receiver<Slot>>>>,
}

/// The result of joining a key.
pub enum Join {
    /// Nobody is fetching this key: fetch it, then [`Leader::finish`].
    Lead(Leader),
    /// Somebody is: [`wait`] for it.
    Wait(Waiter),
}

/// The right (and duty) to tell waiters how the fetch ended. Dropping it unfinished tells
/// them it failed, so they fetch for themselves.
pub struct Leader {
    table: Arc<Inflight>,
    key: String,
    tx: Option<watch::Sender<Slot>>,
}

/// A waiter's ticket.
pub struct Waiter(watch::Receiver<Slot>);

impl Default for Inflight {
    fn default() -> Self {
        Inflight {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl Inflight {
    fn shard(&self, key: &str) -> MutexGuard<'_, HashMap<String, watch::Receiver<Slot>>> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        let m = &self.shards[(h.finish() as usize) % SHARDS];
        match m.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Leads the fetch for `key`, or waits on the one in flight.
    pub fn join(self: &Arc<Self>, key: &str) -> Join {
        let mut shard = self.shard(key);
        if let Some(rx) = shard.get(key) {
            return Join::Wait(Waiter(rx.clone()));
        }
        let (tx, rx) = watch::channel(Slot::Pending);
        shard.insert(key.to_string(), rx);
        Join::Lead(Leader {
            table: self.clone(),
            key: key.to_string(),
            tx: Some(tx),
        })
    }

    /// Leads the fetch for `key` if nobody is fetching it (for background refreshes).
    pub fn try_lead(self: &Arc<Self>, key: &str) -> Option<Leader> {
        match self.join(key) {
            Join::Lead(l) => Some(l),
            Join::Wait(_) => None,
        }
    }

    /// Keys in flight.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| match s.lock() {
                Ok(g) => g.len(),
                Err(p) => p.into_inner().len(),
            })
            .sum()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Leader {
    /// Ends the fetch: waiters get `result` (`None`: fetch for yourselves).
    pub fn finish(mut self, result: Option<Arc<Shared>>) {
        self.end(result);
    }

    fn end(&mut self, result: Option<Arc<Shared>>) {
        let Some(tx) = self.tx.take() else { return };
        {
            let mut shard = self.table.shard(&self.key);
            if shard
                .get(&self.key)
                .is_some_and(|rx| rx.same_channel(&tx.subscribe()))
            {
                shard.remove(&self.key);
            }
        }
        let _ = tx.send(Slot::Done(result));
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        self.end(None);
    }
}

impl Waiter {
    /// Waits at most `limit` for the leader. `None` when it failed, gave nothing to
    /// share, or took too long.
    pub async fn wait(mut self, limit: Duration) -> Option<Arc<Shared>> {
        let done = tokio::time::timeout(limit, self.0.wait_for(|s| matches!(s, Slot::Done(_))))
            .await
            .ok()?
            .ok()?;
        match &*done {
            Slot::Done(r) => r.clone(),
            Slot::Pending => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_leader_many_waiters_then_gone() {
        let t = Arc::new(Inflight::default());
        let Join::Lead(l) = t.join("k") else {
            panic!("first must lead")
        };
        let Join::Wait(w1) = t.join("k") else {
            panic!("second must wait")
        };
        let Join::Wait(w2) = t.join("k") else {
            panic!("third must wait")
        };
        assert!(matches!(t.join("other"), Join::Lead(_)));
        assert_eq!(t.len(), 1);
        drop(l);
        assert!(t.is_empty());
        assert!(w1.wait(Duration::from_secs(1)).await.is_none());
        assert!(w2.wait(Duration::from_secs(1)).await.is_none());
        assert!(matches!(t.join("k"), Join::Lead(_)));
    }

    #[tokio::test]
    async fn waiter_times_out() {
        let t = Arc::new(Inflight::default());
        let _l = t.try_lead("k").unwrap();
        assert!(t.try_lead("k").is_none());
        let Join::Wait(w) = t.join("k") else { panic!() };
        assert!(w.wait(Duration::from_millis(20)).await.is_none());
    }
}
