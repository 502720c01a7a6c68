//! The fs functions and File do what std::fs does, from green threads and
//! from plain code.

use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use thicket_green::fs::{self, File, OpenOptions};
use thicket_green::spawn;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "thicket-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn whole_file_functions() {
    let tmp = TempDir::new("fs-whole");
    let dir = tmp.0.join("a/b/c");
    fs::create_dir_all(&dir).unwrap();
    assert!(fs::metadata(&dir).unwrap().is_dir());

    let file = dir.join("x.txt");
    fs::write(&file, "héllo").unwrap();
    assert_eq!(fs::read(&file).unwrap(), "héllo".as_bytes());
    assert_eq!(fs::read_to_string(&file).unwrap(), "héllo");
    assert_eq!(fs::metadata(&file).unwrap().len(), 6);

    let copy = dir.join("y.txt");
    assert_eq!(fs::copy(&file, &copy).unwrap(), 6);
    let moved = tmp.0.join("z.txt");
    fs::rename(&copy, &moved).unwrap();
    assert_eq!(std::fs::read_to_string(&moved).unwrap(), "héllo");
    assert_eq!(fs::metadata(&copy).unwrap_err().kind(), ErrorKind::NotFound);

    fs::remove_file(&moved).unwrap();
    assert_eq!(
        fs::remove_file(&moved).unwrap_err().kind(),
        ErrorKind::NotFound
    );

    fs::write(&file, [0xff, 0xfe]).unwrap();
    assert_eq!(
        fs::read_to_string(&file).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
}

#[test]
fn file_read_write_seek_from_green_threads() {
    let tmp = TempDir::new("fs-file");
    let path = tmp.0.join("data.bin");
    let p = path.clone();
    let writer = spawn(move || -> std::io::Result<u64> {
        let mut f = File::create(&p)?;
        f.write_all(b"0123456789")?;
        f.seek(SeekFrom::Start(2))?;
        assert_eq!(f.write(b"ab")?, 2);
        f.flush()?;
        f.sync_all()?;
        Ok(f.metadata()?.len())
    });
    assert_eq!(writer.join().unwrap().unwrap(), 10);

    let p = path.clone();
    let reader = spawn(move || -> std::io::Result<(String, Vec<u8>, String)> {
        let mut f = File::open(&p)?;
        let mut head = [0u8; 4];
        f.read_exact(&mut head)?;
        let mut rest = Vec::new();
        f.read_to_end(&mut rest)?;
        f.seek(SeekFrom::End(-3))?;
        let mut tail = String::new();
        f.read_to_string(&mut tail)?;
        Ok((String::from_utf8(head.to_vec()).unwrap(), rest, tail))
    });
    let (head, rest, tail) = reader.join().unwrap().unwrap();
    assert_eq!(head, "01ab");
    assert_eq!(rest, b"456789");
    assert_eq!(tail, "789");

    // A read at the end returns 0; a zero-length read never blocks.
    let mut f = File::open(&path).unwrap();
    f.seek(SeekFrom::End(0)).unwrap();
    assert_eq!(f.read(&mut [0u8; 8]).unwrap(), 0);
    assert_eq!(f.read(&mut []).unwrap(), 0);

    // set_len, and into_std once nothing else holds it.
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(3).unwrap();
    let std_file = f.into_std().unwrap();
    assert_eq!(std_file.metadata().unwrap().len(), 3);
}

#[test]
fn open_options_are_honoured() {
    let tmp = TempDir::new("fs-opts");
    let path = tmp.0.join("log");
    assert_eq!(File::open(&path).unwrap_err().kind(), ErrorKind::NotFound);
    let mut f = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&path)
        .unwrap();
    f.write_all(b"a").unwrap();
    let again = OpenOptions::new().create_new(true).write(true).open(&path);
    assert_eq!(again.unwrap_err().kind(), ErrorKind::AlreadyExists);
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"b").unwrap();
    let mut f = OpenOptions::new().read(true).open(&path).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    assert_eq!(s, "ab");
    // Read-only: writing fails with the OS error, not a panic.
    assert!(f.write_all(b"c").is_err());
}

#[test]
fn a_large_file_reads_back_in_bounded_chunks() {
    let tmp = TempDir::new("fs-large");
    let path = tmp.0.join("big");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(&path, &data).unwrap();
    let mut f = File::open(&path).unwrap();
    let mut buf = vec![0u8; 4_000_000];
    let n = f.read(&mut buf).unwrap();
    assert!(n > 0 && n <= 1 << 20, "one read returned {n} bytes");
    let mut back = buf[..n].to_vec();
    f.read_to_end(&mut back).unwrap();
    assert_eq!(back, data);
}
