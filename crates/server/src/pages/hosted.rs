//! The IngoPay hosted page (seed 003): opened inside the participant's iFrame from an
//! `authorized_url`, which it trades for a cookie and leaves at once (the token is never left
//! in the address bar or history). Then the recipient confirms who they are, chooses where
//! the money should go and enters that account; the page tells its host how it ended by
//! `postMessage` to the session's `host_uri` only. Framing is allowed to that origin alone.

use super::texts::{Texts, for_locale};
use super::{
    CardEntry, ErrorItem, Field, FrameAncestors, Message, cookie, csrf_matches, csrf_token,
    mark_errors, render,
};
use crate::http::state::AppState;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quittance_services::error::ServiceError;
use quittance_services::ingo::hosted::{
    self, AccountInput, CaptureOutcome, LinkRefusal, PageState, Step, VerifyInput, destination,
};
use quittance_services::ingo::sessions;
use serde::Deserialize;
use std::collections::HashMap;

const COOKIE: &str = "quittance_hosted";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/session/{id}", get(open))
        .route("/session/{id}/page", get(show))
        .route("/session/{id}/verify", post(verify))
        .route("/session/{id}/account", post(account))
        .route("/session/{id}/cancel", post(cancel))
}

/// A plain page in the session's language, framed by its host when the session is known.
async fn message(
    state: &AppState,
    session: &str,
    status: StatusCode,
    pick: fn(&Texts) -> (&'static str, &'static str),
) -> Response {
    let (frame, t) = match hosted::host_and_locale(state, session).await {
        Ok(Some((host, locale))) => (FrameAncestors::Origin(host), for_locale(&locale)),
        _ => (FrameAncestors::None, for_locale("en-US")),
    };
    let (heading, body) = pick(t);
    render(
        status,
        &Message {
            lang: t.lang,
            heading,
            body,
        },
        &frame,
    )
}

async fn error_page(state: &AppState, session: &str, e: &ServiceError) -> Response {
    tracing::error!(
        error = e.message(),
        cause = e.cause().unwrap_or_default(),
        "hosted page failed"
    );
    message(state, session, StatusCode::INTERNAL_SERVER_ERROR, |t| {
        (t.error_title, t.error)
    })
    .await
}

#[derive(Deserialize)]
pub struct LinkQuery {
    t: Option<String>,
    h: Option<String>,
}

