//! Rebuilds the crate when a migration is added or edited, since they are embedded in it.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
