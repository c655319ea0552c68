//! `gwsim wait`: kubectl's `wait` against a running `gwsim up`. It follows the admin event
//! stream and re-reads the object on every published reload, so it answers as soon as the
//! status changes, without polling on a timer.

use super::get::{encode, Target};
use super::jsonpath::Template;
use crate::admin::client::{Client, ClientError};
use crate::admin::resources::Resource;
use serde_json::Value;
use std::time::Duration;

/// Arguments of `gwsim wait`.
#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// TYPE/NAME, or TYPE followed by NAME.
    #[arg(required = true)]
    pub objects: Vec<String>,
    /// `condition=TYPE[=STATUS]`, `delete`, or `jsonpath={PATH}=VALUE`.
    #[arg(long = "for")]
    pub for_: String,
    /// How long to wait (`30s`, `1m30s`, `500ms`); negative waits a week, as kubectl does.
    #[arg(long, default_value = "30s", allow_hyphen_values = true)]
    pub timeout: String,
    /// Namespace (kubectl's default: `default`).
    #[arg(short, long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub target: Target,
}

/// What to wait for.
#[derive(Debug, PartialEq)]
pub enum For {
    /// A condition type with a status (case-insensitive), current for the object's generation.
    Condition {
        kind: String,
        status: String,
    },
    Delete,
    /// A jsonpath whose result equals a value (or exists when no value is given).
    JsonPath {
        template: Template,
        value: Option<String>,
    },
}

impl For {
    /// Parses `--for`.
    pub fn parse(text: &str) -> Result<For, String> {
        if text.eq_ignore_ascii_case("delete") {
            return Ok(For::Delete);
        }
        if let Some(rest) = text.strip_prefix("condition=") {
            let (kind, status) = rest.split_once('=').unwrap_or((rest, "True"));
            if kind.is_empty() {
                return Err(format!("invalid condition: {text}"));
            }
            return Ok(For::Condition {
                kind: kind.to_string(),
                status: status.to_string(),
            });
        }
        if let Some(rest) = text.strip_prefix("jsonpath=") {
            // The value follows the last `}=`; a bare expression waits for the path to exist.
            let (expr, value) = match rest.rfind("}=") {
                Some(i) => (&rest[..=i], Some(rest[i + 2..].to_string())),
                None => (rest, None),
            };
            let template = Template::parse(expr).map_err(|e| e.to_string())?;
            return Ok(For::JsonPath { template, value });
        }
        Err(format!(
            "unrecognized condition: \"{text}\" (use condition=TYPE[=STATUS], delete or jsonpath={{PATH}}=VALUE)"
        ))
    }

    /// Whether `object` (None: it does not exist) satisfies this.
    pub fn met(&self, object: Option<&Value>) -> bool {
        match (self, object) {
            (For::Delete, o) => o.is_none(),
            (_, None) => false,
            (For::Condition { kind, status }, Some(o)) => condition_met(o, kind, status),
            (For::JsonPath { template, value }, Some(o)) => {
                let got = template.render(o);
                match value {
                    Some(v) => got == *v,
                    None => !got.is_empty(),
                }
            }
        }
    }
}

/// kubectl's rule: the first condition whose type matches (case-insensitively) decides; its
/// status must match too, and a condition observed for an older generation does not count.
pub fn condition_met(object: &Value, kind: &str, status: &str) -> bool {
    let generation = object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64);
    let Some(c) = object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter().find(|c| {
                c.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case(kind))
            })
        })
    else {
        return false;
    };
    let observed = c
        .get("observedGeneration")
        .or_else(|| object.pointer("/status/observedGeneration"))
        .and_then(Value::as_i64);
    if let (Some(o), Some(g)) = (observed, generation) {
        if o < g {
            return false;
        }
    }
    c.get("status")
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case(status))
}

