//! Makes `sqlx::migrate!` notice new or changed migration files.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
