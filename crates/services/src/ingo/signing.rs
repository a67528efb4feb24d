//! Signed requests, as Ingo documents them for all its APIs (Kong's hmac-auth):
//!
//! ```text
//! Authorization: hmac username="<username>", algorithm="hmac-sha512",
//!     headers="request-line x-date content-type content-sha512 content-length", signature="<base64>"
//! ```
//!
//! The signing string has one line per name in `headers`, in that order, joined by `\n`:
//! `request-line` is the request line itself (`POST /api/v1/… HTTP/1.1`), every other name is
//! `name: value` with the name in lowercase. The signature is the base64 of
//! HMAC-SHA512(secret, signing string); `hmac-sha256` is accepted for older integrations.
//! `X-Date` (RFC 1123, GMT) must be within [`MAX_SKEW`] of the server's clock, and
//! `Content-sha512` the base64 of the body's raw SHA-512 digest.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// How far `X-Date` may be from the server's clock, either way; signatures are remembered this
/// long (twice, to cover both sides) and a signature seen again is a replay.
pub const MAX_SKEW: chrono::Duration = chrono::Duration::seconds(300);

/// The headers every signature must cover; `content-type` and `content-length` too when the
/// request has a body.
const ALWAYS_SIGNED: [&str; 3] = ["request-line", "x-date", "content-sha512"];
const SIGNED_WITH_BODY: [&str; 2] = ["content-type", "content-length"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha512,
    HmacSha256,
}

impl Algorithm {
    pub fn parse(text: &str) -> Option<Algorithm> {
        match text.to_ascii_lowercase().as_str() {
            "hmac-sha512" => Some(Algorithm::HmacSha512),
            "hmac-sha256" => Some(Algorithm::HmacSha256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::HmacSha512 => "hmac-sha512",
            Algorithm::HmacSha256 => "hmac-sha256",
        }
    }
}

/// The `Authorization: hmac …` header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub username: String,
    pub algorithm: Algorithm,
    /// Lowercase header names, in signing order.
    pub headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    /// Parses `hmac username="…", algorithm="…", headers="…", signature="…"`.
    pub fn parse(value: &str) -> Option<Authorization> {
        let (scheme, rest) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("hmac") {
            return None;
        }
        let (mut username, mut algorithm, mut headers, mut signature) = (None, None, None, None);
        for part in split_parameters(rest) {
            let (name, quoted) = part.split_once('=')?;
            let text = quoted.trim().strip_prefix('"')?.strip_suffix('"')?;
            match name.trim().to_ascii_lowercase().as_str() {
                "username" => username = Some(text.to_owned()),
                "algorithm" => algorithm = Some(Algorithm::parse(text)?),
                "headers" => {
                    headers = Some(
                        text.split_ascii_whitespace()
                            .map(str::to_ascii_lowercase)
                            .collect::<Vec<_>>(),
                    )
                }
                "signature" => signature = Some(text.to_owned()),
                _ => return None,
            }
        }
        Some(Authorization {
            username: username.filter(|u| !u.is_empty())?,
            algorithm: algorithm?,
            headers: headers?,
            signature: signature?,
        })
    }

    /// The header as a client sends it.
    pub fn to_header(&self) -> String {
        format!(
            "hmac username=\"{}\", algorithm=\"{}\", headers=\"{}\", signature=\"{}\"",
            self.username,
            self.algorithm.as_str(),
            self.headers.join(" "),
            self.signature
        )
    }
}

/// Splits `a="x", b="y z"` at the commas outside quotes.
fn split_parameters(text: &str) -> Vec<&str> {
    let (mut parts, mut start, mut quoted) = (Vec::new(), 0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The base64 of the body's raw SHA-512 digest: the `Content-sha512` header's value.
pub fn content_sha512(body: &[u8]) -> String {
    STANDARD.encode(Sha512::digest(body))
}

/// The signing string for `names`: `None` when a named header is missing. `header` looks a
/// header up by its lowercase name.
pub fn signing_string<'a>(
    names: &[String],
    request_line: &str,
    header: impl Fn(&str) -> Option<&'a str>,
) -> Option<String> {
    names
        .iter()
        .map(|name| match name.as_str() {
            "request-line" => Some(request_line.to_owned()),
            other => header(other).map(|value| format!("{other}: {}", value.trim())),
        })
        .collect::<Option<Vec<_>>>()
        .map(|lines| lines.join("\n"))
}

/// base64(HMAC(secret, signing string)).
pub fn sign(algorithm: Algorithm, secret: &str, signing_string: &str) -> String {
    STANDARD.encode(mac(algorithm, secret, signing_string))
}

fn mac(algorithm: Algorithm, secret: &str, text: &str) -> Vec<u8> {
    // HMAC accepts keys of any length.
    #[allow(clippy::expect_used)]
    match algorithm {
        Algorithm::HmacSha512 => {
            let mut mac = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("any key");
            mac.update(text.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Algorithm::HmacSha256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
            mac.update(text.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    }
}

/// A request as the signature sees it.
pub struct SignedRequest<'a> {
    /// `POST /api/v1/sessions/point-in-time/plugin HTTP/1.1`
    pub request_line: String,
    /// Looks a header up by lowercase name.
    pub header: &'a (dyn Fn(&str) -> Option<&'a str> + Sync),
    pub body: &'a [u8],
}

/// Why a signed request was refused. The client is told only [`Refusal::client_reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No usable `Authorization: hmac …` header.
    Malformed,
    /// `X-Date` missing, unreadable, or further than [`MAX_SKEW`] from the server's clock.
    Skew,
    /// The signature does not cover the required headers.
    HeadersNotSigned,
    /// `Content-sha512` does not match the body.
    Digest,
    /// Unknown username, or a signature that does not match.
    Signature,
    /// The signature was seen before.
    Replay,
}

impl Refusal {
    /// What a correct client needs to know: that its clock is off, or that the request is not
    /// signed as documented. Nothing says which header, username or secret was wrong.
    pub fn client_reason(self) -> &'static str {
        match self {
            Refusal::Skew => "request_date_out_of_range",
            Refusal::Malformed
            | Refusal::HeadersNotSigned
            | Refusal::Digest
            | Refusal::Signature
            | Refusal::Replay => "invalid_signature",
        }
    }
}

