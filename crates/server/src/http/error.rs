//! The error shape of every non-2xx answer of the JSON faces, as seed 000's table has it:
//! `{"error_class":"NotFound","message":"…","code":404,"request_id":"…","param":"…"}`.
//!
//! A 5xx logs its cause once (in the request log) and shows the client only the class, a
//! message and the request id: no SQL, no stack trace.

use crate::http::request_id::current_request_id;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quittance_domain::FieldError;
pub use quittance_services::error::ErrorClass;
use quittance_services::error::{self as services, ServiceError};
use quittance_store::StoreError;
use quittance_store::repo::imports::ImportError;
use quittance_store::repo::payments::PaymentError;
use serde::Serialize;

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

/// A service's error with what only HTTP adds to it: `Retry-After` and a Basic challenge.
#[derive(Debug, Clone)]
pub struct ApiError {
    error: ServiceError,
    retry_after: Option<u64>,
    www_authenticate: bool,
}

/// The cause of a 5xx, left in the response's extensions for the request log.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

pub type ApiResult<T> = Result<T, ApiError>;

/// The HTTP status of an error class.
pub fn status(class: ErrorClass) -> StatusCode {
    StatusCode::from_u16(class.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The class for a status produced outside our handlers (a router 405, say).
pub fn class_of(status: StatusCode) -> ErrorClass {
    ErrorClass::from_code(status.as_u16())
}

/// The services' `OrNotFound` for a handler: the same answers, as an `ApiResult`, so a lookup
/// can end a handler without a conversion.
pub trait OrNotFound<T> {
    fn or_not_found(self, kind: &str, id: &str) -> ApiResult<T>;
    fn or_not_found_in(self, kind: &str, id: &str, param: &str) -> ApiResult<T>;
}

impl<T, R: services::OrNotFound<T>> OrNotFound<T> for R {
    fn or_not_found(self, kind: &str, id: &str) -> ApiResult<T> {
        Ok(services::OrNotFound::or_not_found(self, kind, id)?)
    }

    fn or_not_found_in(self, kind: &str, id: &str, param: &str) -> ApiResult<T> {
        Ok(services::OrNotFound::or_not_found_in(
            self, kind, id, param,
        )?)
    }
}

// The constructors are the service error's, so a handler and a service say the same thing the
// same way.
impl ApiError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        ServiceError::new(class, message).into()
    }

    pub fn of_class(class: ErrorClass) -> Self {
        ServiceError::of_class(class).into()
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ServiceError::bad_request(message).into()
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ServiceError::unauthorized(message).into()
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ServiceError::forbidden(message).into()
    }

    pub fn not_found(kind: &str, id: &str) -> Self {
        ServiceError::not_found(kind, id).into()
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ServiceError::conflict(message).into()
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::unprocessable(field, message).into()
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        ServiceError::internal(cause).into()
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.error = self.error.with_param(param);
        self
    }

    pub fn with_param_if_missing(mut self, param: &str) -> Self {
        self.error = self.error.with_param_if_missing(param);
        self
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
        self.error.class()
    }

    pub fn message(&self) -> &str {
        self.error.message()
    }

    pub fn param(&self) -> Option<&str> {
        self.error.param()
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        Self {
            error,
            retry_after: None,
            www_authenticate: false,
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> Self {
        ServiceError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (class, message, param, cause) = self.error.into_parts();
        let status = status(class);
        let body = ErrorBody {
            error_class: class,
            message,
            code: status.as_u16(),
            request_id: current_request_id(),
            param,
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
        if let Some(cause) = cause {
            response.extensions_mut().insert(ErrorCause(cause));
        }
        response
    }
}
