//! The charts of the source and pipeline pages: the ranges they offer (1 hour, 24 hours,
//! 7 days, each with the width of its buckets), the links between them, and the data each
//! chart is drawn from by dashboard.js (uPlot), embedded in the page as JSON.

use chrono::{DateTime, Duration, Utc};
use maud::{html, Markup, PreEscaped};
use rosetta_domain::WalBucket;
use serde::Deserialize;

/// A range a chart covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    /// How the page's `?range=` spells it.
    pub key: &'static str,
    /// How the page says it.
    pub label: &'static str,
    seconds: i64,
    /// The width of its buckets.
    pub bucket: WalBucket,
}

impl Range {
    /// Where the range starts, seen from `now`.
    pub fn start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::seconds(self.seconds)
    }
}

/// The ranges offered, the default first.
pub(crate) const RANGES: [Range; 3] = [
    Range {
        key: "1h",
        label: "1 hour",
        seconds: 3_600,
        bucket: WalBucket::Minute,
    },
    Range {
        key: "24h",
        label: "24 hours",
        seconds: 86_400,
        bucket: WalBucket::FiveMinutes,
    },
    Range {
        key: "7d",
        label: "7 days",
        seconds: 7 * 86_400,
        bucket: WalBucket::Hour,
    },
];

/// A page's `?range=`.
#[derive(Deserialize)]
pub(crate) struct RangeQuery {
    range: Option<String>,
}

impl RangeQuery {
    /// The range asked for; the default when none or an unknown one is.
    pub fn range(&self) -> Range {
        RANGES
            .into_iter()
            .find(|range| Some(range.key) == self.range.as_deref())
            .unwrap_or(RANGES[0])
    }
}

/// The links to the ranges of the page at `base`, the current one marked.
pub(crate) fn range_nav(base: &str, current: Range) -> Markup {
    html! {
        nav.range aria-label="Chart range" {
            @for range in RANGES {
                a href={ (base) "?range=" (range.key) } aria-current=[(range == current).then_some("true")] { (range.label) }
            }
        }
    }
}

/// One series of a chart: its label, its unit (`bytes`, `seconds` or `per_second`, as
/// dashboard.js formats them) and a value (or null) per point.
pub(crate) struct Series<'a> {
    pub label: &'a str,
    pub unit: &'a str,
    pub values: Vec<serde_json::Value>,
}

/// A chart named `id` of `series` over the times `xs` (Unix seconds, oldest first), its time
/// axis spanning `range` up to `now`, described by `label` for those who cannot see it.
pub(crate) fn chart(
    id: &str,
    label: &str,
    (range, now): (Range, DateTime<Utc>),
    xs: &[i64],
    series: &[Series<'_>],
) -> Markup {
    let series: Vec<_> = series
        .iter()
        .map(|s| serde_json::json!({"label": s.label, "unit": s.unit, "values": s.values}))
        .collect();
    let (from, to) = (range.start(now).timestamp(), now.timestamp());
    // `</` cannot end the script element early: JSON escapes it as `<\/`.
    let data = serde_json::json!({"from": from, "to": to, "x": xs, "series": series})
        .to_string()
        .replace("</", "<\\/");
    html! {
        div.chart data-chart=(id) role="img" aria-label=(label) {}
        script type="application/json" id=(id) { (PreEscaped(data)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(range: Option<&str>) -> RangeQuery {
        RangeQuery {
            range: range.map(str::to_owned),
        }
    }

    #[test]
    fn an_unknown_or_missing_range_is_the_first() {
        assert_eq!(query(None).range(), RANGES[0]);
        assert_eq!(query(Some("1y")).range(), RANGES[0]);
        assert_eq!(query(Some("7d")).range().bucket, WalBucket::Hour);
    }

    #[test]
    fn a_charts_time_axis_spans_its_range() {
        let now = "2026-12-03T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let markup = chart("c", "a chart", (RANGES[1], now), &[], &[]).into_string();
        let from = now.timestamp() - 86_400;
        assert!(
            markup.contains(&format!(r#""from":{from},"to":{}"#, now.timestamp())),
            "{markup}"
        );
    }

    #[test]
    fn chart_data_cannot_end_its_script_element() {
        let series = [Series {
            label: "</script><script>alert(1)</script>",
            unit: "bytes",
            values: vec![1.into()],
        }];
        let markup = chart("c", "a chart", (RANGES[0], Utc::now()), &[1], &series).into_string();
        assert!(!markup.contains("</script><script>"), "{markup}");
        assert!(markup.contains(r#"<\/script>"#), "{markup}");
    }
}
