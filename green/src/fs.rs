//! File system operations that park only the calling green thread.
//!
//! Regular files are always "ready" to the kernel, so they cannot be made
//! non-blocking; every function here runs its `std::fs` counterpart on a
//! [`tpool`] thread instead. The names and signatures mirror
//! `std::fs`: change the import, keep the code.
//!
//! A call that fails because its green thread was killed or its
//! [`with_timeout`](crate::with_timeout) deadline passed returns at once,
//! but the operation itself cannot be stopped: it still completes on its pool
//! thread (a write is written, a rename happens). Timeouts map to
//! `ErrorKind::TimedOut`, kills to `ErrorKind::Other`.
//!
//! # Examples
//!
//! ```
//! use thicket_green::{fs, spawn};
//!
//! let path = std::env::temp_dir().join(format!("thicket-fs-doc-{}", std::process::id()));
//! let p = path.clone();
//! let writer = spawn(move || fs::write(&p, b"hello"));
//! writer.join().unwrap()?;
//! assert_eq!(fs::read_to_string(&path)?, "hello");
//! fs::remove_file(&path)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::tpool;

/// Runs `f` in the pool; a panic (which `std::fs` never raises) resumes in
/// the caller, wait errors become `io::Error`.
fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    match tpool::execute(f) {
        Ok(r) => r,
        Err(tpool::TpoolError::Panicked(p)) => std::panic::resume_unwind(p),
        Err(e) => Err(e.into()),
    }
}

fn owned(path: impl AsRef<Path>) -> PathBuf {
    path.as_ref().to_path_buf()
}

/// Reads a whole file into a byte vector, like [`std::fs::read`].
///
/// # Errors
///
/// As [`std::fs::read`], or the wait's error (see the [module](self) docs).
pub fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = owned(path);
    blocking(move || std::fs::read(path))
}

/// Reads a whole file into a string, like [`std::fs::read_to_string`].
///
/// # Errors
///
/// As [`std::fs::read_to_string`] (`InvalidData` if it is not UTF-8), or the
/// wait's error.
pub fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = owned(path);
    blocking(move || std::fs::read_to_string(path))
}

/// Writes `contents` as the whole file, creating or truncating it, like
/// [`std::fs::write`].
///
/// # Errors
///
/// As [`std::fs::write`], or the wait's error.
pub fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = owned(path);
    let contents = contents.as_ref().to_vec();
    blocking(move || std::fs::write(path, contents))
}

/// The metadata of a path, following symlinks, like [`std::fs::metadata`].
///
/// # Errors
///
/// As [`std::fs::metadata`] (`NotFound` if nothing is there), or the wait's
/// error.
///
/// # Examples
///
/// ```
/// let m = thicket_green::fs::metadata(std::env::temp_dir())?;
/// assert!(m.is_dir());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    let path = owned(path);
    blocking(move || std::fs::metadata(path))
}

/// Removes a file, like [`std::fs::remove_file`].
///
/// # Errors
///
/// As [`std::fs::remove_file`], or the wait's error.
pub fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = owned(path);
    blocking(move || std::fs::remove_file(path))
}

/// Creates a directory and all missing parents, like
/// [`std::fs::create_dir_all`].
///
/// # Errors
///
/// As [`std::fs::create_dir_all`], or the wait's error.
pub fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = owned(path);
    blocking(move || std::fs::create_dir_all(path))
}

/// Renames a file or directory, replacing `to` if it exists, like
/// [`std::fs::rename`].
///
/// # Errors
///
/// As [`std::fs::rename`], or the wait's error.
pub fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (owned(from), owned(to));
    blocking(move || std::fs::rename(from, to))
}

/// Copies a file's contents and permissions; returns the bytes copied, like
/// [`std::fs::copy`].
///
/// # Errors
///
/// As [`std::fs::copy`], or the wait's error.
pub fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (owned(from), owned(to));
    blocking(move || std::fs::copy(from, to))
}

/// How to open a [`File`]: [`std::fs::OpenOptions`], opening through the pool.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use thicket_green::fs::{self, OpenOptions};
///
/// let path = std::env::temp_dir().join(format!("thicket-oo-doc-{}", std::process::id()));
/// let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
/// f.write_all(b"one ")?;
/// let mut f = OpenOptions::new().append(true).open(&path)?;
/// f.write_all(b"two")?;
/// assert_eq!(fs::read_to_string(&path)?, "one two");
/// fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// All options off, as [`std::fs::OpenOptions::new`].
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, on: bool) -> &mut OpenOptions {
        self.0.read(on);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, on: bool) -> &mut OpenOptions {
        self.0.write(on);
        self
    }

    /// Open for appending (implies writing).
    pub fn append(&mut self, on: bool) -> &mut OpenOptions {
        self.0.append(on);
        self
    }

    /// Truncate the file to 0 bytes on open (needs writing).
    pub fn truncate(&mut self, on: bool) -> &mut OpenOptions {
        self.0.truncate(on);
        self
    }

    /// Create the file if it does not exist (needs writing or appending).
    pub fn create(&mut self, on: bool) -> &mut OpenOptions {
        self.0.create(on);
        self
    }

    /// Create the file, failing if it exists.
    pub fn create_new(&mut self, on: bool) -> &mut OpenOptions {
        self.0.create_new(on);
        self
    }

    /// Opens `path` with these options on a pool thread.
    ///
    /// # Errors
    ///
    /// As [`std::fs::OpenOptions::open`], or the wait's error.
    pub fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let (opts, path) = (self.0.clone(), owned(path));
        blocking(move || opts.open(path)).map(File::from_std)
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

