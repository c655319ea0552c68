//! A case's manifests as the runner applies them: normalised (gwsim's GatewayClass and
//! controller name), the setup Secrets and ConfigMaps the suite creates, written into the
//! folder the simulation loads, and patched in place by `mutate` actions.

use super::case::Action;
use crate::tls::ca::ProjectCa;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The GatewayClass every Gateway is pointed at.
pub const CLASS_NAME: &str = "gwsim";

/// What `GatewayStaticAddresses`' placeholders stand for. Upstream takes them from the
/// runner's flags; gwsim can bind any loopback address and no other.
pub const USABLE_ADDRESS: &str = "127.0.0.1";
/// An address from TEST-NET-2 (RFC 5737): never on this machine.
pub const UNUSABLE_ADDRESS: &str = "198.51.100.7";
const PLACEHOLDERS: [(&str, &str); 2] = [
    ("PLACEHOLDER_USABLE_ADDRS", USABLE_ADDRESS),
    ("PLACEHOLDER_UNUSABLE_ADDRS", UNUSABLE_ADDRESS),
];

/// One manifest file: its documents and where it is written.
struct File {
    path: PathBuf,
    docs: Vec<Value>,
}

/// The manifests of one case in its folder.
pub struct Manifests {
    files: Vec<File>,
}

impl Manifests {
    /// Reads, normalises and writes the case's manifests into `dir`.
    pub fn write(
        suite: &Path,
        names: &[String],
        dir: &Path,
        controller: &str,
    ) -> Result<Manifests, String> {
        let mut files = vec![
            File {
                path: dir.join("00-gatewayclass.yaml"),
                docs: vec![serde_json::json!({
                    "apiVersion": "gateway.networking.k8s.io/v1",
                    "kind": "GatewayClass",
                    "metadata": {"name": CLASS_NAME},
                    "spec": {"controllerName": controller},
                })],
            },
            File {
                path: dir.join("01-setup-secrets.yaml"),
                docs: setup_objects()?,
            },
        ];
        for (i, name) in names.iter().enumerate() {
            let path = suite.join(name);
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut docs = Vec::new();
            for doc in serde_norway::Deserializer::from_str(&text) {
                let v: Value = serde::Deserialize::deserialize(doc)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                if v.is_null() {
                    continue;
                }
                docs.push(normalise(v, controller));
            }
            let base = Path::new(name)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("manifest-{i}.yaml"));
            files.push(File {
                path: dir.join(format!("{:02}-{base}", 10 + i)),
                docs,
            });
        }
        let m = Manifests { files };
        for f in &m.files {
            write_file(f)?;
        }
        Ok(m)
    }

    /// Applies a `mutate` action to the named object and rewrites its file.
    pub fn mutate(&mut self, action: &Action) -> Result<(), String> {
        let (kind, name) = action
            .object
            .split_once(' ')
            .ok_or_else(|| format!("object `{}` is not `Kind name`", action.object))?;
        let (ns, name) = name.split_once('/').unwrap_or(("", name));
        let file = self
            .files
            .iter_mut()
            .find(|f| f.docs.iter().any(|d| is(d, kind, ns, name)))
            .ok_or_else(|| format!("{} is not in the case's manifests", action.object))?;
        let doc = file
            .docs
            .iter_mut()
            .find(|d| is(d, kind, ns, name))
            .ok_or_else(|| format!("{} vanished", action.object))?;
        patch(doc, action)?;
        write_file(file)
    }
}

impl Manifests {
    /// `populate_endpointslices`: points EndpointSlices of `namespace` at `pods` (names),
    /// one endpoint each, as upstream fills them from the pods' IPs. The slices are `slices`
    /// when named, else every slice that has no endpoints yet; IPv6 slices are left empty
    /// because gwsim's pods have IPv4 addresses only. Returns how many slices were filled.
    pub fn populate_endpointslices(
        &mut self,
        namespace: &str,
        slices: &[String],
        pods: &[String],
    ) -> Result<usize, String> {
        let endpoints: Vec<Value> = pods
            .iter()
            .map(|name| {
                serde_json::json!({
                    "addresses": [POD_IP],
                    "conditions": {"ready": true, "serving": true, "terminating": false},
                    "targetRef": {"kind": "Pod", "name": name, "namespace": namespace},
                })
            })
            .collect();
        let mut filled = 0;
        for file in &mut self.files {
            let mut changed = false;
            for doc in file
                .docs
                .iter_mut()
                .filter(|d| d["kind"] == "EndpointSlice" && d["metadata"]["namespace"] == namespace)
            {
                let chosen = if slices.is_empty() {
                    doc["endpoints"].as_array().is_none_or(Vec::is_empty)
                } else {
                    slices
                        .iter()
                        .any(|s| doc["metadata"]["name"].as_str() == Some(s.as_str()))
                };
                if chosen && doc["addressType"] != "IPv6" {
                    doc["endpoints"] = Value::Array(endpoints.clone());
                    changed = true;
                    filled += 1;
                }
            }
            if changed {
                write_file(file)?;
            }
        }
        Ok(filled)
    }
}

