//! The resource names kubectl users type (`gtw`, `gateways`, `httproute`, `svc`, ...) and the
//! names kubectl prints back (`gateway.gateway.networking.k8s.io/x`, `gateways/x`), for the
//! admin API's filters and the `get`/`wait` commands, over the Kubernetes API's catalogue.

use crate::kube::resources::{Backing, Resource as Served, RESOURCES};
use crate::model::Kind;

/// What a resource name refers to: a stored kind, or the running fake pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    Object(Kind),
    Pod,
}

impl Resource {
    /// Resolves what a user typed: plural, singular, short name or kind, case-insensitively,
    /// optionally qualified by its group (`gateways.gateway.networking.k8s.io`). Names come
    /// from the Kubernetes API's catalogue, so both front ends accept the same ones.
    pub fn parse(text: &str) -> Option<Resource> {
        let lower = text.to_ascii_lowercase();
        let (name, group) = match lower.split_once('.') {
            Some((n, g)) => (n.to_string(), Some(g.to_string())),
            None => (lower, None),
        };
        RESOURCES
            .iter()
            .filter(|r| {
                name == r.plural
                    || name == r.singular
                    || r.short_names.contains(&name.as_str())
                    || name == r.kind.to_ascii_lowercase()
            })
            .filter(|r| group.as_deref().is_none_or(|g| g == r.group))
            .find_map(|r| match r.backing {
                Backing::Store(k) => Some(Resource::Object(k)),
                Backing::Pods => Some(Resource::Pod),
                Backing::Crds => None,
            })
    }

    /// Its entry in the Kubernetes API's catalogue (columns, names).
    pub fn served(self) -> &'static Served {
        let backing = match self {
            Resource::Object(k) => Backing::Store(k),
            Resource::Pod => Backing::Pods,
        };
        RESOURCES
            .iter()
            .find(|r| r.backing == backing)
            .unwrap_or(&RESOURCES[0])
    }

    /// The plural resource name (`gateways`).
    pub fn plural(self) -> &'static str {
        self.served().plural
    }

    /// The singular resource name (`gateway`).
    pub fn singular(self) -> &'static str {
        self.served().singular
    }

    /// The `kind:` of its objects.
    pub fn kind_name(self) -> &'static str {
        match self {
            Resource::Object(k) => k.as_str(),
            Resource::Pod => "Pod",
        }
    }

    /// The API group ("" for the core group).
    pub fn group(self) -> &'static str {
        match self {
            Resource::Object(k) => k.group(),
            Resource::Pod => "",
        }
    }

    /// Whether objects of this resource live in a namespace.
    pub fn is_namespaced(self) -> bool {
        match self {
            Resource::Object(k) => k.is_namespaced(),
            Resource::Pod => true,
        }
    }

    /// How kubectl names an object in `-o name` and in `wait`'s success line:
    /// `gateway.gateway.networking.k8s.io/sample-gateway`, `service/helloworld`.
    pub fn qualified_name(self, name: &str) -> String {
        match self.group() {
            "" => format!("{}/{name}", self.singular()),
            g => format!("{}.{g}/{name}", self.singular()),
        }
    }

    /// How kubectl names an object in errors: `gateways/sample-gateway`.
    pub fn plural_name(self, name: &str) -> String {
        format!("{}/{name}", self.plural())
    }

    /// How kubectl names the resource in NotFound errors: `gateways.gateway.networking.k8s.io`.
    pub fn plural_group(self) -> String {
        match self.group() {
            "" => self.plural().to_string(),
            g => format!("{}.{g}", self.plural()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_kubectl_accepts_resolves() {
        for (text, want) in [
            ("gtw", Resource::Object(Kind::Gateway)),
            ("Gateways", Resource::Object(Kind::Gateway)),
            (
                "gateway.gateway.networking.k8s.io",
                Resource::Object(Kind::Gateway),
            ),
            ("gc", Resource::Object(Kind::GatewayClass)),
            ("gatewayclasses", Resource::Object(Kind::GatewayClass)),
            ("HTTPRoute", Resource::Object(Kind::HttpRoute)),
            ("httproutes", Resource::Object(Kind::HttpRoute)),
            ("refgrant", Resource::Object(Kind::ReferenceGrant)),
            ("svc", Resource::Object(Kind::Service)),
            ("deploy", Resource::Object(Kind::Deployment)),
            ("po", Resource::Pod),
            ("pods", Resource::Pod),
            ("ns", Resource::Object(Kind::Namespace)),
        ] {
            assert_eq!(Resource::parse(text), Some(want), "{text}");
        }
        assert_eq!(Resource::parse("gateway.apps"), None);
        assert_eq!(Resource::parse("virtualservice"), None);
    }

    #[test]
    fn names_print_like_kubectl() {
        let gw = Resource::Object(Kind::Gateway);
        assert_eq!(
            gw.qualified_name("sample-gateway"),
            "gateway.gateway.networking.k8s.io/sample-gateway"
        );
        assert_eq!(gw.plural_name("sample-gateway"), "gateways/sample-gateway");
        assert_eq!(
            Resource::Object(Kind::Deployment).qualified_name("x"),
            "deployment.apps/x"
        );
        assert_eq!(Resource::Pod.qualified_name("p"), "pod/p");
    }
}
