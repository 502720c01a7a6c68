//! Green-thread-local storage: [`GreenLocal`] keys declared with
//! [`green_local!`](crate::green_local).
//!
//! Each key takes an index, allocated from a process-wide counter the first
//! time it is used; each green thread (and the root, the plain code of each
//! OS thread) keeps its values in a vector on its task record, indexed by
//! key. A value is stored as an `Rc<T>`, and `with` works on a clone of it,
//! so that neither the task's vector nor anything else stays borrowed while
//! the caller's closure runs: it may block, use other keys, or this key again.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::hub;

/// The next free key index.
static NEXT_KEY: AtomicUsize = AtomicUsize::new(0);

/// Declares green-thread-local statics, like `std::thread_local!`: each
/// green thread, and the plain code of each OS thread, gets its own value,
/// initialised lazily from the expression on first use.
///
/// ```
/// use std::cell::Cell;
///
/// thicket_green::green_local! {
///     /// How many requests this green thread has handled.
///     static HANDLED: Cell<u32> = Cell::new(0);
///     pub static NAME: String = String::from("anonymous");
/// }
///
/// HANDLED.set(HANDLED.get() + 1);
/// assert_eq!(HANDLED.get(), 1);
/// NAME.with(|n| assert_eq!(n, "anonymous"));
/// ```
///
/// Each declaration expands to a `static NAME: GreenLocal<Type>`; see
/// [`GreenLocal`] for how to use it.
#[macro_export]
macro_rules! green_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        $(#[$attr])* $vis static $name: $crate::GreenLocal<$t> = $crate::GreenLocal::new({
            fn __green_local_init() -> $t {
                $init
            }
            __green_local_init
        });
        $crate::green_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => {
        $crate::green_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
}

/// A key to a green-thread-local value, usually declared with
/// [`green_local!`](crate::green_local).
///
/// [`with`](GreenLocal::with) gives access to the calling green thread's own
/// value, created by the key's initialiser on the first access from that green
/// thread. Plain code (outside any green thread) has its own value per OS
/// thread. A green thread's values are dropped as soon as it finishes, by its
/// hub, in the same scheduler turn (so before any `join` of it returns).
/// The plain code's values, and those of green threads still suspended when
/// the OS thread exits, are dropped as the thread's hub is destroyed.
///
/// Destructors of values run outside their green thread: they must not
/// block, and must not use green-local keys (during a finish they would see
/// the plain code's values; at thread exit the hub is gone and the access
/// panics, which aborts the process as any panic in a thread-local
/// destructor does).
///
/// As with `thread_local!`, a value is reached through `&T`; use `Cell` or
/// `RefCell` to change it (helpers for both are below). Values need not be
/// `Send`: a green thread never leaves its OS thread.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use thicket_green::{green_local, spawn, yield_now};
///
/// green_local!(static TRAIL: RefCell<Vec<&'static str>> = RefCell::new(Vec::new()););
///
/// let a = spawn(|| {
///     TRAIL.with_borrow_mut(|t| t.push("a1"));
///     yield_now().unwrap(); // b runs here, with its own trail
///     TRAIL.with_borrow_mut(|t| t.push("a2"));
///     TRAIL.take()
/// });
/// let b = spawn(|| {
///     TRAIL.with_borrow_mut(|t| t.push("b"));
///     TRAIL.take()
/// });
/// assert_eq!(a.join().unwrap(), ["a1", "a2"]);
/// assert_eq!(b.join().unwrap(), ["b"]);
/// assert!(TRAIL.with_borrow(|t| t.is_empty()), "plain code has its own");
/// ```
pub struct GreenLocal<T: 'static> {
    init: fn() -> T,
    /// 1 + the key's index, or 0 before its first use.
    key: AtomicUsize,
}

