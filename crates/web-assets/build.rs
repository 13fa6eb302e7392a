//! Installs the pinned npm packages (`package.json`, `package-lock.json`, `.npmrc`) with
//! `npm ci` in the build's output directory, keeps the files Rosetta serves, and writes the
//! table that embeds them (`assets.rs`). Nothing is fetched at run time, and nothing of the
//! packages is committed. `ROSETTA_WEB_ASSETS=<dir>` takes the files from a directory laid out
//! as `node_modules` is instead (for builders without npm or the registry).
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// What is served: (npm package, file within it, content type).
const SHIPPED: [(&str, &str, &str); 7] = [
    (
        "swagger-ui-dist",
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
    ),
    (
        "swagger-ui-dist",
        "swagger-ui.css",
        "text/css; charset=utf-8",
    ),
    (
        "redoc",
        "bundles/redoc.standalone.js",
        "text/javascript; charset=utf-8",
    ),
    (
        "rapidoc",
        "dist/rapidoc-min.js",
        "text/javascript; charset=utf-8",
    ),
    (
        "htmx.org",
        "dist/htmx.min.js",
        "text/javascript; charset=utf-8",
    ),
    (
        "uplot",
        "dist/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
    ),
    ("uplot", "dist/uPlot.min.css", "text/css; charset=utf-8"),
];

/// Rosetta's own browser files (`static/`), served under `/assets/rosetta-<hash>/<file>`: the
/// hash of their contents changes their path whenever they change, so they are cached forever
/// like the packages.
const OWN: [(&str, &str); 2] = [
    ("dashboard.css", "text/css; charset=utf-8"),
    ("dashboard.js", "text/javascript; charset=utf-8"),
];

fn main() {
    for file in [
        "package.json",
        "package-lock.json",
        ".npmrc",
        "build.rs",
        "static",
    ] {
        println!("cargo::rerun-if-changed={file}");
    }
    println!("cargo::rerun-if-env-changed=ROSETTA_WEB_ASSETS");
    if let Err(message) = run() {
        println!("cargo::error=rosetta-web-assets: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let lock: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(manifest.join("package-lock.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("package-lock.json: {e}"))?;
    let modules = match env::var_os("ROSETTA_WEB_ASSETS") {
        Some(dir) => PathBuf::from(dir),
        None => npm_ci(&manifest, &out)?,
    };
    let assets = out.join("assets");
    fs::create_dir_all(&assets).map_err(|e| e.to_string())?;
    let mut table = String::from("&[\n");
    for (package, file, content_type) in SHIPPED {
        let version = lock["packages"][format!("node_modules/{package}")]["version"]
            .as_str()
            .ok_or_else(|| format!("package-lock.json has no version of {package}"))?;
        let from = modules.join(package).join(file);
        let name = Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{file} has no file name"))?;
        let kept = assets.join(format!("{package}-{version}-{name}"));
        fs::copy(&from, &kept).map_err(|e| format!("{}: {e}", from.display()))?;
        let _ = writeln!(
            table,
            "    Asset {{ path: \"/assets/{package}-{version}/{name}\", content_type: \"{content_type}\", bytes: include_bytes!({:?}) }},",
            kept.display().to_string()
        );
    }
    for (file, content_type) in OWN {
        let from = manifest.join("static").join(file);
        let bytes = fs::read(&from).map_err(|e| format!("{}: {e}", from.display()))?;
        let _ = writeln!(
            table,
            "    Asset {{ path: \"/assets/rosetta-{:016x}/{file}\", content_type: \"{content_type}\", bytes: include_bytes!({:?}) }},",
            fnv1a(&bytes),
            from.display().to_string()
        );
    }
    table.push(']');
    if env::var_os("ROSETTA_WEB_ASSETS").is_none() {
        // 200 MB of packages for four files: keep the files only.
        let _ = fs::remove_dir_all(out.join("npm").join("node_modules"));
    }
    fs::write(out.join("assets.rs"), table).map_err(|e| e.to_string())
}

/// FNV-1a, 64 bits: enough to tell two versions of a file apart in its path.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `npm ci` into `<out>/npm`; returns its `node_modules`.
fn npm_ci(manifest: &Path, out: &Path) -> Result<PathBuf, String> {
    let dir = out.join("npm");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for file in ["package.json", "package-lock.json", ".npmrc"] {
        fs::copy(manifest.join(file), dir.join(file)).map_err(|e| format!("{file}: {e}"))?;
    }
    let npm = env::var("NPM").unwrap_or_else(|_| "npm".to_owned());
    let status = Command::new(&npm)
        .args([
            "ci",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&dir)
        .status()
        .map_err(|e| {
            format!(
                "cannot run {npm} ({e}): install Node.js 18 or later with npm (Debian: apt-get \
                 install nodejs npm), or set ROSETTA_WEB_ASSETS to a directory holding the \
                 packages of crates/web-assets/package.json as node_modules does"
            )
        })?;
    if !status.success() {
        return Err(format!(
            "`{npm} ci` failed ({status}) in {}: is the npm registry reachable?",
            dir.display()
        ));
    }
    Ok(dir.join("node_modules"))
}
