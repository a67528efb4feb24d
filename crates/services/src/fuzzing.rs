//! Fuzzing of the parsers that read what clients send: amounts, JSON bodies, and the
//! signature and authorization headers (the import rows are fuzzed in `bulk_import::fuzz`).
//!
//! Each target runs generated and mutated inputs for a time budget
//! (`QUITTANCE_FUZZ_SECONDS`, 2 by default; CI gives more) and fails on a panic or a broken
//! property, shrunk to the smallest input that shows it. proptest rather than cargo-fuzz: it
//! needs no second, sanitizer-instrumented build of the dependency tree on the nightly
//! toolchain, which would cost CI more than the whole test suite.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseResult, TestRunner};
use std::fmt::Debug;
use std::time::{Duration, Instant};

/// Runs `check` on values of `strategy` until the time budget is spent; panics with the
/// shrunk failing input on the first failure. Prints how many cases ran.
pub(crate) fn for_a_while<S>(name: &str, strategy: S, check: impl Fn(S::Value) -> TestCaseResult)
where
    S: Strategy,
    S::Value: Debug,
{
    let seconds = std::env::var("QUITTANCE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(2);
    let budget = Duration::from_secs(seconds);
    let started = Instant::now();
    let mut cases: u64 = 0;
    const BATCH: u32 = 256;
    while cases == 0 || started.elapsed() < budget {
        let mut runner = TestRunner::new(Config {
            cases: BATCH,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(failure) = runner.run(&strategy, &check) {
            panic!("fuzz target {name} failed after {cases} cases: {failure}");
        }
        cases += u64::from(BATCH);
    }
    eprintln!(
        "fuzz {name}: {cases} cases in {:.1} s, 0 failures",
        started.elapsed().as_secs_f64()
    );
}

/// Text assembled from `tokens` (the pieces a parser looks for) and arbitrary strings, so
/// inputs land near the accepted forms as well as far from them.
pub(crate) fn text_of(
    tokens: &'static [&'static str],
    len: usize,
) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(tokens).prop_map(str::to_owned),
        1 => any::<String>(),
        1 => any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..len).prop_map(|pieces| pieces.concat())
}

mod targets {
    use super::*;
    use crate::credentials::basic_credentials;
    use crate::ingo::signing::{Authorization, SignedRequest, precheck};
    use crate::wire::{AmountText, parse_json};
    use base64::Engine as _;
    use quittance_domain::{Currency, MinorUnits};
    use std::collections::HashMap;

    const AMOUNT_TOKENS: &[&str] = &[
        "-",
        ".",
        "0",
        "1",
        "5",
        "9",
        "00",
        "125",
        "50",
        "9223372036854775807",
        "e5",
        "E-2",
        "+",
        " ",
        ",",
        "1,000",
        "\u{0663}",
        "\u{ff11}",
        "NaN",
        "inf",
        "0x1F",
        "_",
    ];

