//! Query parameters of resource requests and the selectors kubectl sends
//! (`fieldSelector=metadata.name=x`, `labelSelector=app=x,tier!=y,key,!key`).

use serde_json::Value;

/// The parameters gwsim honours; the rest (`limit`, `timeout`, `fieldManager`, …) are ignored.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub watch: bool,
    pub field_selector: Vec<(String, bool, String)>,
    pub label_selector: Vec<LabelReq>,
    pub resource_version: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub send_initial_events: bool,
    pub dry_run: bool,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    Exists(String),
    NotExists(String),
}

impl Query {
    /// Parses a query string; a selector that cannot be read is an error message.
    pub fn parse(query: Option<&str>) -> Result<Query, String> {
        let mut q = Query::default();
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "watch" => q.watch = v == "true" || v == "1",
                "fieldSelector" => q.field_selector = parse_fields(&v)?,
                "labelSelector" => q.label_selector = parse_labels(&v)?,
                "resourceVersion" => q.resource_version = Some(v.into_owned()),
                "timeoutSeconds" => q.timeout_seconds = v.parse().ok(),
                "sendInitialEvents" => q.send_initial_events = v == "true",
                "dryRun" => q.dry_run = !v.is_empty(),
                _ => {}
            }
        }
        Ok(q)
    }

    /// Whether an object passes both selectors.
    pub fn matches(&self, object: &Value) -> bool {
        let meta = &object["metadata"];
        let fields_ok = self.field_selector.iter().all(|(field, equal, want)| {
            let have = match field.as_str() {
                "metadata.name" => meta["name"].as_str().unwrap_or_default(),
                "metadata.namespace" => meta["namespace"].as_str().unwrap_or_default(),
                _ => return true,
            };
            (have == want) == *equal
        });
        let labels = &meta["labels"];
        let label = |k: &str| labels.get(k).and_then(Value::as_str);
        fields_ok
            && self.label_selector.iter().all(|r| match r {
                LabelReq::Eq(k, v) => label(k) == Some(v.as_str()),
                LabelReq::NotEq(k, v) => label(k) != Some(v.as_str()),
                LabelReq::Exists(k) => label(k).is_some(),
                LabelReq::NotExists(k) => label(k).is_none(),
            })
    }
}

fn parse_fields(text: &str) -> Result<Vec<(String, bool, String)>, String> {
    let mut out = Vec::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
            (f, false, v)
        } else if let Some((f, v)) = part.split_once("==") {
            (f, true, v)
        } else if let Some((f, v)) = part.split_once('=') {
            (f, true, v)
        } else {
            return Err(format!("invalid field selector: {part:?}"));
        };
        match field.trim() {
            "metadata.name" | "metadata.namespace" => {}
            other => {
                return Err(format!(
                    "field label not supported: {other} (gwsim selects on metadata.name and metadata.namespace)"
                ))
            }
        }
        out.push((field.trim().to_string(), equal, value.trim().to_string()));
    }
    Ok(out)
}

fn parse_labels(text: &str) -> Result<Vec<LabelReq>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let req = if let Some((k, v)) = part.split_once("!=") {
            LabelReq::NotEq(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = part.split_once("==") {
            LabelReq::Eq(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = part.split_once('=') {
            LabelReq::Eq(k.trim().into(), v.trim().into())
        } else if part.contains(' ') || part.contains('(') {
            return Err(format!(
                "label selector {part:?}: set-based requirements are not supported by gwsim"
            ));
        } else if let Some(k) = part.strip_prefix('!') {
            LabelReq::NotExists(k.trim().into())
        } else {
            LabelReq::Exists(part.into())
        };
        out.push(req);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubectl_wait_selector_and_watch_flags() {
        let q = Query::parse(Some(
            "allowWatchBookmarks=true&fieldSelector=metadata.name%3Dsample-gateway&resourceVersion=12&timeoutSeconds=321&watch=true",
        ))
        .expect("parses");
        assert!(q.watch);
        assert_eq!(q.resource_version.as_deref(), Some("12"));
        assert_eq!(q.timeout_seconds, Some(321));
        assert!(q.matches(&json!({"metadata": {"name": "sample-gateway"}})));
        assert!(!q.matches(&json!({"metadata": {"name": "other"}})));
    }

    #[test]
    fn label_selectors() {
        let q = Query::parse(Some(
            "labelSelector=app%3Dhelloworld%2Cversion!%3Dv2%2C!gone",
        ))
        .expect("parses");
        assert!(q.matches(&json!({"metadata": {"labels": {"app": "helloworld", "version": "v1"}}})));
        assert!(
            !q.matches(&json!({"metadata": {"labels": {"app": "helloworld", "version": "v2"}}}))
        );
        assert!(!q.matches(&json!({"metadata": {"labels": {"app": "helloworld", "gone": "x"}}})));
        assert!(Query::parse(Some("fieldSelector=spec.x%3Dy")).is_err());
    }
}
