//! How a source table lands in Snowflake: each PostgreSQL type's Snowflake type, how a value in
//! PostgreSQL's text form becomes the text Snowflake parses, and the SQL that casts a bound
//! text value to the column's type.
//!
//! | PostgreSQL | Snowflake |
//! |---|---|
//! | `smallint`, `integer`, `bigint`, `oid` | `NUMBER(38,0)` |
//! | `numeric(p,s)` with p ≤ 38 | `NUMBER(p,s)` |
//! | `numeric` unconstrained or wider | `VARCHAR` (exact digits kept) |
//! | `real`, `double precision` | `FLOAT` |
//! | `boolean` | `BOOLEAN` |
//! | `date` | `DATE` |
//! | `time` | `TIME` |
//! | `timestamp` | `TIMESTAMP_NTZ` |
//! | `timestamptz` | `TIMESTAMP_TZ` |
//! | `json`, `jsonb` | `VARIANT` |
//! | any array | `ARRAY` |
//! | `bytea` | `BINARY` |
//! | `uuid`, text types, everything else | `VARCHAR` |

use rosetta_domain::replication::{Column, Datum, TableSchema};
use rosetta_domain::SnowflakeMode;

use crate::sql::identifier;

/// A column's Snowflake type and how its values are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `NUMBER(p,s)`.
    Number(u8, u8),
    /// `FLOAT`; PostgreSQL's `Infinity` is sent as `inf`.
    Float,
    /// `BOOLEAN`; `t`/`f` sent as `true`/`false`.
    Boolean,
    /// `DATE`.
    Date,
    /// `TIME`.
    Time,
    /// `TIMESTAMP_NTZ`.
    TimestampNtz,
    /// `TIMESTAMP_TZ`; `+00` offsets sent as `+00:00`.
    TimestampTz,
    /// `VARIANT`, parsed from the JSON text.
    Variant,
    /// `ARRAY`: PostgreSQL's `{…}` text turned into a JSON array; `numbers` says whether the
    /// elements are numbers or booleans (sent bare) rather than text.
    Array {
        /// The elements are numbers (or booleans): written as JSON numbers.
        numbers: bool,
    },
    /// `BINARY`, from `bytea`'s hex form without its `\x`.
    Binary,
    /// `VARCHAR`.
    Text,
}

/// PostgreSQL type object ids this mapping knows.
mod oid {
    pub(super) const BOOL: u32 = 16;
    pub(super) const BYTEA: u32 = 17;
    pub(super) const INT8: u32 = 20;
    pub(super) const INT2: u32 = 21;
    pub(super) const INT4: u32 = 23;
    pub(super) const OID: u32 = 26;
    pub(super) const JSON: u32 = 114;
    pub(super) const FLOAT4: u32 = 700;
    pub(super) const FLOAT8: u32 = 701;
    pub(super) const DATE: u32 = 1082;
    pub(super) const TIME: u32 = 1083;
    pub(super) const TIMESTAMP: u32 = 1114;
    pub(super) const TIMESTAMPTZ: u32 = 1184;
    pub(super) const NUMERIC: u32 = 1700;
    pub(super) const JSONB: u32 = 3802;
}

impl Kind {
    /// The Snowflake type of a source column.
    pub(crate) fn of(column: &Column) -> Self {
        if column.type_name.ends_with("[]") {
            let element = column.type_name.trim_end_matches("[]");
            let numbers = matches!(
                element,
                "smallint" | "integer" | "bigint" | "real" | "double precision" | "boolean"
            ) || element.starts_with("numeric");
            return Self::Array { numbers };
        }
        match column.type_oid {
            oid::INT2 | oid::INT4 | oid::INT8 | oid::OID => Self::Number(38, 0),
            oid::NUMERIC => numeric(column.type_modifier),
            oid::FLOAT4 | oid::FLOAT8 => Self::Float,
            oid::BOOL => Self::Boolean,
            oid::DATE => Self::Date,
            oid::TIME => Self::Time,
            oid::TIMESTAMP => Self::TimestampNtz,
            oid::TIMESTAMPTZ => Self::TimestampTz,
            oid::JSON | oid::JSONB => Self::Variant,
            oid::BYTEA => Self::Binary,
            _ => Self::Text,
        }
    }