/// The parts of a request checked before the participant's secret is needed: the header's
/// form, the covered headers, the date and the body digest.
pub fn precheck(request: &SignedRequest<'_>, now: DateTime<Utc>) -> Result<Authorization, Refusal> {
    let header = request.header;
    let auth = header("authorization")
        .and_then(Authorization::parse)
        .ok_or(Refusal::Malformed)?;
    let with_body = !request.body.is_empty() || header("content-length").is_some();
    let required = ALWAYS_SIGNED.iter().chain(if with_body {
        &SIGNED_WITH_BODY[..]
    } else {
        &[]
    });
    if required
        .into_iter()
        .any(|name| !auth.headers.iter().any(|h| h == name))
    {
        return Err(Refusal::HeadersNotSigned);
    }
    let date = header("x-date")
        .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
        .ok_or(Refusal::Skew)?;
    if (now - date.with_timezone(&Utc)).abs() > MAX_SKEW {
        return Err(Refusal::Skew);
    }
    let digest = header("content-sha512").ok_or(Refusal::Digest)?;
    if digest.trim() != content_sha512(request.body) {
        return Err(Refusal::Digest);
    }
    if with_body {
        let length_matches = header("content-length")
            .and_then(|l| l.trim().parse::<usize>().ok())
            .is_some_and(|l| l == request.body.len());
        let json = header("content-type").is_some_and(|t| {
            t.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
        if !length_matches || !json {
            return Err(Refusal::Malformed);
        }
    }
    Ok(auth)
}

/// Checks the signature itself with the participant's secret, in constant time.
pub fn check_signature(
    auth: &Authorization,
    request: &SignedRequest<'_>,
    secret: &str,
) -> Result<(), Refusal> {
    let text = signing_string(&auth.headers, &request.request_line, request.header)
        .ok_or(Refusal::HeadersNotSigned)?;
    let given = STANDARD
        .decode(auth.signature.trim())
        .map_err(|_| Refusal::Signature)?;
    let expected = mac(auth.algorithm, secret, &text);
    if bool::from(given.ct_eq(&expected)) {
        Ok(())
    } else {
        Err(Refusal::Signature)
    }
}

/// What a client sends for `body` at `date`: the headers to add, `Authorization` included.
/// The worked example in docs/ingopay.md, the tests and the benchmark sign with it.
pub fn client_headers(
    username: &str,
    secret: &str,
    request_line: &str,
    date: DateTime<Utc>,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let x_date = date.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let digest = content_sha512(body);
    let length = body.len().to_string();
    let headers: Vec<(&'static str, String)> = vec![
        ("x-date", x_date),
        ("content-type", "application/json".to_owned()),
        ("content-sha512", digest),
        ("content-length", length),
    ];
    let names: Vec<String> = std::iter::once("request-line".to_owned())
        .chain(headers.iter().map(|(n, _)| (*n).to_owned()))
        .collect();
    let lookup = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    let text = signing_string(&names, request_line, lookup).unwrap_or_default();
    let auth = Authorization {
        username: username.to_owned(),
        algorithm: Algorithm::HmacSha512,
        headers: names,
        signature: sign(Algorithm::HmacSha512, secret, &text),
    };
    let mut out = headers;
    out.push(("authorization", auth.to_header()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: &str = include_str!("../../../../docs/ingopay.md");

    /// The text of the first fenced block whose info string is `info`, after `from`.
    fn block<'a>(from: &'a str, info: &str) -> &'a str {
        let start = from.find(&format!("```{info}\n")).expect("block") + info.len() + 4;
        let len = from[start..].find("```").expect("block end");
        &from[start..start + len]
    }

    /// The worked example's body, expected digest and expected signature.
    fn worked_example() -> (String, String, String) {
        let example = &DOCS[DOCS.find("### Worked example").expect("section")..];
        let body = block(example, "json").trim_end_matches('\n').to_owned();
        let headers = block(
            &example[example.find("the headers are").expect("headers")..],
            "",
        );
        let value = |prefix: &str| {
            let line = headers
                .lines()
                .find(|l| l.starts_with(prefix))
                .expect(prefix);
            line[prefix.len()..].trim_matches('"').to_owned()
        };
        (body, value("Content-sha512: "), value("signature="))
    }

    fn example_date() -> DateTime<Utc> {
        DateTime::parse_from_rfc2822("Mon, 07 Dec 2026 09:00:00 GMT")
            .expect("date")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_worked_example_in_the_docs_is_what_quittance_computes() {
        let (body, digest, signature) = worked_example();
        assert_eq!(body.len(), 192);
        let line = "POST /api/v1/sessions/point-in-time/plugin HTTP/1.1";
        let headers = client_headers(
            "ingo_example",
            "example-secret-not-for-use",
            line,
            example_date(),
            body.as_bytes(),
        );
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .expect(name)
        };
        assert_eq!(get("content-sha512"), digest);
        assert_eq!(get("x-date"), "Mon, 07 Dec 2026 09:00:00 GMT");
        let auth = Authorization::parse(&get("authorization")).expect("parses");
        assert_eq!(auth.signature, signature);
    }

    /// The docs' shell, Python and Node snippets, run on the worked example, print its
    /// signature: three clients written apart from Quittance's agree with it.
    #[test]
    fn signing_snippets_reproduce_the_worked_example() {
        let (body, _, signature) = worked_example();
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("body.json"), &body).expect("body");
        for (info, program, flag) in [
            ("sh sign", "bash", "-c"),
            ("python sign", "python3", "-c"),
            ("js sign", "node", "-e"),
        ] {
            let code = block(DOCS, info);
            let out = std::process::Command::new(program)
                .arg(flag)
                .arg(code)
                .current_dir(dir.path())
                .env("INGO_USERNAME", "ingo_example")
                .env("INGO_SECRET", "example-secret-not-for-use")
                .env("X_DATE", "Mon, 07 Dec 2026 09:00:00 GMT")
                .output()
                .unwrap_or_else(|e| panic!("{program}: {e}"));
            let printed = String::from_utf8_lossy(&out.stdout);
            assert!(
                printed.contains(&format!("signature=\"{signature}\"")),
                "{info}: {printed}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                printed.contains("username=\"ingo_example\""),
                "{info}: {printed}"
            );
        }
    }

    #[test]
    fn the_authorization_header_round_trips() {
        let header = r#"hmac username="acme", algorithm="hmac-sha512", headers="request-line x-date content-type content-sha512 content-length", signature="c2ln""#;
        let auth = Authorization::parse(header).expect("parses");
        assert_eq!(auth.username, "acme");
        assert_eq!(auth.algorithm, Algorithm::HmacSha512);
        assert_eq!(auth.headers.len(), 5);
        assert_eq!(auth.to_header(), header);
        assert!(Authorization::parse("Bearer abc").is_none());
        assert!(
            Authorization::parse(
                r#"hmac username="a", algorithm="md5", headers="x", signature="s""#
            )
            .is_none()
        );
        assert!(Authorization::parse(r#"hmac username="a", headers="x", signature="s""#).is_none());
    }

    #[test]
    fn client_headers_pass_the_checks_and_a_changed_byte_fails_them() {
        let now = Utc::now();
        let body = br#"{"a":1}"#;
        let line = "POST /api/v1/sessions/point-in-time/plugin HTTP/1.1";
        let headers = client_headers("acme", "s3cret", line, now, body);
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        let request = SignedRequest {
            request_line: line.to_owned(),
            header: &lookup,
            body,
        };
        let auth = precheck(&request, now).expect("prechecked");
        assert_eq!(check_signature(&auth, &request, "s3cret"), Ok(()));
        assert_eq!(
            check_signature(&auth, &request, "other"),
            Err(Refusal::Signature)
        );
        let altered = SignedRequest {
            request_line: line.to_owned(),
            header: &lookup,
            body: br#"{"a":2}"#,
        };
        assert_eq!(precheck(&altered, now), Err(Refusal::Digest));
        assert_eq!(
            precheck(&request, now + chrono::Duration::seconds(301)),
            Err(Refusal::Skew)
        );
        assert!(precheck(&request, now + chrono::Duration::seconds(299)).is_ok());
        let other_line = SignedRequest {
            request_line: "POST /api/v1/other HTTP/1.1".to_owned(),
            header: &lookup,
            body,
        };
        assert_eq!(
            check_signature(&auth, &other_line, "s3cret"),
            Err(Refusal::Signature)
        );
    }
}
