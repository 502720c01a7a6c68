//! `cargo xtask tidy`: the workspace rules that the compiler does not check.
//!
//! - Dependencies point down the stack `hub <- green <- http <- actors <- backdoor <- server`,
//!   and xtask depends on no thicket crate. Comparison-only members (thicket-peers) stand
//!   outside the order: they may depend on any thicket crate and nothing may depend on them.
//! - Only hub and green contain `unsafe`; every other crate root has `#![forbid(unsafe_code)]`.
//! - In hub and green each `unsafe {` block has a `// SAFETY:` comment just above it.
//! - Each thicket crate has a README.md and a crate-level doc example (a doctest).
//! - Each workspace member has `[lints] workspace = true`.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::metadata::{Metadata, Package};
use crate::scan;
use crate::steps::{Error, Result, Workspace};

/// The thicket crates, bottom of the stack first. A crate may depend only on crates before it.
pub const LAYERS: &[&str] = &[
    "thicket-hub",
    "thicket-green",
    "thicket-http",
    "thicket-actors",
    "thicket-backdoor",
    "thicket-server",
];

/// Workspace members under `xtask/` that hold peer programs used only for comparison
/// (`cargo xtask bench`). They measure the thicket crates, so they may depend on any of them,
/// and no crate may depend on them.
pub const COMPARISON_ONLY: &[&str] = &["thicket-peers"];

/// The crates that may contain `unsafe` code.
pub const UNSAFE_ALLOWED: &[&str] = &["thicket-hub", "thicket-green"];

/// How far above an `unsafe {` line a `// SAFETY:` comment may sit (unless the comment lines
/// run on unbroken up to the block).
const SAFETY_WINDOW: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl Violation {
    fn new(path: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Violation {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// Runs every check on the workspace and prints the violations.
pub fn run(ws: &Workspace) -> Result<()> {
    let meta = Metadata::load(ws)?;
    let violations = check(&meta);
    for v in &violations {
        let rel = Violation {
            path: v
                .path
                .strip_prefix(&meta.workspace_root)
                .unwrap_or(&v.path)
                .to_path_buf(),
            ..v.clone()
        };
        eprintln!("tidy: {rel}");
    }
    if violations.is_empty() {
        eprintln!(
            "tidy: {} workspace members checked, no problems",
            meta.packages.len()
        );
        Ok(())
    } else {
        Err(Error::new(format!(
            "tidy found {} problem(s), listed above",
            violations.len()
        )))
    }
}

/// All the checks, on the packages of `meta` and their files on disk.
pub fn check(meta: &Metadata) -> Vec<Violation> {
    let mut out = Vec::new();
    check_dependency_order(meta, &mut out);
    for package in &meta.packages {
        check_lints_table(package, &mut out);
        check_unsafe(package, &mut out);
        check_crate_docs(package, &mut out);
    }
    out
}

fn layer(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == name)
}

fn is_thicket(name: &str) -> bool {
    name.starts_with("thicket-") || name == "thicket"
}

fn short(name: &str) -> &str {
    name.strip_prefix("thicket-").unwrap_or(name)
}

/// The first line of the manifest that mentions `dep` as a key, if the file can be read.
fn manifest_line(manifest: &str, dep: &str) -> Option<usize> {
    manifest
        .lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(dep)
                .is_some_and(|rest| rest.trim_start().starts_with(['=', '.']))
                || l.contains(&format!("\"{dep}\""))
        })
        .map(|i| i + 1)
}

