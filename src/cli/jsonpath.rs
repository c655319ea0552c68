//! kubectl's `-o jsonpath=TEMPLATE` dialect (client-go `util/jsonpath`): literal text with
//! `{expressions}`, `{range ...}{end}` loops, quoted literals like `{"\n"}`, and paths with
//! `.field`, `..field`, `[*]`, `[n]`, `[-1]`, `[a:b]`, unions, `['key']` and
//! `[?(@.path OP value)]` filters. JSONPath crates follow RFC 9535, which has neither the
//! template text nor `range`, so this is the subset kubectl users write.
//!
//! Output follows kubectl: the results of one expression are separated by a space; strings
//! print raw, maps and lists as compact JSON; a missing key prints nothing (kubectl's default
//! `--allow-missing-template-keys=true`).

use serde_json::Value;

/// A template that could not be parsed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("error parsing jsonpath {template}: {reason}")]
pub struct ParseError {
    pub template: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Root,
    Current,
    Field(String),
    Recursive(String),
    Wildcard,
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Keys(Vec<String>),
    Filter(Filter),
}

#[derive(Clone, Debug, PartialEq)]
struct Filter {
    path: Vec<Step>,
    /// `None`: the path must exist.
    test: Option<(String, Value)>,
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    /// Parses a kubectl jsonpath template.
    pub fn parse(template: &str) -> Result<Template, ParseError> {
        let err = |reason: String| ParseError {
            template: template.to_string(),
            reason,
        };
        // Open `range` blocks: the path and the nodes collected so far.
        let mut stack: Vec<(Vec<Step>, Vec<Node>)> = Vec::new();
        let mut nodes: Vec<Node> = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                nodes.push(Node::Text(rest.to_string()));
                break;
            };
            if open > 0 {
                nodes.push(Node::Text(rest[..open].to_string()));
            }
            let close =
                closing_brace(&rest[open..]).ok_or_else(|| err("unclosed action".into()))? + open;
            let inner = rest[open + 1..close].trim();
            rest = &rest[close + 1..];
            if let Some(path) = inner.strip_prefix("range ") {
                let steps = parse_path(path.trim()).map_err(err)?;
                stack.push((steps, std::mem::take(&mut nodes)));
            } else if inner == "end" {
                let (steps, outer) = stack
                    .pop()
                    .ok_or_else(|| err("not in range, nothing to end".into()))?;
                let body = std::mem::replace(&mut nodes, outer);
                nodes.push(Node::Range(steps, body));
            } else if let Some(text) = quoted(inner) {
                nodes.push(Node::Text(text));
            } else {
                nodes.push(Node::Path(parse_path(inner).map_err(err)?));
            }
        }
        if !stack.is_empty() {
            return Err(err("unclosed range".into()));
        }
        Ok(Template { nodes })
    }

    /// Renders the template against `root`.
    pub fn render(&self, root: &Value) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, root, root, &mut out);
        out
    }
}

/// Index of the `}` closing the `{` at 0, skipping quoted text.
fn closing_brace(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
        escaped = false;
    }
    None
}

/// A quoted literal with `\n`, `\t`, `\\` and quote escapes, as in `{"\n"}`.
fn quoted(s: &str) -> Option<String> {
    let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = s.strip_prefix(q)?.strip_suffix(q)?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Some(out)
}

fn parse_path(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    match chars.first() {
        Some('$') => {
            steps.push(Step::Root);
            i = 1;
        }
        Some('@') => {
            steps.push(Step::Current);
            i = 1;
        }
        _ => {}
    }
    while i < chars.len() {
        match chars[i] {
            '.' if chars.get(i + 1) == Some(&'.') => {
                let (name, next) = field_name(&chars, i + 2);
                steps.push(Step::Recursive(name));
                i = next;
            }
            '.' => {
                let (name, next) = field_name(&chars, i + 1);
                steps.push(match name.as_str() {
                    "*" => Step::Wildcard,
                    "" => Step::Current,
                    _ => Step::Field(name),
                });
                i = next;
            }
            '[' => {
                let end = bracket_end(&chars, i).ok_or("unterminated [")?;
                let inner: String = chars[i + 1..end].iter().collect();
                steps.push(parse_bracket(inner.trim())?);
                i = end + 1;
            }
            c if i == 0 => {
                // kubectl accepts `{metadata.name}` without the leading dot.
                let (name, next) = field_name(&chars, i);
                if name.is_empty() {
                    return Err(format!("unrecognized character in action: {c}"));
                }
                steps.push(Step::Field(name));
                i = next;
            }
            c => return Err(format!("unrecognized character in action: {c}")),
        }
    }
    Ok(steps)
}

/// A field name up to the next unescaped `.` or `[`; `\.` keeps a dot in the name.
fn field_name(chars: &[char], mut i: usize) -> (String, usize) {
    let mut name = String::new();
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' if chars.get(i + 1) == Some(&'.') => {
                name.push('.');
                i += 2;
                continue;
            }
            '.' | '[' => break,
            _ => name.push(c),
        }
        i += 1;
    }
    (name, i)
}

