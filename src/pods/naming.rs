//! Kubernetes-style pod names: `<deployment>-<pod-template-hash>-<suffix>`, seeded.

use crate::sim::rng::{fnv1a32, Stream};
use serde_json::Value;

/// The alphabet Kubernetes uses for generated names: no vowels (no accidental words) and
/// no characters that look alike (0/o, 1/l, 3/e).
pub const ALPHABET: &[u8; 27] = b"bcdfghjklmnpqrstvwxz2456789";

/// Length of the random suffix the API server appends to a `generateName`.
pub const SUFFIX_LEN: usize = 5;

/// The longest `generateName` base the API server keeps: a generated name must still fit
/// in 63 characters once the suffix is added.
const MAX_GENERATE_NAME_BASE: usize = 63 - SUFFIX_LEN;

/// Kubernetes' `SafeEncodeString`: every byte becomes one character of [`ALPHABET`].
pub fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
        .collect()
}

/// The `pod-template-hash` of a pod template: FNV-1a (32 bit) over the template's canonical
/// JSON (object keys sorted, no whitespace), with the decimal hash safe-encoded as the
/// Deployment controller does. Equal templates give equal hashes whatever their key order.
pub fn template_hash(template: &Value) -> String {
    let mut bytes = Vec::new();
    write_canonical(template, &mut bytes);
    safe_encode(&fnv1a32(&bytes).to_string())
}

/// Writes `value` with object keys sorted by their bytes. Done by hand rather than trusting
/// `serde_json::Map`'s order, which becomes insertion order as soon as any crate in the
/// build turns on serde_json's `preserve_order` feature.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String(key.clone()), out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Serialising a string, number, bool or null into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// The 5-character suffix of replica `replica` of a Deployment's ReplicaSet. It is a pure
/// function of the seed, the Deployment and the template hash, so a re-run with the same
/// seed names every pod the same, and a rollout (new hash) gets fresh names.
pub fn pod_suffix(seed: u64, deployment_key: &str, template_hash: &str, replica: usize) -> String {
    let stream = Stream::new(seed, &format!("pod/{deployment_key}/{template_hash}"));
    // 27^5 is about 1.4e7, so reading five base-27 digits off one 64-bit draw has a bias
    // below 1e-12: far too small to see.
    let mut draw = stream.draw(replica as u64);
    let radix = ALPHABET.len() as u64;
    let mut suffix = String::with_capacity(SUFFIX_LEN);
    for _ in 0..SUFFIX_LEN {
        let digit = (draw % radix) as usize;
        suffix.push(char::from(ALPHABET[digit]));
        draw /= radix;
    }
    suffix
}

/// A pod's name: the ReplicaSet name `<deployment>-<hash>` used as `generateName`, then
/// the suffix. Like the API server, a base longer than 58 characters is cut to 58 so the
/// name stays within 63.
pub fn pod_name(deployment: &str, hash: &str, suffix: &str) -> String {
    let mut base = format!("{deployment}-{hash}-");
    if base.len() > MAX_GENERATE_NAME_BASE {
        let mut cut = MAX_GENERATE_NAME_BASE;
        // Names are ASCII in practice; the loop only guards against a panic otherwise.
        while !base.is_char_boundary(cut) {
            cut -= 1;
        }
        base.truncate(cut);
    }
    base.push_str(suffix);
    base
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn safe_encode_maps_each_byte() {
        // '0' is byte 48, 48 % 27 = 21 -> '4'; '9' is 57 % 27 = 3 -> 'f'.
        assert_eq!(safe_encode("0"), "4");
        assert_eq!(safe_encode("9"), "f");
        assert_eq!(safe_encode("4294967295").len(), 10);
    }

    #[test]
    fn template_hash_is_pinned_and_ignores_key_order() {
        let a = json!({
            "metadata": {"labels": {"app": "helloworld", "version": "v1"}},
            "spec": {"containers": [{"name": "helloworld", "image": "helloworld:v1",
                                     "ports": [{"containerPort": 5000}]}]}
        });
        let b: Value = serde_json::from_str(
            r#"{"spec":{"containers":[{"ports":[{"containerPort":5000}],"image":"helloworld:v1",
                "name":"helloworld"}]},"metadata":{"labels":{"version":"v1","app":"helloworld"}}}"#,
        )
        .expect("valid JSON");
        assert_eq!(template_hash(&a), template_hash(&b));
        assert_eq!(template_hash(&a), PINNED_HASH);
        assert_ne!(template_hash(&a), template_hash(&json!({"spec": {}})));
        assert!(template_hash(&a).bytes().all(|c| ALPHABET.contains(&c)));
    }

    #[test]
    fn canonical_json_is_compact_and_sorted() {
        let mut out = Vec::new();
        write_canonical(
            &json!({"b": [1, "x"], "a": {"d": null, "c": true}}),
            &mut out,
        );
        assert_eq!(out, br#"{"a":{"c":true,"d":null},"b":[1,"x"]}"#);
    }

    // FNV-1a 32 of the canonical bytes is 4092129820; cross-checked against an independent
    // implementation of the same steps.
    const PINNED_HASH: &str = "84f656fd64";

    #[test]
    fn suffixes_are_pinned_and_depend_on_the_seed() {
        let names: Vec<String> = (0..3)
            .map(|r| pod_suffix(42, "sample/helloworld-v1", "7d5d8c7f9b", r))
            .collect();
        assert_eq!(names, PINNED_SUFFIXES);
        let again: Vec<String> = (0..3)
            .map(|r| pod_suffix(42, "sample/helloworld-v1", "7d5d8c7f9b", r))
            .collect();
        assert_eq!(names, again);
        let other_seed: Vec<String> = (0..3)
            .map(|r| pod_suffix(43, "sample/helloworld-v1", "7d5d8c7f9b", r))
            .collect();
        assert_ne!(names, other_seed);
        let other_hash = pod_suffix(42, "sample/helloworld-v1", "bcdfghjklm", 0);
        assert_ne!(names[0], other_hash);
        for s in &names {
            assert_eq!(s.len(), SUFFIX_LEN);
            assert!(s.bytes().all(|c| ALPHABET.contains(&c)), "{s}");
        }
    }

    const PINNED_SUFFIXES: [&str; 3] = ["k4ct5", "f8mvj", "kf5md"];

    #[test]
    fn pod_name_joins_and_truncates_like_generate_name() {
        assert_eq!(
            pod_name("helloworld-v1", "7d5d8c7f9b", "x2k4q"),
            "helloworld-v1-7d5d8c7f9b-x2k4q"
        );
        let long = "d".repeat(60);
        let name = pod_name(&long, "7d5d8c7f9b", "x2k4q");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}x2k4q", "d".repeat(58)));
    }
}
