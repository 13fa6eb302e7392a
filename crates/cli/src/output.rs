//! Printing results: a table for people, or the API's JSON (or YAML) for programs.

use std::io::Write;

use comfy_table::presets::NOTHING;
use comfy_table::{CellAlignment, Table};
use serde::Serialize;

use crate::remote::{Failure, Format};

/// Prints `value` as `format` asks: JSON and YAML as the API answered, a table as `table`
/// renders it.
pub fn emit<T: Serialize>(
    format: Format,
    value: &T,
    table: impl FnOnce(&T) -> String,
) -> Result<(), Failure> {
    let text = match format {
        Format::Table => table(value),
        Format::Json => serde_json::to_string_pretty(value)
            .map_err(|e| Failure::error(format!("cannot write JSON: {e}")))?,
        Format::Yaml => yaml_serde::to_string(value)
            .map_err(|e| Failure::error(format!("cannot write YAML: {e}")))?
            .trim_end()
            .to_owned(),
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error of the command.
    let _ = writeln!(out, "{text}");
    Ok(())
}

/// Columns with a header line, left-aligned but for the `numeric` ones.
pub fn columns(headers: &[&str], numeric: &[&str], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        return "(none)".to_owned();
    }
    let mut table = Table::new();
    table.load_preset(NOTHING);
    table.set_header(headers.to_vec());
    for row in rows {
        table.add_row(row);
    }
    for (index, header) in headers.iter().enumerate() {
        if numeric.contains(header) {
            if let Some(column) = table.column_mut(index) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    trim_lines(&table.to_string())
}

/// One record, a field a line.
pub fn record(fields: &[(&str, String)]) -> String {
    let width = fields.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    fields
        .iter()
        .map(|(name, value)| format!("{name:<width$}  {value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn trim_lines(text: &str) -> String {
    text.lines()
        .map(|line| line.trim_end().strip_prefix(' ').unwrap_or(line.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A size in binary units: `512 B`, `1.5 KiB`, `3.0 GiB`.
pub fn bytes(value: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut size = value.unsigned_abs() as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    let sign = if value < 0 { "-" } else { "" };
    if unit == 0 {
        format!("{sign}{size} B")
    } else {
        format!("{sign}{size:.1} {}", UNITS[unit])
    }
}

/// An optional value, or a dash.
pub fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// How serde spells an enum value of the API (`START`, `streaming`, …).
pub fn spelled<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_in_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(bytes(-2048), "-2.0 KiB");
    }

    #[test]
    fn columns_line_up_and_numbers_align_right() {
        let text = columns(
            &["ID", "NAME"],
            &["ID"],
            vec![
                vec!["1".to_owned(), "orders".to_owned()],
                vec!["12".to_owned(), "eu".to_owned()],
            ],
        );
        assert_eq!(text, "ID  NAME\n 1  orders\n12  eu");
        assert_eq!(columns(&["ID"], &[], Vec::new()), "(none)");
    }

    #[test]
    fn a_record_aligns_its_values() {
        assert_eq!(
            record(&[("id", "1".to_owned()), ("name", "orders".to_owned())]),
            "id    1\nname  orders"
        );
    }
}