/// The address gwsim's Kubernetes API reports for every pod.
const POD_IP: &str = "127.0.0.1";

fn is(doc: &Value, kind: &str, ns: &str, name: &str) -> bool {
    doc["kind"] == kind
        && doc["metadata"]["name"] == name
        && (ns.is_empty() || doc["metadata"]["namespace"] == ns)
}

fn write_file(f: &File) -> Result<(), String> {
    let mut text = String::new();
    for d in &f.docs {
        text.push_str("---\n");
        text.push_str(&serde_norway::to_string(d).map_err(|e| e.to_string())?);
    }
    std::fs::write(&f.path, text).map_err(|e| format!("{}: {e}", f.path.display()))
}

/// Upstream overwrites every Gateway's class and every GatewayClass's controller, and puts
/// its own addresses in place of the static-address placeholders.
fn normalise(mut doc: Value, controller: &str) -> Value {
    match doc["kind"].as_str() {
        Some("Gateway") => {
            doc["spec"]["gatewayClassName"] = Value::from(CLASS_NAME);
            for a in doc["spec"]["addresses"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                if let Some((_, value)) = PLACEHOLDERS.iter().find(|(p, _)| a["value"] == *p) {
                    *a = serde_json::json!({"type": "IPAddress", "value": value});
                }
            }
        }
        Some("GatewayClass") => doc["spec"]["controllerName"] = Value::from(controller),
        _ => {}
    }
    doc
}

fn patch(doc: &mut Value, action: &Action) -> Result<(), String> {
    for (path, value) in &action.set {
        *slot(doc, path)? = value.clone();
    }
    if let Some(a) = &action.append {
        let list = slot(doc, &a.path)?;
        if list.is_null() {
            *list = Value::Array(Vec::new());
        }
        list.as_array_mut()
            .ok_or_else(|| format!("{} is not a list", a.path))?
            .push(a.value.clone());
    }
    if let Some(keep) = &action.keep_only_listeners {
        if let Some(ls) = doc["spec"]["listeners"].as_array_mut() {
            ls.retain(|l| keep.iter().any(|k| l["name"] == k.as_str()));
        }
    }
    if let Some(i) = action.remove_address_index {
        if let Some(a) = doc["spec"]["addresses"].as_array_mut() {
            if i < a.len() {
                a.remove(i);
            }
        }
    }
    if let Some(v) = &action.remove_address {
        // Upstream names the pools its placeholders were filled from.
        let v = match v.as_str() {
            "usable" => USABLE_ADDRESS,
            "unusable" => UNUSABLE_ADDRESS,
            other => other,
        };
        if let Some(a) = doc["spec"]["addresses"].as_array_mut() {
            a.retain(|x| x["value"] != v);
        }
    }
    Ok(())
}

/// The value at a path like `spec.rules[0].backendRefs[0].name`, created when absent.
fn slot<'a>(doc: &'a mut Value, path: &str) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for part in path.split('.') {
        let (key, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !cur.is_object() {
            *cur = Value::Object(Default::default());
        }
        cur = cur
            .as_object_mut()
            .ok_or_else(|| format!("{path}: not an object at {key}"))?
            .entry(key.to_string())
            .or_insert(Value::Null);
        for idx in indexes.split('[').filter(|s| !s.is_empty()) {
            let n: usize = idx
                .trim_end_matches(']')
                .parse()
                .map_err(|_| format!("{path}: bad index {idx}"))?;
            cur = cur
                .as_array_mut()
                .and_then(|a| a.get_mut(n))
                .ok_or_else(|| format!("{path}: no element {n} under {key}"))?;
        }
    }
    Ok(cur)
}

/// Certificate material for the setup objects, made once per process: every case applies
/// the same objects, and key generation is the slow part.
static SETUP: OnceLock<Result<Vec<Value>, String>> = OnceLock::new();

/// The Secrets and ConfigMaps upstream creates at suite setup (FORMAT.md, normalisation),
/// with real certificates from a throwaway CA. A Secret's `tls.crt` holds the leaf and then
/// the CA, so a client trusting the `tls.crt` it names trusts the server.
fn setup_objects() -> Result<Vec<Value>, String> {
    SETUP.get_or_init(make_setup_objects).clone()
}