    /// The type as DDL writes it.
    pub(crate) fn ddl(self) -> String {
        match self {
            Self::Number(p, s) => format!("NUMBER({p},{s})"),
            Self::Float => "FLOAT".to_owned(),
            Self::Boolean => "BOOLEAN".to_owned(),
            Self::Date => "DATE".to_owned(),
            Self::Time => "TIME".to_owned(),
            Self::TimestampNtz => "TIMESTAMP_NTZ".to_owned(),
            Self::TimestampTz => "TIMESTAMP_TZ".to_owned(),
            Self::Variant => "VARIANT".to_owned(),
            Self::Array { .. } => "ARRAY".to_owned(),
            Self::Binary => "BINARY".to_owned(),
            Self::Text => "VARCHAR".to_owned(),
        }
    }

    /// The type names `INFORMATION_SCHEMA.COLUMNS.DATA_TYPE` may show for a column of this
    /// kind (Snowflake's, and the emulator's).
    pub(crate) fn accepts(self, data_type: &str) -> bool {
        let shown = data_type.to_ascii_uppercase();
        let shown = shown.split('(').next().unwrap_or_default().trim();
        let names: &[&str] = match self {
            Self::Number(..) => &["NUMBER", "DECIMAL", "NUMERIC", "INT", "INTEGER", "BIGINT"],
            Self::Float => &["FLOAT", "DOUBLE", "REAL", "FLOAT8"],
            Self::Boolean => &["BOOLEAN"],
            Self::Date => &["DATE"],
            Self::Time => &["TIME"],
            Self::TimestampNtz => &["TIMESTAMP_NTZ", "TIMESTAMP", "DATETIME"],
            Self::TimestampTz => &["TIMESTAMP_TZ", "TIMESTAMP WITH TIME ZONE"],
            Self::Variant => &["VARIANT", "JSON"],
            Self::Array { .. } => &["ARRAY", "VARIANT", "JSON"],
            Self::Binary => &["BINARY", "VARBINARY", "BLOB"],
            Self::Text => &["TEXT", "VARCHAR", "STRING", "CHAR", "CHARACTER"],
        };
        names.contains(&shown)
    }

    /// The expression that turns the bound text `value` (a column reference or `?`) into this
    /// type.
    pub(crate) fn cast(self, value: &str) -> String {
        match self {
            Self::Variant => format!("PARSE_JSON({value})"),
            Self::Array { .. } => format!("CAST(PARSE_JSON({value}) AS ARRAY)"),
            Self::Binary => format!("TO_BINARY({value}, 'HEX')"),
            other => format!("CAST({value} AS {})", other.ddl()),
        }
    }

    /// The text Snowflake parses for a value PostgreSQL wrote as `text`.
    pub(crate) fn text(self, text: &str) -> String {
        match self {
            Self::Float => match text {
                "Infinity" => "inf".to_owned(),
                "-Infinity" => "-inf".to_owned(),
                other => other.to_owned(),
            },
            Self::Boolean => match text {
                "t" => "true".to_owned(),
                "f" => "false".to_owned(),
                other => other.to_owned(),
            },
            Self::TimestampTz => timestamptz(text),
            Self::Binary => text.strip_prefix("\\x").unwrap_or(text).to_owned(),
            Self::Array { numbers } => array_json(text, numbers),
            _ => text.to_owned(),
        }
    }

    /// The bound text of `datum` (`None` for NULL and for a value the change did not carry).
    pub(crate) fn bind(self, datum: &Datum) -> Option<String> {
        match datum {
            Datum::Text(bytes) => Some(self.text(&String::from_utf8_lossy(bytes))),
            Datum::Null | Datum::Unchanged => None,
        }
    }
}

/// `numeric(p,s)` as `NUMBER(p,s)` when Snowflake's 38 digits hold it, else text.
fn numeric(modifier: i32) -> Kind {
    if modifier < 4 {
        return Kind::Text;
    }
    let packed = modifier - 4;
    let precision = (packed >> 16) & 0xffff;
    let scale = packed & 0xffff;
    match (u8::try_from(precision), u8::try_from(scale)) {
        (Ok(p), Ok(s)) if (1..=38).contains(&p) && s <= p => Kind::Number(p, s),
        _ => Kind::Text,
    }
}

/// `2026-12-01 10:00:00+01` (PostgreSQL may write the offset as hours only, or with seconds)
/// as `2026-12-01 10:00:00+01:00`.
fn timestamptz(text: &str) -> String {
    let Some(sign) = text.rfind(['+', '-']).filter(|&at| at > 10) else {
        return text.to_owned();
    };
    let (stamp, offset) = text.split_at(sign);
    let parts: Vec<&str> = offset[1..].split(':').collect();
    match parts.as_slice() {
        [hours] => format!("{stamp}{}{hours}:00", &offset[..1]),
        [hours, minutes] => format!("{stamp}{}{hours}:{minutes}", &offset[..1]),
        // Seconds in an offset (historical zones): Snowflake takes minutes only.
        [hours, minutes, _] => format!("{stamp}{}{hours}:{minutes}", &offset[..1]),
        _ => text.to_owned(),
    }
}

