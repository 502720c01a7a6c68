//! The live_graph example in a real browser: headless Chromium, driven
//! through chromedriver (WebDriver) with the thicket HTTP client, loads the
//! page, whose script opens the WebSocket and draws the values pushed to
//! it; the test reads the page's DOM and saves a screenshot in
//! `target/live_graph.png`.
//!
//! Needs Debian's `chromium` and `chromium-driver`: where they are missing
//! and the test runs as root with apt-get (CI), it installs them (about
//! 25 s); otherwise it says so and passes without running.

#[allow(dead_code)]
#[path = "../examples/live_graph.rs"]
mod live_graph;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use thicket_http::ws::Room;
use thicket_http::{Client, Server};

/// Kills chromedriver (and so the browser) however the test ends.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A WebDriver command; the `value` of its answer.
fn webdriver(client: &Client, method: &str, url: &str, body: Value) -> Value {
    let req = match method {
        "POST" => client.post(url).json(&body),
        "DELETE" => client.delete(url),
        _ => client.get(url),
    };
    let resp = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status();
    let answer: Value = resp.json().unwrap();
    assert!(status.is_success(), "{method} {url}: {status} {answer}");
    answer["value"].clone()
}

/// The browser and its driver, installed with apt-get if need be and
/// possible.
fn chromium() -> Option<(PathBuf, PathBuf)> {
    let look = || {
        Some((
            find(&["chromium", "chromium-browser"])?,
            find(&["chromedriver"])?,
        ))
    };
    if let Some(found) = look() {
        return Some(found);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if root && find(&["apt-get"]).is_some() {
        eprintln!("installing chromium and chromium-driver with apt-get");
        let _ = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=300", "install", "-y"])
            .args(["--no-install-recommends", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status();
    }
    look()
}

#[test]
fn chromium_draws_the_values_pushed_over_the_websocket() {
    let Some((browser, driver)) = chromium() else {
        eprintln!(
            "SKIPPED: chromium and chromedriver are not installed \
             (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let room = Room::new();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(live_graph::app(room.clone()))
        .unwrap();
    // The producer runs on this thread's hub, which the client's calls drive.
    live_graph::produce(room, Duration::from_millis(50));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _driver = Reap(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    // chromedriver says nothing when it is ready: ask until it answers.
    while client.get(format!("{base}/status")).send().is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        thicket_green::sleep(Duration::from_millis(100)).unwrap();
    }
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": browser,
            "args": ["--headless", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--window-size=900,700",
                     format!("--user-data-dir={}", profile.path().display())],
        },
    }}});
    let session = webdriver(&client, "POST", &format!("{base}/session"), caps);
    let s = format!("{base}/session/{}", session["sessionId"].as_str().unwrap());
    let page = format!("http://{}/", server.local_addr());
    webdriver(&client, "POST", &format!("{s}/url"), json!({ "url": page }));

    let read = |script: &str| {
        webdriver(
            &client,
            "POST",
            &format!("{s}/execute/sync"),
            json!({"script": script, "args": []}),
        )
    };
    let started = Instant::now();
    loop {
        let count: u64 = read("return document.getElementById('count').textContent")
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        if count >= 40 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "only {count} values arrived"
        );
        thicket_green::sleep(Duration::from_millis(100)).unwrap();
    }
    assert_eq!(
        read("return document.getElementById('state').textContent"),
        "live"
    );
    let points = read("return document.getElementById('line').getAttribute('points')");
    let points: Vec<(f64, f64)> = points
        .as_str()
        .unwrap()
        .split(' ')
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    assert!(points.len() >= 40, "{points:?}");
    // Values 10..90 are drawn at y = 200 - 2v.
    assert!(
        points.iter().all(|&(_, y)| (20.0..=180.0).contains(&y)),
        "{points:?}"
    );

    let png = webdriver(&client, "GET", &format!("{s}/screenshot"), Value::Null);
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/live_graph.png");
    std::fs::write(&out, png).unwrap();
    eprintln!("screenshot: {}", out.display());
    webdriver(&client, "DELETE", &s, Value::Null);
    server.stop();
}
