//! Platform code: the only place in the hub that calls the C library.
//!
//! The contract every backend provides to the rest of the crate:
//!
//! - [`cvt`] turns a C return value of `-1` into `io::Error::last_os_error()`.
//! - `signal`: process-wide signal delivery into loops. A loop takes a
//!   [`signal::Slot`], which owns a non-blocking pipe whose read end the loop
//!   watches. [`signal::Slot::watch`] and [`signal::Slot::unwatch`] count the
//!   loop's interest in a signal; the process handler is installed for a
//!   signal while any loop watches it and the previous disposition is restored
//!   when none does. The handler only sets atomic bits and writes one byte to
//!   the pipe, which is async-signal-safe; [`signal::Slot::take_pending`]
//!   returns the bits on the loop thread.
//! - `pidfd`: a process handle that becomes readable when the process exits,
//!   and a non-blocking reap of exactly that process.
//!
//! Everything here is Linux-specific for now (pidfd needs Linux 5.4).

pub(crate) mod pidfd;
pub(crate) mod signal;

use std::io;

/// Maps the C convention (`-1` and `errno`) to `io::Result`.
pub(crate) fn cvt<T: IsMinusOne>(ret: T) -> io::Result<T> {
    if ret.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Integer return types of C calls.
pub(crate) trait IsMinusOne {
    fn is_minus_one(&self) -> bool;
}

macro_rules! impl_is_minus_one {
    ($($t:ty)*) => {$(
        impl IsMinusOne for $t {
            fn is_minus_one(&self) -> bool {
                *self == -1
            }
        }
    )*};
}

impl_is_minus_one! { i32 i64 isize }
