//! `gwsim get KIND [NAME...]`: kubectl's `get` against a running `gwsim up`, with the same
//! resource names, columns, output formats, messages and exit codes.

use super::jsonpath::Template;
use crate::admin::client::{self, Client, ClientError};
use crate::admin::resources::Resource;
use serde_json::{json, Value};
use std::path::PathBuf;

/// How a client command finds the running instance.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// Manifest folder whose running `gwsim up` to ask (its `.gwsim/instance.json`).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Admin URL of a running gwsim (`http://127.0.0.1:PORT`), instead of --dir.
    #[arg(long, env = "GWSIM_SERVER")]
    pub server: Option<String>,
}

impl Target {
    /// A client for the instance, or the reason there is none.
    pub fn client(&self) -> Result<Client, ClientError> {
        client::locate(&self.dir, self.server.as_deref()).map(|url| Client::new(&url))
    }
}

/// Arguments of `gwsim get`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// Resource type (`gateways`, `gtw`, `httproute`, `svc`, `pods`, ...) or TYPE/NAME.
    pub kind: String,
    /// Object names; all objects when none.
    pub names: Vec<String>,
    /// Namespace (kubectl's default: `default`).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Output format: wide, yaml, json, name, jsonpath=TEMPLATE.
    #[arg(short, long)]
    pub output: Option<String>,
    #[command(flatten)]
    pub target: Target,
}

/// An output format.
#[derive(Debug, PartialEq)]
enum Format {
    Table { wide: bool },
    Yaml,
    Json,
    Name,
    JsonPath(Template),
}

fn format_of(output: Option<&str>) -> Result<Format, String> {
    let Some(o) = output else {
        return Ok(Format::Table { wide: false });
    };
    if let Some(t) = o
        .strip_prefix("jsonpath=")
        .or_else(|| o.strip_prefix("jsonpath-as-json="))
    {
        return Template::parse(t)
            .map(Format::JsonPath)
            .map_err(|e| e.to_string());
    }
    match o {
        "wide" => Ok(Format::Table { wide: true }),
        "yaml" => Ok(Format::Yaml),
        "json" => Ok(Format::Json),
        "name" => Ok(Format::Name),
        other => Err(format!(
            "unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,jsonpath,name,wide,yaml"
        )),
    }
}

/// Runs `get`; returns the exit code.
pub fn run(args: GetArgs) -> i32 {
    super::run_printing(async |out, err| get(&args, out, err).await)
}

/// `get` with its output collected: stdout into `out`, stderr into `err`.
pub async fn get(args: &GetArgs, out: &mut String, err: &mut String) -> i32 {
    let (kind, mut names) = match args.kind.split_once('/') {
        Some((k, n)) => (k, vec![n.to_string()]),
        None => (args.kind.as_str(), Vec::new()),
    };
    names.extend(args.names.iter().cloned());
    let Some(resource) = Resource::parse(kind) else {
        err.push_str(&format!(
            "error: the server doesn't have a resource type \"{kind}\"\n"
        ));
        return 1;
    };
    let format = match format_of(args.output.as_deref()) {
        Ok(f) => f,
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
    let all = args.all_namespaces && names.is_empty();
    let namespace = args.namespace.clone().unwrap_or_else(|| "default".into());
    let scope = if all || !resource.is_namespaced() {
        String::new()
    } else {
        namespace.clone()
    };
    let path = format!(
        "/api/objects?kind={}&namespace={}",
        resource.plural(),
        encode(&scope)
    );
    let items = match fetch(&client, &path).await {
        Ok(i) => i,
        Err(e) => {
            err.push_str(&format!("error: {e}\n"));
            return 1;
        }
    };
    let mut code = 0;
    let selected: Vec<Value> = if names.is_empty() {
        items
    } else {
        let mut found = Vec::new();
        for n in &names {
            match items
                .iter()
                .find(|i| i.pointer("/metadata/name").and_then(Value::as_str) == Some(n))
            {
                Some(i) => found.push(i.clone()),
                None => {
                    err.push_str(&format!(
                        "Error from server (NotFound): {} \"{n}\" not found\n",
                        resource.plural_group()
                    ));
                    code = 1;
                }
            }
        }
        found
    };
    if selected.is_empty() {
        if names.is_empty() {
            err.push_str(&if all || !resource.is_namespaced() {
                "No resources found\n".to_string()
            } else {
                format!("No resources found in {namespace} namespace.\n")
            });
        }
        return code;
    }
    // One named object prints as itself; anything else as a List, as kubectl does.
    let single = names.len() == 1;
    let document = if single {
        selected[0].clone()
    } else {
        json!({"apiVersion": "v1", "items": selected, "kind": "List", "metadata": {"resourceVersion": ""}})
    };
    match format {
        Format::Table { wide } => {
            let rows = super::table::rows(resource, &selected, wide, all, jiff::Timestamp::now());
            out.push_str(&super::table::format(&rows));
        }
        Format::Yaml => out.push_str(&crate::yaml::to_string(&document)),
        Format::Json => {
            out.push_str(&serde_json::to_string_pretty(&document).unwrap_or_default());
            out.push('\n');
        }
        Format::Name => {
            for i in &selected {
                let name = i
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                out.push_str(&resource.qualified_name(name));
                out.push('\n');
            }
        }
        Format::JsonPath(t) => out.push_str(&t.render(&document)),
    }
    code
}

async fn fetch(client: &Client, path: &str) -> Result<Vec<Value>, ClientError> {
    let list = client.get_json(path).await?;
    Ok(list
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// Percent-encodes a query value.
pub(super) fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_formats_parse_like_kubectl() {
        assert_eq!(format_of(None), Ok(Format::Table { wide: false }));
        assert_eq!(format_of(Some("wide")), Ok(Format::Table { wide: true }));
        assert!(matches!(
            format_of(Some("jsonpath={.items[*].metadata.name}")),
            Ok(Format::JsonPath(_))
        ));
        assert!(format_of(Some("xml")).is_err());
    }
}
