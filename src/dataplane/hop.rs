//! Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, so a proxy removes
//! them, and every header the `Connection` header names, before it forwards a message on
//! another connection — requests to the pod and the pod's responses to the client alike.
//! A pod's `Connection: close` ends the pod's connection, never the client's.

use http::header::{HeaderName, CONNECTION, HOST, TE, TRANSFER_ENCODING, UPGRADE};
use http::HeaderMap;

/// Typed names spare parsing and validating the strings on every message; a `static`, as a
/// `const` would build and drop the names at every use.
static HOP_BY_HOP: [HeaderName; 6] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    TRANSFER_ENCODING,
    UPGRADE,
    TE,
];

/// Which hop-by-hop headers a message carries, found in one pass over its names: most
/// messages carry none, and removing each by name would hash all six every time.
pub struct HopByHop([bool; 6]);

impl HopByHop {
    pub fn of(headers: &HeaderMap) -> HopByHop {
        let mut present = [false; 6];
        for name in headers.keys() {
            // Every message is scanned, requests and responses: the lengths of the six
            // names rule out nearly every other header before any comparison.
            let name = name.as_str();
            if !matches!(name.len(), 2 | 7 | 10 | 16 | 17) {
                continue;
            }
            if let Some(i) = HOP_BY_HOP.iter().position(|h| h.as_str() == name) {
                if let Some(p) = present.get_mut(i) {
                    *p = true;
                }
            }
        }
        HopByHop(present)
    }

    pub fn has(&self, name: &HeaderName) -> bool {
        HOP_BY_HOP.iter().zip(self.0).any(|(h, p)| p && h == name)
    }

    /// Removes them and the headers `Connection` names, but keeps `Connection` and
    /// `Upgrade` on an upgrade request (the pod must see the upgrade as asked for). `Host`
    /// stays even if `Connection` names it: it is end-to-end by definition.
    pub fn strip(&self, headers: &mut HeaderMap, upgrade: bool) {
        if self.has(&CONNECTION) {
            // Nearly every `Connection` is `keep-alive`, `close` or `upgrade`, which name no
            // header beyond the fixed set: such a value is passed over without splitting it
            // or building header names.
            let named: Vec<HeaderName> = headers
                .get_all(CONNECTION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter(|v| !names_nothing(v))
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|option| !names_nothing(option))
                .filter_map(|option| HeaderName::from_bytes(option.as_bytes()).ok())
                .filter(|n| *n != HOST)
                .collect();
            for name in named {
                headers.remove(name);
            }
        }
        for (h, _) in HOP_BY_HOP
            .iter()
            .zip(self.0)
            .filter(|(_, present)| *present)
        {
            if !(upgrade && (*h == CONNECTION || *h == UPGRADE)) {
                headers.remove(h);
            }
        }
    }
}

/// Whether a `Connection` option names no header beyond the fixed set: `close`, or one of
/// the fixed hop-by-hop names (removed anyway; `Upgrade` is kept on an upgrade).
fn names_nothing(option: &str) -> bool {
    // The two values nearly every message carries come first.
    option.eq_ignore_ascii_case("keep-alive")
        || option.eq_ignore_ascii_case("close")
        || HOP_BY_HOP
            .iter()
            .any(|h| h.as_str().eq_ignore_ascii_case(option))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn names(h: &HeaderMap) -> Vec<&str> {
        let mut n: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        n.sort_unstable();
        n
    }

    #[test]
    fn the_fixed_set_and_what_connection_names_go() {
        let mut h = headers(&[
            ("host", "a.example"),
            ("connection", "keep-alive, X-Hop"),
            ("connection", "close"),
            ("keep-alive", "timeout=5"),
            ("x-hop", "1"),
            ("transfer-encoding", "chunked"),
            ("te", "trailers"),
            ("x-end", "kept"),
        ]);
        HopByHop::of(&h).strip(&mut h, false);
        assert_eq!(names(&h), ["host", "x-end"]);
    }

    #[test]
    fn an_upgrade_keeps_connection_and_upgrade_but_not_other_named_headers() {
        let mut h = headers(&[
            ("connection", "Upgrade, x-hop"),
            ("upgrade", "websocket"),
            ("x-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("sec-websocket-key", "k"),
        ]);
        HopByHop::of(&h).strip(&mut h, true);
        assert_eq!(names(&h), ["connection", "sec-websocket-key", "upgrade"]);
    }

    #[test]
    fn host_named_by_connection_stays_and_a_message_without_any_is_untouched() {
        let mut h = headers(&[("host", "a.example"), ("connection", "host, bad name")]);
        HopByHop::of(&h).strip(&mut h, false);
        assert_eq!(names(&h), ["host"]);
        let mut plain = headers(&[("host", "a.example"), ("accept", "*/*")]);
        let hop = HopByHop::of(&plain);
        assert!(!hop.has(&CONNECTION));
        hop.strip(&mut plain, false);
        assert_eq!(names(&plain), ["accept", "host"]);
    }
}
