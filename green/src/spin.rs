//! `SpinMutex`: the lock inside green primitives (queues, events, join
//! packets, semaphores).
//!
//! Their critical sections are a handful of field updates and never block:
//! a green primitive parks *after* unlocking. So a lock that spins instead of
//! putting OS threads to sleep is enough, and it is cheaper where it matters:
//! when every party is on one hub, nobody ever contends, and a lock plus an
//! unlock costs one atomic read-modify-write (the `swap` of `lock`; `unlock`
//! is a plain release store), where `parking_lot::Mutex` pays two (its unlock
//! must check for sleeping threads with a compare-and-swap). Under
//! contention from other OS threads it spins briefly and then yields the CPU
//! to the holder, as crossbeam's `Backoff` does.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

/// Spins before yielding the CPU to the (probably preempted) holder.
const SPINS: u32 = 64;

/// A mutual-exclusion lock that spins, for short critical sections that
/// never block.
#[derive(Default)]
pub(crate) struct SpinMutex<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock gives one thread at a time access to the value, so it is
// shared between threads exactly as a `std::sync::Mutex<T>` is: it needs
// `T: Send`, and nothing more.
unsafe impl<T: Send> Sync for SpinMutex<T> {}
// SAFETY: moving the lock moves the value; `T: Send` makes that sound.
unsafe impl<T: Send> Send for SpinMutex<T> {}

impl<T> SpinMutex<T> {
    pub(crate) const fn new(value: T) -> SpinMutex<T> {
        SpinMutex {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the lock, spinning (then yielding) while another thread holds it.
    #[inline]
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        if self.locked.swap(true, Ordering::Acquire) {
            self.lock_contended();
        }
        SpinGuard { lock: self }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut spins = 0;
        loop {
            // Wait with plain loads, so waiting does not bounce the cache line.
            while self.locked.load(Ordering::Relaxed) {
                if spins < SPINS {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            if !self.locked.swap(true, Ordering::Acquire) {
                return;
            }
        }
    }
}

/// Access to a [`SpinMutex`]'s value; unlocks when dropped.
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinMutex<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: a guard exists only while its thread holds the lock, so no
        // other reference to the value is live.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only access
        // through this guard, and the guard is the only one.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_never_lose_an_update() {
        let counter = Arc::new(SpinMutex::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        *c.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*counter.lock(), 80_000);
    }

    #[test]
    fn a_guard_unlocks_when_dropped() {
        let m = SpinMutex::new(vec![1]);
        m.lock().push(2);
        m.lock().push(3);
        assert_eq!(*m.lock(), [1, 2, 3]);
    }
}
