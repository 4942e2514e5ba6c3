use super::*;
use std::collections::HashMap;
use std::sync::Arc;

type Log = Arc<Mutex<Vec<(u32, u32, Removed)>>>;

/// Keys and values are `u32`; the listener logs `(key, value, why)`. A fixed hasher
/// so that runs are repeatable.
fn lru(capacity: u64, shards: usize) -> (Lru<u32, u32, foldhash::fast::FixedState>, Log) {
    let log: Log = Arc::default();
    let l = log.clone();
    let map = Lru::new(
        capacity,
        shards,
        foldhash::fast::FixedState::with_seed(7),
        Box::new(move |k: &u32, v: &u32, why| l.lock().unwrap().push((*k, *v, why))),
    );
    (map, log)
}

fn put(m: &Lru<u32, u32, foldhash::fast::FixedState>, k: u32, v: u32, w: u32) {
    m.compute(k, |_| Op::Put(v, w));
}

/// Every shard's list runs from head to tail over every slot once, its back links
/// agree, the table finds every key at its slot, and the weights add up.
fn check(m: &Lru<u32, u32, foldhash::fast::FixedState>) {
    let mut total = 0;
    for sh in m.shards.iter() {
        let s = sh.lock().unwrap();
        let mut seen = vec![false; s.slots.len()];
        let (mut at, mut prev) = (s.head, NIL);
        while at != NIL {
            let x = s.slots.get(at as usize).unwrap();
            assert!(!seen[at as usize], "a cycle in the list");
            seen[at as usize] = true;
            assert_eq!(x.prev, prev, "a back link");
            assert_eq!(s.find(u64::from(x.hash), &x.key), Some(at), "the table");
            (prev, at) = (at, x.next);
        }
        assert_eq!(s.tail, prev, "the tail");
        assert!(seen.iter().all(|&b| b), "a slot not in the list");
        assert_eq!(s.table.len(), s.slots.len());
        let w: u64 = s.slots.iter().map(|x| u64::from(x.weight)).sum();
        assert_eq!(s.weight, w, "the shard's weight");
        total += w;
    }
    assert_eq!(m.weight(), total, "the total weight");
}

/// Keys from least to most recently used in a one-shard map.
fn order(m: &Lru<u32, u32, foldhash::fast::FixedState>) -> Vec<u32> {
    let s = m.shards[0].lock().unwrap();
    let mut out = Vec::new();
    let mut at = s.tail;
    while at != NIL {
        let x = s.slots.get(at as usize).unwrap();
        out.push(x.key);
        at = x.prev;
    }
    out
}

#[test]
fn a_get_makes_an_entry_the_last_to_go() {
    let (m, log) = lru(3, 1);
    for k in 1..=3 {
        put(&m, k, k * 10, 1);
    }
    assert_eq!(order(&m), [1, 2, 3]);
    assert_eq!(m.get(&1), Some(10));
    assert_eq!(order(&m), [2, 3, 1]);
    put(&m, 4, 40, 1);
    assert_eq!(order(&m), [3, 1, 4]);
    assert_eq!(*log.lock().unwrap(), [(2, 20, Removed::Evicted)]);
    assert!(!m.contains_key(&2));
    assert_eq!(m.get(&2), None);
    check(&m);
}

#[test]
fn a_heavy_put_evicts_as_many_as_it_needs_and_stays() {
    let (m, log) = lru(10, 1);
    for k in 1..=5 {
        put(&m, k, k, 2);
    }
    assert_eq!(m.weight(), 10);
    put(&m, 6, 6, 5);
    // 10 + 5: the three oldest (6 of weight) go, leaving 4 + 5
    assert_eq!(order(&m), [4, 5, 6]);
    assert_eq!(m.weight(), 9);
    let why: Vec<_> = log.lock().unwrap().iter().map(|e| (e.0, e.2)).collect();
    assert_eq!(
        why,
        [
            (1, Removed::Evicted),
            (2, Removed::Evicted),
            (3, Removed::Evicted)
        ]
    );
    // heavier than the capacity: everything else goes, it stays
    put(&m, 7, 7, 20);
    assert_eq!(order(&m), [7]);
    assert_eq!(m.weight(), 20);
    check(&m);
}

