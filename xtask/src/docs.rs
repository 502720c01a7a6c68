//! `cargo xtask docs`: the mdBook guide in `docs/` and the API docs.

use std::process::Command;

use crate::metadata::Metadata;
use crate::steps::{self, Error, Result, Workspace};

/// The install command printed when mdbook is missing; `.ci/run` uses the same.
pub const MDBOOK_INSTALL: &str =
    "cargo install mdbook --locked --version ^0.4 --no-default-features --features search";

/// What to do when `mdbook` is not installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookPolicy {
    /// Fail: the book was asked for.
    Required,
    /// Print a notice and go on, except in CI (`CI=true`), where it fails.
    SkipIfMissing,
}

/// Builds the book (into `<target>/book`) and the API docs with warnings denied.
pub fn build(ws: &Workspace, policy: BookPolicy) -> Result<()> {
    book(ws, policy)?;
    api(ws)
}

fn book(ws: &Workspace, policy: BookPolicy) -> Result<()> {
    if !steps::tool_works(Command::new("mdbook").arg("--version")) {
        if policy == BookPolicy::Required || steps::in_ci() {
            return Err(Error::new(format!(
                "mdbook not installed; install it with `{MDBOOK_INSTALL}`"
            )));
        }
        eprintln!("notice: mdbook not installed, skipping book build (CI installs it)");
        return Ok(());
    }
    let dest = Metadata::load(ws)?.target_directory.join("book");
    steps::run(
        Command::new("mdbook")
            .current_dir(&ws.root)
            .arg("build")
            .arg("docs")
            .arg("--dest-dir")
            .arg(&dest),
    )?;
    eprintln!("book: {}", dest.join("index.html").display());
    Ok(())
}

fn api(ws: &Workspace) -> Result<()> {
    steps::run(
        ws.cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
}
