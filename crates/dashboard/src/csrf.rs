//! Cross-site request forgery: every form posts a token that must equal the one in the
//! browser's `rosetta_csrf` cookie (SameSite=Strict, HttpOnly), and a request the browser says
//! came from another site (`Sec-Fetch-Site`, `Origin`) is refused whatever it carries.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

use crate::error::PageError;
use crate::forms::Form;
use crate::session::{hex, Viewer};

/// The cookie that holds the token.
pub(crate) const CSRF_COOKIE: &str = "rosetta_csrf";
/// The form field that carries it.
pub(crate) const CSRF_FIELD: &str = "csrf";

/// `bytes` random bytes in hex; `None` only if the OS has no randomness to give.
pub(crate) fn random_hex(bytes: usize) -> Option<String> {
    let mut buffer = vec![0_u8; bytes];
    SystemRandom::new().fill(&mut buffer).ok()?;
    Some(hex(&buffer))
}

/// The request's token, or a new one (`true`) that the response must set.
pub(crate) fn token(req: &HttpRequest) -> (String, bool) {
    match req.cookie(CSRF_COOKIE) {
        Some(cookie)
            if cookie.value().len() == 32
                && cookie.value().bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            (cookie.value().to_owned(), false)
        }
        // Without randomness the token stays empty, and every form is refused.
        _ => (random_hex(16).unwrap_or_default(), true),
    }
}

/// The cookie that keeps `token` for the browser's session.
pub(crate) fn cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(CSRF_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// Refuses a form that is not from one of this server's own pages.
pub(crate) fn check(req: &HttpRequest, viewer: &Viewer, form: &Form) -> Result<(), PageError> {
    let refuse = |why: &str| {
        tracing::info!(why, "dashboard form refused as cross-site");
        Err(PageError::Forgery)
    };
    if let Some(site) = req.headers().get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return refuse("sec-fetch-site");
        }
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let host = origin.split_once("://").map_or("", |(_, host)| host);
        if host != req.connection_info().host() {
            return refuse("origin");
        }
    }
    let presented = form.get(CSRF_FIELD).unwrap_or_default();
    if viewer.fresh_csrf || viewer.csrf.is_empty() || presented.len() != viewer.csrf.len() {
        return refuse("token missing");
    }
    if !bool::from(presented.as_bytes().ct_eq(viewer.csrf.as_bytes())) {
        return refuse("token mismatch");
    }
    Ok(())
}
