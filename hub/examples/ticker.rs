//! A repeating timer, a one-shot deadline, and a pipe fed from another
//! thread through an `Async` watcher, all on one loop. Ends by itself.

use std::cell::Cell;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use thicket_hub::{Async, Interest, Io, Loop, Ready, Timer};

fn main() -> std::io::Result<()> {
    let lp = Loop::new()?;

    let ticks = Rc::new(Cell::new(0));
    let t = ticks.clone();
    let ticker = Timer::new(&lp, move |w| {
        t.set(t.get() + 1);
        println!("tick {} at iteration {}", t.get(), w.get_loop().iteration());
        if t.get() == 5 {
            w.stop();
        }
    });
    ticker.start_repeat(Duration::from_millis(10), Duration::from_millis(10));

    // Another thread writes into a socket pair, then pokes the loop.
    let (mut tx, rx) = UnixStream::pair()?;
    rx.set_nonblocking(true)?;
    let mut reader = rx.try_clone()?;
    let io = Io::new(&lp, &rx, Interest::READABLE, move |w, _| {
        let mut buf = [0; 64];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => {
                    println!("pipe closed");
                    w.stop();
                    return;
                }
                Ok(n) => println!("read {:?}", String::from_utf8_lossy(&buf[..n])),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    w.clear_readiness(Ready::READABLE);
                    return;
                }
                Err(e) => panic!("read failed: {e}"),
            }
        }
    })?;
    io.start();

    let poke = Async::new(&lp, |w| {
        println!("poked from another thread");
        w.stop();
    });
    poke.start();
    let sender = poke.sender();
    let writer = std::thread::spawn(move || {
        tx.write_all(b"hello from a thread").unwrap();
        sender.send();
    });

    lp.run()?;
    writer.join().expect("writer thread");
    println!("{} ticks, {} iterations", ticks.get(), lp.iteration());
    Ok(())
}