#[test]
fn replace_remove_and_clear_say_why() {
    let (m, log) = lru(100, 1);
    put(&m, 1, 10, 4);
    put(&m, 2, 20, 4);
    put(&m, 1, 11, 6);
    assert_eq!(m.weight(), 10);
    assert_eq!(
        order(&m),
        [2, 1],
        "a replaced entry is the most recently used"
    );
    assert!(m.remove(&2));
    assert!(!m.remove(&2));
    put(&m, 3, 30, 1);
    m.compute(3, |v| {
        assert_eq!(v, Some(&30));
        Op::Remove
    });
    m.compute(3, |v| {
        assert_eq!(v, None);
        Op::Nop
    });
    put(&m, 4, 40, 1);
    put(&m, 5, 50, 1);
    assert_eq!(m.clear(), 3);
    assert_eq!((m.len(), m.weight()), (0, 0));
    let mut got = log.lock().unwrap().clone();
    got[3..].sort_unstable_by_key(|e| e.0);
    assert_eq!(
        got,
        [
            (1, 10, Removed::Replaced),
            (2, 20, Removed::Explicit),
            (3, 30, Removed::Explicit),
            (1, 11, Removed::Explicit),
            (4, 40, Removed::Explicit),
            (5, 50, Removed::Explicit),
        ][..]
    );
    // usable again after a clear
    put(&m, 6, 60, 1);
    assert_eq!(m.get(&6), Some(60));
    check(&m);
}

/// The capacity is the whole map's: puts spread over 16 shards never leave more than
/// it held, and an entry put into a shard with nothing else to evict pushes out other
/// shards' entries.
#[test]
fn the_capacity_holds_across_shards() {
    let (m, log) = lru(100, 16);
    assert_eq!(m.shards(), 16);
    for k in 0..1000 {
        put(&m, k, k, 1 + k % 3);
        assert!(m.weight() <= 100, "over the capacity at {k}");
        assert!(m.contains_key(&k), "{k} was not kept");
    }
    check(&m);
    let evicted = log.lock().unwrap().len();
    assert_eq!(m.len() + evicted, 1000);
    assert!(m.weight() > 90, "{} held: evicted too much", m.weight());
    // one entry the size of the capacity: every other one goes, whatever its shard
    put(&m, 5000, 0, 100);
    assert_eq!((m.len(), m.weight()), (1, 100));
    check(&m);
}

/// With keys spread over shards, evictions fall on old entries: after 1,000 puts into
/// room for 100, no entry from the first half is left.
#[test]
fn sharded_eviction_takes_old_entries() {
    let (m, _) = lru(100, 16);
    for k in 0..1000 {
        put(&m, k, k, 1);
    }
    let mut oldest = u32::MAX;
    m.for_each(|k, _| oldest = oldest.min(*k));
    assert!(oldest >= 500, "entry {oldest} outlived 500 newer ones");
}

#[test]
fn for_each_sees_every_entry_once() {
    let (m, _) = lru(u64::MAX, 16);
    for k in 0..500 {
        put(&m, k, k * 2, 1);
    }
    for k in (0..500).step_by(3) {
        m.remove(&k);
    }
    let mut seen: Vec<(u32, u32)> = Vec::new();
    m.for_each(|k, v| seen.push((*k, *v)));
    seen.sort_unstable();
    let want: Vec<(u32, u32)> = (0..500)
        .filter(|k| k % 3 != 0)
        .map(|k| (k, k * 2))
        .collect();
    assert_eq!(seen, want);
    assert_eq!(m.len(), want.len());
    check(&m);
}