/// `GET /session/{id}?t=…&h=…`: the authorized URL, opened once within thirty seconds.
async fn open(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let (t, h) = (q.t.unwrap_or_default(), q.h.unwrap_or_default());
    match hosted::open_link(&state, &id, &t, &h).await {
        Ok(Ok(token)) => {
            let secure = sessions::public_base(&state).starts_with("https://");
            // Inside a cross-site iFrame the cookie must be SameSite=None (so Secure), and
            // Partitioned so that browsers blocking third-party cookies keep it for this frame.
            let attributes = if secure {
                "Secure; SameSite=None; Partitioned"
            } else {
                "SameSite=Lax"
            };
            let cookie = format!(
                "{COOKIE}={token}; Path=/session/{id}; Max-Age={}; HttpOnly; {attributes}",
                hosted::BROWSER_LIFETIME.num_seconds()
            );
            let mut response = see_page(&id);
            let headers = response.headers_mut();
            if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                headers.insert(header::SET_COOKIE, cookie);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Ok(Err(LinkRefusal::Altered)) => {
            message(&state, &id, StatusCode::FORBIDDEN, |t| {
                (t.link_altered_title, t.link_altered)
            })
            .await
        }
        Ok(Err(LinkRefusal::ExpiredOrUsed)) => {
            message(&state, &id, StatusCode::GONE, |t| {
                (t.link_expired_title, t.link_expired)
            })
            .await
        }
        Err(e) => error_page(&state, &id, &e).await,
    }
}

/// The session behind the request's cookie, with the cookie; or the page to show instead.
async fn session_of(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
) -> Result<(PageState, String), Response> {
    let Some(token) = cookie(headers, COOKIE).map(str::to_owned) else {
        return Err(message(state, id, StatusCode::UNAUTHORIZED, |t| {
            (t.link_expired_title, t.page_expired)
        })
        .await);
    };
    match hosted::page_state(state, id, &token).await {
        Ok(Some(page)) => Ok((page, token)),
        Ok(None) => Err(message(state, id, StatusCode::UNAUTHORIZED, |t| {
            (t.link_expired_title, t.page_expired)
        })
        .await),
        Err(e) => Err(error_page(state, id, &e).await),
    }
}

/// What the page tells its host (`static/hosted.js`).
pub struct EventData {
    event_name: &'static str,
    session_identifier: String,
    tracer_token: String,
    customer_account_token: String,
    funding_destination: String,
    target_origin: String,
}

pub struct Select {
    label: &'static str,
    options: Vec<(&'static str, &'static str)>,
    value: String,
}

#[derive(Template)]
#[template(path = "hosted/page.html")]
pub struct HostedPage {
    lang: &'static str,
    title: &'static str,
    t: &'static Texts,
    errors: Vec<ErrorItem>,
    step: Step,
    session_id: String,
    csrf: String,
    attempts_left: Option<String>,
    fields: Vec<Field>,
    destination: Option<&'static str>,
    /// The chosen destination's name, heading its form.
    chosen_label: &'static str,
    card: Option<CardEntry>,
    account_type: Option<Select>,
    destinations: Vec<(&'static str, &'static str)>,
    outcome_text: &'static str,
    event: Option<EventData>,
}

fn destinations(t: &Texts, paypal: bool) -> Vec<(&'static str, &'static str)> {
    let mut all = vec![
        (destination::DEBIT_CARD, t.debit_card),
        (destination::CREDIT_CARD, t.credit_card),
        (destination::BANK_ACCOUNT, t.bank_account),
    ];
    if paypal {
        all.push((destination::PAYPAL, t.paypal));
    }
    all
}

/// How the page is drawn for one request: the errors to show and what was typed.
#[derive(Default)]
struct Drawn {
    chosen: Option<String>,
    typed: HashMap<String, String>,
    failed: Vec<&'static str>,
    notice: Option<&'static str>,
}

fn attempts_left(page: &PageState, notice: &'static str, t: &Texts) -> String {
    let s = &page.session;
    let feature = if page.step() == Step::Verify {
        page.thresholds.recipient - s.recipient_failures
    } else {
        page.thresholds.account - s.account_failures
    };
    let left = feature
        .min(page.thresholds.session - s.session_failures)
        .max(0);
    format!("{notice} {} {left}", t.attempts_left)
        .trim_start()
        .to_owned()
}

fn field_message(t: &'static Texts, name: &str) -> &'static str {
    match name {
        "first_name" | "last_name" | "zip_code" => t.verify_mismatch,
        "card_number" => t.card_number_invalid,
        "exp_month" | "exp_year" => t.expiry_invalid,
        "cvv" => t.cvv_invalid,
        "name_on_account" => t.name_invalid,
        "routing_number" => t.routing_invalid,
        "account_number" => t.account_number_invalid,
        "account_number_confirmation" => t.confirmation_mismatch,
        "paypal_email" => t.paypal_email_invalid,
        _ => t.destination_invalid,
    }
}

fn draw(
    state: &AppState,
    page: &PageState,
    token: &str,
    status: StatusCode,
    drawn: Drawn,
) -> Response {
    let t = for_locale(&page.session.locale);
    let step = page.step();
    let s = &page.session;
    let mut fields = Vec::new();
    let mut card = None;
    let mut account_type = None;
    let paypal = page.paypal_enabled;
    let chosen = drawn
        .chosen
        .as_deref()
        .and_then(|c| destinations(t, paypal).into_iter().find(|(v, _)| *v == c))
        .map(|(v, _)| v);
    let title = match step {
        Step::Verify => t.verify_title,
        Step::Capture => t.capture_title,
        Step::Done => t.done_title,
        Step::Locked => t.locked_title,
        Step::Failed => t.failed_title,
        Step::Canceled => t.canceled_title,
    };
    match step {
        Step::Verify => {
            fields = vec![
                Field::text("first_name", t.first_name, "given-name")
                    .value(drawn.typed.get("first_name")),
                Field::text("last_name", t.last_name, "family-name")
                    .value(drawn.typed.get("last_name")),
                Field::text("zip_code", t.zip_code, "postal-code")
                    .numeric(10)
                    .hint(t.zip_hint)
                    .value(drawn.typed.get("zip_code")),
            ];
        }
        Step::Capture => match chosen {
            Some(destination::DEBIT_CARD | destination::CREDIT_CARD) => {
                card = Some(CardEntry::new(t, &drawn.typed))
            }
            Some(destination::BANK_ACCOUNT) => {
                fields = vec![
                    Field::text("name_on_account", t.name_on_account, "name")
                        .value(drawn.typed.get("name_on_account")),
                    Field::text("routing_number", t.routing_number, "off")
                        .numeric(9)
                        .hint(t.routing_hint)
                        .value(drawn.typed.get("routing_number")),
                    Field::text("account_number", t.account_number, "off").numeric(17),
                    Field::text(
                        "account_number_confirmation",
                        t.account_number_confirmation,
                        "off",
                    )
                    .numeric(17),
                ];
                account_type = Some(Select {
                    label: t.account_type,
                    options: vec![("checking", t.checking), ("savings", t.savings)],
                    value: drawn
                        .typed
                        .get("account_type")
                        .cloned()
                        .unwrap_or_else(|| "checking".to_owned()),
                });
            }
            Some(_) => {
                fields = vec![
                    Field::text("paypal_email", t.paypal_email, "email")
                        .kind("email")
                        .value(drawn.typed.get("paypal_email")),
                ]
            }
            None => {}
        },
        _ => {}
    }
    let message_for = |name: &str| field_message(t, name);
    let mut errors = mark_errors(&mut fields, &drawn.failed, message_for);
    if let Some(card) = card.as_mut() {
        errors.extend(mark_errors(&mut card.fields, &drawn.failed, message_for));
    }
    if drawn.failed.contains(&"funding_destination") {
        errors.push(ErrorItem {
            field: "main",
            label: t.capture_title,
            message: t.destination_invalid,
        });
    }
    if drawn.failed.contains(&"csrf") {
        errors.push(ErrorItem {
            field: "main",
            label: t.errors_heading,
            message: t.form_expired,
        });
    }
    let event_name = match step {
        Step::Done => Some("iip.webplugin.token_success"),
        Step::Locked => Some("iip.webplugin.max_verification_attempts_exceeded"),
        Step::Failed => Some("iip.webplugin.terminal_failure"),
        Step::Canceled => Some("iip.webplugin.funding_canceled"),
        Step::Verify | Step::Capture => None,
    };
    let template = HostedPage {
        lang: t.lang,
        title,
        t,
        errors,
        step,
        session_id: s.id.clone(),
        csrf: csrf_token(state, token),
        attempts_left: drawn.notice.map(|n| attempts_left(page, n, t)),
        fields,
        destination: chosen,
        chosen_label: destinations(t, paypal)
            .into_iter()
            .find(|(v, _)| Some(*v) == chosen)
            .map_or("", |(_, label)| label),
        card,
        account_type,
        destinations: destinations(t, paypal),
        outcome_text: match step {
            Step::Done => t.done,
            Step::Locked => t.locked,
            Step::Failed => t.failed,
            _ => t.canceled,
        },
        event: event_name.map(|event_name| EventData {
            event_name,
            session_identifier: s.id.clone(),
            tracer_token: s.tracer_token.clone(),
            customer_account_token: s.customer_account_token.clone().unwrap_or_default(),
            funding_destination: s.funding_destination.clone().unwrap_or_default(),
            target_origin: s.host_uri.clone(),
        }),
    };
    render(
        status,
        &template,
        &FrameAncestors::Origin(s.host_uri.clone()),
    )
}

fn see_page(id: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/session/{id}/page")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[derive(Deserialize)]
pub struct PageQuery {
    destination: Option<String>,
}

/// `GET /session/{id}/page`: the session's current step.
async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    match session_of(&state, &id, &headers).await {
        Ok((page, token)) => draw(
            &state,
            &page,
            &token,
            StatusCode::OK,
            Drawn {
                chosen: q.destination,
                ..Drawn::default()
            },
        ),
        Err(response) => response,
    }
}

/// The session and the form, when the form's CSRF token is this browser's; otherwise the page
/// to show.
async fn posted(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(PageState, String), Response> {
    let (page, token) = session_of(state, id, headers).await?;
    let given = form.get("csrf").map_or("", String::as_str);
    if !csrf_matches(state, &token, given) {
        return Err(draw(
            state,
            &page,
            &token,
            StatusCode::FORBIDDEN,
            Drawn {
                failed: vec!["csrf"],
                ..Drawn::default()
            },
        ));
    }
    Ok((page, token))
}

fn typed(form: &HashMap<String, String>, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
}

async fn verify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (page, token) = match posted(&state, &id, &headers, &form).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let input = VerifyInput {
        first_name: typed(&form, "first_name"),
        last_name: typed(&form, "last_name"),
        zip_code: typed(&form, "zip_code"),
    };
    match hosted::verify_recipient(&state, &page, &input).await {
        Ok((false, next)) if next.step() == Step::Verify => {
            let t = for_locale(&next.session.locale);
            let keep: HashMap<String, String> =
                form.into_iter().filter(|(k, _)| k != "csrf").collect();
            draw(
                &state,
                &next,
                &token,
                StatusCode::UNPROCESSABLE_ENTITY,
                Drawn {
                    typed: keep,
                    failed: vec!["first_name", "last_name", "zip_code"],
                    notice: Some(t.verify_mismatch),
                    ..Drawn::default()
                },
            )
        }
        Ok(_) => see_page(&id),
        Err(e) => error_page(&state, &id, &e).await,
    }
}

async fn account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (page, token) = match posted(&state, &id, &headers, &form).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let input = AccountInput {
        funding_destination: typed(&form, "funding_destination"),
        card_number: typed(&form, "card_number"),
        exp_month: typed(&form, "exp_month"),
        exp_year: typed(&form, "exp_year"),
        cvv: typed(&form, "cvv"),
        name_on_account: typed(&form, "name_on_account"),
        routing_number: typed(&form, "routing_number"),
        account_number: typed(&form, "account_number"),
        account_number_confirmation: typed(&form, "account_number_confirmation"),
        account_type: typed(&form, "account_type"),
        paypal_email: typed(&form, "paypal_email"),
    };
    // Shown again after an error: never the card number, security code or account number.
    let keep: HashMap<String, String> = [
        "exp_month",
        "exp_year",
        "name_on_account",
        "routing_number",
        "account_type",
        "paypal_email",
    ]
    .iter()
    .filter_map(|k| form.get(*k).map(|v| ((*k).to_owned(), v.clone())))
    .collect();
    let chosen = Some(input.funding_destination.clone());
    match hosted::capture_account(&state, &page, &input).await {
        Ok(CaptureOutcome::Tokenized(_)) => see_page(&id),
        Ok(CaptureOutcome::Invalid(errors)) => {
            let known = [
                "card_number",
                "exp_month",
                "exp_year",
                "cvv",
                "name_on_account",
                "routing_number",
                "account_number",
                "account_number_confirmation",
                "account_type",
                "paypal_email",
                "funding_destination",
            ];
            let failed = errors
                .iter()
                .map(|e| {
                    known
                        .iter()
                        .copied()
                        .find(|k| *k == e.field)
                        .unwrap_or("funding_destination")
                })
                .collect();
            draw(
                &state,
                &page,
                &token,
                StatusCode::UNPROCESSABLE_ENTITY,
                Drawn {
                    chosen,
                    typed: keep,
                    failed,
                    notice: None,
                },
            )
        }
        Ok(CaptureOutcome::NotVerified(next)) if next.step() == Step::Capture => {
            let t = for_locale(&next.session.locale);
            draw(
                &state,
                &next,
                &token,
                StatusCode::UNPROCESSABLE_ENTITY,
                Drawn {
                    chosen,
                    typed: keep,
                    failed: Vec::new(),
                    notice: Some(t.not_verified),
                },
            )
        }
        Ok(CaptureOutcome::NotVerified(_)) => see_page(&id),
        Err(e) => error_page(&state, &id, &e).await,
    }
}

async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (page, _) = match posted(&state, &id, &headers, &form).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    match hosted::cancel(&state, &page).await {
        Ok(_) => see_page(&id),
        Err(e) => error_page(&state, &id, &e).await,
    }
}
