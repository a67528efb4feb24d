//! The stylesheet and scripts, compiled into the binary: nothing is fetched from another host.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    (
        "quittance.css",
        "text/css; charset=utf-8",
        include_str!("../../static/quittance.css"),
    ),
    (
        "card-entry.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/card-entry.js"),
    ),
    (
        "hosted.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/hosted.js"),
    ),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => {
            let mut response = (StatusCode::OK, *body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            response
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
