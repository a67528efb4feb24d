//! Quittance's HTTP server: the faces (`v1/`, seed 000's receivables API; `isoamp/`, seed
//! 001's `/api`), the HTTP plumbing under them (`http/`), the operations endpoints, the
//! OpenAPI document and docs page. Faces translate; the work is in `quittance-services`.

pub mod http;
pub mod ingo;
pub mod isoamp;
pub mod ops;
pub mod pages;
pub mod v1;

use crate::http::{auth, idempotency, telemetry};
use quittance_services::workers::{Which, Workers};

use crate::http::error::{ApiError, ErrorBody, ErrorClass};
use crate::http::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quittance",
        description = "A self-hostable payments and receivables server. Every non-2xx answer is \
            `{\"error_class\",\"message\",\"code\",\"request_id\"}` plus `param` naming the field at fault.",
        license(name = "Apache-2.0")
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "authentication", description = "OAuth 2.0 client credentials"),
        (name = "clients", description = "The creditors debts belong to"),
        (name = "accounts", description = "Master accounts: a patient or debtor"),
        (name = "sub-accounts", description = "One visit or one debt"),
        (name = "import", description = "Creating and updating accounts, one at a time or in bulk"),
        (name = "payment-methods", description = "The vault: saved cards and bank accounts, shown as brand and last four"),
        (name = "payments", description = "Sale, authorization, capture, void, refunds, settlement"),
        (name = "payment-plans", description = "Agreements to pay sub-accounts over time, charged by the scheduler"),
        (name = "settings", description = "The organization's settings for payment plans"),
        (name = "reports", description = "The payments report, as JSON pages or streamed CSV"),
        (name = "sandbox", description = "Test-mode events the sandbox processor can be made to send"),
        (name = "events", description = "The event log: every change, recorded with it"),
        (name = "ingopay", description = "IngoPay participants (seed 003). The session API itself, `POST /api/v1/sessions/point-in-time/plugin`, is signed and answers in seed 003's envelope: see docs/ingopay.md"),
        (name = "iso-amp", description = "The ISO Amp face (seed 001), exactly as its documentation prints it"),
        (name = "operations", description = "Health, readiness and metrics")
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from POST /oauth/token, or an API key",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "An API key sent bare, as the ISO Amp face does",
            ))),
        );
        openapi.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("api_key", Vec::<String>::new()),
        ]);
    }
}

/// An answer in the `ErrorBody` shape.
fn error_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// Every operation of a path.
fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
}

/// The constraints the server holds query parameters to, written once here by name rather
/// than on every operation that takes them, so a schema-driven client generates only what is
/// accepted: pages from 1, limits 1 to 100, ids in their typed form, the accepted values of
/// each filter, dates and times as the server reads them. The operations endpoints take no
/// credentials (`/metrics` is for loopback or its own token).
struct QueryConstraints;

impl QueryConstraints {
    /// The schema of query parameter `name` on `path`, where Quittance holds it to more than
    /// its type.
    fn schema(path: &str, name: &str) -> Option<utoipa::openapi::schema::Object> {
        use quittance_domain::events::EventType;
        use quittance_domain::ids::{AccountId, ClientId, DeliveryId, EventId};
        use quittance_domain::instruments::MethodType;
        use quittance_domain::payments::PaymentStatus;
        use quittance_domain::plans::PlanStatus;
        use quittance_domain::receivables::AccountStatus;
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        let integer = |min: i64, max: Option<i64>| {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(min))
                .maximum(max)
        };
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let id = |prefix: &str| string().pattern(Some(format!("^{prefix}_[0-9a-f]{{32}}$")));
        let one_of = |values: Vec<&str>| string().enum_values(Some(values));
        let formatted =
            |format: KnownFormat| string().format(Some(SchemaFormat::KnownFormat(format)));
        let schema = match (path, name) {
            (_, "current_page") => integer(1, None),
            (_, "limit") => integer(1, Some(100)),
            (_, "startTime") => integer(0, Some(isoamp::events::LAST_SECOND)),
            (_, "startAfterId" | "start_after_id") => {
                string().format(Some(SchemaFormat::Custom("uuid".to_owned())))
            }
            (_, "account_id") => id(AccountId::PREFIX),
            (_, "client_id") => id(ClientId::PREFIX),
            ("/v1/events", "starting_after") => id(EventId::PREFIX),
            ("/v1/events", "type") => one_of(EventType::ALL.iter().map(|s| s.as_str()).collect()),
            (_, "starting_after") => id(DeliveryId::PREFIX),
            ("/v1/accounts", "status") => {
                one_of(AccountStatus::ALL.iter().map(|s| s.as_str()).collect())
            }
            ("/v1/payment_plans", "status") => {
                one_of(PlanStatus::ALL.iter().map(|s| s.as_str()).collect())
            }
            (_, "status") => one_of(PaymentStatus::ALL.iter().map(|s| s.as_str()).collect()),
            (_, "method_type") => one_of(MethodType::ALL.iter().map(|s| s.as_str()).collect()),
            ("/v1/reports/payments", "format") => one_of(vec!["json", "csv"]),
            (_, "created_from" | "created_to") => formatted(KnownFormat::Date),
            (_, "since" | "until") => formatted(KnownFormat::DateTime),
            _ => return None,
        };
        Some(schema.build())
    }
}

