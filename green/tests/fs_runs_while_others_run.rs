//! A file operation parks only its green thread: while it waits, others run.
//! A FIFO makes the open block until a green thread opens the other end.

use std::io::{Read, Write};

use thicket_green::fs::{self, File, OpenOptions};
use thicket_green::spawn;

#[test]
fn a_blocked_open_does_not_block_the_hub() {
    let path = std::env::temp_dir().join(format!("thicket-fifo-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);

    // Opening a FIFO for reading blocks until a writer opens it.
    let p = path.clone();
    let reader = spawn(move || -> std::io::Result<String> {
        let mut f = File::open(&p)?;
        let mut s = String::new();
        f.read_to_string(&mut s)?;
        Ok(s)
    });
    // This green thread runs while the reader's open is blocked in the pool.
    let p = path.clone();
    let writer = spawn(move || -> std::io::Result<()> {
        let mut f = OpenOptions::new().write(true).open(&p)?;
        f.write_all(b"through the fifo")
    });
    writer.join().unwrap().unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), "through the fifo");
    fs::remove_file(&path).unwrap();
}
