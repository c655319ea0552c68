//! The few Go standard-library behaviours echo-basic's output depends on: `encoding/json`
//! string escaping and indentation, canonical header keys, and `time.ParseDuration`.

use std::time::Duration;

/// Appends `bytes` as a JSON string the way Go's `encoding/json` does: HTML-sensitive
/// characters and U+2028/U+2029 escaped, and every byte of invalid UTF-8 written as
/// `\ufffd`, so bodies compare byte for byte with the real server's.
pub(crate) fn push_json_string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '<' | '>' | '&' | '\u{0}'..='\u{1f}' | '\u{2028}' | '\u{2029}' => {
                    out.push_str(&format!("\\u{:04x}", u32::from(c)));
                }
                c => out.push(c),
            }
        }
        for _ in chunk.invalid() {
            out.push_str("\\ufffd");
        }
    }
    out.push('"');
}

/// Go's `textproto.CanonicalMIMEHeaderKey` for a name that is already a valid token (as
/// every name hyper hands us is): upper case first and after each `-`, lower case elsewhere.
pub(crate) fn canonical_header_key(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let mapped = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            mapped
        })
        .collect()
}

/// A parsed Go duration: nanoseconds, possibly negative, as Go's `time.Duration`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GoDuration(pub i64);

impl GoDuration {
    /// How long to sleep: Go's `time.Sleep` returns at once for zero or negative values.
    pub(crate) fn to_sleep(self) -> Duration {
        Duration::from_nanos(u64::try_from(self.0).unwrap_or(0))
    }
}

const NANOS_OVERFLOW: u64 = 1 << 63;

/// Go's `time.ParseDuration`, with its error messages, e.g. `1.5s`, `500ms`, `-1h2m`.
pub(crate) fn parse_go_duration(orig: &str) -> Result<GoDuration, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some((&c, rest)) = s.split_first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = rest;
        }
    }
    if s == b"0" {
        return Ok(GoDuration(0));
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();
        let mut post = false;
        let (mut f, mut scale) = (0u64, 1f64);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            let (frac, frac_scale, rest) = leading_fraction(s);
            (f, scale, s) = (frac, frac_scale, rest);
            post = before != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .iter()
            .position(|c| *c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let (unit_bytes, rest) = s.split_at(unit_len);
        s = rest;
        let unit = unit_nanos(unit_bytes).ok_or_else(|| {
            format!(
                "time: unknown unit {} in duration {}",
                go_quote(&String::from_utf8_lossy(unit_bytes)),
                go_quote(orig)
            )
        })?;
        if v > NANOS_OVERFLOW / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            // Go goes through float64 here too, so fractions round exactly as it does.
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > NANOS_OVERFLOW {
                return Err(invalid());
            }
        }
        total += v;
        if total > NANOS_OVERFLOW {
            return Err(invalid());
        }
    }
    if neg {
        // total <= 2^63, so its negation fits even at the boundary.
        return Ok(GoDuration(0i64.wrapping_sub_unsigned(total)));
    }
    i64::try_from(total).map(GoDuration).map_err(|_| invalid())
}

fn unit_nanos(unit: &[u8]) -> Option<u64> {
    Some(match unit {
        b"ns" => 1,
        // Both the micro sign (U+00B5) and the Greek mu (U+03BC), as Go accepts.
        b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
        b"ms" => 1_000_000,
        b"s" => 1_000_000_000,
        b"m" => 60_000_000_000,
        b"h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Consumes leading digits; `None` on overflow past 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > NANOS_OVERFLOW / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > NANOS_OVERFLOW {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Consumes the digits after a decimal point, keeping as many as fit in 63 bits.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if !overflow {
            if x > (NANOS_OVERFLOW - 1) / 10 {
                overflow = true;
            } else {
                let y = x * 10 + u64::from(s[i] - b'0');
                if y > NANOS_OVERFLOW {
                    overflow = true;
                } else {
                    x = y;
                    scale *= 10.0;
                }
            }
        }
        i += 1;
    }
    (x, scale, &s[i..])
}

