//! Connection buffers, lent from a per-thread pool only while a connection
//! is working, so an idle keep-alive connection holds none.

use std::cell::RefCell;
use std::io::{self, Read};

/// The size of a read buffer; a head longer than this grows it (up to the
/// head limit).
pub(crate) const READ_BUF: usize = 8 * 1024;
/// Buffers kept per thread for reuse.
const POOL_MAX: usize = 64;

thread_local! {
    static READ_POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    static WRITE_POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Bytes read from a connection and not yet used: `buf[start..end]`.
#[derive(Debug, Default)]
pub(crate) struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.start);
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Takes the unread bytes out (for an upgraded connection).
    pub fn take_rest(&mut self) -> bytes::Bytes {
        let rest = bytes::Bytes::copy_from_slice(self.data());
        self.start = 0;
        self.end = 0;
        rest
    }

    /// Reads once from `r` into free space, growing the buffer up to `max`
    /// bytes of unread data. Returns the bytes read (0 at end of file).
    ///
    /// # Errors
    ///
    /// The read's error.
    pub fn fill(&mut self, r: &mut impl Read, max: usize) -> io::Result<usize> {
        if self.buf.is_empty() {
            self.buf = READ_POOL
                .with(|p| p.borrow_mut().pop())
                .unwrap_or_else(|| vec![0; READ_BUF]);
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                // Full of unread bytes: grow (the caller's limits stop a
                // head or line that keeps growing).
                let grown = (self.buf.len() * 2).min(max.max(READ_BUF) + READ_BUF);
                self.buf.resize(grown.max(self.buf.len() + 1024), 0);
            }
        }
        let n = r.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// Returns the buffer to the pool if nothing unread is in it.
    pub fn release_if_empty(&mut self) {
        if self.is_empty() && !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            if buf.len() == READ_BUF {
                READ_POOL.with(|p| {
                    let mut p = p.borrow_mut();
                    if p.len() < POOL_MAX {
                        p.push(buf);
                    }
                });
            }
        }
    }
}

impl Drop for ReadBuf {
    fn drop(&mut self) {
        self.start = 0;
        self.end = 0;
        self.release_if_empty();
    }
}

/// A write buffer from the pool.
pub(crate) fn take_write_buf() -> Vec<u8> {
    WRITE_POOL
        .with(|p| p.borrow_mut().pop())
        .unwrap_or_else(|| Vec::with_capacity(READ_BUF))
}

/// Returns a write buffer to the pool (cleared).
pub(crate) fn give_write_buf(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > 4 * READ_BUF {
        return;
    }
    buf.clear();
    WRITE_POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_MAX {
            p.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_consume_and_grow() {
        let mut b = ReadBuf::default();
        let data = vec![7u8; READ_BUF + 100];
        let mut src = &data[..];
        while !src.is_empty() {
            let n = b.fill(&mut src, 4 * READ_BUF).unwrap();
            assert!(n > 0);
        }
        assert_eq!(b.data().len(), READ_BUF + 100);
        b.consume(READ_BUF + 100);
        assert!(b.is_empty());
        b.release_if_empty();
        assert!(b.buf.is_empty());
    }
}