fn make_setup_objects() -> Result<Vec<Value>, String> {
    let infra = "gateway-conformance-infra";
    let err = |e: crate::tls::ca::CaError| format!("setup certificates: {e}");
    let ca = ProjectCa::generate().map_err(err)?;
    // A CA that signed nothing the gateway serves, for the mismatch cases.
    let other = ProjectCa::generate().map_err(err)?;
    // The client-validation cases need the default and per-port client certificates to be
    // trusted by their own CA only, so each has its own.
    let default_clients = ProjectCa::generate().map_err(err)?;
    let per_port_clients = ProjectCa::generate().map_err(err)?;
    let client_secrets = [
        (&default_clients, "tls-validity-checks-client-certificate"),
        (
            &per_port_clients,
            "tls-validity-checks-per-port-client-certificate",
        ),
        (&ca, "tls-checks-client-certificate"),
    ];
    let secrets: [(&str, &str, &[&str]); 6] = [
        ("gateway-conformance-web-backend", "certificate", &["*"]),
        (
            infra,
            "tls-validity-checks-certificate",
            &["*", "*.org", "*.wildcard.org"],
        ),
        // Upstream also gives this one a spiffe:// URI name; DNS names are what is served.
        (
            infra,
            "tls-checks-certificate",
            &["abc.example.com", "other.example.com"],
        ),
        (
            infra,
            "tls-passthrough-checks-certificate",
            &["abc.example.com"],
        ),
        (
            "gateway-conformance-app-backend",
            "tls-passthrough-checks-certificate",
            &["abc.example.com"],
        ),
        (
            infra,
            "tls-terminate-checks-certificate",
            &["tls.example.com"],
        ),
    ];
    let config_maps = [
        ("gateway-conformance-web-backend", "web-backend-cm", &ca),
        (
            infra,
            "tls-validity-checks-ca-certificate",
            &default_clients,
        ),
        (
            infra,
            "tls-validity-checks-per-port-ca-certificate",
            &per_port_clients,
        ),
        (infra, "tls-checks-ca-certificate", &ca),
        (infra, "mismatch-ca-certificate", &other),
    ];
    let mut out = Vec::new();
    let signed = |by: &ProjectCa, ns: &str, name: &str, hosts: &[&str]| {
        let hosts: Vec<String> = hosts.iter().map(|h| (*h).to_string()).collect();
        let (cert, key) = by.issue(&hosts).map_err(err)?;
        Ok::<_, String>(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": ns},
            "stringData": {
                "tls.crt": format!("{cert}{}", by.cert_pem),
                "tls.key": key,
            },
        }))
    };
    for (ns, name, hosts) in secrets {
        out.push(signed(&ca, ns, name, hosts)?);
    }
    for (by, name) in client_secrets {
        out.push(signed(by, infra, name, &["client"])?);
    }
    out.extend(config_maps.iter().map(|(ns, name, ca)| {
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns},
            "data": {"ca.crt": ca.cert_pem},
        })
    }));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_walks_keys_and_indexes() {
        let mut v = serde_json::json!({"spec": {"rules": [{"backendRefs": [{"name": "a"}]}]}});
        *slot(&mut v, "spec.rules[0].backendRefs[0].name").expect("slot") = "b".into();
        assert_eq!(v["spec"]["rules"][0]["backendRefs"][0]["name"], "b");
        *slot(&mut v, "spec.description").expect("slot") = "new".into();
        assert_eq!(v["spec"]["description"], "new");
        assert!(slot(&mut v, "spec.rules[3].x").is_err());
    }

    #[test]
    fn populate_fills_the_empty_ipv4_slices_with_the_pods() {
        let dir = tempfile::tempdir().expect("tempdir");
        let slice = |name: &str, family: &str, endpoints: Value| {
            serde_json::json!({"kind": "EndpointSlice", "addressType": family,
                "metadata": {"name": name, "namespace": "ns"}, "endpoints": endpoints})
        };
        let mut m = Manifests {
            files: vec![File {
                path: dir.path().join("s.yaml"),
                docs: vec![
                    slice("a-ip4", "IPv4", Value::Null),
                    slice("a-ip6", "IPv6", Value::Null),
                    slice(
                        "full",
                        "IPv4",
                        serde_json::json!([{"addresses": ["10.0.0.1"]}]),
                    ),
                ],
            }],
        };
        let pods = ["p-1".to_string(), "p-2".to_string()];
        assert_eq!(
            m.populate_endpointslices("ns", &[], &pods).expect("fill"),
            1
        );
        let docs = &m.files[0].docs;
        assert_eq!(docs[0]["endpoints"][1]["targetRef"]["name"], "p-2");
        assert_eq!(docs[0]["endpoints"][0]["addresses"][0], POD_IP);
        assert!(docs[1]["endpoints"].is_null(), "IPv6 stays empty");
        assert_eq!(docs[2]["endpoints"][0]["addresses"][0], "10.0.0.1");
        // Named slices are filled whatever they held.
        let named = ["full".to_string()];
        assert_eq!(
            m.populate_endpointslices("ns", &named, &pods)
                .expect("fill"),
            1
        );
        assert_eq!(
            m.files[0].docs[2]["endpoints"][0]["targetRef"]["name"],
            "p-1"
        );
        assert!(dir.path().join("s.yaml").is_file());
    }

    #[test]
    fn gateways_get_the_class() {
        let g = normalise(
            serde_json::json!({"kind": "Gateway", "spec": {"gatewayClassName": "{GATEWAY_CLASS_NAME}"}}),
            "c",
        );
        assert_eq!(g["spec"]["gatewayClassName"], CLASS_NAME);
        let c = normalise(serde_json::json!({"kind": "GatewayClass", "spec": {}}), "c");
        assert_eq!(c["spec"]["controllerName"], "c");
    }
}
