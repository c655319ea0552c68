//! Conditions, their types and reasons, as the Gateway API spec names them.

use serde::{Deserialize, Serialize};

/// A condition's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CondStatus {
    True,
    False,
    Unknown,
}

impl CondStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CondStatus::True => "True",
            CondStatus::False => "False",
            CondStatus::Unknown => "Unknown",
        }
    }
}

/// The condition types gwsim writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CondType {
    Accepted,
    Programmed,
    ResolvedRefs,
    Conflicted,
    PartiallyInvalid,
    SupportedVersion,
    InsecureFrontendValidationMode,
    OverlappingTLSConfig,
}

impl CondType {
    pub fn as_str(self) -> &'static str {
        match self {
            CondType::Accepted => "Accepted",
            CondType::Programmed => "Programmed",
            CondType::ResolvedRefs => "ResolvedRefs",
            CondType::Conflicted => "Conflicted",
            CondType::PartiallyInvalid => "PartiallyInvalid",
            CondType::SupportedVersion => "SupportedVersion",
            CondType::InsecureFrontendValidationMode => "InsecureFrontendValidationMode",
            CondType::OverlappingTLSConfig => "OverlappingTLSConfig",
        }
    }

    /// The status a healthy object shows for this condition. Colours and `gwsim check`'s exit
    /// code follow health, not True/False: `Conflicted=False` is good.
    pub fn healthy_status(self) -> CondStatus {
        match self {
            CondType::Conflicted | CondType::PartiallyInvalid => CondStatus::False,
            // `InsecureFrontendValidationMode=True` reports what the user asked for and
            // `OverlappingTLSConfig=True` a hazard for HTTP/2 connection reuse: the condition
            // list shows them without painting a working Gateway red.
            _ => CondStatus::True,
        }
    }
}

/// Every reason gwsim writes, named as in the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Reason {
    Accepted,
    Programmed,
    ResolvedRefs,
    NoConflicts,
    Pending,
    Invalid,
    InvalidParameters,
    UnsupportedVersion,
    SupportedVersion,
    ListenersNotValid,
    UnsupportedAddress,
    AddressNotAssigned,
    AddressNotUsable,
    PortUnavailable,
    UnsupportedProtocol,
    InvalidRouteKinds,
    InvalidCertificateRef,
    InvalidClientCertificateRef,
    InvalidCACertificateRef,
    InvalidCACertificateKind,
    NoValidCACertificate,
    ConfigurationChanged,
    OverlappingHostnames,
    RefNotPermitted,
    HostnameConflict,
    ProtocolConflict,
    NotAllowedByListeners,
    NoMatchingListenerHostname,
    NoMatchingParent,
    NotAllowedByParent,
    UnsupportedValue,
    BackendNotFound,
    InvalidKind,
    IncompatibleFilters,
    UnsupportedFilter,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Accepted => "Accepted",
            Reason::Programmed => "Programmed",
            Reason::ResolvedRefs => "ResolvedRefs",
            Reason::NoConflicts => "NoConflicts",
            Reason::Pending => "Pending",
            Reason::Invalid => "Invalid",
            Reason::InvalidParameters => "InvalidParameters",
            Reason::UnsupportedVersion => "UnsupportedVersion",
            Reason::SupportedVersion => "SupportedVersion",
            Reason::ListenersNotValid => "ListenersNotValid",
            Reason::UnsupportedAddress => "UnsupportedAddress",
            Reason::AddressNotAssigned => "AddressNotAssigned",
            Reason::AddressNotUsable => "AddressNotUsable",
            Reason::PortUnavailable => "PortUnavailable",
            Reason::UnsupportedProtocol => "UnsupportedProtocol",
            Reason::InvalidRouteKinds => "InvalidRouteKinds",
            Reason::InvalidCertificateRef => "InvalidCertificateRef",
            Reason::InvalidClientCertificateRef => "InvalidClientCertificateRef",
            Reason::InvalidCACertificateRef => "InvalidCACertificateRef",
            Reason::InvalidCACertificateKind => "InvalidCACertificateKind",
            Reason::NoValidCACertificate => "NoValidCACertificate",
            Reason::ConfigurationChanged => "ConfigurationChanged",
            Reason::OverlappingHostnames => "OverlappingHostnames",
            Reason::RefNotPermitted => "RefNotPermitted",
            Reason::HostnameConflict => "HostnameConflict",
            Reason::ProtocolConflict => "ProtocolConflict",
            Reason::NotAllowedByListeners => "NotAllowedByListeners",
            Reason::NoMatchingListenerHostname => "NoMatchingListenerHostname",
            Reason::NoMatchingParent => "NoMatchingParent",
            Reason::NotAllowedByParent => "NotAllowedByParent",
            Reason::UnsupportedValue => "UnsupportedValue",
            Reason::BackendNotFound => "BackendNotFound",
            Reason::InvalidKind => "InvalidKind",
            Reason::IncompatibleFilters => "IncompatibleFilters",
            Reason::UnsupportedFilter => "UnsupportedFilter",
        }
    }
}

/// A condition as the pure controller computes it: no timestamp (the runtime stamps
/// `lastTransitionTime` when the status actually changes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub kind: CondType,
    pub status: CondStatus,
    pub reason: Reason,
    pub message: String,
    pub observed_generation: i64,
}

impl Condition {
    pub fn new(
        kind: CondType,
        status: CondStatus,
        reason: Reason,
        message: impl Into<String>,
        generation: i64,
    ) -> Self {
        Condition {
            kind,
            status,
            reason,
            message: message.into(),
            observed_generation: generation,
        }
    }

    /// Whether this condition shows the healthy state.
    pub fn is_healthy(&self) -> bool {
        self.status == self.kind.healthy_status()
    }
}

impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Condition", 5)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("observedGeneration", &self.observed_generation)?;
        st.serialize_field("reason", self.reason.as_str())?;
        st.serialize_field("status", self.status.as_str())?;
        st.serialize_field("type", self.kind.as_str())?;
        st.end()
    }
}

/// A set of conditions kept in a fixed order by type, one per type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions(Vec<Condition>);

impl Conditions {
    /// Sets (or replaces) the condition of that type.
    pub fn set(&mut self, c: Condition) {
        match self.0.iter_mut().find(|x| x.kind == c.kind) {
            Some(slot) => *slot = c,
            None => {
                self.0.push(c);
                self.0.sort_by_key(|x| x.kind);
            }
        }
    }

    pub fn get(&self, kind: CondType) -> Option<&Condition> {
        self.0.iter().find(|c| c.kind == kind)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Condition> {
        self.0.iter()
    }

    /// True when the condition of that type exists with that status.
    pub fn is(&self, kind: CondType, status: CondStatus) -> bool {
        self.get(kind).is_some_and(|c| c.status == status)
    }
}

impl Serialize for Conditions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
