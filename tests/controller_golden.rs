//! Golden tests for the controller: `tests/testdata/controller/<case>.in.yaml` (plain
//! manifests, nothing injected) → `<case>.out.yaml` (status, routing table, pod plan,
//! the Services generated for Gateways, diagnostics). `GWSIM_BLESS=1 cargo test --test controller_golden` rewrites the outputs.
//!
//! Each input also states its key outcomes in `# expect:` lines, checked independently of
//! the output file so a wrong output cannot be blessed silently:
//! `# expect: Gateway ns/gw listener http Conflicted=False/NoConflicts`,
//! `# expect: Gateway ns/gw listener http attachedRoutes=1`,
//! `# expect: HTTPRoute ns/r parent ns/gw Accepted=True`, `# expect: HTTPRoute ns/r no-parents`,
//! `# expect: Gateway ns/gw !InsecureFrontendValidationMode` (no such condition, also for a
//! listener: `listener https !OverlappingTLSConfig`),
//! `# expect: diagnostic <substring>`.

use gwsim::model::Kind;
use gwsim::pipeline::{self, Options};
use gwsim::status::{Condition, ObjectStatus};
use gwsim::store::History;
use serde::Serialize;
use std::path::{Path, PathBuf};

const NOW: &str = "2026-01-01T00:00:00Z";

#[derive(Serialize)]
struct Golden<'a> {
    status: Vec<Entry<'a>>,
    routing: &'a gwsim::ir::RoutingIr,
    pods: &'a gwsim::ir::PodPlan,
    /// The Services generated for the Gateways.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    generated: &'a [gwsim::controller::generated::GatewayService],
    diagnostics: Vec<String>,
}

#[derive(Serialize)]
struct Entry<'a> {
    object: String,
    status: &'a ObjectStatus,
}

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/controller");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".in.yaml"))
        .collect();
    out.sort();
    out
}

fn object_name(kind: Kind, ns: &str, name: &str) -> String {
    if ns.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {ns}/{name}")
    }
}

fn run_case(input: &Path) -> (String, pipeline::Pass) {
    let mut history = History::default();
    let pass = pipeline::run(input, &Options::default(), None, &mut history, NOW);
    let golden = Golden {
        status: pass
            .translation
            .status
            .iter()
            .map(|(k, s)| Entry {
                object: object_name(k.kind, &k.namespace, &k.name),
                status: s,
            })
            .collect(),
        routing: &pass.translation.routing,
        pods: &pass.translation.pods,
        generated: &pass.translation.generated,
        diagnostics: pass.diagnostics().map(ToString::to_string).collect(),
    };
    (gwsim::yaml::to_string(&golden), pass)
}

fn condition_matches(c: &Condition, want: &str) -> bool {
    let (kind, rest) = want.split_once('=').unwrap_or((want, ""));
    let (status, reason) = rest.split_once('/').unwrap_or((rest, ""));
    c.kind.as_str() == kind
        && c.status.as_str() == status
        && (reason.is_empty() || c.reason.as_str() == reason)
}

