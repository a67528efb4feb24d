//! What a service answers when it cannot do what was asked: a class, a message, the field at
//! fault, and (for failures on our side) a cause that is logged and never shown. Each face
//! turns it into its own error shape (`quittance-server`'s `http::error` for the JSON faces).

use quittance_domain::FieldError;
use quittance_store::StoreError;
use quittance_store::repo::imports::ImportError;
use quittance_store::repo::payments::PaymentError;
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
    /// The HTTP status code the class stands for.
    pub fn code(self) -> u16 {
        match self {
            ErrorClass::BadRequest => 400,
            ErrorClass::Unauthorized => 401,
            ErrorClass::Forbidden => 403,
            ErrorClass::NotFound => 404,
            ErrorClass::MethodNotAllowed => 405,
            ErrorClass::Conflict => 409,
            ErrorClass::LengthRequired => 411,
            ErrorClass::PayloadTooLarge => 413,
            ErrorClass::UnsupportedMediaType => 415,
            ErrorClass::UnprocessableEntity => 422,
            ErrorClass::TooManyRequests => 429,
            ErrorClass::InternalServerError => 500,
            ErrorClass::ServiceUnavailable => 503,
        }
    }

    /// The class for a status produced outside our handlers (a router 405, say).
    pub fn from_code(code: u16) -> ErrorClass {
        match code {
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

#[derive(Debug, Clone)]
pub struct ServiceError {
    class: ErrorClass,
    message: String,
    param: Option<String>,
    /// Logged with the request, never shown.
    cause: Option<String>,
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            param: None,
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
        Self::of_class(ErrorClass::InternalServerError).with_cause(cause)
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// What is logged with the request and never shown to the client.
    pub fn with_cause(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
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

    pub fn class(&self) -> ErrorClass {
        self.class
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// Class, message, field and cause, for a face to build its own answer from.
    pub fn into_parts(self) -> (ErrorClass, String, Option<String>, Option<String>) {
        (self.class, self.message, self.param, self.cause)
    }
}

impl From<FieldError> for ServiceError {
    fn from(e: FieldError) -> Self {
        let message = format!("{}: {}", e.field, e.message);
        ServiceError::unprocessable(e.field, message)
    }
}

impl From<StoreError> for ServiceError {
    /// A bare `NotFound` here means the caller did not name the resource: still a 404.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::of_class(ErrorClass::NotFound),
            StoreError::Conflict(what) => {
                ServiceError::of_class(ErrorClass::Conflict).with_cause(what)
            }
            StoreError::Unavailable(why) => {
                ServiceError::of_class(ErrorClass::ServiceUnavailable).with_cause(why)
            }
            StoreError::Backend(_) | StoreError::Decode(_) => ServiceError::internal(e.to_string()),
        }
    }
}

impl From<ImportError> for ServiceError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Field(f) => f.into(),
            ImportError::Store(s) => s.into(),
        }
    }
}

impl From<PaymentError> for ServiceError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::Field(f) => f.into(),
            PaymentError::Transition(t) => ServiceError::conflict(t.to_string()),
            PaymentError::Store(s) => s.into(),
        }
    }
}

/// Names the resource when the store says it is not there.
pub trait OrNotFound<T> {
    /// `NotFound` becomes "no such {kind}: {id}"; anything else keeps its own meaning.
    fn or_not_found(self, kind: &str, id: &str) -> ServiceResult<T>;

    /// The same for a resource named by a body field, which `param` names.
    fn or_not_found_in(self, kind: &str, id: &str, param: &str) -> ServiceResult<T>
    where
        Self: Sized,
    {
        self.or_not_found(kind, id)
            .map_err(|e| e.with_param_if_missing(param))
    }
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, kind: &str, id: &str) -> ServiceResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => ServiceError::not_found(kind, id),
            other => other.into(),
        })
    }
}
