//! The client and the API types it reads are free of web frameworks and database drivers: a
//! service that calls Rosetta does not compile actix-web, apistos or diesel.
#![allow(clippy::expect_used)]

use std::process::Command;

/// The names of every crate `package` depends on (normal dependencies, default features).
fn dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn the_client_and_its_types_bring_no_web_framework_or_database_driver() {
    for package in ["rosetta-client", "rosetta-api-types"] {
        let crates = dependencies(package);
        assert!(crates.iter().any(|c| c == package), "{crates:?}");
        let forbidden: Vec<&String> = crates
            .iter()
            .filter(|c| {
                c.starts_with("actix")
                    || c.starts_with("apistos")
                    || c.starts_with("diesel")
                    || c.starts_with("deadpool")
                    || c.starts_with("tokio-postgres")
            })
            .collect();
        assert!(forbidden.is_empty(), "{package} depends on {forbidden:?}");
    }
}
