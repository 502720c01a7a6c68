//! The client against thicket's own server: keep-alive (the server sees
//! one client port), streamed uploads echoed back, and many green threads
//! at once.

use std::io::{Cursor, Read};

use thicket_http::{Body, Client, Request, Response, Server};

fn echo(mut req: Request) -> Response {
    let port = thicket_http::remote_addr(&req).map_or(0, |a| a.port());
    let mut body = Vec::new();
    let _ = req.body_mut().read_to_end(&mut body);
    let chunked = req.headers().contains_key("transfer-encoding");
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert("x-client-port", port.to_string().parse().unwrap());
    h.insert("x-was-chunked", chunked.to_string().parse().unwrap());
    resp
}

fn port_of(resp: &thicket_http::client::Response) -> String {
    resp.headers()["x-client-port"]
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn keep_alive_and_streamed_uploads() {
    let server = Server::bind("127.0.0.1:0").unwrap().start(echo).unwrap();
    let url = format!("http://{}/echo", server.local_addr());
    let client = Client::new();

    let first = client.post(&url).body("one").send().unwrap();
    let port = port_of(&first);
    assert_eq!(first.text().unwrap(), "one");

    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let streamed = client
        .post(&url)
        .body(Body::from_reader(Cursor::new(data.clone()), None))
        .send()
        .unwrap();
    assert_eq!(port_of(&streamed), port, "same connection");
    assert_eq!(streamed.headers()["x-was-chunked"], "true");
    assert!(streamed.bytes().unwrap() == data);

    let chunks = vec![
        Ok(bytes::Bytes::from_static(b"a")),
        Ok(bytes::Bytes::from_static(b"bc")),
    ];
    let resp = client
        .put(&url)
        .body(Body::from_chunks(chunks))
        .send()
        .unwrap();
    assert_eq!(port_of(&resp), port);
    assert_eq!(resp.text().unwrap(), "abc");
    server.stop();
    server.wait().unwrap();
}

#[test]
fn many_green_threads_share_a_few_connections() {
    let server = Server::bind("127.0.0.1:0").unwrap().start(echo).unwrap();
    let url = format!("http://{}/echo", server.local_addr());
    let client = Client::builder()
        .max_connections_per_host(4)
        .build()
        .unwrap();
    let pool = thicket_green::GreenPool::new(16);
    let handles: Vec<_> = (0..100)
        .map(|i| {
            let (client, url) = (client.clone(), url.clone());
            pool.spawn(move || {
                let resp = client.post(url).body(format!("n{i}")).send().unwrap();
                let port = port_of(&resp);
                assert_eq!(resp.text().unwrap(), format!("n{i}"));
                port
            })
            .unwrap()
        })
        .collect();
    let mut ports: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    ports.sort();
    ports.dedup();
    assert!(ports.len() <= 4, "at most 4 connections: {ports:?}");
    server.stop();
    server.wait().unwrap();
}
