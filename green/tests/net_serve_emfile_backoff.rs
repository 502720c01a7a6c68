//! Out of descriptors, `serve` backs off and recovers: it neither spins nor
//! gives up. This binary holds only this test, because it lowers the
//! process's RLIMIT_NOFILE.

use std::io::Read;

use thicket_green::net::{self, Server, TcpStream};
use thicket_green::spawn;

const CLIENTS: usize = 20;
/// Descriptors the server may open beyond those in use when the limit is set.
const SPARE: u64 = 3;

fn highest_open_fd() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap()
}

#[test]
fn accept_backs_off_on_emfile_and_serves_everyone_once_descriptors_free_up() {
    thicket_green::yield_now().unwrap(); // the hub's own descriptors exist now
    let listener = net::listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Every client is connected (queued in the backlog) before the limit.
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| TcpStream::from(std::net::TcpStream::connect(addr).unwrap()))
        .collect();
    let limit = highest_open_fd() + 1 + SPARE;
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the structs given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut old), 0);
        let lim = libc::rlimit {
            rlim_cur: limit,
            rlim_max: old.rlim_max,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
    // Fill every free descriptor under the limit, then free exactly SPARE.
    let mut filler = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => filler.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                break;
            }
        }
    }
    assert!(filler.len() as u64 >= SPARE);
    filler.truncate(filler.len() - SPARE as usize);
    let server = Server::new(listener);
    let stop = server.handle();
    let serving = spawn(move || {
        server.serve(|conn: TcpStream, _| {
            (&conn).write_all_ok();
            // Hold the descriptor until the client hangs up.
            let mut rest = Vec::new();
            let _ = (&conn).read_to_end(&mut rest);
        })
    });
    // Clients are served in order; client i is accepted only after earlier
    // ones hang up and free a descriptor.
    for (i, mut c) in clients.into_iter().enumerate() {
        let mut b = [0; 1];
        c.read_exact(&mut b)
            .unwrap_or_else(|e| panic!("client {i} was never served: {e}"));
        assert_eq!(&b, b"+");
    }
    stop.stop();
    serving.join().unwrap().unwrap();
    drop(filler);
    // SAFETY: as above.
    unsafe { assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &old), 0) };
}

trait Greet {
    fn write_all_ok(self);
}

impl Greet for &TcpStream {
    fn write_all_ok(mut self) {
        use std::io::Write;
        let _ = self.write_all(b"+");
    }
}
