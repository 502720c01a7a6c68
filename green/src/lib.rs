#![doc = include_str!("../README.md")]

mod coro;
mod event;
pub mod fs;
mod hub;
mod io;
mod local;
mod mutex;
pub mod net;
mod overflow;
mod park;
mod pool;
pub mod process;
mod queue;
mod queue_kinds;
mod runtime;
mod semaphore;
pub mod signal;
mod spin;
mod sys;
mod thread;
mod timeout;
pub mod tls;
pub mod tpool;

pub use crate::event::{AsyncResult, Event};
pub use crate::local::GreenLocal;
pub use crate::mutex::{Condvar, Mutex, MutexGuard};
pub use crate::park::WaitError;
pub use crate::pool::{GreenPile, GreenPool};
pub use crate::queue::{PutError, TaskDoneError, TryGetError, TryPutError};
pub use crate::queue_kinds::{LifoQueue, PriorityQueue, Queue};
pub use crate::runtime::Runtime;
pub use crate::semaphore::{BoundedSemaphore, ReleaseError, Semaphore, SemaphorePermit};
pub use crate::thread::{
    current, join_all, kill_all, run, set_default_stack_size, set_panic_handler, sleep, spawn,
    spawn_after, spawn_n, yield_now, Builder, Current, GreenThread, JoinError, Killer, PanicReport,
};
pub use crate::timeout::{with_timeout, Elapsed};
