//! `gwsim get`'s tables: the Kubernetes API's Tables (the API server's columns for built-in
//! kinds, the Gateway API CRDs' printer columns), printed the way kubectl prints them:
//! upper-case headers, `-o wide` columns only on request, NAMESPACE first with `-A`, and
//! columns padded to the widest cell plus 3 spaces.

use crate::admin::resources::Resource;
use serde_json::Value;

/// Column headers and one row of cells per object.
pub fn rows(
    resource: Resource,
    items: &[Value],
    wide: bool,
    all_namespaces: bool,
    now: jiff::Timestamp,
) -> Vec<Vec<String>> {
    let refs: Vec<&Value> = items.iter().collect();
    let table = crate::kube::tables::table(resource.served(), &refs, 0, now);
    let columns: Vec<&Value> = table["columnDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let shown: Vec<bool> = columns
        .iter()
        .map(|c| wide || c["priority"].as_u64().unwrap_or(0) == 0)
        .collect();
    let namespaced = all_namespaces && resource.is_namespaced();
    let mut header: Vec<String> = columns
        .iter()
        .zip(&shown)
        .filter(|(_, s)| **s)
        .map(|(c, _)| c["name"].as_str().unwrap_or_default().to_uppercase())
        .collect();
    if namespaced {
        header.insert(0, "NAMESPACE".into());
    }
    let mut out = vec![header];
    for row in table["rows"].as_array().into_iter().flatten() {
        let mut cells: Vec<String> = row["cells"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(&shown)
            .filter(|(_, s)| **s)
            .map(|(c, _)| cell(c))
            .collect();
        if namespaced {
            cells.insert(0, cell(&row["object"]["metadata"]["namespace"]));
        }
        out.push(cells);
    }
    out
}

/// A cell as kubectl prints it: strings raw, `null` blank, anything else as JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Lays rows out as kubectl does: every column but the last padded to its widest cell
/// plus 3 spaces.
pub fn format(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                let pad = widths
                    .get(c)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(cell.chars().count())
                    + 3;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_pad_to_the_widest_cell_plus_three() {
        let rows = vec![
            vec!["NAME".to_string(), "CLASS".into(), "AGE".into()],
            vec!["sample-gateway".to_string(), "istio".into(), "5m".into()],
        ];
        assert_eq!(
            format(&rows),
            "NAME             CLASS   AGE\nsample-gateway   istio   5m\n"
        );
    }
}
