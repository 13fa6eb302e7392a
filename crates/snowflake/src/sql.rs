//! Snowflake SQL text: identifiers as Snowflake resolves them.

/// A name as Snowflake resolves an unquoted identifier, quoted: a name that could be written
/// unquoted (`analytics`, `Raw_Data`) is upper-cased (`"ANALYTICS"`), as Snowflake would; any
/// other name (`my-db`, `Mixed Case`) is kept exactly, double quotes doubled.
pub fn identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    let resolved = if plain {
        name.to_ascii_uppercase()
    } else {
        name.to_owned()
    };
    format!("\"{}\"", resolved.replace('"', "\"\""))
}

/// `"DATABASE"."SCHEMA"`.
pub fn schema(database: &str, schema: &str) -> String {
    format!("{}.{}", identifier(database), identifier(schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_resolve_upper_case_and_others_stay_as_written() {
        assert_eq!(identifier("analytics"), "\"ANALYTICS\"");
        assert_eq!(identifier("Raw_Data$1"), "\"RAW_DATA$1\"");
        assert_eq!(identifier("my-db"), "\"my-db\"");
        assert_eq!(identifier("1st"), "\"1st\"");
        assert_eq!(identifier("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(schema("dw", "public"), "\"DW\".\"PUBLIC\"");
    }
}
