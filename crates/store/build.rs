//! Rebuild when a migration is added or changed: `embed_migrations!` reads
//! the directories at compile time, and cargo does not see new files there
//! on its own.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
