//! Deadlines scoped to a block of code.

use std::fmt;
use std::time::Duration;

use crate::hub::{self, Scope};

/// The error of [`with_timeout`]: the scope's deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// The loop-nanosecond deadline `d` from now.
pub(crate) fn deadline_after(d: Duration) -> u64 {
    hub::with(|h| {
        h.lp.update_now();
        h.now_ns()
            .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    })
}

/// Whether an enclosing scope's deadline has passed.
pub(crate) fn scope_expired() -> bool {
    hub::with(|h| {
        let now = h.now_ns();
        h.current()
            .scopes
            .borrow()
            .iter()
            .any(|s| s.deadline <= now)
    })
}

/// Runs `f` with a deadline `d` from now: every blocking green call inside it
/// fails with [`WaitError::TimedOut`](crate::WaitError::TimedOut) once the
/// deadline has passed. Scopes nest; each deadline applies.
///
/// Returns `Ok` with `f`'s value unless a blocking call inside failed
/// because of *this* scope's deadline, in which case the value (normally the
/// propagated timeout error) is dropped and `Err(Elapsed)` returned. A timed
/// out call loses nothing: a queue `get` that timed out took no item.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use thicket_green::{sleep, with_timeout, Elapsed};
///
/// let r = with_timeout(Duration::from_millis(5), || sleep(Duration::from_secs(60)));
/// assert_eq!(r, Err(Elapsed));
///
/// let r = with_timeout(Duration::from_secs(60), || sleep(Duration::from_millis(1)));
/// assert_eq!(r, Ok(Ok(())));
/// ```
pub fn with_timeout<T>(d: Duration, f: impl FnOnce() -> T) -> Result<T, Elapsed> {
    let deadline = deadline_after(d);
    let task = hub::with(|h| h.current());
    let depth = {
        let mut scopes = task.scopes.borrow_mut();
        scopes.push(Scope {
            deadline,
            fired: false,
        });
        scopes.len()
    };
    struct Pop<'a>(&'a hub::Task, usize);
    impl Drop for Pop<'_> {
        fn drop(&mut self) {
            self.0.scopes.borrow_mut().truncate(self.1 - 1);
        }
    }
    let guard = Pop(&task, depth);
    let value = f();
    let fired = task.scopes.borrow()[depth - 1].fired;
    drop(guard);
    if fired {
        Err(Elapsed)
    } else {
        Ok(value)
    }
}