    /// The value of `-?\d+(\.\d+)?` in minor units, worked out in i128: the reference the
    /// parser is held to.
    fn reference(text: &str, exponent: u8) -> Option<i128> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !plain(whole) || !plain(fraction) || digits.ends_with('.') {
            return None;
        }
        let significant = fraction.trim_end_matches('0');
        if significant.len() > usize::from(exponent) || whole.len() > 30 {
            return None;
        }
        let mut value: i128 = 0;
        for b in whole.bytes() {
            value = value * 10 + i128::from(b - b'0');
        }
        for i in 0..usize::from(exponent) {
            let d = significant.as_bytes().get(i).map_or(0, |b| b - b'0');
            value = value * 10 + i128::from(d);
        }
        Some(if negative { -value } else { value })
    }

    #[test]
    fn fuzz_decimal_amounts() {
        for_a_while("decimal amounts", text_of(AMOUNT_TOKENS, 8), |text| {
            for currency in [Currency::USD, Currency::from_code("JPY").expect("JPY")] {
                let parsed = MinorUnits::parse(&text, currency);
                let expected =
                    reference(&text, currency.exponent()).filter(|v| i64::try_from(*v).is_ok());
                prop_assert_eq!(
                    parsed.as_ref().ok().map(|m| i128::from(m.get())),
                    expected,
                    "{:?} in {}",
                    text,
                    currency.code()
                );
                if let Ok(minor) = parsed {
                    let again = MinorUnits::parse(&minor.format(currency), currency);
                    prop_assert_eq!(again.ok(), Some(minor));
                }
            }
            Ok(())
        });
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        amount: AmountText,
        card: Option<Card>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Card {
        number: String,
        cvv: Option<String>,
        exp_month: Option<u8>,
    }

    const JSON_TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\"amount\"",
        "\"card\"",
        "\"number\"",
        "\"cvv\"",
        "\"exp_month\"",
        "73198246",
        "86420975318642",
        "-0.5",
        "1e400",
        "125.50",
        "\"12.5\"",
        "true",
        "null",
        "\\u0000",
        "\\\"",
        " ",
        "\n",
    ];

    /// A request body never panics the parser, an accepted amount keeps its exact text, and a
    /// refusal never repeats a number it was sent.
    #[test]
    fn fuzz_json_request_bodies() {
        for_a_while("JSON request bodies", text_of(JSON_TOKENS, 24), |text| {
            match parse_json::<Body>(text.as_bytes()) {
                // The amount is kept as sent, not re-printed through a number type.
                Ok(body) => {
                    let raw = body.amount.0;
                    prop_assert!(
                        text.contains(raw.as_str()) || text.contains('\\'),
                        "{:?}",
                        text
                    );
                }
                Err(e) => {
                    for secret in ["73198246", "86420975318642"] {
                        prop_assert!(
                            !e.message().contains(secret),
                            "{:?} echoed in {:?}",
                            secret,
                            e.message()
                        );
                    }
                }
            }
            Ok(())
        });
    }

    const AUTH_TOKENS: &[&str] = &[
        "hmac ",
        "HMAC ",
        "hmac",
        " ",
        ",",
        "=",
        "\"",
        "username",
        "algorithm",
        "headers",
        "signature",
        "hmac-sha512",
        "HMAC-SHA256",
        "x-date",
        "(request-target)",
        "host",
        "content-sha512",
        "abc+/=",
        "participant-1",
        "\\",
    ];

    fn plain_text(chars: &'static str) -> impl Strategy<Value = String> {
        let chars: Vec<char> = chars.chars().collect();
        proptest::collection::vec(proptest::sample::select(chars), 1..24)
            .prop_map(|cs| cs.into_iter().collect())
    }

    #[test]
    fn fuzz_signature_authorization_headers() {
        for_a_while(
            "hmac Authorization header",
            text_of(AUTH_TOKENS, 16),
            |text| {
                if let Some(auth) = Authorization::parse(&text) {
                    prop_assert!(!auth.username.is_empty());
                    prop_assert!(auth.headers.iter().all(|h| *h == h.to_ascii_lowercase()));
                }
                Ok(())
            },
        );
        let well_formed = (
            plain_text("abcdefghijklmnopqrstuvwxyzABC0123456789-_.@"),
            any::<bool>(),
            proptest::collection::vec(
                proptest::sample::select(
                    &["x-date", "(request-target)", "Content-SHA512", "host"][..],
                ),
                0..5,
            ),
            plain_text("ABCDEFabcdef0123456789+/="),
        );
        for_a_while(
            "hmac Authorization round trip",
            well_formed,
            |(username, sha512, headers, signature)| {
                let auth = Authorization {
                    username,
                    algorithm: if sha512 {
                        crate::ingo::signing::Algorithm::HmacSha512
                    } else {
                        crate::ingo::signing::Algorithm::HmacSha256
                    },
                    headers: headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
                    signature,
                };
                prop_assert_eq!(Authorization::parse(&auth.to_header()), Some(auth));
                Ok(())
            },
        );
    }

    const HEADER_TOKENS: &[&str] = &[
        "Mon, 07 Dec 2026 20:00:00 GMT",
        "Mon, 07 Dec 2026 20:00:00 +0000",
        "GMT",
        "31 Feb",
        "0",
        "18446744073709551616",
        "-1",
        "application/json",
        "; charset=utf-8",
        " ",
        "z4PhNX7vuL3xVChQ1m2AB9Yg5AQ=",
    ];

    /// The signed request's headers in every combination: the precheck answers or refuses,
    /// never panics.
    #[test]
    fn fuzz_signed_request_headers() {
        let names = [
            "authorization",
            "x-date",
            "content-sha512",
            "content-length",
            "content-type",
        ];
        let strategy = (
            text_of(AUTH_TOKENS, 16),
            proptest::collection::vec(text_of(HEADER_TOKENS, 4), 4),
            proptest::collection::vec(any::<u8>(), 0..64),
        );
        let now = chrono::DateTime::parse_from_rfc2822("Mon, 07 Dec 2026 20:00:00 GMT")
            .expect("date")
            .to_utc();
        for_a_while(
            "signed request headers",
            strategy,
            |(auth, values, body)| {
                let mut map: HashMap<&str, String> = HashMap::new();
                map.insert(names[0], auth);
                for (name, value) in names[1..].iter().zip(values) {
                    if !value.is_empty() {
                        map.insert(name, value);
                    }
                }
                let header = |name: &str| map.get(name).map(String::as_str);
                let request = SignedRequest {
                    request_line: "POST /api/v1/sessions/point-in-time/plugin HTTP/1.1".to_owned(),
                    header: &header,
                    body: &body,
                };
                let _ = precheck(&request, now);
                Ok(())
            },
        );
    }

    #[test]
    fn fuzz_basic_authorization_headers() {
        const BASIC_TOKENS: &[&str] = &[
            "Basic ",
            "basic ",
            "BASIC ",
            "=",
            "==",
            "Og",
            "cWNfMTpxc18y",
            " ",
            ":",
        ];
        for_a_while(
            "Basic Authorization header",
            text_of(BASIC_TOKENS, 8),
            |text| {
                if let Ok(Some((id, _))) = basic_credentials(&text) {
                    prop_assert!(!id.contains(':'));
                }
                Ok(())
            },
        );
        let pair = (plain_text("abcXYZ0123_-"), any::<String>());
        for_a_while("Basic Authorization round trip", pair, |(id, secret)| {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            prop_assert_eq!(
                basic_credentials(&format!("Basic {encoded}")),
                Ok(Some((id, secret)))
            );
            Ok(())
        });
    }
}
