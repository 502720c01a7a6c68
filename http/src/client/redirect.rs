//! Following a redirect: where to (the `Location` resolved against the
//! request's URL), with which method and body (RFC 9110 15.4), and which
//! fields must not follow the request to another origin.

use bytes::Bytes;
use http::header::{
    HeaderName, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LENGTH,
    CONTENT_LOCATION, CONTENT_TYPE, COOKIE, HOST, PROXY_AUTHORIZATION, TRANSFER_ENCODING,
};
use http::{Method, StatusCode};

use super::request::{Prepared, SendBody};
use crate::error::Error;

/// What to do with a redirect response.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// `req` now describes the next request.
    Follow,
    /// Return the redirect response as it is: the request cannot be
    /// repeated (its body was streamed).
    Stop,
}

/// The statuses followed.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Fields describing a body, dropped when a redirect turns the request
/// into a `GET` without one.
const BODY_FIELDS: [HeaderName; 6] = [
    CONTENT_TYPE,
    CONTENT_LENGTH,
    CONTENT_ENCODING,
    CONTENT_LANGUAGE,
    CONTENT_LOCATION,
    TRANSFER_ENCODING,
];

/// Fields carrying credentials, never sent to another origin.
const CREDENTIALS: [HeaderName; 3] = [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION];

/// Rewrites `req` to follow a `status` redirect to `location`.
///
/// # Errors
///
/// A `Location` that is not a usable URL (`InvalidRequest`, naming it).
pub(crate) fn next(
    req: &mut Prepared,
    status: StatusCode,
    location: &HeaderValue,
) -> Result<Next, Error> {
    let location = String::from_utf8_lossy(location.as_bytes());
    let target = req.target.join(&location)?;
    let to_get = match status.as_u16() {
        303 => req.method != Method::HEAD,
        301 | 302 => req.method == Method::POST,
        _ => false,
    };
    if !to_get && !req.body.is_replayable() {
        return Ok(Next::Stop);
    }
    if to_get {
        req.method = Method::GET;
        req.body = SendBody::Bytes(Bytes::new());
        for name in &BODY_FIELDS {
            req.headers.remove(name);
        }
    }
    if !req.target.same_origin(&target) {
        for name in &CREDENTIALS {
            req.headers.remove(name);
        }
        req.headers.remove(HOST);
    }
    if req.first_url.is_none() {
        req.first_url = Some(req.target.uri.clone());
    }
    req.target = target;
    Ok(Next::Follow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Body;
    use crate::client::target::Target;
    use http::HeaderMap;

    fn prepared(method: Method, url: &str, body: SendBody) -> Prepared {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        headers.insert(COOKIE, HeaderValue::from_static("a=1"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        Prepared {
            method,
            target: Target::parse(url.parse().unwrap()).unwrap(),
            headers,
            body,
            timeout: None,
            first_url: None,
        }
    }

    fn bytes() -> SendBody {
        SendBody::Bytes(Bytes::from_static(b"data"))
    }

    fn stream() -> SendBody {
        SendBody::from_body(Body::from_reader(std::io::empty(), None))
    }

    #[test]
    fn method_and_body_per_status() {
        let loc = HeaderValue::from_static("/next");
        for (status, method, want_method, keeps_body) in [
            (301, Method::POST, Method::GET, false),
            (302, Method::POST, Method::GET, false),
            (303, Method::POST, Method::GET, false),
            (303, Method::PUT, Method::GET, false),
            (303, Method::HEAD, Method::HEAD, true),
            (301, Method::PUT, Method::PUT, true),
            (307, Method::POST, Method::POST, true),
            (308, Method::PUT, Method::PUT, true),
        ] {
            let mut req = prepared(method.clone(), "http://a/x", bytes());
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(next(&mut req, status, &loc).unwrap(), Next::Follow);
            assert_eq!(req.method, want_method, "{status} {method}");
            assert_eq!(req.body.len() == Some(4), keeps_body, "{status} {method}");
            assert_eq!(
                req.headers.contains_key(CONTENT_TYPE),
                keeps_body,
                "{status} {method}"
            );
            assert_eq!(req.target.uri, "http://a/next");
            assert_eq!(req.first_url.as_ref().unwrap(), "http://a/x");
        }
    }

    #[test]
    fn a_streamed_body_stops_where_it_would_be_resent() {
        let loc = HeaderValue::from_static("/next");
        let mut req = prepared(Method::POST, "http://a/x", stream());
        assert_eq!(
            next(&mut req, StatusCode::TEMPORARY_REDIRECT, &loc).unwrap(),
            Next::Stop
        );
        let mut req = prepared(Method::POST, "http://a/x", stream());
        assert_eq!(
            next(&mut req, StatusCode::SEE_OTHER, &loc).unwrap(),
            Next::Follow
        );
        assert_eq!(req.method, Method::GET);
    }

    #[test]
    fn credentials_stay_with_their_origin() {
        let mut req = prepared(Method::GET, "http://a/x", bytes());
        next(&mut req, StatusCode::FOUND, &HeaderValue::from_static("/y")).unwrap();
        assert!(req.headers.contains_key(AUTHORIZATION));
        assert!(req.headers.contains_key(COOKIE));
        for other in ["http://b/y", "https://a/y", "http://a:8080/y"] {
            let mut req = prepared(Method::GET, "http://a/x", bytes());
            next(
                &mut req,
                StatusCode::FOUND,
                &HeaderValue::from_str(other).unwrap(),
            )
            .unwrap();
            assert!(!req.headers.contains_key(AUTHORIZATION), "{other}");
            assert!(!req.headers.contains_key(COOKIE), "{other}");
        }
    }

    #[test]
    fn unusable_locations_are_named() {
        let mut req = prepared(Method::GET, "http://a/x", bytes());
        let e = next(
            &mut req,
            StatusCode::FOUND,
            &HeaderValue::from_static("ftp://b/f"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("ftp://b/f"), "{e}");
    }
}
