//! The profile library shipped in `profiles/`, compiled into the binary so that a scenario
//! can name a profile (`profile = "llama2-70b-h100x8-splitwise"`) on any machine.
//!
//! Each file is one `[[profile]]` table's fields at top level, with the source of every
//! number in its comments; `profiles/README.md` tabulates them. Scenarios may define
//! their own `[[profile]]` with the same fields, which takes precedence over a library
//! profile of the same id.

/// One shipped profile file.
pub struct LibraryEntry {
    pub id: &'static str,
    /// The file's path in the repository, for messages and `strait check`.
    pub path: &'static str,
    pub text: &'static str,
}

macro_rules! entry {
    ($id:literal) => {
        LibraryEntry {
            id: $id,
            path: concat!("profiles/", $id, ".toml"),
            text: include_str!(concat!("../../profiles/", $id, ".toml")),
        }
    };
}

/// Every shipped profile, in the order `strait check` lists them.
pub const ENTRIES: &[LibraryEntry] = &[];

/// The shipped profile with this id.
pub fn find(id: &str) -> Option<&'static LibraryEntry> {
    ENTRIES.iter().find(|entry| entry.id == id)
}

/// The ids of every shipped profile, for "unknown profile" messages.
pub fn ids() -> impl Iterator<Item = &'static str> {
    ENTRIES.iter().map(|entry| entry.id)
}
