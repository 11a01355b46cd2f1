// `sqlx::migrate!()` reads migrations/ when the crate compiles; this makes a
// new or changed migration recompile it (cargo does not know otherwise).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