pub fn check_dependency_order(meta: &Metadata, out: &mut Vec<Violation>) {
    let order = LAYERS
        .iter()
        .map(|l| short(l))
        .collect::<Vec<_>>()
        .join(" <- ");
    for package in &meta.packages {
        let manifest = fs::read_to_string(&package.manifest_path).unwrap_or_default();
        let own = layer(&package.name);
        let comparison_only = COMPARISON_ONLY.contains(&package.name.as_str());
        if is_thicket(&package.name) && own.is_none() && !comparison_only {
            out.push(Violation::new(
                &package.manifest_path,
                None,
                format!(
                    "`{}` is not in the layer order ({order}): add it to LAYERS in \
                     xtask/src/tidy.rs",
                    package.name
                ),
            ));
        }
        for dep in &package.dependencies {
            if !is_thicket(&dep.name) {
                continue;
            }
            let line = manifest_line(&manifest, &dep.name);
            let kind = match dep.kind.as_str() {
                "normal" => String::new(),
                other => format!("{other}-"),
            };
            let problem = if package.name == "xtask" {
                Some("xtask must not depend on any thicket crate".to_string())
            } else if COMPARISON_ONLY.contains(&dep.name.as_str()) {
                Some(format!(
                    "`{}` is comparison-only code for benchmarks; nothing may depend on it",
                    dep.name
                ))
            } else if comparison_only {
                layer(&dep.name)
                    .is_none()
                    .then(|| format!("`{}` is not in the layer order ({order})", dep.name))
            } else {
                match (own, layer(&dep.name)) {
                    (_, None) => Some(format!(
                        "`{}` is not in the layer order ({order})",
                        dep.name
                    )),
                    (Some(own), Some(theirs)) if theirs >= own => Some(format!(
                        "{} sits at or above {} in the stack ({order}); \
                         dependencies must point down",
                        short(&dep.name),
                        short(&package.name)
                    )),
                    _ => None,
                }
            };
            if let Some(problem) = problem {
                out.push(Violation::new(
                    &package.manifest_path,
                    line,
                    format!(
                        "`{}` has a {kind}dependency on `{}`: {problem}",
                        package.name, dep.name
                    ),
                ));
            }
        }
    }
}

/// Whether a Cargo.toml opts into the workspace lints (`[lints] workspace = true`).
pub fn has_workspace_lints(toml: &str) -> bool {
    let mut table = String::new();
    for raw in toml.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            table = line
                .trim_matches(|c| c == '[' || c == ']')
                .split_whitespace()
                .collect();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key: String = key.split_whitespace().collect();
        let value: String = value.split_whitespace().collect();
        let found = match table.as_str() {
            "lints" => key == "workspace" && value == "true",
            "" => {
                (key == "lints.workspace" && value == "true")
                    || (key == "lints" && value == "{workspace=true}")
            }
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

fn check_lints_table(package: &Package, out: &mut Vec<Violation>) {
    match fs::read_to_string(&package.manifest_path) {
        Ok(toml) if has_workspace_lints(&toml) => {}
        Ok(_) => out.push(Violation::new(
            &package.manifest_path,
            None,
            "missing `[lints]` table with `workspace = true`",
        )),
        Err(e) => out.push(Violation::new(
            &package.manifest_path,
            None,
            format!("cannot read: {e}"),
        )),
    }
}

/// Every `.rs` file of a package, skipping `target` folders, hidden folders and packages
/// nested inside it (they are checked as themselves).
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, top: bool, out: &mut Vec<PathBuf>) {
        if !top && dir.join("Cargo.toml").exists() {
            return;
        }
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    walk(&path, false, out);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, true, &mut out);
    out
}

