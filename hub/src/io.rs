//! Readiness and interest flags for [`Io`](crate::Io) watchers.

use std::fmt;
use std::ops::BitOr;

/// Which directions an [`Io`](crate::Io) watcher wants to hear about.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Readable: data (or end of file, or an error) can be read.
    pub const READABLE: Interest = Interest(1);
    /// Writable: there is room to write (or the peer is gone).
    pub const WRITABLE: Interest = Interest(2);
    /// Both directions.
    pub const BOTH: Interest = Interest(3);

    /// Whether the interest includes reading.
    pub const fn is_readable(self) -> bool {
        self.0 & 1 != 0
    }

    /// Whether the interest includes writing.
    pub const fn is_writable(self) -> bool {
        self.0 & 2 != 0
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}

/// Readiness reported for a file descriptor.
///
/// A hang-up or an error also counts as readable and writable, so a task
/// waiting in either direction wakes up and sees the condition from its next
/// system call.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ready(u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// Readable.
    pub const READABLE: Ready = Ready(1);
    /// Writable.
    pub const WRITABLE: Ready = Ready(2);
    /// The peer closed its writing side (or the descriptor hung up).
    pub const READ_CLOSED: Ready = Ready(4);
    /// Our writing side is closed (or the descriptor hung up).
    pub const WRITE_CLOSED: Ready = Ready(8);
    /// An error is pending on the descriptor.
    pub const ERROR: Ready = Ready(16);

    const READ_SIDE: u8 = 1 | 4 | 16;
    const WRITE_SIDE: u8 = 2 | 8 | 16;

    /// Whether nothing is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Whether reading would not block.
    pub const fn is_readable(self) -> bool {
        self.0 & 1 != 0
    }
    /// Whether writing would not block.
    pub const fn is_writable(self) -> bool {
        self.0 & 2 != 0
    }
    /// Whether the read side was closed.
    pub const fn is_read_closed(self) -> bool {
        self.0 & 4 != 0
    }
    /// Whether the write side was closed.
    pub const fn is_write_closed(self) -> bool {
        self.0 & 8 != 0
    }
    /// Whether an error is pending.
    pub const fn is_error(self) -> bool {
        self.0 & 16 != 0
    }
    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }
    /// The flags set in either.
    #[must_use]
    pub const fn union(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
    /// The flags of `self` not in `other`.
    #[must_use]
    pub const fn difference(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
    /// The flags of `self` that concern the directions in `interest`.
    #[must_use]
    pub const fn intersect(self, interest: Interest) -> Ready {
        let mut mask = 0;
        if interest.is_readable() {
            mask |= Self::READ_SIDE;
        }
        if interest.is_writable() {
            mask |= Self::WRITE_SIDE;
        }
        Ready(self.0 & mask)
    }

    pub(crate) fn from_event(e: &mio::event::Event) -> Ready {
        let mut r = 0;
        if e.is_read_closed() {
            r |= 4 | 1;
        }
        if e.is_write_closed() {
            r |= 8 | 2;
        }
        if e.is_error() {
            r |= 16 | 1 | 2;
        }
        if e.is_readable() {
            r |= 1;
        }
        if e.is_writable() {
            r |= 2;
        }
        Ready(r)
    }
}

impl BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        self.union(rhs)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            "READABLE",
            "WRITABLE",
            "READ_CLOSED",
            "WRITE_CLOSED",
            "ERROR",
        ];
        let mut first = true;
        for (i, name) in names.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("EMPTY")?;
        }
        Ok(())
    }
}
