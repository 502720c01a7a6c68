//! The properties the fuzz targets of thicket-http check, one function per
//! target (`fuzz_targets/<name>.rs` is a one-line call to the function of
//! the same name).
//!
//! Beyond "does not panic", each function checks what is cheap to check:
//! that lengths and ranges stay inside the input, that feeding the input
//! whole, a byte at a time or in pieces gives the same result, and that
//! what was parsed, written out again, parses to the same thing. A failed
//! check panics, which libFuzzer reports as a crash with the input saved.
//!
//! See `README.md` beside this crate for how to run them.

#![forbid(unsafe_code)]

mod headers;
mod http1;
mod websocket;

pub use crate::headers::{conditional, range, redirect, router, static_path};
pub use crate::http1::{chunked_body, request_head, request_stream, response};
pub use crate::websocket::{ws_decode, ws_extensions, ws_frame_header, ws_handshake};

/// What a target is: a function of the input that panics when a check fails.
pub type Target = fn(&[u8]);

/// Every target by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("request_head", request_head),
    ("request_stream", request_stream),
    ("response", response),
    ("chunked_body", chunked_body),
    ("ws_frame_header", ws_frame_header),
    ("ws_decode", ws_decode),
    ("ws_extensions", ws_extensions),
    ("ws_handshake", ws_handshake),
    ("range", range),
    ("conditional", conditional),
    ("router", router),
    ("static_path", static_path),
    ("redirect", redirect),
];

/// A number derived from the input (FNV-1a), for choices the input should
/// decide without a format of its own: where to split it, how big the
/// pieces it is fed in are.
pub(crate) fn hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The piece sizes an input is fed in: whole, a byte at a time (for short
/// inputs, where it is cheap), and a size the input picks.
pub(crate) fn piece_sizes(data: &[u8]) -> Vec<usize> {
    let mut sizes = vec![usize::MAX];
    if data.len() <= 4096 {
        sizes.push(1);
    }
    sizes.push(2 + (hash(data) % 61) as usize);
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed seeds, replayed without libFuzzer (`cargo test` on
    /// stable): every target has some, and none fails.
    #[test]
    fn every_target_passes_its_seeds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        for (name, f) in TARGETS {
            let dir = root.join(name);
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{name} has no seeds in {}: {e}", dir.display()));
            let mut n = 0;
            for entry in entries {
                let path = entry.expect("a directory entry").path();
                let input = std::fs::read(&path).expect("a readable seed");
                let result = std::panic::catch_unwind(|| f(&input));
                assert!(result.is_ok(), "{name} fails on {}", path.display());
                n += 1;
            }
            assert!(n > 0, "{name} has no seeds");
        }
    }

    #[test]
    fn every_target_takes_empty_and_odd_inputs() {
        let inputs: &[&[u8]] = &[b"", b"\r\n", b"\x00", b"\xff\xff\xff\xff", b"\n\n\n"];
        for (name, f) in TARGETS {
            for input in inputs {
                let result = std::panic::catch_unwind(|| f(input));
                assert!(result.is_ok(), "{name} on {input:?}");
            }
        }
    }
}
