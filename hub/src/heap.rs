//! An indexed 4-ary min-heap of timer deadlines.
//!
//! Every entry knows its position (`pos[id]`), so stopping a timer removes it
//! in O(log n) and a stopped timer leaves nothing behind to skip at fire
//! time. Ties on the deadline are broken by a start sequence number, so timers
//! due at the same instant fire in the order they were started. A 4-ary heap
//! is shallower than a binary one and keeps the children of a node on one
//! cache line, which matters with a million timers pending.

const ARITY: usize = 4;
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    deadline: u64,
    seq: u64,
    id: u32,
}

impl Entry {
    fn key(&self) -> (u64, u64) {
        (self.deadline, self.seq)
    }
}

#[derive(Debug, Default)]
pub(crate) struct TimerHeap {
    entries: Vec<Entry>,
    pos: Vec<u32>,
}

impl TimerHeap {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds `id`; it must not be in the heap already.
    pub(crate) fn insert(&mut self, id: u32, deadline: u64, seq: u64) {
        let i = id as usize;
        if self.pos.len() <= i {
            self.pos.resize(i + 1, NONE);
        }
        debug_assert_eq!(self.pos[i], NONE, "timer {id} inserted twice");
        let at = self.entries.len();
        self.entries.push(Entry { deadline, seq, id });
        self.pos[i] = at as u32;
        self.sift_up(at);
    }

    /// Removes `id` if present; returns whether it was.
    pub(crate) fn remove(&mut self, id: u32) -> bool {
        let Some(&at) = self.pos.get(id as usize) else {
            return false;
        };
        if at == NONE {
            return false;
        }
        self.remove_at(at as usize);
        true
    }

    /// The earliest deadline and its timer.
    pub(crate) fn peek(&self) -> Option<(u64, u32)> {
        self.entries.first().map(|e| (e.deadline, e.id))
    }

    /// Removes and returns the earliest timer if it is due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<u32> {
        match self.entries.first() {
            Some(e) if e.deadline <= now => {
                let id = e.id;
                self.remove_at(0);
                Some(id)
            }
            _ => None,
        }
    }

    fn remove_at(&mut self, at: usize) {
        let removed = self.entries.swap_remove(at);
        self.pos[removed.id as usize] = NONE;
        if at < self.entries.len() {
            self.pos[self.entries[at].id as usize] = at as u32;
            if at > 0 && self.entries[at].key() < self.entries[(at - 1) / ARITY].key() {
                self.sift_up(at);
            } else {
                self.sift_down(at);
            }
        }
    }

    fn sift_up(&mut self, mut at: usize) {
        let entry = self.entries[at];
        while at > 0 {
            let parent = (at - 1) / ARITY;
            if self.entries[parent].key() <= entry.key() {
                break;
            }
            self.entries[at] = self.entries[parent];
            self.pos[self.entries[at].id as usize] = at as u32;
            at = parent;
        }
        self.entries[at] = entry;
        self.pos[entry.id as usize] = at as u32;
    }

    fn sift_down(&mut self, mut at: usize) {
        let entry = self.entries[at];
        let len = self.entries.len();
        loop {
            let first = at * ARITY + 1;
            if first >= len {
                break;
            }
            let last = (first + ARITY).min(len);
            let mut best = first;
            for child in first + 1..last {
                if self.entries[child].key() < self.entries[best].key() {
                    best = child;
                }
            }
            if entry.key() <= self.entries[best].key() {
                break;
            }
            self.entries[at] = self.entries[best];
            self.pos[self.entries[at].id as usize] = at as u32;
            at = best;
        }
        self.entries[at] = entry;
        self.pos[entry.id as usize] = at as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32, u64),
        Remove(u32),
        PopDue(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u32..64, 0u64..50).prop_map(|(id, d)| Op::Insert(id, d)),
            (0u32..64).prop_map(Op::Remove),
            (0u64..60).prop_map(Op::PopDue),
        ]
    }

    proptest! {
        /// The heap pops exactly what a sorted map of (deadline, seq) would.
        #[test]
        fn matches_sorted_model(ops in proptest::collection::vec(op(), 0..400)) {
            let mut heap = TimerHeap::default();
            let mut model: BTreeMap<(u64, u64), u32> = BTreeMap::new();
            let mut where_: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
            let mut seq = 0;
            for op in ops {
                match op {
                    Op::Insert(id, d) => {
                        if let Some(k) = where_.remove(&id) {
                            model.remove(&k);
                            prop_assert!(heap.remove(id));
                        }
                        seq += 1;
                        heap.insert(id, d, seq);
                        model.insert((d, seq), id);
                        where_.insert(id, (d, seq));
                    }
                    Op::Remove(id) => {
                        let expected = where_.remove(&id).map(|k| model.remove(&k)).is_some();
                        prop_assert_eq!(heap.remove(id), expected);
                    }
                    Op::PopDue(now) => loop {
                        let expected = model.iter().next().filter(|(k, _)| k.0 <= now).map(|(k, id)| (*k, *id));
                        let got = heap.pop_due(now);
                        prop_assert_eq!(got, expected.map(|e| e.1));
                        match expected {
                            Some((k, id)) => { model.remove(&k); where_.remove(&id); }
                            None => break,
                        }
                    },
                }
                prop_assert_eq!(heap.len(), model.len());
                prop_assert_eq!(heap.peek().map(|p| p.0), model.keys().next().map(|k| k.0));
            }
        }
    }
}
