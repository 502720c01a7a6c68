//! Helpers shared by the router and static-file tests: requests built in
//! memory, handlers called directly, bodies read back.

// Each test file uses only some of these.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;

use thicket_http::http::{self, Method};
use thicket_http::{BodyReader, Handler, Request, Response};

/// A request with a method, a URI and header pairs.
pub fn request(method: Method, uri: &str, headers: &[(&str, &str)]) -> Request {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(BodyReader::empty()).unwrap()
}

/// Calls `handler` with a `GET` of `uri` carrying `headers`.
pub fn get(handler: &impl Handler, uri: &str, headers: &[(&str, &str)]) -> Response {
    handler.handle(request(Method::GET, uri, headers))
}

/// Calls `handler` with `method` on `uri`.
pub fn call(handler: &impl Handler, method: Method, uri: &str) -> Response {
    handler.handle(request(method, uri, &[]))
}

/// The bytes the server would send for this response's body.
pub fn body_bytes(resp: Response) -> Vec<u8> {
    let mut out = Vec::new();
    resp.into_body()
        .into_reader()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The body as UTF-8 text.
pub fn body_text(resp: Response) -> String {
    String::from_utf8(body_bytes(resp)).unwrap()
}

/// A header as a string, if present.
pub fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

/// A handler answering with `tag` and the route's parameters
/// (`tag name=value ...`).
pub fn tag(tag: &'static str) -> impl Handler {
    move |req: Request| {
        let mut text = tag.to_string();
        if let Some(params) = req.extensions().get::<thicket_http::Params>() {
            for (k, v) in params.iter() {
                text.push_str(&format!(" {k}={v}"));
            }
        }
        Response::new(thicket_http::Body::from(text))
    }
}

/// Writes `contents` to `root/relative`, creating directories.
pub fn write(root: &Path, relative: &str, contents: impl AsRef<[u8]>) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}