/// Random gets, puts and removes on one shard against a plain model (a list from least
/// to most recently used).
#[test]
fn one_shard_matches_a_model_lru() {
    let (m, _) = lru(40, 1);
    let mut model: Vec<(u32, u32, u32)> = Vec::new(); // key, value, weight
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for step in 0..20_000u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = (x % 64) as u32;
        let pos = model.iter().position(|e| e.0 == k);
        match (x >> 8) % 4 {
            0 | 1 => {
                let got = m.get(&k);
                assert_eq!(got, pos.map(|p| model[p].1), "get {k} at {step}");
                if let Some(p) = pos {
                    let e = model.remove(p);
                    model.push(e);
                }
            }
            2 => {
                let w = ((x >> 16) % 7) as u32 + 1;
                put(&m, k, step, w);
                if let Some(p) = pos {
                    model.remove(p);
                }
                model.push((k, step, w));
                while model.iter().map(|e| e.2).sum::<u32>() > 40 && model.len() > 1 {
                    model.remove(0);
                }
            }
            _ => {
                assert_eq!(m.remove(&k), pos.is_some());
                if let Some(p) = pos {
                    model.remove(p);
                }
            }
        }
        if step % 1000 == 0 {
            check(&m);
        }
        assert_eq!(order(&m), model.iter().map(|e| e.0).collect::<Vec<_>>());
    }
    check(&m);
}

/// Four threads put, get and remove at once (a bounded loop each); afterwards the
/// structure is whole, the capacity held, and the listener saw every entry that is
/// not held leave exactly once.
#[test]
fn concurrent_use_keeps_it_whole() {
    let (m, log) = lru(500, 16);
    let m = Arc::new(m);
    let puts_new = Arc::new(AtomicU64::new(0));
    std::thread::scope(|sc| {
        for t in 0..4u32 {
            let (m, puts_new) = (m.clone(), puts_new.clone());
            sc.spawn(move || {
                for i in 0..20_000u32 {
                    let k = (i.wrapping_mul(2_654_435_761) ^ t) % 2000;
                    match i % 5 {
                        0 | 1 => {
                            m.compute(k, |old| {
                                if old.is_none() {
                                    puts_new.fetch_add(1, Ordering::Relaxed);
                                }
                                Op::Put(k, 1 + k % 4)
                            });
                        }
                        4 => {
                            m.remove(&k);
                        }
                        _ => {
                            if let Some(v) = m.get(&k) {
                                assert_eq!(v, k);
                            }
                        }
                    }
                }
            });
        }
    });
    check(&m);
    assert!(m.weight() <= 500, "{}", m.weight());
    let left = log
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.2 != Removed::Replaced)
        .count();
    assert_eq!(
        m.len() as u64 + left as u64,
        puts_new.load(Ordering::Relaxed)
    );
    let mut by_key: HashMap<u32, u32> = HashMap::new();
    m.for_each(|k, v| {
        by_key.insert(*k, *v);
    });
    assert!(by_key.iter().all(|(k, v)| k == v));
}

/// Across chunk edges: 3,000 entries in one shard, removed in a scattered order (each
/// removal moves the last slot, often from another chunk); the slab gives its chunks
/// back as it shrinks, keeping one spare.
#[test]
fn the_slab_grows_and_shrinks_by_chunks() {
    let (m, _) = lru(u64::MAX, 1);
    for k in 0..3000 {
        put(&m, k, k, 1);
    }
    assert_eq!(m.shards[0].lock().unwrap().slots.chunks.len(), 3);
    for (n, k) in (0..3000u32).map(|i| (i, i.wrapping_mul(7919) % 3000)) {
        assert!(m.remove(&k), "{k}");
        if n % 250 == 0 {
            check(&m);
        }
    }
    let s = m.shards[0].lock().unwrap();
    assert_eq!(
        (s.slots.len(), s.table.len(), s.head, s.tail),
        (0, 0, NIL, NIL)
    );
    assert!(
        s.slots.chunks.len() <= 2,
        "{} chunks kept",
        s.slots.chunks.len()
    );
}

/// A slot for the store's 24-byte key and an `Arc` is 48 bytes (half the hash kept, 56
/// with all of it), and a table that grows from one slot to thousands still finds every
/// key by the kept half.
#[test]
fn a_slot_keeps_half_the_hash() {
    if cfg!(target_pointer_width = "64") {
        assert_eq!(std::mem::size_of::<Slot<[usize; 3], Arc<u8>>>(), 48);
    }
    let (map, _) = lru(u64::MAX, 1);
    for i in 0..5000u32 {
        map.compute(i, |_| Op::Put(i, 1));
    }
    assert!((0..5000u32).all(|i| map.get(&i) == Some(i)));
    assert!(map.remove(&17));
    assert!((0..5000u32).all(|i| (map.get(&i) == Some(i)) == (i != 17)));
}
