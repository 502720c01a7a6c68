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

/// Resumes `co` until it suspends or returns; returns whether it finished.
pub(crate) fn resume(co: &mut Coro) -> bool {
    matches!(co.resume(()), CoroutineResult::Return(()))
}
