//! A strict reader of the Prometheus text exposition format, for the tests: any line that is
//! not a comment, a `# HELP`/`# TYPE` line or a well-formed sample fails the test. (The crates
//! that parse it are lenient: they skip what they cannot read, such as a label value with
//! braces, which route patterns have.)

use std::collections::{BTreeMap, HashMap};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A whole exposition: the declared type of each family and every sample.
#[derive(Debug, Default)]
pub struct Exposition {
    pub types: HashMap<String, String>,
    pub help: HashMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// Reads `text`, panicking with the offending line on anything malformed.
    pub fn parse(text: &str) -> Self {
        let mut exposition = Self::default();
        for line in text.lines() {
            if line.trim().is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                exposition.comment(comment.trim_start(), line);
                continue;
            }
            let sample = parse_sample(line).unwrap_or_else(|| panic!("not a sample: {line:?}"));
            let family = exposition.family_of(&sample.name);
            assert!(
                exposition.types.contains_key(&family),
                "sample before its # TYPE: {line:?}"
            );
            exposition.samples.push(sample);
        }
        exposition
    }

    fn comment(&mut self, comment: &str, line: &str) {
        let mut words = comment.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("TYPE"), Some(name), Some(kind)) => {
                assert!(valid_name(name), "bad name: {line:?}");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "bad type: {line:?}"
                );
                let previous = self.types.insert(name.to_owned(), kind.to_owned());
                assert!(previous.is_none(), "family typed twice: {line:?}");
            }
            (Some("HELP"), Some(name), text) => {
                assert!(valid_name(name), "bad name: {line:?}");
                self.help
                    .insert(name.to_owned(), text.unwrap_or_default().to_owned());
            }
            _ => {}
        }
    }

    /// The family a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` belong to
    /// the histogram.
    fn family_of(&self, name: &str) -> String {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                if self.types.get(base).map(String::as_str) == Some("histogram") {
                    return base.to_owned();
                }
            }
        }
        name.to_owned()
    }

    /// The samples named `name` whose labels include every pair of `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample named `name` with `labels`; panics when there is none.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found = self.find(name, labels);
        assert!(!found.is_empty(), "no {name} with {labels:?}");
        found[0].value
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = &line[..name_end];
    if !valid_name(name) {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let mut fields = rest.strip_prefix(' ')?.split(' ');
    let value = match fields.next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        number => number.parse().ok()?,
    };
    // An optional timestamp, then nothing.
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().ok()?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Reads `name="value",…}` and returns what follows the closing brace.
fn parse_labels<'a>(mut rest: &'a str, labels: &mut BTreeMap<String, String>) -> Option<&'a str> {
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Some(after);
        }
        let eq = rest.find('=')?;
        let name = &rest[..eq];
        if !valid_name(name) || name.contains(':') {
            return None;
        }
        let mut chars = rest[eq + 1..].strip_prefix('"')?.char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    _ => return None,
                },
                (_, c) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return None;
        }
        rest = &rest[eq + 1..][1 + end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

#[test]
fn the_reader_takes_braces_in_label_values_and_refuses_garbage() {
    let text = "# HELP x_total Things\n# TYPE x_total counter\nx_total{route=\"/a/{id}\",m=\"G\\\"T\"} 3\n";
    let exposition = Exposition::parse(text);
    assert_eq!(
        exposition.value("x_total", &[("route", "/a/{id}"), ("m", "G\"T")]),
        3.0
    );
    for bad in [
        "x_total{route=\"/a} 3",
        "x_total 3 4 5",
        "x-y 1",
        "x_total{a=b} 1",
    ] {
        assert!(parse_sample(bad).is_none(), "{bad}");
    }
}
