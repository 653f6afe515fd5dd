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
pub const ENTRIES: &[LibraryEntry] = &[
    entry!("llama2-70b-a100x8-splitwise"),
    entry!("llama2-70b-h100x8-splitwise"),
    entry!("llama3-70b-a100x8-vllm"),
    entry!("llama3-70b-h100x8-vllm"),
    entry!("llama3-70b-h20x8"),
    entry!("gpt4o-class-a100x8"),
    entry!("gpt4o-class-h100x8"),
    entry!("gpt4o-class-h200x8"),
    entry!("deepseek-v3-h100x16"),
    entry!("deepseek-v3-h200x8"),
    entry!("deepseek-v3-h20x8"),
];

/// The shipped profile with this id.
pub fn find(id: &str) -> Option<&'static LibraryEntry> {
    ENTRIES.iter().find(|entry| entry.id == id)
}

/// The ids of every shipped profile, for "unknown profile" messages.
pub fn ids() -> impl Iterator<Item = &'static str> {
    ENTRIES.iter().map(|entry| entry.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_file_is_listed_once() {
        let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles");
        let mut files: Vec<String> = std::fs::read_dir(directory)
            .expect("profiles/ exists")
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".toml").map(str::to_string)
            })
            .collect();
        files.sort();
        let mut listed: Vec<String> = ids().map(str::to_string).collect();
        listed.sort();
        assert_eq!(files, listed);
    }
}