/// PostgreSQL's array text (`{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`) as a JSON array.
fn array_json(text: &str, numbers: bool) -> String {
    // A lower bound other than 1 is written first: `[0:1]={1,2}`.
    let body = match text.find("={") {
        Some(at) if text.starts_with('[') => &text[at + 1..],
        _ => text,
    };
    let mut out = String::with_capacity(body.len() + 8);
    let mut chars = body.chars().peekable();
    let mut element = String::new();
    let mut quoted = false;
    let mut pending = false;
    let flush = |out: &mut String, element: &mut String, quoted: bool, pending: &mut bool| {
        if !*pending {
            return;
        }
        if !quoted && element.eq_ignore_ascii_case("NULL") {
            out.push_str("null");
        } else if !quoted && numbers {
            match element.as_str() {
                "t" => out.push_str("true"),
                "f" => out.push_str("false"),
                "NaN" | "Infinity" | "-Infinity" => push_json_string(out, element),
                other => out.push_str(other),
            }
        } else {
            push_json_string(out, element);
        }
        element.clear();
        *pending = false;
    };
    while let Some(c) = chars.next() {
        match c {
            '{' => out.push('['),
            '}' => {
                flush(&mut out, &mut element, quoted, &mut pending);
                quoted = false;
                out.push(']');
            }
            ',' => {
                flush(&mut out, &mut element, quoted, &mut pending);
                quoted = false;
                out.push(',');
            }
            '"' => {
                quoted = true;
                pending = true;
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                element.push(escaped);
                            }
                        }
                        '"' => break,
                        other => element.push(other),
                    }
                }
            }
            other => {
                pending = true;
                element.push(other);
            }
        }
    }
    out
}

fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A source table's landing place in Snowflake.
#[derive(Debug, Clone)]
pub(crate) struct TableLayout {
    /// `"DB"."SCHEMA"."TABLE"` (or `LANDING_TABLE` in changelog mode).
    pub(crate) target: String,
    /// The table's name alone, as errors show it.
    pub(crate) shown: String,
    /// Each source column's quoted name and kind, in row order.
    pub(crate) columns: Vec<(String, Kind)>,
    /// The key columns' positions.
    pub(crate) key: Vec<usize>,
    /// How the table is written.
    pub(crate) mode: SnowflakeMode,
}

/// The extra columns of a changelog table, with their types.
pub(crate) const CHANGELOG_COLUMNS: [(&str, &str); 3] = [
    ("OPERATION", "VARCHAR"),
    ("SYNC_TIMESTAMP", "TIMESTAMP_TZ"),
    ("CHANGE_SEQUENCE", "NUMBER(38,0)"),
];

impl TableLayout {
    /// Where `table` lands in `schema` (`"DB"."SCHEMA"`).
    pub(crate) fn new(schema: &str, table: &TableSchema, mode: SnowflakeMode) -> Self {
        let name = match mode {
            SnowflakeMode::Mirror => table.name.name.clone(),
            SnowflakeMode::Changelog => format!("LANDING_{}", table.name.name),
        };
        let name = identifier(&name);
        Self {
            target: format!("{schema}.{name}"),
            shown: name,
            columns: table
                .columns
                .iter()
                .map(|column| (identifier(&column.name), Kind::of(column)))
                .collect(),
            key: table
                .columns
                .iter()
                .enumerate()
                .filter(|(_, column)| column.key)
                .map(|(i, _)| i)
                .collect(),
            mode,
        }
    }

