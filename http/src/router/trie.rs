//! The segment trie under [`Router`](super::Router): one node per path
//! prefix of the registered patterns, with literal children in a hash map,
//! at most one parameter child, and the routes ending at the node or at a
//! trailing wildcard after it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use http::Method;
use percent_encoding::percent_decode_str;

use crate::Handler;

#[derive(Default)]
pub(super) struct Node {
    literals: HashMap<Box<[u8]>, Node>,
    param: Option<Box<Node>>,
    /// Routes whose pattern ends with `*name` after this node.
    wildcard: Option<Endpoints>,
    /// Routes whose pattern ends at this node.
    endpoints: Option<Endpoints>,
    /// The fallback of a router nested at this node's path.
    pub(super) fallback: Option<Arc<dyn Handler>>,
}

#[derive(Default)]
pub(super) struct Endpoints {
    by_method: Vec<(Method, Route)>,
    any: Option<Route>,
}

pub(super) struct Route {
    pub(super) pattern: String,
    /// Parameter names in pattern order; the last is the wildcard's when
    /// the pattern ends with one.
    pub(super) names: Vec<Arc<str>>,
    pub(super) handler: Arc<dyn Handler>,
}

pub(super) enum Segment {
    Literal(Vec<u8>),
    Param(String),
    Wildcard(String),
}

pub(super) fn parse_pattern(pattern: &str) -> Vec<Segment> {
    let Some(rest) = pattern.strip_prefix('/') else {
        panic!("route pattern {pattern:?} must start with '/'");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let mut segments = Vec::with_capacity(parts.len());
    let mut names: Vec<&str> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let segment = if let Some(name) = part.strip_prefix(':') {
            assert!(
                !name.is_empty(),
                "route pattern {pattern:?}: ':' must be followed by a parameter name"
            );
            names.push(name);
            Segment::Param(name.to_string())
        } else if let Some(name) = part.strip_prefix('*') {
            assert!(
                !name.is_empty(),
                "route pattern {pattern:?}: '*' must be followed by a parameter name"
            );
            assert!(
                i + 1 == parts.len(),
                "route pattern {pattern:?}: '*{name}' must be the last segment"
            );
            names.push(name);
            Segment::Wildcard(name.to_string())
        } else {
            Segment::Literal(percent_decode_str(part).collect())
        };
        segments.push(segment);
    }
    for (i, name) in names.iter().enumerate() {
        assert!(
            !names[..i].contains(name),
            "route pattern {pattern:?} names the parameter {name:?} twice"
        );
    }
    segments
}

impl Node {
    /// Adds a route, panicking on a malformed pattern or a route of the
    /// same method and shape.
    pub(super) fn insert(
        &mut self,
        method: Option<Method>,
        pattern: &str,
        handler: Arc<dyn Handler>,
    ) {
        let mut node = self;
        let mut names = Vec::new();
        let mut wildcard = false;
        for segment in parse_pattern(pattern) {
            match segment {
                Segment::Literal(bytes) => {
                    node = node.literals.entry(bytes.into_boxed_slice()).or_default();
                }
                Segment::Param(name) => {
                    names.push(Arc::from(name));
                    node = node.param.get_or_insert_with(Box::default);
                }
                Segment::Wildcard(name) => {
                    names.push(Arc::from(name));
                    wildcard = true;
                }
            }
        }
        let endpoints = if wildcard {
            node.wildcard.get_or_insert_with(Endpoints::default)
        } else {
            node.endpoints.get_or_insert_with(Endpoints::default)
        };
        let label = method.as_ref().map_or("ANY", Method::as_str);
        let existing = match &method {
            Some(m) => endpoints.exact(m),
            None => endpoints.any.as_ref(),
        };
        if let Some(existing) = existing {
            panic!(
                "route conflict: {label} {pattern} has the same shape as {label} {}, \
                 registered before; it could never be reached",
                existing.pattern
            );
        }
        let route = Route {
            pattern: pattern.to_string(),
            names,
            handler,
        };
        match method {
            Some(m) => endpoints.by_method.push((m, route)),
            None => endpoints.any = Some(route),
        }
    }

