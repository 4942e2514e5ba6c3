//! The store's table: a weighted, sharded LRU map written for the proxy's narrow use of
//! it (a lookup per request, a copy-on-write update per store, rare walks for purge and
//! the admin listing). It replaced moka, whose per-entry bookkeeping measured ~410 B
//! (`benches/soak/README.md`, session 7); this one's structures are ~65 B an entry, and
//! a fill measured ~164 B of RSS per entry for it (session 9).
//!
//! Layout: `N` shards (a power of two), each a `Mutex` around a hash table of slot
//! indices (`u32`, 4 bytes a bucket plus a control byte) and a dense slab of slots; a
//! slot holds the key, the value, half the key's hash, its weight and its two links in the
//! shard's intrusive doubly-linked LRU list (`u32` indices, no node of its own). A
//! removal moves the slab's last slot into the hole, so the slab has no holes and no
//! free list. The slab grows by fixed chunks of [`CHUNK`] slots, never by copying into a
//! buffer twice the size: a `Vec` of all the slots, doubled as it grew, measured ~150 B
//! more per entry (the old buffers, megabytes each, stayed resident). A hit takes one shard's lock, probes, clones the value (an `Arc`) and moves
//! the slot to the front of the list.
//!
//! Weight: each shard counts its own, and a global total is kept beside them. A put
//! that takes the total over the capacity evicts from the putting shard's least recently
//! used end (never the entry just put), then, if that shard has nothing else, from the
//! following shards in turn, one lock at a time. That is an approximation of one global
//! LRU: what goes is the least recently used entry *of a shard*, not of the whole store;
//! with keys spread over the shards by a random-seeded hash each shard's tail is among
//! the store's oldest entries (the shards' ages differ by sampling noise only). The
//! capacity is not split into per-shard shares because one stored response may weigh an
//! eighth of the capacity (`Config::max_body`) while a share would be a sixteenth or
//! less. Cloudflare's pingora-lru shards its LRU the same way (`Lru<T, N>`: per-shard
//! lists, one total weight, evicting from shards rather than from one global list;
//! docs.rs/pingora-lru). nginx (one LRU queue per `keys_zone`) and Varnish (one LRU per
//! storage backend) keep a single list behind one lock instead.

use hashbrown::HashTable;
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// No slot (an end of the list).
const NIL: u32 = u32::MAX;

/// Slots per chunk of a shard's slab (48 KiB of the store's 48-byte slots: one mimalloc
/// size class, reused as it is freed).
const CHUNK: usize = 1024;

/// Why an entry left the table (given to the removal listener).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removed {
    /// Pushed out to keep the total weight under the capacity.
    Evicted,
    /// A put under its key replaced it.
    Replaced,
    /// Removed on request (`remove`, `clear`, or `Op::Remove`).
    Explicit,
}

/// What [`Lru::compute`]'s function decides.
pub enum Op<V> {
    /// Leave the key as it is.
    Nop,
    /// Store this value with this weight (replacing any current one).
    Put(V, u32),
    /// Remove the key.
    Remove,
}

struct Slot<K, V> {
    key: K,
    value: V,
    /// The low half of the key's hash (the shard was chosen by the high half; the
    /// table's hash is made from this one, [`table_hash`]): 8 bytes less per slot, a
    /// 48-byte slot for the store's 24-byte key instead of 56.
    hash: u32,
    weight: u32,
    prev: u32,
    next: u32,
}

/// Slots `0..len`, in chunks of [`CHUNK`]; at most one empty chunk is kept past the
/// last slot (so that a shard at a chunk's edge does not allocate on every put).
struct Slab<K, V> {
    chunks: Vec<Vec<Slot<K, V>>>,
    len: usize,
}

