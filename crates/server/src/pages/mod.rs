//! The pages people use, rendered on the server: the framework every page shares (security
//! headers, the stylesheet and scripts served from the binary, CSRF tokens, labelled fields and
//! the error summary, the card-entry component) and the IngoPay hosted page. Templates are
//! askama files under `crates/server/templates/` (type-checked, auto-escaped); every page
//! works without JavaScript, which only adds help while typing and the hosted page's message
//! to its host.

pub mod assets;
pub mod hosted;
pub mod texts;

use crate::http::state::AppState;
use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use subtle::ConstantTimeEq;
use texts::Texts;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/{file}", get(assets::serve))
        .merge(hosted::routes())
}

/// Who may frame a page: nobody (`'none'`), or exactly one origin (a hosted page's host).
pub enum FrameAncestors {
    None,
    Origin(String),
}

/// A rendered page with the security headers every page carries: a CSP allowing only this
/// server's own scripts and styles, no inline script, forms posting only here, and framing as
/// `frame` says; no sniffing, no referrer, no caching.
pub fn page(status: StatusCode, body: String, frame: &FrameAncestors) -> Response {
    let ancestors = match frame {
        FrameAncestors::None => "'none'".to_owned(),
        FrameAncestors::Origin(origin) => origin.clone(),
    };
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    let set = |value: &str| {
        HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("'none'"))
    };
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, set(&csp));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Renders a template into [`page`]; a template that fails to render is a logged 500.
pub fn render(status: StatusCode, template: &impl Template, frame: &FrameAncestors) -> Response {
    match template.render() {
        Ok(body) => page(status, body, frame),
        Err(e) => {
            tracing::error!(error = %e, "page failed to render");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!DOCTYPE html><title>Error</title><p>Something went wrong.</p>".to_owned(),
                frame,
            )
        }
    }
}

/// A plain page: a heading and one paragraph (a refused link, an expired page).
#[derive(Template)]
#[template(path = "hosted/message.html")]
pub struct Message<'a> {
    pub lang: &'a str,
    pub heading: &'a str,
    pub body: &'a str,
}

/// The CSRF token of a browser session: a keyed hash of its cookie, so nothing more is stored.
pub fn csrf_token(state: &AppState, browser_token: &str) -> String {
    state.hasher.hash(&format!("csrf:{browser_token}"))
}

pub fn csrf_matches(state: &AppState, browser_token: &str, given: &str) -> bool {
    csrf_token(state, browser_token)
        .as_bytes()
        .ct_eq(given.as_bytes())
        .into()
}

/// The value of cookie `name` in the request's `Cookie` header.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// One labelled input (`components/field.html`).
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    /// The input's `type`.
    pub kind: &'static str,
    /// The browser's autofill name (`cc-number`), or empty.
    pub autocomplete: &'static str,
    pub numeric: bool,
    pub maxlength: Option<usize>,
    /// What the person typed, shown again after an error (never for card or account numbers).
    pub value: String,
    pub error: Option<&'static str>,
}

impl Field {
    pub fn text(name: &'static str, label: &'static str, autocomplete: &'static str) -> Field {
        Field {
            name,
            label,
            hint: None,
            kind: "text",
            autocomplete,
            numeric: false,
            maxlength: None,
            value: String::new(),
            error: None,
        }
    }

    pub fn numeric(mut self, maxlength: usize) -> Field {
        self.numeric = true;
        self.maxlength = Some(maxlength);
        self
    }

    pub fn hint(mut self, hint: &'static str) -> Field {
        self.hint = Some(hint);
        self
    }

    pub fn kind(mut self, kind: &'static str) -> Field {
        self.kind = kind;
        self
    }

    pub fn value(mut self, value: Option<&String>) -> Field {
        self.value = value.cloned().unwrap_or_default();
        self
    }
}

/// One line of the error summary (`components/errors.html`), linking to its field.
#[derive(Debug, Clone)]
pub struct ErrorItem {
    pub field: &'static str,
    pub label: &'static str,
    pub message: &'static str,
}

/// Marks `fields` whose name is in `failed` with `message_for` their error, and lists them for
/// the summary in the fields' order.
pub fn mark_errors(
    fields: &mut [Field],
    failed: &[&str],
    message_for: impl Fn(&str) -> &'static str,
) -> Vec<ErrorItem> {
    let mut items = Vec::new();
    for f in fields.iter_mut() {
        if failed.contains(&f.name) {
            let message = message_for(f.name);
            f.error = Some(message);
            items.push(ErrorItem {
                field: f.name,
                label: f.label,
                message,
            });
        }
    }
    items
}

/// The card-entry component (`components/card_entry.html`, `static/card-entry.js`): number,
/// expiry, security code and name, with the browser's card autofill names.
#[derive(Debug, Clone)]
pub struct CardEntry {
    pub fields: Vec<Field>,
    /// Announced while typing when the number fails the Luhn check.
    pub invalid_number: &'static str,
}

impl CardEntry {
    /// The card fields, with what was typed (but the number and code) shown again.
    pub fn new(t: &Texts, typed: &std::collections::HashMap<String, String>) -> CardEntry {
        CardEntry {
            fields: vec![
                Field::text("card_number", t.card_number, "cc-number").numeric(23),
                Field::text("exp_month", t.exp_month, "cc-exp-month")
                    .numeric(2)
                    .hint(t.exp_month_hint)
                    .value(typed.get("exp_month")),
                Field::text("exp_year", t.exp_year, "cc-exp-year")
                    .numeric(4)
                    .hint(t.exp_year_hint)
                    .value(typed.get("exp_year")),
                Field::text("cvv", t.cvv, "cc-csc")
                    .numeric(4)
                    .hint(t.cvv_hint),
                Field::text("name_on_account", t.name_on_account, "cc-name")
                    .value(typed.get("name_on_account")),
            ],
            invalid_number: t.card_number_invalid,
        }
    }
}
