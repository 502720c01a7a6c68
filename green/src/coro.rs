//! The stack-switching core: coroutines on pooled stacks, and the one raw
//! pointer the crate keeps (each green thread's `Yielder`).
//!
//! corosensei hands the `Yielder` to the coroutine body as a reference whose
//! lifetime is the body's. Blocking calls deep inside user code need it, so
//! the body stores its address in the green thread's record; it is only
//! dereferenced while that same green thread runs, i.e. while the body (and
//! the `Yielder` on its stack) is alive.

use std::cell::Cell;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};

pub(crate) type Coro = Coroutine<(), (), (), DefaultStack>;

/// Where a running green thread keeps its `Yielder`.
#[derive(Default)]
pub(crate) struct YielderSlot(Cell<Option<*const Yielder<(), ()>>>);

impl YielderSlot {
    /// Suspends the green thread that owns this slot, back to whoever resumed it.
    ///
    /// # Panics
    ///
    /// If the owning coroutine has not started (there is nothing to suspend).
    pub(crate) fn suspend(&self) {
        let y = self
            .0
            .get()
            .expect("suspend called outside a running green thread");
        // SAFETY: the pointer was stored by this green thread's body from the
        // `&Yielder` it was given and is cleared before the body returns; we are
        // running on that green thread (only the current thread suspends), so
        // the body's frame, which owns the Yielder, is live.
        unsafe { (*y).suspend(()) }
    }
}

/// Creates a coroutine on `stack` that records its yielder in the current
/// task's slot when it first runs, then runs `body`.
pub(crate) fn create(stack: DefaultStack, body: impl FnOnce() + 'static) -> Coro {
    Coroutine::with_stack(stack, move |y: &Yielder<(), ()>, ()| {
        let task = crate::hub::with(|h| h.current());
        task.yielder.0.set(Some(y as *const _));
        drop(task);
        body();
        crate::hub::with(|h| h.current()).yielder.0.set(None);
    })
}

/// Bytes of a parked green thread's stack to load ahead, from a little below
/// where it parked: the frames between a blocking call and the switch (a
/// socket read's are about 800 bytes), which its resumption reads first.
const STACK_AHEAD: usize = 640;
/// Of those, how many lie below the recorded address (the switch's own).
const STACK_BELOW: usize = 128;

/// Where, roughly, the calling green thread's stack is: a parked green
/// thread's is what [`prefetch_stack`] loads.
#[inline(always)]
pub(crate) fn stack_mark() -> usize {
    let mark = 0u8;
    std::hint::black_box(&mark) as *const u8 as usize
}

/// Asks the CPU to start loading the top of a parked green thread's stack
/// (`mark` from [`stack_mark`]) into its cache, so that resuming it soon
/// after finds its frames there. With a thousand green threads parked, their
/// stacks do not fit in a core's cache, and without this every resumption
/// waits on memory a cache line at a time.
#[inline]
pub(crate) fn prefetch_stack(mark: usize) {
    if mark == 0 {
        return;
    }
    let start = mark.saturating_sub(STACK_BELOW) & !63;
    let mut line = start;
    while line < start + STACK_AHEAD {
        prefetch(line);
        line += 64;
    }
}

/// Asks the CPU to start loading the cache line holding `addr`.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults, whatever the address,
    // and changes no memory.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Resumes `co` until it suspends or returns; returns whether it finished.
pub(crate) fn resume(co: &mut Coro) -> bool {
    matches!(co.resume(()), CoroutineResult::Return(()))
}