/// The `time` package's own quoting for error messages: ASCII printable characters as they
/// are (with `"` and `\` escaped), every other byte as `\xNN`.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else if c == '\u{7f}' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> i64 {
        parse_go_duration(s).expect("valid duration").0
    }

    #[test]
    fn durations_parse_like_go() {
        const S: i64 = 1_000_000_000;
        assert_eq!(ns("0"), 0);
        assert_eq!(ns("-0"), 0);
        assert_eq!(ns("1s"), S);
        assert_eq!(ns("500ms"), S / 2);
        assert_eq!(ns("1.5s"), 3 * S / 2);
        assert_eq!(ns(".5s"), S / 2);
        assert_eq!(ns("1.s"), S);
        assert_eq!(ns("+5s"), 5 * S);
        assert_eq!(ns("-1.5h"), -5400 * S);
        assert_eq!(ns("1h2m3.5s"), 3723 * S + S / 2);
        assert_eq!(ns("10us"), 10_000);
        assert_eq!(ns("10µs"), 10_000);
        assert_eq!(ns("10μs"), 10_000);
        assert_eq!(ns("3ns"), 3);
        // Vectors from Go's own tests.
        assert_eq!(ns("0.3333333333333333333h"), 20 * 60 * S);
        assert_eq!(ns("9007199254740993ns"), 9_007_199_254_740_993);
        assert_eq!(ns("9223372036854775807ns"), i64::MAX);
        assert_eq!(ns("-9223372036854775808ns"), i64::MIN);
        assert_eq!(ns("0.100000000000000000000h"), 6 * 60 * S);
        assert_eq!(ns("0.830103483285477580700h"), 49 * 60 * S + 48_372_539_827);
    }

    #[test]
    fn duration_errors_match_go_messages() {
        let err = |s: &str| parse_go_duration(s).expect_err("invalid duration");
        assert_eq!(err(""), r#"time: invalid duration """#);
        assert_eq!(err("abc"), r#"time: invalid duration "abc""#);
        assert_eq!(err("1"), r#"time: missing unit in duration "1""#);
        assert_eq!(err(".s"), r#"time: invalid duration ".s""#);
        assert_eq!(err("3x"), r#"time: unknown unit "x" in duration "3x""#);
        assert_eq!(err("1d"), r#"time: unknown unit "d" in duration "1d""#);
        assert_eq!(
            err("9223372036854775808ns"),
            r#"time: invalid duration "9223372036854775808ns""#
        );
        assert_eq!(
            err("3\"é"),
            r#"time: unknown unit "\"\xc3\xa9" in duration "3\"\xc3\xa9""#
        );
    }

    #[test]
    fn sleeping_a_negative_duration_is_no_sleep() {
        assert_eq!(GoDuration(-5).to_sleep(), Duration::ZERO);
        assert_eq!(GoDuration(5).to_sleep(), Duration::from_nanos(5));
    }

    #[test]
    fn json_strings_escape_like_go() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\n<&>\u{1}\u{2028}é".as_bytes());
        assert_eq!(out, r#""a\"b\\c\n\u003c\u0026\u003e\u0001\u2028é""#);
        out.clear();
        push_json_string(&mut out, b"x\xff\xfey");
        assert_eq!(out, r#""x\ufffd\ufffdy""#);
    }

    #[test]
    fn header_keys_are_canonical() {
        assert_eq!(canonical_header_key("x-forwarded-for"), "X-Forwarded-For");
        assert_eq!(canonical_header_key("user-agent"), "User-Agent");
        assert_eq!(
            canonical_header_key("x-echo-set-header"),
            "X-Echo-Set-Header"
        );
        assert_eq!(canonical_header_key("etag"), "Etag");
        assert_eq!(canonical_header_key("a--b"), "A--B");
    }
}