/// Whether the code has `#![forbid(unsafe_code)]` (possibly among other lints).
pub fn forbids_unsafe(src: &str) -> bool {
    let code: String = scan::lines(src)
        .iter()
        .flat_map(|l| l.code.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    code.split("#![forbid(").skip(1).any(|rest| {
        rest.split(')')
            .next()
            .is_some_and(|lints| lints.split(',').any(|l| l == "unsafe_code"))
    })
}

/// Lines (1-based) holding `unsafe` as code, not in comments or literals.
pub fn unsafe_lines(src: &str) -> Vec<usize> {
    scan::lines(src)
        .iter()
        .enumerate()
        .filter(|(_, l)| !scan::unsafe_tokens(&l.code).is_empty())
        .map(|(i, _)| i + 1)
        .collect()
}

/// Lines (1-based) opening an `unsafe {` block with no `// SAFETY:` comment just above.
pub fn undocumented_unsafe_blocks(src: &str) -> Vec<usize> {
    let lines = scan::lines(src);
    let documented = |i: usize| {
        let near =
            (1..=SAFETY_WINDOW.min(i)).any(|back| lines[i - back].comment.contains("SAFETY:"));
        // A longer comment counts when it runs unbroken down to the block.
        let block_above = lines[..i]
            .iter()
            .rev()
            .take_while(|l| l.is_comment_only())
            .any(|l| l.comment.contains("SAFETY:"));
        near || block_above
    };
    lines
        .iter()
        .enumerate()
        .filter(|(i, l)| scan::opens_unsafe_block(&l.code) && !documented(*i))
        .map(|(i, _)| i + 1)
        .collect()
}

fn check_unsafe(package: &Package, out: &mut Vec<Violation>) {
    let allowed = UNSAFE_ALLOWED.contains(&package.name.as_str());
    if !allowed {
        for target in package.targets.iter().filter(|t| t.is_lib_or_bin()) {
            let src = fs::read_to_string(&target.src_path).unwrap_or_default();
            if !forbids_unsafe(&src) {
                out.push(Violation::new(
                    &target.src_path,
                    None,
                    "crate root lacks `#![forbid(unsafe_code)]` (only hub and green may use \
                     unsafe)",
                ));
            }
        }
    }
    for file in rust_files(package.dir()) {
        let Ok(src) = fs::read_to_string(&file) else {
            continue;
        };
        if allowed {
            for line in undocumented_unsafe_blocks(&src) {
                out.push(Violation::new(
                    &file,
                    Some(line),
                    "`unsafe` block without a `// SAFETY:` comment in the lines above it",
                ));
            }
        } else {
            for line in unsafe_lines(&src) {
                out.push(Violation::new(
                    &file,
                    Some(line),
                    format!(
                        "`unsafe` in `{}`: only {} may contain unsafe code",
                        package.name,
                        UNSAFE_ALLOWED.join(" and ")
                    ),
                ));
            }
        }
    }
}

/// Whether a Markdown fence line opens a Rust code block that rustdoc runs as a doctest.
pub fn is_doctest_fence(info: &str) -> bool {
    info.split([',', ' ', '\t'])
        .filter(|t| !t.is_empty())
        .all(|t| {
            matches!(
                t,
                "rust"
                    | "no_run"
                    | "should_panic"
                    | "compile_fail"
                    | "test_harness"
                    | "standalone_crate"
            ) || t.starts_with("edition")
        })
}

/// How many doctest code blocks the Markdown text holds.
pub fn doctest_blocks<'a>(markdown: impl Iterator<Item = &'a str>) -> usize {
    let mut open = false;
    let mut count = 0;
    for line in markdown {
        let Some(info) = line.trim().strip_prefix("```") else {
            continue;
        };
        if open {
            open = false;
        } else {
            open = true;
            if is_doctest_fence(info.trim()) {
                count += 1;
            }
        }
    }
    count
}

/// Whether the crate root includes `../README.md` as its crate documentation.
pub fn includes_readme(src: &str) -> bool {
    src.lines().any(|l| {
        let compact: String = l.split_whitespace().collect();
        compact.starts_with("#![doc=include_str!(\"../README.md\")")
    })
}