/// An open file whose reads, writes and seeks run on the pool.
///
/// Each call hands the data to a pool thread, so a read or write costs a
/// copy and a thread hand-off: wrap a `File` in a `BufReader`/`BufWriter`
/// (or read whole files with [`read`]) rather than doing many small calls.
///
/// A call that is abandoned (kill, timeout) still completes on its pool
/// thread and moves the file position; the caller cannot know by how much.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Seek, SeekFrom, Write};
/// use thicket_green::fs::File;
///
/// let path = std::env::temp_dir().join(format!("thicket-file-doc-{}", std::process::id()));
/// let mut f = File::create(&path)?;
/// f.write_all(b"hello, world")?;
/// drop(f);
/// let mut f = File::open(&path)?;
/// f.seek(SeekFrom::Start(7))?;
/// let mut s = String::new();
/// f.read_to_string(&mut s)?;
/// assert_eq!(s, "world");
/// thicket_green::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct File {
    inner: Arc<std::fs::File>,
}

/// The most one `read` asks for: bounds the buffer each call allocates.
const MAX_READ: usize = 1 << 20;

impl File {
    /// Opens a file for reading, like [`std::fs::File::open`].
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::open`], or the wait's error.
    pub fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path)
    }

    /// Creates or truncates a file for writing, like
    /// [`std::fs::File::create`].
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::create`], or the wait's error.
    pub fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    /// Wraps an open std file; its operations then run on the pool.
    pub fn from_std(file: std::fs::File) -> File {
        File {
            inner: Arc::new(file),
        }
    }

    /// The std file back, once no abandoned operation still uses it.
    ///
    /// # Errors
    ///
    /// Returns `self` unchanged if an operation given up by a kill or
    /// timeout is still running on a pool thread.
    pub fn into_std(self) -> Result<std::fs::File, File> {
        Arc::try_unwrap(self.inner).map_err(|inner| File { inner })
    }

    /// The file's metadata, like [`std::fs::File::metadata`].
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::metadata`], or the wait's error.
    pub fn metadata(&self) -> io::Result<std::fs::Metadata> {
        self.run(|f| f.metadata())
    }

    /// Truncates or extends the file, like [`std::fs::File::set_len`].
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::set_len`], or the wait's error.
    pub fn set_len(&self, size: u64) -> io::Result<()> {
        self.run(move |f| f.set_len(size))
    }

    /// Flushes data and metadata to the device, like
    /// [`std::fs::File::sync_all`].
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::sync_all`], or the wait's error.
    pub fn sync_all(&self) -> io::Result<()> {
        self.run(|f| f.sync_all())
    }

    fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&std::fs::File) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let file = self.inner.clone();
        blocking(move || op(&file))
    }
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // The pool thread may outlive this call (kill, timeout), so it reads
        // into its own buffer, never into `buf`.
        let len = buf.len().min(MAX_READ);
        let data = self.run(move |mut f| {
            let mut v = vec![0; len];
            let n = f.read(&mut v)?;
            v.truncate(n);
            Ok(v)
        })?;
        buf[..data.len()].copy_from_slice(&data);
        Ok(data.len())
    }

    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        // One hand-off instead of one per chunk.
        let data = self.run(|mut f| {
            let mut v = Vec::new();
            f.read_to_end(&mut v)?;
            Ok(v)
        })?;
        buf.extend_from_slice(&data);
        Ok(data.len())
    }

    fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize> {
        let mut data = Vec::new();
        self.read_to_end(&mut data)?;
        let s = String::from_utf8(data).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        })?;
        buf.push_str(&s);
        Ok(s.len())
    }
}

impl Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let data = buf.to_vec();
        self.run(move |mut f| f.write(&data))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // One hand-off for the whole buffer.
        let data = buf.to_vec();
        self.run(move |mut f| f.write_all(&data))
    }

    fn flush(&mut self) -> io::Result<()> {
        // std's File has no user-space buffer to flush.
        Ok(())
    }
}

impl Seek for File {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.run(move |mut f| f.seek(pos))
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("file", &self.inner).finish()
    }
}