fn bracket_end(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in chars.iter().enumerate().skip(open) {
        match (quote, c) {
            (Some(q), c) if *c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(*c),
            (None, '[') => depth += 1,
            (None, ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_bracket(inner: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        return parse_filter(f.trim()).map(Step::Filter);
    }
    if inner.starts_with('\'') || inner.starts_with('"') {
        let keys = inner
            .split(',')
            .map(|k| quoted(k.trim()).ok_or_else(|| format!("invalid key {k}")))
            .collect::<Result<_, _>>()?;
        return Ok(Step::Keys(keys));
    }
    let int = |s: &str| -> Result<Option<i64>, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<i64>()
            .map(Some)
            .map_err(|_| format!("invalid array index {s}"))
    };
    if inner.contains(':') {
        let parts: Vec<&str> = inner.split(':').collect();
        if parts.len() > 3 {
            return Err(format!("invalid slice {inner}"));
        }
        let at = |n: usize| parts.get(n).map_or(Ok(None), |p| int(p));
        return Ok(Step::Slice(at(0)?, at(1)?, at(2)?));
    }
    let indexes = inner
        .split(',')
        .map(|p| int(p)?.ok_or_else(|| format!("invalid array index {p}")))
        .collect::<Result<_, _>>()?;
    Ok(Step::Indexes(indexes))
}

fn parse_filter(text: &str) -> Result<Filter, String> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some((left, right)) = text.split_once(op) {
            let right = right.trim();
            let value = match quoted(right) {
                Some(s) => Value::String(s),
                None => serde_json::from_str(right)
                    .map_err(|_| format!("invalid filter value {right}"))?,
            };
            return Ok(Filter {
                path: parse_path(left.trim())?,
                test: Some((op.to_string(), value)),
            });
        }
    }
    Ok(Filter {
        path: parse_path(text)?,
        test: None,
    })
}

fn render_nodes(nodes: &[Node], root: &Value, current: &Value, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(steps) => {
                let found = eval(steps, root, current);
                let texts: Vec<String> = found.iter().map(print).collect();
                out.push_str(&texts.join(" "));
            }
            Node::Range(steps, body) => {
                for item in eval(steps, root, current) {
                    render_nodes(body, root, &item, out);
                }
            }
        }
    }
}

fn print(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(v).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn eval(steps: &[Step], root: &Value, current: &Value) -> Vec<Value> {
    let mut values = vec![current.clone()];
    for step in steps {
        values = values.iter().flat_map(|v| apply(step, root, v)).collect();
    }
    values
}

fn index(len: usize, i: i64) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if i < 0 { len + i } else { i };
    (0..len)
        .contains(&i)
        .then(|| usize::try_from(i).ok())
        .flatten()
}

fn apply(step: &Step, root: &Value, v: &Value) -> Vec<Value> {
    match step {
        Step::Root => vec![root.clone()],
        Step::Current => vec![v.clone()],
        Step::Field(name) => v.get(name).cloned().into_iter().collect(),
        Step::Keys(keys) => keys.iter().filter_map(|k| v.get(k).cloned()).collect(),
        Step::Wildcard => match v {
            Value::Array(items) => items.clone(),
            Value::Object(map) => map.values().cloned().collect(),
            _ => Vec::new(),
        },
        Step::Recursive(name) => {
            let mut out = Vec::new();
            descend(v, name, &mut out);
            out
        }
        Step::Indexes(is) => match v {
            Value::Array(items) => is
                .iter()
                .filter_map(|i| index(items.len(), *i).and_then(|i| items.get(i).cloned()))
                .collect(),
            _ => Vec::new(),
        },
        Step::Slice(start, end, step) => {
            let Value::Array(items) = v else {
                return Vec::new();
            };
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let clamp = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
            let from = clamp(start.unwrap_or(0));
            let to = clamp(end.unwrap_or(len));
            let by = usize::try_from(step.unwrap_or(1).max(1)).unwrap_or(1);
            (from..to)
                .step_by(by)
                .filter_map(|i| usize::try_from(i).ok().and_then(|i| items.get(i).cloned()))
                .collect()
        }
        Step::Filter(f) => {
            let items: Vec<Value> = match v {
                Value::Array(items) => items.clone(),
                Value::Object(map) => map.values().cloned().collect(),
                _ => Vec::new(),
            };
            items
                .into_iter()
                .filter(|item| matches(f, root, item))
                .collect()
        }
    }
}

fn descend(v: &Value, name: &str, out: &mut Vec<Value>) {
    match v {
        Value::Object(map) => {
            if let Some(found) = map.get(name) {
                out.push(found.clone());
            }
            for child in map.values() {
                descend(child, name, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| descend(i, name, out)),
        _ => {}
    }
}

fn matches(f: &Filter, root: &Value, item: &Value) -> bool {
    let found = eval(&f.path, root, item);
    let Some((op, want)) = &f.test else {
        return !found.is_empty();
    };
    found.iter().any(|got| {
        let ord = match (got, want) {
            (Value::Number(a), Value::Number(b)) => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(a, b)| a.partial_cmp(&b)),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            (a, b) => (a == b).then_some(std::cmp::Ordering::Equal),
        };
        match op.as_str() {
            "==" => ord == Some(std::cmp::Ordering::Equal),
            "!=" => ord != Some(std::cmp::Ordering::Equal),
            "<" => ord == Some(std::cmp::Ordering::Less),
            ">" => ord == Some(std::cmp::Ordering::Greater),
            "<=" => matches!(
                ord,
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            ),
            ">=" => matches!(
                ord,
                Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
            ),
            _ => false,
        }
    })
}

#[cfg(test)]
#[path = "jsonpath_tests.rs"]
mod tests;