impl<T: 'static> GreenLocal<T> {
    /// A key whose values start as `init()`. Normally written by
    /// [`green_local!`](crate::green_local); a key must be a `static`.
    pub const fn new(init: fn() -> T) -> GreenLocal<T> {
        GreenLocal {
            init,
            key: AtomicUsize::new(0),
        }
    }

    /// Runs `f` with the calling green thread's value, creating it first if
    /// this green thread has not used the key yet. `f` may block, and may
    /// use other keys or this one.
    ///
    /// # Panics
    ///
    /// If called while the OS thread's own thread-locals are being
    /// destroyed (the hub is gone), or if the initialiser panics.
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        let value = self.value();
        f(&value)
    }

    fn index(&self) -> usize {
        let k = self.key.load(Ordering::Acquire);
        if k != 0 {
            return k - 1;
        }
        let fresh = NEXT_KEY.fetch_add(1, Ordering::Relaxed) + 1;
        match self
            .key
            .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => fresh - 1,
            // Another thread's first use won; its index stands, ours is
            // simply never used.
            Err(k) => k - 1,
        }
    }

    fn value(&'static self) -> Rc<T> {
        let idx = self.index();
        let task = hub::with(|h| h.current());
        let existing = task
            .locals
            .borrow()
            .get(idx)
            .and_then(Option::as_ref)
            .map(|b| downcast::<T>(&**b).clone());
        if let Some(v) = existing {
            return v;
        }
        // Not borrowed while the initialiser runs: it may use other keys.
        let fresh = Rc::new((self.init)());
        let mut locals = task.locals.borrow_mut();
        if locals.len() <= idx {
            locals.resize_with(idx + 1, || None);
        }
        match &locals[idx] {
            // The initialiser used this key itself and stored a value:
            // keep that one.
            Some(b) => downcast::<T>(&**b).clone(),
            None => {
                locals[idx] = Some(Box::new(fresh.clone()));
                fresh
            }
        }
    }
}

fn downcast<T: 'static>(b: &dyn std::any::Any) -> &Rc<T> {
    b.downcast_ref::<Rc<T>>()
        .expect("green_local: a key index was given to two keys")
}

impl<T: 'static> GreenLocal<Cell<T>> {
    /// Sets the calling green thread's value (initialising it first if
    /// needed).
    pub fn set(&'static self, value: T) {
        self.with(|c| c.set(value));
    }

    /// A copy of the calling green thread's value.
    pub fn get(&'static self) -> T
    where
        T: Copy,
    {
        self.with(Cell::get)
    }

    /// Takes the calling green thread's value, leaving `T::default()`.
    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(Cell::take)
    }

    /// Replaces the calling green thread's value, returning the old one.
    pub fn replace(&'static self, value: T) -> T {
        self.with(|c| c.replace(value))
    }
}

impl<T: 'static> GreenLocal<RefCell<T>> {
    /// Runs `f` with a shared borrow of the calling green thread's value.
    ///
    /// # Panics
    ///
    /// If the value is mutably borrowed (by an enclosing `with_borrow_mut`).
    pub fn with_borrow<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        self.with(|c| f(&c.borrow()))
    }

    /// Runs `f` with a mutable borrow of the calling green thread's value.
    ///
    /// # Panics
    ///
    /// If the value is already borrowed (by an enclosing `with_borrow*`).
    pub fn with_borrow_mut<R>(&'static self, f: impl FnOnce(&mut T) -> R) -> R {
        self.with(|c| f(&mut c.borrow_mut()))
    }

    /// Sets the calling green thread's value.
    ///
    /// # Panics
    ///
    /// If the value is borrowed.
    pub fn set(&'static self, value: T) {
        self.with(|c| *c.borrow_mut() = value);
    }

    /// Takes the calling green thread's value, leaving `T::default()`.
    ///
    /// # Panics
    ///
    /// If the value is borrowed.
    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(RefCell::take)
    }

    /// Replaces the calling green thread's value, returning the old one.
    ///
    /// # Panics
    ///
    /// If the value is borrowed.
    pub fn replace(&'static self, value: T) -> T {
        self.with(|c| c.replace(value))
    }
}

impl<T: 'static> fmt::Debug for GreenLocal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GreenLocal").finish_non_exhaustive()
    }
}