impl Modify for QueryConstraints {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics");
            for operation in operations(item) {
                if public {
                    operation.security = Some(Vec::new());
                }
                let mut cursor = false;
                for parameter in operation.parameters.iter_mut().flatten() {
                    let utoipa::openapi::RefOr::T(parameter) = parameter else {
                        continue;
                    };
                    if !matches!(parameter.parameter_in, ParameterIn::Query) {
                        continue;
                    }
                    if let Some(schema) = Self::schema(path, &parameter.name) {
                        parameter.schema = Some(schema.into());
                    }
                    if matches!(parameter.name.as_str(), "startAfterId" | "start_after_id") {
                        cursor = true;
                    }
                }
                if cursor {
                    operation
                        .responses
                        .responses
                        .entry("404".to_owned())
                        .or_insert_with(|| {
                            error_response("The cursor names nothing of this organization").into()
                        });
                }
            }
        }
    }
}

/// Documents on every operation the error answers any request can get, all in the
/// `ErrorBody` shape: malformed input, authentication, the portal header, bodies too large or
/// of the wrong type, and server or database failure.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let authenticated = path.starts_with("/v1/") || path.starts_with("/api/");
            for operation in operations(item) {
                let has_body = operation.request_body.is_some();
                let mut add = |code: &str, description: &str| {
                    operation
                        .responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error_response(description).into());
                };
                if authenticated || has_body {
                    add(
                        "400",
                        "Malformed JSON or query, or a field of the wrong type (`param` names it)",
                    );
                }
                if authenticated {
                    add("401", "Missing, wrong, expired or revoked credentials");
                    add("403", "X-IC-intelligent-portal names another organization");
                }
                if has_body {
                    add("413", "The body is larger than the configured limit");
                    add("415", "The body's content type is not accepted here");
                }
                add(
                    "500",
                    "Something went wrong on our side; quote the request_id",
                );
                add("503", "The database cannot be reached");
            }
        }
    }
}

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    let (api, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::token))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .merge(v1::routes())
        .merge(isoamp::routes())
        .split_for_parts();
    // After the routes are in: the modifier walks every operation.
    CommonErrors.modify(&mut openapi);
    QueryConstraints.modify(&mut openapi);
    api.merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .merge(ingo::routes())
        .merge(pages::routes())
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(state.config.max_json_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            telemetry::observe,
        ))
        .with_state(state)
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorClass::NotFound,
        format!("no route for {method} {}", uri.path()),
    )
}

/// Serves until `shutdown` completes, with the configured workers running beside it; then
/// stops accepting, gives requests in flight `shutdown_grace_seconds` to finish, and the
/// workers as long again to finish their round.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = Duration::from_secs(state.config.shutdown_grace_seconds);
    let workers = Workers::start(&state.app, Which::Configured);
    let (fired, on_fire) = tokio::sync::oneshot::channel::<()>();
    let asked = Arc::new(OnceLock::new());
    let signal = {
        let asked = asked.clone();
        async move {
            shutdown.await;
            asked.get_or_init(Instant::now);
            let _ = fired.send(());
        }
    };
    let limits = http::listener::ConnectionLimits {
        header_timeout: Duration::from_secs(state.config.http_header_timeout_seconds.max(1)),
        body_idle: Duration::from_secs(state.config.http_body_idle_seconds.max(1)),
        max_connections: state.config.max_connections.max(1),
        max_per_client: state.config.max_connections_per_client.max(1),
    };
    let serving = http::listener::serve(listener, router(state), limits, signal);
    let grace_over = async {
        match on_fire.await {
            Ok(()) => tokio::time::sleep(grace).await,
            Err(_) => std::future::pending().await,
        }
    };
    let served = tokio::select! {
        served = serving => served,
        () = grace_over => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still running when the shutdown grace ended were cut off");
            Ok(())
        }
    };
    let requests_drained = asked.get().map(Instant::elapsed);
    workers.stop(grace).await;
    if let (Some(at), Some(drained)) = (asked.get(), requests_drained) {
        tracing::info!(
            requests_drained_ms = drained.as_millis(),
            stopped_ms = at.elapsed().as_millis(),
            "stopped"
        );
    }
    served
}
