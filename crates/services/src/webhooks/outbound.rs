//! Sending deliveries: HTTP clients that reach only permitted addresses, and authentication
//! to receivers (Basic, API key, OAuth2 client credentials, mutual TLS).
//!
//! The address rules apply twice: when a URL is saved ([`check_target`]) and when a request
//! is sent. At send time an IP literal is checked before anything is sent, and a name goes
//! through [`GuardedResolver`], which resolves it and hands the HTTP client only permitted
//! addresses, so the connection goes to an address that was checked (no DNS rebinding).
//! Redirects are never followed.

use super::address::{self, Network};
use crate::config::Config;
use quittance_domain::ids::AccessSetupId;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Client, Url};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most of a response body kept for the delivery log.
pub const LOGGED_BODY_BYTES: usize = 1024;

/// How long saving a URL waits for its name to resolve.
const SAVE_RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

/// Resolves names to the addresses the allow-list and the address rules permit.
struct GuardedResolver {
    allowed: Arc<Vec<Network>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let permitted: Vec<SocketAddr> = found
                .filter(|a| address::check(a.ip(), &allowed).is_ok())
                .collect();
            if permitted.is_empty() {
                return Err(format!("{host} resolves only to refused addresses").into());
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// Why a target URL is refused.
pub fn refused_url(url: &str, allowed: &[Network]) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL".to_owned());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials; use an access setup".to_owned());
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| "must name a host".to_owned())?;
    // The URL parser has already turned odd IPv4 spellings (2130706433, 0x7f.1, 127.1)
    // into dotted form, so one check covers them.
    if let Some(ip) = address::ip_literal(host) {
        address::check(ip, allowed).map_err(|reason| format!("points to a {reason} address"))?;
    }
    Ok(parsed)
}

/// Checks a target URL when it is saved: its form, an IP literal, and what a name resolves to
/// now. A name that does not resolve yet is accepted: it is checked again at every send.
pub async fn check_target(url: &str, allowed: &[Network]) -> Result<Url, String> {
    let parsed = refused_url(url, allowed)?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if address::ip_literal(&host).is_none() {
        let port = parsed.port_or_known_default().unwrap_or(443);
        let lookup = tokio::net::lookup_host((host.as_str(), port));
        if let Ok(Ok(found)) = tokio::time::timeout(SAVE_RESOLVE_TIMEOUT, lookup).await {
            let found: Vec<SocketAddr> = found.collect();
            if !found.is_empty()
                && found
                    .iter()
                    .all(|a| address::check(a.ip(), allowed).is_err())
            {
                let reason = found
                    .iter()
                    .find_map(|a| address::check(a.ip(), allowed).err())
                    .unwrap_or("refused");
                return Err(format!("resolves to a {reason} address"));
            }
        }
    }
    Ok(parsed)
}

/// A client certificate and its private key, both PEM.
pub struct ClientCertificate<'a> {
    pub setup: &'a AccessSetupId,
    pub version: i64,
    pub certificate_pem: &'a str,
    pub private_key_pem: &'a str,
}

/// The HTTP clients deliveries go out through, and the OAuth2 tokens they carry.
/// What every delivery client is built with.
struct ClientSettings {
    allowed: Arc<Vec<Network>>,
    roots: Vec<reqwest::Certificate>,
    timeout: Duration,
    pool: usize,
}

impl ClientSettings {
    fn build(&self, identity: Option<reqwest::Identity>) -> reqwest::Result<Client> {
        let mut builder = Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(self.pool)
            .user_agent(concat!("Quittance-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                allowed: self.allowed.clone(),
            }))
            .tls_certs_merge(self.roots.clone());
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        builder.build()
    }
}

pub struct Outbound {
    settings: ClientSettings,
    plain: Client,
    /// Clients presenting a client certificate, per access setup and its version.
    with_certificate: Mutex<HashMap<(AccessSetupId, i64), Client>>,
    /// Access tokens per access setup, until they expire.
    tokens: Mutex<HashMap<AccessSetupId, (String, Instant)>>,
    /// Held while a token is fetched, so concurrent deliveries wait for one fetch.
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("allowed", &self.settings.allowed)
            .field("timeout", &self.settings.timeout)
            .finish_non_exhaustive()
    }
}

