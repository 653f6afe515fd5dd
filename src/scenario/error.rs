//! Errors in a scenario, with everything a user needs to fix them: the file, the line and
//! column where known, the field path, what is wrong, and what would be valid.

use std::fmt;
use std::path::PathBuf;

/// One step into the scenario document: a table key or an array position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Where in the document a field lives, e.g. `tenant[1].rate`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_string()));
        FieldPath(segments)
    }
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        FieldPath(segments)
    }
    /// `kind[index]`, the path of one entity.
    pub fn entity(kind: &str, index: usize) -> Self {
        FieldPath::root().key(kind).index(index)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if position == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// An error found in a scenario or on the command line that shapes it. Exit code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: Option<PathBuf>,
    /// 1-based line and column.
    pub line_column: Option<(usize, usize)>,
    /// The field, as a user would name it (`tenant.bytedance.rate`).
    pub field: Option<String>,
    pub message: String,
}

impl ScenarioError {
    pub fn new(message: impl Into<String>) -> Self {
        ScenarioError {
            file: None,
            line_column: None,
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some((line, column)) = self.line_column {
                write!(f, ":{line}:{column}")?;
            }
            write!(f, ": ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// An error located by its path only; the loader adds file, line and column.
#[derive(Clone, Debug)]
pub struct PathError {
    pub path: FieldPath,
    pub message: String,
}

impl PathError {
    pub fn new(path: FieldPath, message: impl Into<String>) -> Self {
        PathError {
            path,
            message: message.into(),
        }
    }
}
