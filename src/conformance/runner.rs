//! Runs cases: each in a fresh in-process simulation on its own temp folder, steps in order,
//! first failure ends the case. Features and the skip list decide what runs.

use super::case::{self, Case, HttpCase, Step};
use super::http_checks::{self, Ctx};
use super::http_client::Endpoint;
use super::manifests::Manifests;
use super::status_checks::{self, World};
use crate::controller::{AddressPool, Config, SUPPORTED_FEATURES};
use crate::dataplane::listener::PortMapping;
use crate::pipeline::Options as PipelineOptions;
use crate::runtime::sim::{Sim, SimOptions};
use crate::sim::rng::Stream;
use crate::store::GWSIM_CONTROLLER;
use regex::Regex;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How to run a suite.
#[derive(Clone, Debug)]
pub struct Options {
    /// The folder with `cases/`, `base/` and `tests/`.
    pub suite: PathBuf,
    /// Test name → why it is skipped.
    pub skip: BTreeMap<String, String>,
    /// Only tests whose name matches run; the others are not listed.
    pub filter: Option<Regex>,
    pub seed: u64,
    /// Gateways get addresses from `127.0.<pool>.0/24`.
    pub pool: u8,
}

/// How one test ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Which step failed and how.
    Fail(String),
    /// Why it did not run.
    Skip(String),
}

/// One test's result.
#[derive(Clone, Debug)]
pub struct TestResult {
    pub name: String,
    pub features: Vec<String>,
    pub outcome: Outcome,
    pub millis: u128,
}

/// Reads a skip file: one test name per line, `# reason` after it; blank lines and lines
/// starting with `#` are ignored.
pub fn read_skip_file(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(parse_skip_list(&text))
}

/// Parses the text of a skip file.
pub fn parse_skip_list(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('#') {
            Some((name, reason)) => (name.trim().to_string(), reason.trim().to_string()),
            None => (l.to_string(), "listed in the skip file".to_string()),
        })
        .collect()
}

/// A case file read: the case, or its file stem and why it does not parse.
pub type Loaded = Result<Case, (String, String)>;

/// Loads every case of the suite, sorted by name. A file that does not parse is kept as
/// `Err((file stem, why))`, so one bad file fails one test instead of the whole run.
pub fn load_cases(suite: &Path) -> Result<Vec<Loaded>, String> {
    let dir = suite.join("cases");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    let mut cases: Vec<Loaded> = paths
        .iter()
        .map(|p| {
            case::load(p).map_err(|e| {
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (stem, e)
            })
        })
        .collect();
    let name = |c: &Loaded| match c {
        Ok(c) => c.name.clone(),
        Err((n, _)) => n.clone(),
    };
    cases.sort_by_key(name);
    Ok(cases)
}

/// Runs the suite; `progress` sees each result as it comes.
pub async fn run_suite(
    options: &Options,
    mut progress: impl FnMut(&TestResult),
) -> Result<Vec<TestResult>, String> {
    let cases = load_cases(&options.suite)?;
    let mut results = Vec::new();
    for c in cases {
        let c = match c {
            Ok(c) => c,
            Err((name, why)) => {
                if options.filter.as_ref().is_none_or(|r| r.is_match(&name)) {
                    let r = TestResult {
                        name,
                        features: Vec::new(),
                        outcome: Outcome::Fail(format!("the case file does not parse: {why}")),
                        millis: 0,
                    };
                    progress(&r);
                    results.push(r);
                }
                continue;
            }
        };
        if options
            .filter
            .as_ref()
            .is_some_and(|r| !r.is_match(&c.name))
        {
            continue;
        }
        let start = Instant::now();
        let outcome = run_case(options, &c).await;
        let r = TestResult {
            name: c.name.clone(),
            features: c.features.clone(),
            outcome,
            millis: start.elapsed().as_millis(),
        };
        progress(&r);
        results.push(r);
    }
    Ok(results)
}

/// Decides whether a case runs; `Some(reason)` when it does not.
pub fn skip_reason(options: &Options, c: &Case) -> Option<String> {
    if let Some(f) = c
        .features
        .iter()
        .find(|f| !SUPPORTED_FEATURES.contains(&f.as_str()))
    {
        return Some(format!("unsupported feature {f}"));
    }
    options.skip.get(&c.name).cloned()
}

async fn run_case(options: &Options, c: &Case) -> Outcome {
    if let Some(why) = skip_reason(options, c) {
        return Outcome::Skip(why);
    }
    let dir = match tempfile::Builder::new()
        .prefix("gwsim-conformance-")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => return Outcome::Fail(format!("setup: cannot create a temp folder: {e}")),
    };
    let mut manifests =
        match Manifests::write(&options.suite, &c.manifests, dir.path(), GWSIM_CONTROLLER) {
            Ok(m) => m,
            Err(e) => return Outcome::Fail(format!("setup: {e}")),
        };
    let mut sim = Sim::start(SimOptions {
        dir: dir.path().to_path_buf(),
        pipeline: PipelineOptions {
            controller: Config {
                pool: AddressPool {
                    base: Ipv4Addr::new(127, 0, options.pool, 0),
                    size: 254,
                },
                ..Config::default()
            },
            ..PipelineOptions::default()
        },
        seed: options.seed,
        ports: PortMapping::Ephemeral,
        persist_state: false,
    })
    .await;
    let outcome = run_steps(options, c, &mut sim, &mut manifests).await;
    sim.shutdown().await;
    outcome
}

