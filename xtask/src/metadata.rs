//! The part of `cargo metadata --format-version 1 --no-deps` that xtask reads.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::steps::{self, Error, Result, Workspace};

#[derive(Debug, Clone)]
pub struct Metadata {
    pub workspace_root: PathBuf,
    pub target_directory: PathBuf,
    /// With `--no-deps`, exactly the workspace members.
    pub packages: Vec<Package>,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub manifest_path: PathBuf,
    pub dependencies: Vec<Dependency>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone)]
pub struct Dependency {
    /// The package name (not the `rename`d one).
    pub name: String,
    /// `normal`, `dev` or `build`.
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub kind: Vec<String>,
    pub src_path: PathBuf,
    pub required_features: Vec<String>,
}

impl Package {
    /// The folder holding the package's Cargo.toml.
    pub fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("."))
    }

    /// Targets whose kind includes `kind` (`lib`, `bin`, `example`, `bench`, ...).
    pub fn targets_of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Target> {
        self.targets
            .iter()
            .filter(move |t| t.kind.iter().any(|k| k == kind))
    }
}

impl Target {
    /// Library or binary crate roots (what `#![forbid(...)]` must sit in).
    pub fn is_lib_or_bin(&self) -> bool {
        self.kind.iter().any(|k| {
            matches!(
                k.as_str(),
                "lib" | "rlib" | "dylib" | "cdylib" | "staticlib" | "proc-macro" | "bin"
            )
        })
    }
}

impl Metadata {
    /// Runs `cargo metadata --format-version 1 --no-deps` in the workspace.
    pub fn load(ws: &Workspace) -> Result<Self> {
        let json =
            steps::output(
                ws.cargo()
                    .args(["metadata", "--format-version", "1", "--no-deps"]),
            )?;
        Self::parse(&json)
    }

    pub fn parse(json: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(json)
            .map_err(|e| Error::new(format!("cargo metadata: invalid JSON: {e}")))?;
        let packages = array(&v, "packages")?
            .iter()
            .map(parse_package)
            .collect::<Result<Vec<_>>>()?;
        Ok(Metadata {
            workspace_root: PathBuf::from(string(&v, "workspace_root")?),
            target_directory: PathBuf::from(string(&v, "target_directory")?),
            packages,
        })
    }

    #[cfg(test)]
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }
}

fn parse_package(v: &Value) -> Result<Package> {
    let dependencies = array(v, "dependencies")?
        .iter()
        .map(|d| {
            Ok(Dependency {
                name: string(d, "name")?.to_string(),
                kind: d
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("normal")
                    .to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let targets = array(v, "targets")?
        .iter()
        .map(|t| {
            Ok(Target {
                name: string(t, "name")?.to_string(),
                kind: strings(t, "kind")?,
                src_path: PathBuf::from(string(t, "src_path")?),
                required_features: if t.get("required-features").is_some() {
                    strings(t, "required-features")?
                } else {
                    Vec::new()
                },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Package {
        name: string(v, "name")?.to_string(),
        manifest_path: PathBuf::from(string(v, "manifest_path")?),
        dependencies,
        targets,
    })
}

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value> {
    v.get(key)
        .ok_or_else(|| Error::new(format!("cargo metadata: missing field `{key}`")))
}

fn string<'a>(v: &'a Value, key: &str) -> Result<&'a str> {
    field(v, key)?
        .as_str()
        .ok_or_else(|| Error::new(format!("cargo metadata: `{key}` is not a string")))
}

fn array<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>> {
    field(v, key)?
        .as_array()
        .ok_or_else(|| Error::new(format!("cargo metadata: `{key}` is not an array")))
}

fn strings(v: &Value, key: &str) -> Result<Vec<String>> {
    array(v, key)?
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| Error::new(format!("cargo metadata: `{key}` holds a non-string")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
        "packages": [{
            "name": "thicket-hub",
            "manifest_path": "/ws/hub/Cargo.toml",
            "dependencies": [
                {"name": "mio", "kind": null, "path": null},
                {"name": "criterion", "kind": "dev"}
            ],
            "targets": [
                {"name": "thicket_hub", "kind": ["lib"], "src_path": "/ws/hub/src/lib.rs"},
                {"name": "timers", "kind": ["example"], "src_path": "/ws/hub/examples/timers.rs",
                 "required-features": ["extra"]}
            ]
        }],
        "workspace_root": "/ws",
        "target_directory": "/ws/target",
        "version": 1
    }"#;

    #[test]
    fn parses_packages_dependencies_and_targets() {
        let meta = Metadata::parse(SAMPLE).unwrap();
        assert_eq!(meta.workspace_root, Path::new("/ws"));
        assert_eq!(meta.target_directory, Path::new("/ws/target"));
        let hub = meta.package("thicket-hub").unwrap();
        assert_eq!(hub.dir(), Path::new("/ws/hub"));
        assert_eq!(hub.dependencies[0].kind, "normal");
        assert_eq!(hub.dependencies[1].kind, "dev");
        let examples: Vec<_> = hub.targets_of_kind("example").collect();
        assert_eq!(examples.len(), 1);
        assert_eq!(examples[0].required_features, ["extra"]);
        assert!(hub.targets[0].is_lib_or_bin());
        assert!(!examples[0].is_lib_or_bin());
    }

    #[test]
    fn missing_field_is_named() {
        let err = Metadata::parse(r#"{"packages": []}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cargo metadata: missing field `workspace_root`"
        );
    }
}