    /// `CREATE TABLE IF NOT EXISTS …`.
    pub(crate) fn create(&self) -> String {
        let mut columns: Vec<String> = self
            .columns
            .iter()
            .map(|(name, kind)| format!("{name} {}", kind.ddl()))
            .collect();
        if self.mode == SnowflakeMode::Changelog {
            columns.extend(
                CHANGELOG_COLUMNS
                    .iter()
                    .map(|(name, ddl)| format!("\"{name}\" {ddl}")),
            );
        }
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({})",
            self.target,
            columns.join(", ")
        )
    }

    /// The quoted column names, comma-separated (with the changelog's own in that mode).
    pub(crate) fn column_list(&self) -> String {
        let mut names: Vec<&str> = self.columns.iter().map(|(n, _)| n.as_str()).collect();
        let extra: Vec<String> = CHANGELOG_COLUMNS
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect();
        if self.mode == SnowflakeMode::Changelog {
            names.extend(extra.iter().map(String::as_str));
        }
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::replication::{RelationId, ReplicaIdentity, TableName};

    use super::*;

    fn column(name: &str, type_oid: u32, type_name: &str, modifier: i32) -> Column {
        Column {
            name: name.to_owned(),
            type_oid,
            type_modifier: modifier,
            type_name: type_name.to_owned(),
            nullable: true,
            key: name == "id",
        }
    }

    #[test]
    fn postgres_types_map_to_snowflake_types() {
        let cases = [
            (column("a", 23, "integer", -1), "NUMBER(38,0)"),
            (
                column("b", 1700, "numeric(10,2)", (10 << 16 | 2) + 4),
                "NUMBER(10,2)",
            ),
            (column("c", 1700, "numeric", -1), "VARCHAR"),
            (
                column("d", 1700, "numeric(50,2)", (50 << 16 | 2) + 4),
                "VARCHAR",
            ),
            (column("e", 701, "double precision", -1), "FLOAT"),
            (
                column("f", 1184, "timestamp with time zone", -1),
                "TIMESTAMP_TZ",
            ),
            (
                column("g", 1114, "timestamp without time zone", -1),
                "TIMESTAMP_NTZ",
            ),
            (column("h", 3802, "jsonb", -1), "VARIANT"),
            (column("i", 1007, "integer[]", -1), "ARRAY"),
            (column("j", 17, "bytea", -1), "BINARY"),
            (column("k", 2950, "uuid", -1), "VARCHAR"),
            (column("l", 16, "boolean", -1), "BOOLEAN"),
        ];
        for (column, ddl) in cases {
            assert_eq!(Kind::of(&column).ddl(), ddl, "{}", column.type_name);
            assert!(Kind::of(&column).accepts(ddl), "{ddl}");
        }
        assert!(!Kind::Number(38, 0).accepts("TEXT"));
    }

    #[test]
    fn values_are_rewritten_where_snowflake_reads_them_otherwise() {
        assert_eq!(Kind::Float.text("-Infinity"), "-inf");
        assert_eq!(Kind::Boolean.text("t"), "true");
        assert_eq!(
            Kind::TimestampTz.text("2026-12-01 10:00:00.5+01"),
            "2026-12-01 10:00:00.5+01:00"
        );
        assert_eq!(
            Kind::TimestampTz.text("2026-12-01 10:00:00-09:30"),
            "2026-12-01 10:00:00-09:30"
        );
        assert_eq!(Kind::Binary.text("\\x00ff"), "00ff");
        assert_eq!(
            Kind::Array { numbers: true }.text("{{1,2},{NULL,4}}"),
            "[[1,2],[null,4]]"
        );
        assert_eq!(
            Kind::Array { numbers: false }.text(r#"{a,"b c","d\"e",NULL,"NULL"}"#),
            r#"["a","b c","d\"e",null,"NULL"]"#
        );
        assert_eq!(Kind::Array { numbers: true }.text("[0:1]={1,2}"), "[1,2]");
        assert_eq!(Kind::Array { numbers: false }.text("{}"), "[]");
    }

    #[test]
    fn a_changelog_table_is_named_landing_and_has_the_change_columns() {
        let table = TableSchema {
            id: RelationId::new(1),
            name: TableName::new("public", "orders"),
            replica_identity: ReplicaIdentity::Default,
            columns: vec![
                column("id", 23, "integer", -1),
                column("note", 25, "text", -1),
            ],
        };
        let layout = TableLayout::new("\"DB\".\"S\"", &table, SnowflakeMode::Changelog);
        assert_eq!(
            layout.create(),
            "CREATE TABLE IF NOT EXISTS \"DB\".\"S\".\"LANDING_ORDERS\" (\"ID\" NUMBER(38,0), \
             \"NOTE\" VARCHAR, \"OPERATION\" VARCHAR, \"SYNC_TIMESTAMP\" TIMESTAMP_TZ, \
             \"CHANGE_SEQUENCE\" NUMBER(38,0))"
        );
        assert_eq!(layout.key, vec![0]);
        let mirror = TableLayout::new("\"DB\".\"S\"", &table, SnowflakeMode::Mirror);
        assert_eq!(mirror.target, "\"DB\".\"S\".\"ORDERS\"");
        assert_eq!(mirror.column_list(), "\"ID\", \"NOTE\"");
    }
}
