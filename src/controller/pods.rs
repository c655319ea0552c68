//! The pod plan: which fake pods each Deployment asks for, and how they answer.

use crate::ir::{ContainerPortIr, DeploymentPlan, PodBehaviour, PodPlan};
use crate::model::{Body, Kind};
use crate::pods::naming::template_hash;
use crate::source::Diagnostic;
use crate::store::Store;
use std::collections::BTreeMap;

/// More replicas than this per Deployment are not started (a laptop is not a cluster).
pub const MAX_REPLICAS: usize = 16;

/// Plans the pods of every Deployment.
pub fn plan(store: &Store, diagnostics: &mut Vec<Diagnostic>) -> PodPlan {
    let mut plan = PodPlan::default();
    for o in store.of_kind(Kind::Deployment) {
        let Body::Deployment(d) = &o.body else {
            continue;
        };
        let spec = d.spec.clone().unwrap_or_default();
        let template = spec.template.clone();
        let wanted = usize::try_from(spec.replicas.unwrap_or(1)).unwrap_or(0);
        let replicas = wanted.min(MAX_REPLICAS);
        if wanted > MAX_REPLICAS {
            diagnostics.push(
                Diagnostic::warning(
                    &o.origin.file,
                    Some(o.origin.line),
                    None,
                    format!("{wanted} replicas asked; gwsim runs at most {MAX_REPLICAS} fake pods per Deployment"),
                )
                .for_object(&o.key)
                .at_field("spec.replicas"),
            );
        }
        let labels: BTreeMap<String, String> = template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let containers = template
            .spec
            .as_ref()
            .map(|s| s.containers.clone())
            .unwrap_or_default();
        let image = containers
            .first()
            .and_then(|c| c.image.clone())
            .unwrap_or_default();
        let mut container_ports: Vec<ContainerPortIr> = containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .filter_map(|p| {
                Some(ContainerPortIr {
                    name: p.name.clone(),
                    port: u16::try_from(p.container_port).ok()?,
                })
            })
            .collect();
        container_ports.sort();
        container_ports.dedup();
        let env_version = containers
            .iter()
            .flat_map(|c| c.env.iter().flatten())
            .find(|e| e.name == "SERVICE_VERSION")
            .and_then(|e| e.value.clone());
        let behaviour = if image.contains("examples-helloworld") {
            let version = env_version
                .or_else(|| image_version(&image))
                .or_else(|| labels.get("version").cloned())
                .unwrap_or_else(|| "v1".into());
            PodBehaviour::Helloworld { version }
        } else {
            PodBehaviour::Echo
        };
        let template_json = serde_json::to_value(&template).unwrap_or_default();
        plan.deployments.insert(
            o.key.ref_name(),
            DeploymentPlan {
                namespace: o.key.namespace.clone(),
                name: o.key.name.clone(),
                replicas,
                template_hash: template_hash(&template_json),
                labels,
                image,
                behaviour,
                container_ports,
            },
        );
    }
    plan
}

/// `docker.io/istio/examples-helloworld-v2:1.0` → `v2`.
fn image_version(image: &str) -> Option<String> {
    let name = image.rsplit('/').next()?.split(':').next()?;
    let version = name.rsplit('-').next()?;
    (version.starts_with('v') && version.len() > 1).then(|| version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helloworld_version_from_image() {
        assert_eq!(
            image_version("docker.io/istio/examples-helloworld-v2:1.0"),
            Some("v2".into())
        );
        assert_eq!(image_version("nginx:latest"), None);
    }
}
