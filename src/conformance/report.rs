//! What the runner tells: a line per test, a feature table in the spirit of upstream's
//! conformance report, the closing count line, and the report written as YAML.

use super::runner::{Outcome, TestResult};
use crate::controller::SUPPORTED_FEATURES;
use serde::Serialize;
use std::collections::BTreeMap;

/// The line printed for one test.
pub fn line(r: &TestResult) -> String {
    match &r.outcome {
        Outcome::Pass => format!("PASS {} ({} ms)", r.name, r.millis),
        Outcome::Fail(why) => format!("FAIL {}: {why}", r.name),
        Outcome::Skip(why) => format!("SKIP {} ({why})", r.name),
    }
}

/// Per-feature counts over the tests that list the feature.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureRow {
    pub supported: bool,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Counts per feature: every supported feature, and every feature some test lists.
pub fn features(results: &[TestResult]) -> BTreeMap<String, FeatureRow> {
    let mut rows: BTreeMap<String, FeatureRow> = SUPPORTED_FEATURES
        .iter()
        .map(|f| {
            (
                (*f).to_string(),
                FeatureRow {
                    supported: true,
                    ..FeatureRow::default()
                },
            )
        })
        .collect();
    for r in results {
        for f in &r.features {
            let row = rows.entry(f.clone()).or_default();
            match r.outcome {
                Outcome::Pass => row.passed += 1,
                Outcome::Fail(_) => row.failed += 1,
                Outcome::Skip(_) => row.skipped += 1,
            }
        }
    }
    rows
}

/// The feature table as printed.
pub fn feature_table(results: &[TestResult]) -> String {
    let rows = features(results);
    let width = rows.keys().map(String::len).max().unwrap_or(7).max(7);
    let mut out = format!(
        "{:width$}  {:9}  {:>6}  {:>6}  {:>7}\n",
        "feature", "supported", "passed", "failed", "skipped"
    );
    for (name, r) in &rows {
        out.push_str(&format!(
            "{name:width$}  {:9}  {:>6}  {:>6}  {:>7}\n",
            if r.supported { "yes" } else { "no" },
            r.passed,
            r.failed,
            r.skipped
        ));
    }
    out
}

/// `(passed, failed, skipped)`.
pub fn counts(results: &[TestResult]) -> (usize, usize, usize) {
    let mut c = (0, 0, 0);
    for r in results {
        match r.outcome {
            Outcome::Pass => c.0 += 1,
            Outcome::Fail(_) => c.1 += 1,
            Outcome::Skip(_) => c.2 += 1,
        }
    }
    c
}

/// The closing line: `N passed, M failed, K skipped`.
pub fn summary(results: &[TestResult]) -> String {
    let (p, f, s) = counts(results);
    format!("{p} passed, {f} failed, {s} skipped")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    api_version: &'static str,
    kind: &'static str,
    implementation: Implementation,
    gateway_api_version: &'static str,
    mode: &'static str,
    summary: String,
    supported_features: Vec<&'static str>,
    features: BTreeMap<String, FeatureRow>,
    tests: Vec<TestLine<'a>>,
}

#[derive(Serialize)]
struct Implementation {
    project: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct TestLine<'a> {
    name: &'a str,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    features: &'a [String],
}

/// The report as YAML, shaped after upstream's ConformanceReport with per-test detail.
pub fn yaml(results: &[TestResult]) -> Result<String, String> {
    let mut supported: Vec<&'static str> = SUPPORTED_FEATURES.to_vec();
    supported.sort_unstable();
    let report = Report {
        api_version: "gateway.networking.k8s.io/v1",
        kind: "ConformanceReport",
        implementation: Implementation {
            project: "gwsim",
            version: env!("CARGO_PKG_VERSION"),
        },
        gateway_api_version: "v1.6.1",
        mode: "default",
        summary: summary(results),
        supported_features: supported,
        features: features(results),
        tests: results
            .iter()
            .map(|r| {
                let (result, reason) = match &r.outcome {
                    Outcome::Pass => ("passed", None),
                    Outcome::Fail(w) => ("failed", Some(w.as_str())),
                    Outcome::Skip(w) => ("skipped", Some(w.as_str())),
                };
                TestLine {
                    name: &r.name,
                    result,
                    reason,
                    features: &r.features,
                }
            })
            .collect(),
    };
    serde_norway::to_string(&report).map_err(|e| e.to_string())
}