impl Outbound {
    pub fn new(config: &Config) -> Result<Outbound, String> {
        let allowed = config
            .webhook_allowed_networks
            .iter()
            .map(|n| Network::parse(n).map_err(|e| format!("webhook_allowed_networks: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let roots = match &config.webhook_root_certificates {
            None => Vec::new(),
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    format!(
                        "webhook_root_certificates: cannot read {}: {e}",
                        path.display()
                    )
                })?;
                reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| format!("webhook_root_certificates: {}: {e}", path.display()))?
            }
        };
        let settings = ClientSettings {
            allowed: Arc::new(allowed),
            roots,
            timeout: Duration::from_secs(config.webhook_timeout_seconds.max(1)),
            pool: config.webhook_concurrency.max(1),
        };
        Ok(Outbound {
            plain: settings
                .build(None)
                .map_err(|e| format!("webhook client: {e}"))?,
            settings,
            with_certificate: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    pub fn allowed(&self) -> &[Network] {
        &self.settings.allowed
    }

    /// The client for a delivery: the shared one, or one presenting `certificate`.
    pub fn client(&self, certificate: Option<ClientCertificate<'_>>) -> Result<Client, String> {
        let Some(cert) = certificate else {
            return Ok(self.plain.clone());
        };
        let key = (cert.setup.clone(), cert.version);
        let mut cache = self
            .with_certificate
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(client) = cache.get(&key) {
            return Ok(client.clone());
        }
        let pem = format!("{}\n{}", cert.certificate_pem, cert.private_key_pem);
        let identity = reqwest::Identity::from_pem(pem.as_bytes())
            .map_err(|e| format!("the client certificate cannot be used: {e}"))?;
        let client = self
            .settings
            .build(Some(identity))
            .map_err(|e| format!("the client certificate cannot be used: {e}"))?;
        // Older versions of this setup's certificate are of no further use.
        cache.retain(|(setup, _), _| setup != cert.setup);
        cache.insert(key, client.clone());
        Ok(client)
    }

    /// An OAuth2 access token for `setup`: the cached one, or a new one from `token_url`
    /// (client credentials grant, the client authenticated with HTTP Basic).
    pub async fn access_token(
        &self,
        client: &Client,
        setup: &AccessSetupId,
        grant: &TokenGrant<'_>,
    ) -> Result<String, String> {
        if let Some(token) = self.cached_token(setup) {
            return Ok(token);
        }
        let _fetching = self.fetching.lock().await;
        // Another delivery may have fetched one meanwhile.
        if let Some(token) = self.cached_token(setup) {
            return Ok(token);
        }
        let url = refused_url(grant.token_url, self.allowed())
            .map_err(|e| format!("the token URL {e}"))?;
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = grant.scope {
            form.push(("scope", scope));
        }
        let answer = client
            .post(url)
            .basic_auth(grant.client_id, Some(grant.client_secret))
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("the token request failed: {}", describe(&e)))?;
        let status = answer.status();
        if !status.is_success() {
            return Err(format!("the token endpoint answered {}", status.as_u16()));
        }
        let body: TokenAnswer = answer
            .json()
            .await
            .map_err(|e| format!("the token endpoint's answer is not a token: {e}"))?;
        // Renew a little early, so a token never expires on its way to the receiver.
        let life = Duration::from_secs(body.expires_in.unwrap_or(3600).saturating_sub(30).max(1));
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                setup.clone(),
                (body.access_token.clone(), Instant::now() + life),
            );
        Ok(body.access_token)
    }

    fn cached_token(&self, setup: &AccessSetupId) -> Option<String> {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(setup)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(token, _)| token.clone())
    }

    /// Forgets a token the receiver refused, so the next request fetches a new one.
    pub fn forget_token(&self, setup: &AccessSetupId) {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(setup);
    }
}

/// What an OAuth2 client credentials grant needs.
pub struct TokenGrant<'a> {
    pub token_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub scope: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

/// An HTTP client error with its causes, which say what really happened (a refused address,
/// a certificate problem).
pub fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(list: &[&str]) -> Vec<Network> {
        list.iter().filter_map(|n| Network::parse(n).ok()).collect()
    }

    #[test]
    fn odd_ipv4_spellings_are_read_as_the_address_they_mean() {
        for url in [
            "http://2130706433/hook",
            "http://0x7f.1/hook",
            "http://127.1/hook",
            "http://0177.0.0.1/hook",
            "http://0x7f000001/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://[::1]:8080/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://10.1.1/hook",
            "http://0/hook",
        ] {
            let refused = refused_url(url, &[]);
            assert!(
                refused.as_ref().is_err_and(|e| e.contains("address")),
                "{url}: {refused:?}"
            );
        }
    }

    #[test]
    fn urls_are_checked_for_form_and_allow_list() {
        assert!(refused_url("ftp://example.com/x", &[]).is_err());
        assert!(refused_url("not a url", &[]).is_err());
        assert!(refused_url("https://user:pw@example.com/x", &[]).is_err());
        assert!(refused_url("https://example.com/webhook", &[]).is_ok());
        assert!(refused_url("http://93.184.216.34/x", &[]).is_ok());
        let local = allowed(&["127.0.0.1/32"]);
        assert!(refused_url("http://127.0.0.1:4000/hook", &local).is_ok());
        assert!(refused_url("http://127.1:4000/hook", &local).is_ok());
        assert!(refused_url("http://127.0.0.2:4000/hook", &local).is_err());
    }

    #[tokio::test]
    async fn names_that_resolve_to_refused_addresses_are_refused_when_saved() {
        let refused = check_target("http://localhost:9/hook", &[]).await;
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("loopback")),
            "{refused:?}"
        );
        let local = allowed(&["127.0.0.1/32", "::1/128"]);
        assert!(
            check_target("http://localhost:9/hook", &local)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_resolver_hands_out_only_permitted_addresses() {
        let guarded = GuardedResolver {
            allowed: Arc::new(Vec::new()),
        };
        let name: Name = "localhost".parse().unwrap_or_else(|_| unreachable!());
        let refused = guarded.resolve(name).await;
        assert!(refused.is_err());
        let permissive = GuardedResolver {
            allowed: Arc::new(allowed(&["127.0.0.0/8", "::1/128"])),
        };
        let name: Name = "localhost".parse().unwrap_or_else(|_| unreachable!());
        let found: Vec<SocketAddr> = permissive
            .resolve(name)
            .await
            .map(|a| a.collect())
            .unwrap_or_default();
        assert!(!found.is_empty());
        assert!(found.iter().all(|a| a.ip().is_loopback()));
    }
}