impl<K, V> Slab<K, V> {
    fn new() -> Self {
        Slab {
            chunks: Vec::new(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, i: usize) -> Option<&Slot<K, V>> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Slot<K, V>> {
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    fn push(&mut self, s: Slot<K, V>) {
        let c = self.len / CHUNK;
        if c == self.chunks.len() {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(chunk) = self.chunks.get_mut(c) {
            chunk.push(s);
            self.len += 1;
        }
    }

    fn pop(&mut self) -> Option<Slot<K, V>> {
        let c = self.len.checked_sub(1)? / CHUNK;
        let s = self.chunks.get_mut(c)?.pop()?;
        self.len -= 1;
        // keep the chunk now being filled and one empty one after it
        self.chunks.truncate(c + 2);
        Some(s)
    }

    /// Removes slot `i`, the last one taking its place.
    fn swap_remove(&mut self, i: usize) -> Option<Slot<K, V>> {
        let last = self.pop()?;
        if i == self.len {
            return Some(last);
        }
        self.get_mut(i).map(|at| std::mem::replace(at, last))
    }

    fn iter(&self) -> impl Iterator<Item = &Slot<K, V>> {
        self.chunks.iter().flatten()
    }
}

struct Shard<K, V> {
    table: HashTable<u32>,
    slots: Slab<K, V>,
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
    weight: u64,
}

/// A removed entry, with why, handed to the listener once its lock is released.
type Gone<K, V> = (K, V, Removed);

/// The function told of every removal.
type Listener<K, V> = Box<dyn Fn(&K, &V, Removed) + Send + Sync>;

/// A weighted LRU map of `K` to `V` in shards (see the module's text).
pub struct Lru<K, V, S> {
    shards: Box<[Mutex<Shard<K, V>>]>,
    hasher: S,
    capacity: u64,
    total: AtomicU64,
    listener: Listener<K, V>,
}

impl<K, V> Shard<K, V> {
    fn new() -> Self {
        Shard {
            table: HashTable::new(),
            slots: Slab::new(),
            head: NIL,
            tail: NIL,
            weight: 0,
        }
    }

    fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let slots = &self.slots;
        let low = hash as u32;
        self.table
            .find(table_hash(low), |&i| {
                slots
                    .get(i as usize)
                    .is_some_and(|s| s.hash == low && s.key.borrow() == key)
            })
            .copied()
    }

    fn slot(&mut self, i: u32) -> Option<&mut Slot<K, V>> {
        self.slots.get_mut(i as usize)
    }

    /// Takes slot `i` out of the list.
    fn unlink(&mut self, i: u32) {
        let Some(s) = self.slot(i) else { return };
        let (prev, next) = (s.prev, s.next);
        s.prev = NIL;
        s.next = NIL;
        self.relink(prev, next, next, prev);
    }

    /// Points `prev`'s forward link at `fwd` and `next`'s back link at `back`; a missing
    /// neighbour (`NIL`) is the list's head or tail.
    fn relink(&mut self, prev: u32, fwd: u32, next: u32, back: u32) {
        match self.slot(prev) {
            Some(p) => p.next = fwd,
            None => self.head = fwd,
        }
        match self.slot(next) {
            Some(n) => n.prev = back,
            None => self.tail = back,
        }
    }

    /// Puts slot `i` (not in the list) at its front.
    fn push_front(&mut self, i: u32) {
        let old = self.head;
        if let Some(s) = self.slot(i) {
            s.prev = NIL;
            s.next = old;
        }
        match self.slot(old) {
            Some(h) => h.prev = i,
            None => self.tail = i,
        }
        self.head = i;
    }

    /// Marks slot `i` as just used.
    fn bump(&mut self, i: u32) {
        if self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
    }

    /// Removes slot `i`: the slab's last slot moves into its place.
    fn take(&mut self, i: u32) -> Option<Slot<K, V>> {
        let hash = table_hash(self.slots.get(i as usize)?.hash);
        self.unlink(i);
        if let Ok(e) = self.table.find_entry(hash, |&j| j == i) {
            e.remove();
        }
        let last = u32::try_from(self.slots.len() - 1).ok()?;
        if last != i {
            // the moved slot's index changes from `last` to `i`: its bucket and its
            // neighbours' links follow
            let moved = self.slots.get(last as usize)?;
            let (mh, prev, next) = (moved.hash, moved.prev, moved.next);
            if let Some(b) = self.table.find_mut(table_hash(mh), |&j| j == last) {
                *b = i;
            }
            self.relink(prev, i, next, i);
        }
        let s = self.slots.swap_remove(i as usize)?;
        self.weight -= u64::from(s.weight);
        Some(s)
    }

    /// Adds a new slot at the front; its index.
    fn add(&mut self, key: K, value: V, hash: u64, weight: u32) -> u32 {
        let i = u32::try_from(self.slots.len()).unwrap_or(NIL - 1);
        let low = hash as u32;
        self.slots.push(Slot {
            key,
            value,
            hash: low,
            weight,
            prev: NIL,
            next: NIL,
        });
        let slots = &self.slots;
        self.table.insert_unique(table_hash(low), i, |&j| {
            slots.get(j as usize).map_or(0, |s| table_hash(s.hash))
        });
        self.weight += u64::from(weight);
        self.push_front(i);
        i
    }
}

/// A shard table's hash for a slot's kept half: the half twice over, so that the table's
/// bucket index (low bits) and its tag (the top seven) both come from it, disjoint up to
/// 2^25 buckets a shard.
fn table_hash(low: u32) -> u64 {
    u64::from(low) | (u64::from(low) << 32)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic under a shard's lock happens before the shard is changed (in a compute
    // function): the shard is whole, so a poisoned lock is used as it is
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K, V, S> Lru<K, V, S>
where
    K: Hash + Eq,
    V: Clone,
    S: BuildHasher,
{
    /// An empty map of `shards` shards (rounded up to a power of two, at least one)
    /// holding at most `capacity` of weight; `listener` is told of every removal.
    pub fn new(capacity: u64, shards: usize, hasher: S, listener: Listener<K, V>) -> Self {
        let n = shards.max(1).next_power_of_two();
        Lru {
            shards: (0..n).map(|_| Mutex::new(Shard::new())).collect(),
            hasher,
            capacity,
            total: AtomicU64::new(0),
            listener,
        }
    }

    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The shard of `hash`: bits above those the tables index and tag with.
    fn shard_of(&self, hash: u64) -> usize {
        (hash >> 32) as usize & (self.shards.len() - 1)
    }

    fn shard(&self, hash: u64) -> &Mutex<Shard<K, V>> {
        &self.shards[self.shard_of(hash)]
    }

    /// The value under `key`, marked as just used.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let mut s = lock(self.shard(hash));
        let i = s.find(hash, key)?;
        s.bump(i);
        s.slots.get(i as usize).map(|x| x.value.clone())
    }

    /// Whether `key` is held (its place in the LRU order unchanged).
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        lock(self.shard(hash)).find(hash, key).is_some()
    }

    /// Updates `key` under its shard's lock: `f` sees the current value and says what to
    /// do. A put replaces the key too (the new key is kept) and makes the entry the most
    /// recently used; then, over the capacity, least recently used entries are evicted.
    /// The listener and the drops of removed values run after the lock is released.
    pub fn compute<F>(&self, key: K, f: F)
    where
        F: FnOnce(Option<&V>) -> Op<V>,
    {
        let hash = self.hash(&key);
        let at = self.shard_of(hash);
        let mut gone: Vec<Gone<K, V>> = Vec::new();
        let mut grew = false;
        {
            let mut s = lock(&self.shards[at]);
            let i = s.find(hash, &key);
            let cur = i.and_then(|i| s.slots.get(i as usize)).map(|x| &x.value);
            match (f(cur), i) {
                (Op::Nop, _) | (Op::Remove, None) => {}
                (Op::Remove, Some(i)) => {
                    if let Some(x) = s.take(i) {
                        self.total.fetch_sub(u64::from(x.weight), Ordering::Relaxed);
                        gone.push((x.key, x.value, Removed::Explicit));
                    }
                }
                (Op::Put(v, w), Some(i)) => {
                    let old = s.slot(i).map(|x| {
                        let old_w = std::mem::replace(&mut x.weight, w);
                        let old_k = std::mem::replace(&mut x.key, key);
                        (old_k, std::mem::replace(&mut x.value, v), old_w)
                    });
                    if let Some((old_k, old_v, old_w)) = old {
                        s.weight = s.weight - u64::from(old_w) + u64::from(w);
                        self.total.fetch_sub(u64::from(old_w), Ordering::Relaxed);
                        self.total.fetch_add(u64::from(w), Ordering::Relaxed);
                        gone.push((old_k, old_v, Removed::Replaced));
                        grew = w > old_w;
                    }
                    s.bump(i);
                }
                (Op::Put(v, w), None) => {
                    s.add(key, v, hash, w);
                    self.total.fetch_add(u64::from(w), Ordering::Relaxed);
                    grew = true;
                }
            }
            if grew {
                self.evict_in(&mut s, &mut gone);
            }
        }
        if grew && self.over() {
            self.evict_elsewhere(at, &mut gone);
        }
        self.notify(gone);
    }

    fn over(&self) -> bool {
        self.total.load(Ordering::Relaxed) > self.capacity
    }

    /// Evicts from `s`'s least recently used end while over the capacity, sparing its
    /// most recently used entry (the one just put).
    fn evict_in(&self, s: &mut Shard<K, V>, gone: &mut Vec<Gone<K, V>>) {
        while self.over() && s.tail != s.head {
            let tail = s.tail;
            let Some(x) = s.take(tail) else { break };
            self.total.fetch_sub(u64::from(x.weight), Ordering::Relaxed);
            gone.push((x.key, x.value, Removed::Evicted));
        }
    }

    /// Evicts from the shards after `at`, in turn, while over the capacity (the shard
    /// `at` had nothing left but the entry just put).
    fn evict_elsewhere(&self, at: usize, gone: &mut Vec<Gone<K, V>>) {
        let n = self.shards.len();
        for k in 1..n {
            if !self.over() {
                break;
            }
            let mut s = lock(&self.shards[(at + k) & (n - 1)]);
            while self.over() && s.tail != NIL {
                let tail = s.tail;
                let Some(x) = s.take(tail) else { break };
                self.total.fetch_sub(u64::from(x.weight), Ordering::Relaxed);
                gone.push((x.key, x.value, Removed::Evicted));
            }
        }
    }

    fn notify(&self, gone: Vec<Gone<K, V>>) {
        for (k, v, why) in &gone {
            (self.listener)(k, v, *why);
        }
    }

    /// Removes `key`; whether it was held.
    pub fn remove<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let x = {
            let mut s = lock(self.shard(hash));
            match s.find(hash, key) {
                Some(i) => s.take(i),
                None => None,
            }
        };
        let Some(x) = x else { return false };
        self.total.fetch_sub(u64::from(x.weight), Ordering::Relaxed);
        self.notify(vec![(x.key, x.value, Removed::Explicit)]);
        true
    }

    /// Removes everything; how many entries there were.
    pub fn clear(&self) -> usize {
        let mut n = 0;
        for m in self.shards.iter() {
            let old = std::mem::replace(&mut *lock(m), Shard::new());
            self.total.fetch_sub(old.weight, Ordering::Relaxed);
            n += old.slots.len();
            for x in old.slots.iter() {
                (self.listener)(&x.key, &x.value, Removed::Explicit);
            }
        }
        n
    }

    /// Calls `f` on every entry, one shard at a time under its lock (so `f` must be
    /// short; the order is no LRU order). Entries put or removed meanwhile in shards
    /// not yet visited are seen or not.
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        for m in self.shards.iter() {
            let s = lock(m);
            for x in s.slots.iter() {
                f(&x.key, &x.value);
            }
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|m| lock(m).slots.len()).sum()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total weight held.
    pub fn weight(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Shards.
    pub fn shards(&self) -> usize {
        self.shards.len()
    }
}

#[cfg(test)]
#[path = "lru_tests.rs"]
mod tests;
