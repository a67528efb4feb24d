//! The error shape of every non-2xx answer, as seed 000's table has it:
//! `{"error_class":"NotFound","message":"…","code":404,"request_id":"…","param":"…"}`.
//!
//! A 5xx logs its cause once (in the request log) and shows the client only the class, a
//! message and the request id: no SQL, no stack trace.

use crate::telemetry::current_request_id;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quittance_domain::FieldError;
use quittance_store::StoreError;
use quittance_store::repo::imports::ImportError;
use serde::Serialize;

/// The machine-readable classes. The seed's table, plus the transport-level ones it leaves to
/// the server (413, 415, 503); the seed says the list "may and will be extended".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum ErrorClass {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    LengthRequired,
    PayloadTooLarge,
    UnsupportedMediaType,
    UnprocessableEntity,
    TooManyRequests,
    InternalServerError,
    ServiceUnavailable,
}

impl ErrorClass {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorClass::BadRequest => StatusCode::BAD_REQUEST,
            ErrorClass::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorClass::Forbidden => StatusCode::FORBIDDEN,
            ErrorClass::NotFound => StatusCode::NOT_FOUND,
            ErrorClass::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorClass::Conflict => StatusCode::CONFLICT,
            ErrorClass::LengthRequired => StatusCode::LENGTH_REQUIRED,
            ErrorClass::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorClass::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorClass::UnprocessableEntity => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorClass::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorClass::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorClass::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The class for a status produced outside our handlers (a router 405, say).
    pub fn from_status(status: StatusCode) -> ErrorClass {
        match status.as_u16() {
            401 => ErrorClass::Unauthorized,
            403 => ErrorClass::Forbidden,
            404 => ErrorClass::NotFound,
            405 => ErrorClass::MethodNotAllowed,
            409 => ErrorClass::Conflict,
            411 => ErrorClass::LengthRequired,
            413 => ErrorClass::PayloadTooLarge,
            415 => ErrorClass::UnsupportedMediaType,
            422 => ErrorClass::UnprocessableEntity,
            429 => ErrorClass::TooManyRequests,
            503 => ErrorClass::ServiceUnavailable,
            400..=499 => ErrorClass::BadRequest,
            _ => ErrorClass::InternalServerError,
        }
    }

    fn default_message(self) -> &'static str {
        match self {
            ErrorClass::BadRequest => "the request is malformed",
            ErrorClass::Unauthorized => "authentication failed",
            ErrorClass::Forbidden => "access denied",
            ErrorClass::NotFound => "no such resource",
            ErrorClass::MethodNotAllowed => "this method is not supported for the resource",
            ErrorClass::Conflict => "the request conflicts with the current state",
            ErrorClass::LengthRequired => "the request must carry a Content-Length header",
            ErrorClass::PayloadTooLarge => "the request body is too large",
            ErrorClass::UnsupportedMediaType => {
                "the request body's content type is not supported here"
            }
            ErrorClass::UnprocessableEntity => "the request is not valid",
            ErrorClass::TooManyRequests => "too many requests",
            ErrorClass::InternalServerError => {
                "something went wrong on our side; quote the request_id when reporting it"
            }
            ErrorClass::ServiceUnavailable => "the service is temporarily unavailable",
        }
    }
}

/// The error body, as documented in the OpenAPI description.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error_class: ErrorClass,
    pub message: String,
    /// The HTTP status code, repeated.
    pub code: u16,
    pub request_id: String,
    /// The field at fault, where there is one (`sub_accounts[2].balance`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    class: ErrorClass,
    message: String,
    param: Option<String>,
    retry_after: Option<u64>,
    www_authenticate: bool,
    /// Logged with the request, never shown.
    cause: Option<String>,
}

/// The cause of a 5xx, left in the response's extensions for the request log.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            param: None,
            retry_after: None,
            www_authenticate: false,
            cause: None,
        }
    }

    pub fn of_class(class: ErrorClass) -> Self {
        Self::new(class, class.default_message())
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Forbidden, message)
    }

    /// The same answer for an unknown id and another organization's id.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(ErrorClass::NotFound, format!("no such {kind}: {id}"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Conflict, message)
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::UnprocessableEntity, message).with_param(field)
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        let mut e = Self::of_class(ErrorClass::InternalServerError);
        e.cause = Some(cause.into());
        e
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Names `param` on a 404 (a resource named by a body field), leaving other errors be.
    pub fn with_param_if_missing(self, param: &str) -> Self {
        if self.class == ErrorClass::NotFound && self.param.is_none() {
            self.with_param(param)
        } else {
            self
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Adds `WWW-Authenticate: Basic` (a client that used HTTP Basic and failed, RFC 6749 §5.2).
    pub fn with_basic_challenge(mut self) -> Self {
        self.www_authenticate = true;
        self
    }

    pub fn class(&self) -> ErrorClass {
        self.class
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        let message = format!("{}: {}", e.field, e.message);
        ApiError::unprocessable(e.field, message)
    }
}

impl From<StoreError> for ApiError {
    /// A bare `NotFound` here means the handler did not name the resource: still a 404.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::of_class(ErrorClass::NotFound),
            StoreError::Conflict(what) => {
                let mut err = ApiError::of_class(ErrorClass::Conflict);
                err.cause = Some(what);
                err
            }
            StoreError::Unavailable(why) => {
                let mut err = ApiError::of_class(ErrorClass::ServiceUnavailable);
                err.cause = Some(why);
                err
            }
            StoreError::Backend(_) | StoreError::Decode(_) => ApiError::internal(e.to_string()),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Field(f) => f.into(),
            ImportError::Store(s) => s.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.class.status();
        let body = ErrorBody {
            error_class: self.class,
            message: self.message,
            code: status.as_u16(),
            request_id: current_request_id(),
            param: self.param,
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"quittance\""),
            );
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(ErrorCause(cause));
        }
        response
    }
}

/// Names the resource when the store says it is not there.
pub trait OrNotFound<T> {
    /// `NotFound` becomes "no such {kind}: {id}"; anything else keeps its own meaning.
    fn or_not_found(self, kind: &str, id: &str) -> ApiResult<T>;

    /// The same for a resource named by a body field, which `param` names.
    fn or_not_found_in(self, kind: &str, id: &str, param: &str) -> ApiResult<T>
    where
        Self: Sized,
    {
        self.or_not_found(kind, id)
            .map_err(|e| e.with_param_if_missing(param))
    }
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, kind: &str, id: &str) -> ApiResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(kind, id),
            other => other.into(),
        })
    }
}