fn check_crate_docs(package: &Package, out: &mut Vec<Violation>) {
    if !is_thicket(&package.name) {
        return;
    }
    let readme_path = package.dir().join("README.md");
    let readme = fs::read_to_string(&readme_path);
    if readme.is_err() {
        out.push(Violation::new(
            &readme_path,
            None,
            format!(
                "`{}` has no README.md (say where the crate sits in the stack, with an example)",
                package.name
            ),
        ));
    }
    let Some(lib) = package.targets_of_kind("lib").next() else {
        return;
    };
    let src = fs::read_to_string(&lib.src_path).unwrap_or_default();
    let has_example = if includes_readme(&src) {
        readme
            .as_deref()
            .is_ok_and(|r| doctest_blocks(r.lines()) > 0)
    } else {
        let docs: Vec<&str> = src
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("//!"))
            .collect();
        doctest_blocks(docs.into_iter()) > 0
    };
    if !has_example {
        out.push(Violation::new(
            &lib.src_path,
            None,
            "no crate-level doc example: add `#![doc = include_str!(\"../README.md\")]` and a \
             ```rust block to README.md, or a ``` block to the `//!` docs",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("xtask-tidy-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn write(&self, rel: &str, text: &str) {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// (name, folder, [(dependency, kind)]).
    type FakePackage<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

    /// Metadata JSON for packages given as (name, folder, [(dependency, kind)]), each with a
    /// lib target at `src/lib.rs`.
    fn metadata(root: &Path, packages: &[FakePackage<'_>]) -> Metadata {
        let packages: Vec<serde_json::Value> = packages
            .iter()
            .map(|(name, dir, deps)| {
                let dir = root.join(dir);
                serde_json::json!({
                    "name": name,
                    "manifest_path": dir.join("Cargo.toml"),
                    "dependencies": deps.iter().map(|(dep, kind)| serde_json::json!({
                        "name": dep,
                        "kind": if *kind == "normal" { None } else { Some(kind) },
                    })).collect::<Vec<_>>(),
                    "targets": [{
                        "name": name.replace('-', "_"),
                        "kind": ["lib"],
                        "src_path": dir.join("src/lib.rs"),
                    }],
                })
            })
            .collect();
        let json = serde_json::json!({
            "packages": packages,
            "workspace_root": root,
            "target_directory": root.join("target"),
        });
        Metadata::parse(&json.to_string()).unwrap()
    }

    fn order_violations(packages: &[FakePackage<'_>]) -> Vec<String> {
        let meta = metadata(Path::new("/nonexistent"), packages);
        let mut out = Vec::new();
        check_dependency_order(&meta, &mut out);
        out.into_iter().map(|v| v.message).collect()
    }

    #[test]
    fn downward_dependencies_pass() {
        let v = order_violations(&[
            ("thicket-hub", "hub", &[("mio", "normal")]),
            ("thicket-green", "green", &[("thicket-hub", "normal")]),
            (
                "thicket-http",
                "http",
                &[("thicket-green", "normal"), ("thicket-hub", "dev")],
            ),
            ("xtask", "xtask", &[("serde_json", "normal")]),
            ("peers", "xtask/peers", &[("thicket-http", "normal")]),
        ]);
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn green_depending_on_http_is_flagged() {
        let v = order_violations(&[
            ("thicket-green", "green", &[("thicket-http", "normal")]),
            ("thicket-http", "http", &[]),
        ]);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].starts_with("`thicket-green` has a dependency on `thicket-http`"),
            "{v:?}"
        );
    }

    #[test]
    fn dev_and_build_dependencies_count_too() {
        let v = order_violations(&[
            ("thicket-http", "http", &[("thicket-server", "dev")]),
            ("thicket-hub", "hub", &[("thicket-hub", "build")]),
        ]);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("dev-dependency on `thicket-server`"), "{v:?}");
        assert!(v[1].contains("build-dependency on `thicket-hub`"), "{v:?}");
    }

    #[test]
    fn xtask_depending_on_a_thicket_crate_is_flagged() {
        let v = order_violations(&[("xtask", "xtask", &[("thicket-hub", "dev")])]);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("xtask must not depend on any thicket crate"));
    }

    #[test]
    fn comparison_only_crate_may_measure_any_layer() {
        let v = order_violations(&[
            (
                "thicket-peers",
                "xtask/peers",
                &[("thicket-green", "normal"), ("thicket-server", "dev")],
            ),
            ("thicket-green", "green", &[]),
        ]);
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn depending_on_comparison_only_crate_is_flagged() {
        let v = order_violations(&[
            ("thicket-server", "server", &[("thicket-peers", "dev")]),
            (
                "thicket-peers",
                "xtask/peers",
                &[("thicket-extra", "normal")],
            ),
        ]);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("comparison-only code"), "{v:?}");
        assert!(
            v[1].contains("`thicket-extra` is not in the layer order"),
            "{v:?}"
        );
    }

    #[test]
    fn unknown_thicket_crate_is_flagged() {
        let v = order_violations(&[
            ("thicket-extra", "extra", &[]),
            ("thicket-server", "server", &[("thicket-extra", "normal")]),
        ]);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v.iter().all(|m| m.contains("not in the layer order")));
    }

    #[test]
    fn workspace_lints_table_is_recognised() {
        assert!(has_workspace_lints(
            "[package]\nname = \"x\"\n\n[lints]\nworkspace = true\n"
        ));
        assert!(has_workspace_lints("[ lints ]\n workspace=true # shared\n"));
        assert!(has_workspace_lints("lints.workspace = true\n[package]\n"));
        assert!(has_workspace_lints("lints = { workspace = true }\n"));
        assert!(!has_workspace_lints("[package]\nworkspace = true\n"));
        assert!(!has_workspace_lints("[lints]\n# workspace = true\n"));
        assert!(!has_workspace_lints("[lints.rust]\nworkspace = true\n"));
    }

    #[test]
    fn forbid_unsafe_is_recognised() {
        assert!(forbids_unsafe("//! doc\n#![forbid(unsafe_code)]\n"));
        assert!(forbids_unsafe("#![forbid(missing_docs, unsafe_code)]"));
        assert!(!forbids_unsafe("// #![forbid(unsafe_code)]\n"));
        assert!(!forbids_unsafe("#![deny(unsafe_code)]\n"));
    }

    #[test]
    fn safety_comments_within_reach() {
        let ok = "\
// SAFETY: the pointer is valid for the whole call.
let x = unsafe { f() };

// SAFETY: a long reason
// that runs on
// for several
// lines.
unsafe {
    g();
}
// SAFETY: the length was checked above.
let y =
    unsafe { h() };
";
        assert_eq!(undocumented_unsafe_blocks(ok), Vec::<usize>::new());
        let bad = "\
let a = 1;
let x = unsafe { f() };
// SAFETY: too far away.
let b = 2;
let c = 3;
let d = 4;
unsafe { g() }
// the safety comment says nothing: SAFETY is missing its colon
unsafe { h() }
pub unsafe fn not_a_block() {}
";
        assert_eq!(undocumented_unsafe_blocks(bad), [2, 7, 9]);
    }

    #[test]
    fn doctest_fences() {
        assert!(is_doctest_fence(""));
        assert!(is_doctest_fence("rust"));
        assert!(is_doctest_fence("rust,no_run"));
        assert!(is_doctest_fence("no_run"));
        assert!(!is_doctest_fence("rust,ignore"));
        assert!(!is_doctest_fence("text"));
        assert!(!is_doctest_fence("sh"));
        let md = "# x\n```sh\ncargo run\n```\n```\nclosing fences do not count\n```\n";
        assert_eq!(doctest_blocks(md.lines()), 1);
        assert_eq!(doctest_blocks("```text\n```\n".lines()), 0);
    }

    /// Writes a well-formed crate; callers then break one thing.
    fn good_crate(tmp: &TempDir, dir: &str, unsafe_allowed: bool) {
        tmp.write(
            &format!("{dir}/Cargo.toml"),
            "[package]\nname = \"x\"\n\n[lints]\nworkspace = true\n",
        );
        tmp.write(
            &format!("{dir}/README.md"),
            "# x\n\n```rust\nassert_eq!(1 + 1, 2);\n```\n",
        );
        let forbid = if unsafe_allowed {
            ""
        } else {
            "#![forbid(unsafe_code)]\n"
        };
        tmp.write(
            &format!("{dir}/src/lib.rs"),
            &format!("#![doc = include_str!(\"../README.md\")]\n{forbid}\nmod imp;\n"),
        );
        tmp.write(
            &format!("{dir}/src/imp.rs"),
            "// unsafe in a comment is fine\nconst S: &str = \"unsafe { }\";\n",
        );
    }

    fn messages(meta: &Metadata) -> Vec<String> {
        check(meta)
            .into_iter()
            .map(|v| {
                let rel = v
                    .path
                    .strip_prefix(&meta.workspace_root)
                    .unwrap()
                    .to_owned();
                Violation { path: rel, ..v }.to_string()
            })
            .collect()
    }

    #[test]
    fn well_formed_crates_pass() {
        let tmp = TempDir::new("pass");
        good_crate(&tmp, "hub", true);
        good_crate(&tmp, "http", false);
        tmp.write(
            "hub/src/sys/mod.rs",
            "// SAFETY: documented.\nlet x = unsafe { f() };\n",
        );
        let meta = metadata(
            &tmp.0,
            &[
                ("thicket-hub", "hub", &[]),
                ("thicket-http", "http", &[("thicket-hub", "normal")]),
            ],
        );
        assert_eq!(messages(&meta), Vec::<String>::new());
    }

    #[test]
    fn unsafe_in_http_is_flagged() {
        let tmp = TempDir::new("unsafe");
        good_crate(&tmp, "http", false);
        tmp.write(
            "http/src/imp.rs",
            "// SAFETY: a comment does not make it allowed.\nfn f() {\n    unsafe { g() }\n}\n",
        );
        tmp.write("http/tests/it.rs", "unsafe impl Send for X {}\n");
        let meta = metadata(&tmp.0, &[("thicket-http", "http", &[])]);
        assert_eq!(
            messages(&meta),
            [
                "http/src/imp.rs:3: `unsafe` in `thicket-http`: only thicket-hub and \
                 thicket-green may contain unsafe code",
                "http/tests/it.rs:1: `unsafe` in `thicket-http`: only thicket-hub and \
                 thicket-green may contain unsafe code",
            ]
        );
    }

    #[test]
    fn missing_forbid_readme_lints_and_example_are_flagged() {
        let tmp = TempDir::new("missing");
        good_crate(&tmp, "http", false);
        good_crate(&tmp, "green", true);
        tmp.write("http/src/lib.rs", "//! No example here.\nmod imp;\n");
        tmp.write("http/Cargo.toml", "[package]\nname = \"thicket-http\"\n");
        fs::remove_file(tmp.0.join("green/README.md")).unwrap();
        tmp.write("green/src/imp.rs", "fn f() { unsafe { g() } }\n");
        let meta = metadata(
            &tmp.0,
            &[
                ("thicket-http", "http", &[]),
                ("thicket-green", "green", &[]),
            ],
        );
        let m = messages(&meta);
        let expected = [
            "http/Cargo.toml: missing `[lints]`",
            "http/src/lib.rs: crate root lacks `#![forbid(unsafe_code)]`",
            "http/src/lib.rs: no crate-level doc example",
            "green/src/imp.rs:1: `unsafe` block without a `// SAFETY:` comment",
            "green/README.md: `thicket-green` has no README.md",
            "green/src/lib.rs: no crate-level doc example",
        ];
        assert_eq!(m.len(), expected.len(), "{m:#?}");
        for (message, start) in m.iter().zip(expected) {
            assert!(
                message.starts_with(start),
                "{message:?} should start with {start:?}"
            );
        }
    }

    #[test]
    fn inline_doc_example_is_enough() {
        let tmp = TempDir::new("inline");
        good_crate(&tmp, "http", false);
        tmp.write(
            "http/src/lib.rs",
            "//! HTTP.\n//!\n//! ```no_run\n//! let x = 1;\n//! ```\n#![forbid(unsafe_code)]\n",
        );
        let meta = metadata(&tmp.0, &[("thicket-http", "http", &[])]);
        assert_eq!(messages(&meta), Vec::<String>::new());
    }

    #[test]
    fn nested_packages_and_target_folders_are_not_scanned_twice() {
        let tmp = TempDir::new("nested");
        tmp.write("xtask/src/main.rs", "fn main() {}\n");
        tmp.write("xtask/target/debug/build/x/out/gen.rs", "unsafe {}\n");
        tmp.write("xtask/peers/Cargo.toml", "[package]\n");
        tmp.write("xtask/peers/src/lib.rs", "unsafe {}\n");
        let files = rust_files(&tmp.0.join("xtask"));
        assert_eq!(files, [tmp.0.join("xtask/src/main.rs")]);
    }

    /// The real workspace follows its own rules: a wrong arrow or a stray `unsafe` fails here.
    #[test]
    fn workspace_is_tidy() {
        let ws = Workspace::locate();
        let meta = Metadata::load(&ws).expect("cargo metadata runs");
        assert!(meta.package("xtask").is_some());
        let violations: Vec<String> = check(&meta).iter().map(|v| v.to_string()).collect();
        assert!(
            violations.is_empty(),
            "tidy violations:\n{}",
            violations.join("\n")
        );
    }
}