    /// Visits the endpoints matching `segments[i..]` in preference order
    /// (literal, parameter, wildcard), with the indices of the segments
    /// captured by parameters and the index where a wildcard starts.
    pub(super) fn walk<'n, F>(
        &'n self,
        segments: &[Cow<'_, [u8]>],
        i: usize,
        captures: &mut Vec<usize>,
        visit: &mut F,
    ) -> ControlFlow<()>
    where
        F: FnMut(&'n Endpoints, &[usize], Option<usize>) -> ControlFlow<()>,
    {
        let Some(segment) = segments.get(i) else {
            return match &self.endpoints {
                Some(e) => visit(e, captures, None),
                None => ControlFlow::Continue(()),
            };
        };
        if let Some(child) = self.literals.get(&**segment) {
            child.walk(segments, i + 1, captures, visit)?;
        }
        if let Some(child) = &self.param {
            if !segment.is_empty() {
                captures.push(i);
                let flow = child.walk(segments, i + 1, captures, visit);
                captures.pop();
                flow?;
            }
        }
        match &self.wildcard {
            Some(e) => visit(e, captures, Some(i)),
            None => ControlFlow::Continue(()),
        }
    }

    /// The node for a literal path, created as needed.
    pub(super) fn literal_path(&mut self, path: &str) -> &mut Node {
        let mut node = self;
        if path == "/" {
            return node;
        }
        for segment in parse_pattern(path) {
            if let Segment::Literal(bytes) = segment {
                node = node.literals.entry(bytes.into_boxed_slice()).or_default();
            }
        }
        node
    }

    /// The fallback of the deepest nested router whose prefix the path is
    /// under.
    pub(super) fn deepest_fallback(&self, segments: &[Cow<'_, [u8]>]) -> Option<&Arc<dyn Handler>> {
        let mut node = self;
        let mut found = node.fallback.as_ref();
        for segment in segments {
            match node.literals.get(&**segment) {
                Some(child) => node = child,
                None => break,
            }
            found = node.fallback.as_ref().or(found);
        }
        found
    }
}

impl Endpoints {
    /// The route answering `method`: its own, else `GET`'s for `HEAD`,
    /// else the one for any method.
    pub(super) fn find(&self, method: &Method) -> Option<&Route> {
        self.exact(method)
            .or_else(|| {
                (method == Method::HEAD)
                    .then(|| self.exact(&Method::GET))
                    .flatten()
            })
            .or(self.any.as_ref())
    }

    fn exact(&self, method: &Method) -> Option<&Route> {
        self.by_method
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, r)| r)
    }

    pub(super) fn allowed(&self, out: &mut Vec<Method>) {
        for (m, _) in &self.by_method {
            out.push(m.clone());
            if m == Method::GET {
                out.push(Method::HEAD);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_patterns_panic() {
        let cases: &[(&str, &str)] = &[
            ("users", "must start with '/'"),
            ("/a/:", "followed by a parameter name"),
            ("/a/*", "followed by a parameter name"),
            ("/a/*rest/b", "must be the last segment"),
            ("/a/:x/:x", "names the parameter \"x\" twice"),
        ];
        for (pattern, want) in cases {
            let pattern = pattern.to_string();
            let err = std::panic::catch_unwind(move || {
                let handler: Arc<dyn Handler> =
                    Arc::new(|_: crate::Request| crate::Response::new(crate::Body::empty()));
                Node::default().insert(Some(Method::GET), &pattern, handler)
            })
            .expect_err(want);
            let msg = err.downcast_ref::<String>().unwrap();
            assert!(msg.contains(want), "{msg}");
        }
    }

    #[test]
    fn patterns_parse_into_segments() {
        let kinds = |p: &str| -> Vec<String> {
            parse_pattern(p)
                .into_iter()
                .map(|s| match s {
                    Segment::Literal(b) => format!("lit:{}", String::from_utf8(b).unwrap()),
                    Segment::Param(n) => format!("param:{n}"),
                    Segment::Wildcard(n) => format!("wild:{n}"),
                })
                .collect()
        };
        assert_eq!(kinds("/"), ["lit:"]);
        assert_eq!(kinds("/a/:b/*c"), ["lit:a", "param:b", "wild:c"]);
        assert_eq!(kinds("/a/"), ["lit:a", "lit:"]);
        assert_eq!(kinds("/caf%C3%A9/x:y"), ["lit:café", "lit:x:y"]);
    }
}
