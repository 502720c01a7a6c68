//! A raw HTTP/1.1 client over std sockets for the server's behaviour
//! tests: it sends exact bytes and parses what comes back, so the tests
//! see precisely what the server wrote.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response as sent on the wire.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub struct Conn {
    pub r: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            r: BufReader::new(s),
        }
    }

    pub fn send(&mut self, raw: impl AsRef<[u8]>) {
        self.r.get_mut().write_all(raw.as_ref()).expect("send");
    }

    /// Reads one response to a request that was not HEAD.
    pub fn response(&mut self) -> Raw {
        self.response_to(false)
    }

    pub fn response_to(&mut self, head: bool) -> Raw {
        let mut line = String::new();
        self.r.read_line(&mut line).expect("status line");
        assert!(line.ends_with("\r\n"), "status line {line:?}");
        let mut parts = line.trim_end().splitn(3, ' ');
        let version = parts.next().unwrap().to_owned();
        let status: u16 = parts.next().expect("status").parse().expect("status");
        let mut headers = Vec::new();
        loop {
            let mut l = String::new();
            self.r.read_line(&mut l).expect("header line");
            if l == "\r\n" {
                break;
            }
            let (n, v) = l.trim_end().split_once(':').expect("a field");
            headers.push((n.to_owned(), v.trim().to_owned()));
        }
        let mut raw = Raw {
            status,
            version,
            headers,
            body: Vec::new(),
        };
        if head || status == 204 || status == 304 || (100..200).contains(&status) {
            return raw;
        }
        if raw
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let mut size = String::new();
                self.r.read_line(&mut size).unwrap();
                let n = usize::from_str_radix(size.trim_end(), 16).expect("chunk size");
                let mut chunk = vec![0; n + 2];
                self.r.read_exact(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                raw.body.extend_from_slice(&chunk[..n]);
            }
        } else if let Some(n) = raw.header("content-length") {
            let mut body = vec![0; n.parse().unwrap()];
            self.r.read_exact(&mut body).unwrap();
            raw.body = body;
        } else {
            self.r.read_to_end(&mut raw.body).unwrap();
        }
        raw
    }

    /// Whether the server has closed the connection (EOF before any byte).
    pub fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.r.read(&mut b), Ok(0) | Err(_))
    }
}

/// One request on a fresh connection, `Connection: close`.
pub fn once(addr: SocketAddr, raw: impl AsRef<[u8]>) -> Raw {
    let mut c = Conn::open(addr);
    c.send(raw);
    c.response()
}