/// Checks one `# expect:` line; returns a description of the mismatch.
fn check_expectation(line: &str, pass: &pipeline::Pass) -> Result<(), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.first() == Some(&"diagnostic") {
        let needle = line.trim_start_matches("diagnostic").trim();
        return if pass.diagnostics().any(|d| d.to_string().contains(needle)) {
            Ok(())
        } else {
            Err(format!("no diagnostic contains {needle:?}"))
        };
    }
    let [kind, obj, rest @ ..] = words.as_slice() else {
        return Err("malformed expectation".into());
    };
    let (ns, name) = obj.split_once('/').unwrap_or(("", obj));
    let status = pass
        .translation
        .status
        .iter()
        .find(|(k, _)| k.kind.as_str() == *kind && k.namespace == ns && k.name == name)
        .map(|(_, s)| s);
    match (status, rest) {
        (None, ["no-parents"]) => Ok(()),
        (None, _) => Err(format!("{kind} {obj} has no status")),
        (Some(ObjectStatus::HttpRoute(r)), ["no-parents"]) => {
            if r.parents.is_empty() {
                Ok(())
            } else {
                Err(format!("{obj} has {} parents", r.parents.len()))
            }
        }
        (Some(ObjectStatus::HttpRoute(r)), ["parent", parent, cond]) => {
            let (pns, pname) = parent.split_once('/').unwrap_or(("", parent));
            let p = r
                .parents
                .iter()
                .find(|p| {
                    p.parent_ref.name == pname
                        && p.parent_ref.namespace.as_deref().unwrap_or_default() == pns
                })
                .ok_or(format!("{obj} has no parent {parent}"))?;
            if p.conditions.iter().any(|c| condition_matches(c, cond)) {
                Ok(())
            } else {
                Err(format!(
                    "{obj} parent {parent}: no {cond}; has {:?}",
                    p.conditions
                        .iter()
                        .map(|c| format!(
                            "{}={}/{}",
                            c.kind.as_str(),
                            c.status.as_str(),
                            c.reason.as_str()
                        ))
                        .collect::<Vec<_>>()
                ))
            }
        }
        (Some(ObjectStatus::Gateway(g)), ["listener", lname, what]) => {
            let l = g
                .listeners
                .iter()
                .find(|l| l.name == *lname)
                .ok_or(format!("{obj} has no listener {lname}"))?;
            if let Some(n) = what.strip_prefix("attachedRoutes=") {
                return if l.attached_routes.to_string() == n {
                    Ok(())
                } else {
                    Err(format!(
                        "{obj} listener {lname} attachedRoutes={}",
                        l.attached_routes
                    ))
                };
            }
            if let Some(absent) = what.strip_prefix('!') {
                return match l.conditions.iter().find(|c| c.kind.as_str() == absent) {
                    None => Ok(()),
                    Some(c) => Err(format!(
                        "{obj} listener {lname} has {absent}={}/{}",
                        c.status.as_str(),
                        c.reason.as_str()
                    )),
                };
            }
            if l.conditions.iter().any(|c| condition_matches(c, what)) {
                Ok(())
            } else {
                Err(format!(
                    "{obj} listener {lname}: no {what}; has {:?}",
                    l.conditions
                        .iter()
                        .map(|c| format!(
                            "{}={}/{}",
                            c.kind.as_str(),
                            c.status.as_str(),
                            c.reason.as_str()
                        ))
                        .collect::<Vec<_>>()
                ))
            }
        }
        (Some(s), [cond]) => {
            let top: Vec<&Condition> = match s {
                ObjectStatus::Gateway(g) => g.conditions.iter().collect(),
                ObjectStatus::GatewayClass(c) => c.conditions.iter().collect(),
                ObjectStatus::HttpRoute(_) => Vec::new(),
            };
            if let Some(absent) = cond.strip_prefix('!') {
                return match top.iter().find(|c| c.kind.as_str() == absent) {
                    None => Ok(()),
                    Some(c) => Err(format!(
                        "{kind} {obj} has {absent}={}/{}",
                        c.status.as_str(),
                        c.reason.as_str()
                    )),
                };
            }
            if top.iter().any(|c| condition_matches(c, cond)) {
                Ok(())
            } else {
                Err(format!(
                    "{kind} {obj}: no {cond}; has {:?}",
                    top.iter()
                        .map(|c| format!(
                            "{}={}/{}",
                            c.kind.as_str(),
                            c.status.as_str(),
                            c.reason.as_str()
                        ))
                        .collect::<Vec<_>>()
                ))
            }
        }
        _ => Err("expectation not understood".into()),
    }
}

#[test]
fn controller_golden_cases() {
    let bless = std::env::var_os("GWSIM_BLESS").is_some();
    let mut failures = Vec::new();
    let all = cases();
    assert!(!all.is_empty(), "no golden cases found");
    for input in &all {
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out_path = PathBuf::from(input.to_string_lossy().replace(".in.yaml", ".out.yaml"));
        let (actual, pass) = run_case(input);
        let text = std::fs::read_to_string(input).expect("read input");
        for line in text.lines().filter_map(|l| l.strip_prefix("# expect:")) {
            if let Err(e) = check_expectation(line.trim(), &pass) {
                failures.push(format!("{name}: expectation `{}` failed: {e}", line.trim()));
            }
        }
        if bless {
            std::fs::write(&out_path, &actual).expect("write golden");
            continue;
        }
        let expected = std::fs::read_to_string(&out_path).unwrap_or_default();
        if expected != actual {
            let diff = similar::TextDiff::from_lines(&expected, &actual);
            failures.push(format!(
                "{name}: output differs from {} (GWSIM_BLESS=1 to accept):\n{}",
                out_path.display(),
                diff.unified_diff().context_radius(3)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}
