//! eventlet's web crawler, in thicket: a `GreenPool` of 20 green threads
//! fetching many URLs at once with one shared `Client`, whose keep-alive
//! pool lets the green threads share a handful of connections.
//!
//! ```text
//! cargo run -p thicket-http --example fetch                  # self-test: 200 pages from a local server
//! cargo run -p thicket-http --example fetch -- URL [URL...]  # fetch these, 20 at a time
//! ```
//!
//! With no arguments it starts a thicket server on a loopback port, fetches
//! 200 pages from it with concurrency 20, checks every body, prints a
//! summary and exits.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use thicket_green::GreenPool;
use thicket_http::{Body, Client, Request, Response, Server};

const CONCURRENCY: usize = 20;

/// A page whose body can be checked: `page <n>` repeated `n % 50 + 1` times.
fn page_body(n: usize) -> String {
    format!("page {n}\n").repeat(n % 50 + 1)
}

fn page(req: Request) -> Response {
    let n: usize = req
        .uri()
        .path()
        .trim_start_matches("/page/")
        .parse()
        .unwrap_or(0);
    let port = thicket_http::remote_addr(&req).map_or(0, |a| a.port());
    let mut resp = Response::new(Body::from(page_body(n)));
    resp.headers_mut()
        .insert("x-client-port", port.to_string().parse().unwrap());
    resp
}

/// Fetches every URL, `CONCURRENCY` at a time; returns (URL, status, body
/// length, client port header) per URL, in order.
fn crawl(client: &Client, urls: Vec<String>) -> Vec<Result<(String, u16, String, String), String>> {
    let pool = GreenPool::new(CONCURRENCY);
    let fetches: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let client = client.clone();
            pool.spawn(move || {
                let resp = client.get(&url).send().map_err(|e| e.to_string())?;
                let status = resp.status().as_u16();
                let port = resp
                    .headers()
                    .get("x-client-port")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_string();
                let body = resp.text().map_err(|e| e.to_string())?;
                Ok((url, status, body, port))
            })
            .expect("the pool is alive")
        })
        .collect();
    fetches
        .into_iter()
        .map(|f| {
            f.join()
                .unwrap_or_else(|e| Err(format!("green thread failed: {e}")))
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .max_connections_per_host(CONCURRENCY)
        .build()?;
    if !args.is_empty() {
        for r in crawl(&client, args) {
            match r {
                Ok((url, status, body, _)) => println!("{status} {url} ({} bytes)", body.len()),
                Err(e) => println!("error: {e}"),
            }
        }
        return Ok(());
    }

    let server = Server::bind("127.0.0.1:0")?.start(page)?;
    let base = format!("http://{}", server.local_addr());
    let urls: Vec<String> = (0..200).map(|n| format!("{base}/page/{n}")).collect();
    let start = Instant::now();
    let results = crawl(&client, urls);
    let elapsed = start.elapsed();

    let mut bytes = 0;
    let mut ports = HashSet::new();
    for (n, r) in results.iter().enumerate() {
        let (url, status, body, port) = r.as_ref().map_err(|e| format!("page {n}: {e}"))?;
        assert_eq!(*status, 200, "{url}");
        assert_eq!(*body, page_body(n), "{url}");
        bytes += body.len();
        ports.insert(port.clone());
    }
    println!(
        "fetched {} pages ({bytes} bytes) with {CONCURRENCY} green threads over {} connection(s) in {elapsed:.2?}; all bodies verified",
        results.len(),
        ports.len()
    );
    assert!(ports.len() <= CONCURRENCY);
    server.stop();
    server.wait()?;
    Ok(())
}
