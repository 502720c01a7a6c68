//! Shared by the server's conformance and interop tests
//! (`server_corpus_*.rs`, `server_interop_*.rs`): the JSON echo handler,
//! a raw socket client that cuts requests into pieces, the case runner
//! for the external corpora, and helpers for running real clients.

// Each test file uses a different part.
#![allow(dead_code)]

pub mod b64;
pub mod echo;
pub mod interop;
pub mod plan;
pub mod wire;

use std::path::PathBuf;

use serde_json::Value;

/// `<workspace root>/../shared/corpora`, where the external corpora live
/// (they are data from other projects, never copied into this one).
pub fn corpora_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("the http crate sits in the workspace")
        .join("..")
        .join("shared")
        .join("corpora")
}

/// The `cases.json` of corpus `name`, or `None` (after saying so) when the
/// corpora are not on this machine.
pub fn load_corpus(name: &str) -> Option<Value> {
    let path = corpora_dir().join(name).join("cases.json");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => {
            println!(
                "SKIPPED: the {name} corpus is not available at {} ({e}); \
                 these conformance tests need the external corpora checked out \
                 next to the workspace as ../shared/corpora",
                path.display()
            );
            return None;
        }
    };
    Some(serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}