async fn run_steps(
    options: &Options,
    c: &Case,
    sim: &mut Sim,
    manifests: &mut Manifests,
) -> Outcome {
    let mut recorded: BTreeMap<String, i64> = BTreeMap::new();
    let mut subtest = String::new();
    let mut last_case: Option<HttpCase> = None;
    let mut draws = 0;
    for (i, step) in c.steps.iter().enumerate() {
        let mut ctx = Ctx {
            sim: &*sim,
            stream: Stream::new(options.seed, &format!("conformance/{}", c.name)),
            draws,
        };
        let result = match step {
            Step::Subtest(s) => {
                subtest = s.clone();
                Ok(())
            }
            Step::Status(checks) => {
                let world = World::capture(ctx.sim, GWSIM_CONTROLLER);
                checks.iter().try_for_each(|check| {
                    status_checks::run(check, &world, &recorded).map_err(|e| {
                        let what = check
                            .gateway
                            .as_deref()
                            .or(check.route.as_deref())
                            .or(check.gateway_class.as_deref())
                            .or(check.object.as_deref())
                            .unwrap_or_default();
                        format!("{} {what}: {e}", check.check)
                    })
                })
            }
            Step::Http(h) => {
                let r = http_checks::run_step(&mut ctx, h).await;
                last_case = h.cases.last().cloned();
                r
            }
            Step::Repeat(r) => http_checks::run_repeat(&mut ctx, r).await,
            Step::Weighted(w) => http_checks::run_weighted(&mut ctx, w, last_case.as_ref()).await,
            Step::Websocket(w) => match super::http_client::resolve(ctx.sim, &w.target, "http") {
                Ok(Endpoint {
                    socket: Some(socket),
                    authority,
                }) => {
                    let path = w
                        .url
                        .split_once("://")
                        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
                        .unwrap_or_else(|| "/".into());
                    let origin = format!("ws://gateway/{subtest}");
                    super::http_client::websocket(socket, &authority, &path, &origin, &w.exchange)
                        .await
                }
                Ok(_) => Err(super::http_client::REFUSED.to_string()),
                Err(e) => Err(e),
            },
            Step::Action(a) => {
                draws = ctx.draws;
                let r = mutate(sim, manifests, &mut recorded, a).await;
                if let Err(e) = r {
                    return Outcome::Fail(format!("step {} (action {}): {e}", i + 1, a.object));
                }
                continue;
            }
        };
        draws = ctx.draws;
        if let Err(e) = result {
            let at = if subtest.is_empty() {
                String::new()
            } else {
                format!(" [{subtest}]")
            };
            return Outcome::Fail(format!("step {} ({}){at}: {e}", i + 1, kind(step)));
        }
    }
    Outcome::Pass
}

async fn mutate(
    sim: &mut Sim,
    manifests: &mut Manifests,
    recorded: &mut BTreeMap<String, i64>,
    a: &case::Action,
) -> Result<(), String> {
    match a.kind.as_str() {
        "mutate" => {}
        "populate_endpointslices" => return populate(sim, manifests, a).await,
        other => {
            return Err(format!(
                "action kind `{other}` is not supported by the gwsim runner"
            ))
        }
    }
    let world = World::capture(sim, GWSIM_CONTROLLER);
    let before = world
        .generation_of(&a.object)
        .ok_or_else(|| format!("{} does not exist", a.object))?;
    recorded.insert(a.object.clone(), before);
    manifests.mutate(a)?;
    sim.reload().await;
    Ok(())
}

/// Fills EndpointSlices with the pods of a Deployment: the action's object (`Deployment
/// ns/name` or `ns/name`), by default upstream's `gateway-conformance-infra/infra-backend-v1`.
async fn populate(
    sim: &mut Sim,
    manifests: &mut Manifests,
    a: &case::Action,
) -> Result<(), String> {
    let object = a.object.trim();
    let deployment = object.strip_prefix("Deployment ").unwrap_or(object).trim();
    let deployment = if deployment.contains('/') {
        deployment
    } else {
        "gateway-conformance-infra/infra-backend-v1"
    };
    let (ns, _) = deployment
        .split_once('/')
        .ok_or_else(|| format!("`{deployment}` is not namespace/name"))?;
    let pods: Vec<String> = sim
        .running_pods()
        .into_iter()
        .filter(|(d, _)| d == deployment)
        .map(|(_, name)| name)
        .collect();
    if pods.is_empty() {
        return Err(format!("Deployment {deployment} has no running pod"));
    }
    if manifests.populate_endpointslices(ns, &a.slices, &pods)? == 0 {
        return Err(format!("no EndpointSlice in {ns} to populate"));
    }
    sim.reload().await;
    Ok(())
}

fn kind(step: &Step) -> &'static str {
    match step {
        Step::Status(_) => "status",
        Step::Http(_) => "http",
        Step::Action(_) => "action",
        Step::Subtest(_) => "subtest",
        Step::Weighted(_) => "weighted",
        Step::Websocket(_) => "websocket",
        Step::Repeat(_) => "repeat",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_list_lines() {
        let m = parse_skip_list("# header\n\nA # needs TLS\nB\n");
        assert_eq!(m.get("A").map(String::as_str), Some("needs TLS"));
        assert_eq!(
            m.get("B").map(String::as_str),
            Some("listed in the skip file")
        );
        assert_eq!(m.len(), 2);
    }
}
