//! Finding a field in the scenario's source text, to point at its line and column, and
//! naming it the way a user would (`tenant.bytedance.rate` rather than `tenant[0].rate`).

use toml::de::{DeTable, DeValue};

use super::error::{FieldPath, Segment};

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn offset_to_line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|position| position + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

/// The line and column of the deepest part of `path` present in the TOML `text`.
/// A missing field is reported at the table that should hold it.
pub fn line_column(text: &str, path: &FieldPath) -> Option<(usize, usize)> {
    let document = DeTable::parse(text).ok()?;
    let mut span = None;
    let mut table: Option<&DeTable> = Some(document.get_ref());
    let mut value: Option<&DeValue> = None;
    for segment in &path.0 {
        match segment {
            Segment::Key(key) => {
                let current = match value {
                    None => table?,
                    Some(DeValue::Table(inner)) => inner,
                    Some(_) => break,
                };
                let Some((found_key, found)) = current.get_key_value(key.as_str()) else {
                    break;
                };
                // Point at the key for tables (their value span may be the whole body).
                span = Some(match found.get_ref() {
                    DeValue::Table(_) | DeValue::Array(_) => found_key.span(),
                    _ => found.span(),
                });
                value = Some(found.get_ref());
                table = None;
            }
            Segment::Index(index) => {
                let Some(DeValue::Array(array)) = value else {
                    break;
                };
                let Some(found) = array.get(*index) else {
                    break;
                };
                span = Some(found.span());
                value = Some(found.get_ref());
            }
        }
    }
    span.map(|span| offset_to_line_column(text, span.start))
}

/// `tenant[0].rate` → `tenant.bytedance.rate` when entity 0 has an id.
pub fn display_path(document: &toml::Table, path: &FieldPath) -> String {
    if let [Segment::Key(kind), Segment::Index(index), rest @ ..] = path.0.as_slice()
        && let Some(id) = document
            .get(kind)
            .and_then(|value| value.as_array())
            .and_then(|array| array.get(*index))
            .and_then(|entity| entity.get("id"))
            .and_then(|id| id.as_str())
    {
        let mut shown = FieldPath::root().key(kind).key(id);
        shown.0.extend(rest.iter().cloned());
        return shown.to_string();
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[run]\nduration = \"1h\"\n\n[[tenant]]\nid = \"a\"\n\n[[tenant]]\nid = \"b\"\nrate = \"-5/s\"\n";

    #[test]
    fn finds_a_field_in_an_array_of_tables() {
        let path = FieldPath::entity("tenant", 1).key("rate");
        assert_eq!(line_column(TEXT, &path), Some((9, 8)));
        let document: toml::Table = TEXT.parse().unwrap();
        assert_eq!(display_path(&document, &path), "tenant.b.rate");
    }

    #[test]
    fn a_missing_field_points_at_its_entity() {
        let path = FieldPath::entity("tenant", 0).key("rate");
        let (line, _) = line_column(TEXT, &path).unwrap();
        assert!((4..=5).contains(&line), "line {line}");
    }
}
