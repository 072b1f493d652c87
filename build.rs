fn main() {
    // `sqlx::migrate!` embeds the SQL at compile time: rebuild when any file
    // under migrations/ (sqlite/ or postgres/) changes.
    println!("cargo:rerun-if-changed=migrations");
}
