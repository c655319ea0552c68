//! The resource names kubectl users type (`gtw`, `gateways`, `httproute`, `svc`, ...) and the
//! names kubectl prints back (`gateway.gateway.networking.k8s.io/x`, `gateways/x`). One
//! catalogue for the admin API's filters and the `get`/`wait` commands.

use crate::model::Kind;

/// What a resource name refers to: a stored kind, or the running fake pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    Object(Kind),
    Pod,
}

/// (resource, plural, singular, short names) as the API server's discovery lists them.
const CATALOGUE: &[(Resource, &str, &str, &[&str])] = &[
    (
        Resource::Object(Kind::Namespace),
        "namespaces",
        "namespace",
        &["ns"],
    ),
    (
        Resource::Object(Kind::GatewayClass),
        "gatewayclasses",
        "gatewayclass",
        &["gc"],
    ),
    (
        Resource::Object(Kind::Gateway),
        "gateways",
        "gateway",
        &["gtw"],
    ),
    (
        Resource::Object(Kind::HttpRoute),
        "httproutes",
        "httproute",
        &[],
    ),
    (
        Resource::Object(Kind::ReferenceGrant),
        "referencegrants",
        "referencegrant",
        &["refgrant"],
    ),
    (
        Resource::Object(Kind::Service),
        "services",
        "service",
        &["svc"],
    ),
    (
        Resource::Object(Kind::Deployment),
        "deployments",
        "deployment",
        &["deploy"],
    ),
    (Resource::Pod, "pods", "pod", &["po"]),
    (
        Resource::Object(Kind::EndpointSlice),
        "endpointslices",
        "endpointslice",
        &[],
    ),
    (Resource::Object(Kind::Secret), "secrets", "secret", &[]),
    (
        Resource::Object(Kind::ConfigMap),
        "configmaps",
        "configmap",
        &["cm"],
    ),
];

impl Resource {
    /// Resolves what a user typed: plural, singular, short name or kind, case-insensitively,
    /// optionally qualified by its group (`gateways.gateway.networking.k8s.io`).
    pub fn parse(text: &str) -> Option<Resource> {
        let lower = text.to_ascii_lowercase();
        let (name, group) = match lower.split_once('.') {
            Some((n, g)) => (n.to_string(), Some(g.to_string())),
            None => (lower, None),
        };
        CATALOGUE
            .iter()
            .find(|(r, plural, singular, short)| {
                let named = name == *plural
                    || name == *singular
                    || short.contains(&name.as_str())
                    || name == r.kind_name().to_ascii_lowercase();
                named && group.as_deref().is_none_or(|g| g == r.group())
            })
            .map(|(r, ..)| *r)
    }

    /// Every resource `get all`-style listings walk, in catalogue order.
    pub fn all() -> impl Iterator<Item = Resource> {
        CATALOGUE.iter().map(|(r, ..)| *r)
    }

    fn entry(self) -> (&'static str, &'static str) {
        CATALOGUE
            .iter()
            .find(|(r, ..)| *r == self)
            .map(|(_, p, s, _)| (*p, *s))
            .unwrap_or(("", ""))
    }

    /// The plural resource name (`gateways`).
    pub fn plural(self) -> &'static str {
        self.entry().0
    }

    /// The singular resource name (`gateway`).
    pub fn singular(self) -> &'static str {
        self.entry().1
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
