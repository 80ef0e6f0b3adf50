//! Rebuilds tocsin when a migration is added or changed: refinery embeds `migrations/` at
//! compile time, and Cargo does not otherwise notice a new file there.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