/// Parses a Go duration (`30s`, `1m30s`, `1.5h`, `500ms`, `0`); negative means a week.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "invalid argument \"{text}\" for \"--timeout\" flag: time: invalid duration \"{text}\""
        )
    };
    let (negative, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if body == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = body;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..n].parse().map_err(|_| bad())?;
        let unit_len = rest[n..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len() - n);
        let seconds = match &rest[n..n + unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += value * seconds;
        rest = &rest[n + unit_len..];
    }
    if negative {
        return Ok(Duration::from_secs(7 * 24 * 3600));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Runs `wait`; returns the exit code.
pub fn run(args: WaitArgs) -> i32 {
    super::run_printing(async |out, err| wait(&args, out, err).await)
}

/// The objects named on the command line: `TYPE/NAME...` or `TYPE NAME...`.
fn targets(objects: &[String]) -> Result<Vec<(Resource, String)>, String> {
    let resolve = |k: &str| {
        Resource::parse(k).ok_or_else(|| format!("the server doesn't have a resource type \"{k}\""))
    };
    if objects.iter().all(|o| o.contains('/')) {
        return objects
            .iter()
            .map(|o| {
                let (k, n) = o.split_once('/').unwrap_or((o, ""));
                Ok((resolve(k)?, n.to_string()))
            })
            .collect();
    }
    let (kind, names) = objects
        .split_first()
        .ok_or("resource(s) were provided, but no name was specified")?;
    if names.is_empty() {
        return Err("resource(s) were provided, but no name was specified".into());
    }
    let r = resolve(kind)?;
    Ok(names.iter().map(|n| (r, n.clone())).collect())
}

/// `wait` with its output collected: stdout into `out`, stderr into `err`.
pub async fn wait(args: &WaitArgs, out: &mut String, err: &mut String) -> i32 {
    let parsed = For::parse(&args.for_)
        .and_then(|f| Ok((f, parse_timeout(&args.timeout)?, targets(&args.objects)?)));
    let (condition, timeout, targets) = match parsed {
        Ok(p) => p,
        Err(e) => {
            err.push_str(&format!("error: {e}\n"));
            return 1;
        }
    };
    let client = match args.target.client() {
        Ok(c) => c,
        Err(e) => {
            err.push_str(&format!("error: {e}\n"));
            return 1;
        }
    };
    let namespace = args.namespace.clone().unwrap_or_else(|| "default".into());
    let deadline = tokio::time::Instant::now() + timeout;
    for (resource, name) in targets {
        let ns = if resource.is_namespaced() {
            namespace.as_str()
        } else {
            ""
        };
        match wait_one(&client, resource, ns, &name, &condition, deadline).await {
            Ok(Outcome::Met) => {
                out.push_str(&format!(
                    "{} condition met\n",
                    resource.qualified_name(&name)
                ));
            }
            Ok(Outcome::Missing) => {
                err.push_str(&format!(
                    "Error from server (NotFound): {} \"{name}\" not found\n",
                    resource.plural_group()
                ));
                return 1;
            }
            Ok(Outcome::TimedOut) => {
                err.push_str(&format!(
                    "error: timed out waiting for the condition on {}\n",
                    resource.plural_name(&name)
                ));
                return 1;
            }
            Err(e) => {
                err.push_str(&format!("error: {e}\n"));
                return 1;
            }
        }
    }
    0
}

enum Outcome {
    Met,
    /// The object does not exist (kubectl does not wait for it to appear).
    Missing,
    TimedOut,
}

async fn fetch(
    client: &Client,
    resource: Resource,
    ns: &str,
    name: &str,
) -> Result<Option<Value>, ClientError> {
    let list = client
        .get_json(&format!(
            "/api/objects?kind={}&namespace={}&name={}",
            resource.plural(),
            encode(ns),
            encode(name)
        ))
        .await?;
    Ok(list
        .get("items")
        .and_then(Value::as_array)
        .and_then(|i| i.first())
        .cloned())
}

async fn wait_one(
    client: &Client,
    resource: Resource,
    ns: &str,
    name: &str,
    condition: &For,
    deadline: tokio::time::Instant,
) -> Result<Outcome, ClientError> {
    // Subscribe before the first read, so a reload between the two is not missed.
    let mut events = client.events().await?;
    let first = fetch(client, resource, ns, name).await?;
    if first.is_none() {
        // kubectl: waiting for deletion of what is gone succeeds, anything else is NotFound.
        return Ok(if *condition == For::Delete {
            Outcome::Met
        } else {
            Outcome::Missing
        });
    }
    if condition.met(first.as_ref()) {
        return Ok(Outcome::Met);
    }
    loop {
        let next = tokio::time::timeout_at(deadline, events.next()).await;
        match next {
            Err(_) => return Ok(Outcome::TimedOut),
            Ok(None) => {
                return Err(ClientError::Unreachable {
                    url: "the admin event stream".into(),
                    reason: "gwsim stopped".into(),
                })
            }
            Ok(Some(e)) if e.event == "state" => {
                if condition.met(fetch(client, resource, ns, name).await?.as_ref()) {
                    return Ok(Outcome::Met);
                }
            }
            Ok(Some(_)) => {}
        }
    }
}

#[cfg(test)]
#[path = "wait_tests.rs"]
mod tests;
