//! Who is looking: with API keys configured, a page needs a session, which signing in with a
//! key opens; without keys, everyone is let in, as the API does.
//!
//! A session is a cookie `rosetta_session` = `v1.<key id>.<expiry>.<nonce>.<signature>`:
//! HMAC-SHA256, under a secret derived from the digest of the key that signed in, of what
//! precedes it. Nothing is kept on the server, so every instance behind a load balancer accepts
//! the sessions of the others, and removing a key from `API_KEYS` ends the sessions it opened.
//! The cookie is HttpOnly and SameSite=Strict, and Secure when the request came over HTTPS.

use std::future::{ready, Ready};

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{self, Data};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::Utc;
use maud::html;
use ring::hmac;
use rosetta_http_api::auth::ApiKeys;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::csrf;
use crate::error::{PageError, PageResult};
use crate::forms::{Form, FormErrors};
use crate::layout::{self, Section};

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "rosetta_session";
/// How long a session lasts.
pub(crate) const SESSION_SECONDS: i64 = 12 * 3600;

/// A request let in: the API is open, or it carries a valid session.
pub(crate) struct Viewer {
    /// The anti-forgery token its forms carry.
    pub(crate) csrf: String,
    /// Whether the token is new, so that the page sets its cookie.
    pub(crate) fresh_csrf: bool,
    /// Whether keys are configured (the page offers sign-out).
    pub(crate) signed_in: bool,
    /// Whether cookies must be Secure (the request came over HTTPS).
    pub(crate) secure: bool,
}

impl Viewer {
    fn read(req: &HttpRequest) -> Result<Self, PageError> {
        let keys = req.app_data::<Data<ApiKeys>>().ok_or(PageError::Internal)?;
        let signed_in = !keys.is_open();
        if signed_in {
            let valid = req
                .cookie(SESSION_COOKIE)
                .is_some_and(|cookie| verify(keys, cookie.value(), Utc::now().timestamp()));
            if !valid {
                let next = req
                    .uri()
                    .path_and_query()
                    .map_or("/", |pq| pq.as_str())
                    .to_owned();
                return Err(PageError::SignIn {
                    next,
                    background: req.headers().contains_key("HX-Request"),
                });
            }
        }
        let (csrf, fresh_csrf) = csrf::token(req);
        Ok(Self {
            csrf,
            fresh_csrf,
            signed_in,
            secure: is_https(req),
        })
    }

    /// Refuses a state-changing request that does not come from one of our own pages.
    pub(crate) fn check(&self, req: &HttpRequest, form: &Form) -> Result<(), PageError> {
        csrf::check(req, self, form)
    }
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::read(req))
    }
}

fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// What the session secrets of a key are derived from.
fn derive(label: &[u8], digest: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(label);
    hasher.update(digest);
    hasher.finalize().into()
}

fn key_id(digest: &[u8; 32]) -> String {
    hex(&derive(b"rosetta-dashboard-session-id-v1", digest)[..8])
}

fn mac_key(digest: &[u8; 32]) -> hmac::Key {
    hmac::Key::new(
        hmac::HMAC_SHA256,
        &derive(b"rosetta-dashboard-session-mac-v1", digest),
    )
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A new session for the key whose digest is `digest`, valid until `expires` (unix seconds).
fn issue(digest: &[u8; 32], expires: i64) -> Option<String> {
    let nonce = csrf::random_hex(16)?;
    let signed = format!("v1.{}.{expires}.{nonce}", key_id(digest));
    let tag = hmac::sign(&mac_key(digest), signed.as_bytes());
    Some(format!("{signed}.{}", hex(tag.as_ref())))
}

/// Whether `token` is a session signed by one of `keys` and not expired at `now`.
fn verify(keys: &ApiKeys, token: &str, now: i64) -> bool {
    let Some((signed, tag)) = token.rsplit_once('.') else {
        return false;
    };
    let mut parts = signed.split('.');
    let (Some("v1"), Some(id), Some(expires), Some(_nonce), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    let Some(tag) = unhex(tag) else {
        return false;
    };
    if expires <= now {
        return false;
    }
    keys.digests().iter().any(|digest| {
        key_id(digest).as_bytes().ct_eq(id.as_bytes()).into()
            && hmac::verify(&mac_key(digest), signed.as_bytes(), &tag).is_ok()
    })
}

/// A local path to come back to, or `/`: never another site (`//host`, `/\host`, `https:`).
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.contains(['\r', '\n']) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/sign-in", web::get().to(sign_in_page))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out));
}

#[derive(serde::Deserialize)]
struct Next {
    next: Option<String>,
}

fn keys_of(req: &HttpRequest) -> Result<&ApiKeys, PageError> {
    req.app_data::<Data<ApiKeys>>()
        .map(|keys| keys.get_ref())
        .ok_or(PageError::Internal)
}

fn sign_in_form(csrf: &str, next: &str, errors: &FormErrors) -> maud::Markup {
    html! {
        h1 { "Sign in" }
        p { "This Rosetta server asks for one of its API keys (" code { "API_KEYS" } ")." }
        form.stacked method="post" action="/sign-in" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="next" value=(next);
            (crate::forms::general_errors(errors, &[("key", "API key")]))
            (crate::forms::secret_input("key", "API key", errors, false,
                "The key is kept in this browser's session cookie only as a signature; it is never shown again."))
            button type="submit" { "Sign in" }
        }
    }
}

async fn sign_in_page(req: HttpRequest, query: web::Query<Next>) -> PageResult {
    let keys = keys_of(&req)?;
    let next = local_path(query.next.as_deref());
    if keys.is_open() {
        return Ok(layout::redirect(&next));
    }
    let (csrf, fresh) = csrf::token(&req);
    let viewer = Viewer {
        csrf,
        fresh_csrf: fresh,
        signed_in: false,
        secure: is_https(&req),
    };
    let body = sign_in_form(&viewer.csrf, &next, &FormErrors::default());
    Ok(layout::page(&viewer, Section::None, "Sign in", body))
}

async fn sign_in(req: HttpRequest, form: web::Form<Form>) -> PageResult {
    let keys = keys_of(&req)?;
    let form = form.into_inner();
    let next = local_path(form.get("next"));
    if keys.is_open() {
        return Ok(layout::redirect(&next));
    }
    let (csrf, fresh) = csrf::token(&req);
    let viewer = Viewer {
        csrf,
        fresh_csrf: fresh,
        signed_in: false,
        secure: is_https(&req),
    };
    viewer.check(&req, &form)?;
    let presented = form.get("key").unwrap_or_default().trim();
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let known = keys
        .digests()
        .iter()
        .fold(subtle::Choice::from(0), |found, key| {
            found | key.ct_eq(&digest)
        });
    if presented.is_empty() || !bool::from(known) {
        let mut errors = FormErrors::default();
        errors.add(
            "key",
            if presented.is_empty() {
                "Enter an API key."
            } else {
                "That is not one of this server's API keys. Check it and try again."
            },
        );
        tracing::info!("dashboard sign-in refused");
        let body = sign_in_form(&viewer.csrf, &next, &errors);
        return Ok(layout::page_with_status(
            &viewer,
            Section::None,
            "Sign in",
            body,
            actix_web::http::StatusCode::UNAUTHORIZED,
        ));
    }
    let expires = Utc::now().timestamp() + SESSION_SECONDS;
    let token = issue(&digest, expires).ok_or(PageError::Internal)?;
    let session = Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(viewer.secure)
        .max_age(time::Duration::seconds(SESSION_SECONDS))
        .finish();
    tracing::info!("dashboard sign-in");
    let mut response = layout::redirect(&next);
    response
        .add_cookie(&session)
        .map_err(|_| PageError::Internal)?;
    // A new anti-forgery token for the new session.
    let rotated = csrf::random_hex(16).ok_or(PageError::Internal)?;
    response
        .add_cookie(&csrf::cookie(rotated, viewer.secure))
        .map_err(|_| PageError::Internal)?;
    Ok(response)
}

async fn sign_out(req: HttpRequest, viewer: Viewer, form: web::Form<Form>) -> PageResult {
    viewer.check(&req, &form)?;
    let mut ended = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(viewer.secure)
        .finish();
    ended.make_removal();
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/sign-in"))
        .finish();
    response
        .add_cookie(&ended)
        .map_err(|_| PageError::Internal)?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn digest(key: &str) -> [u8; 32] {
        Sha256::digest(key.as_bytes()).into()
    }

    #[test]
    fn a_session_is_accepted_until_it_expires_and_only_while_its_key_is_configured() {
        let keys = ApiKeys::new(["first-key-0123456789", "second-key-0123456789"]);
        let token = issue(&digest("second-key-0123456789"), NOW + 60).unwrap();
        assert!(verify(&keys, &token, NOW));
        assert!(!verify(&keys, &token, NOW + 60));
        let rotated = ApiKeys::new(["first-key-0123456789"]);
        assert!(!verify(&rotated, &token, NOW));
    }

    #[test]
    fn a_forged_or_altered_session_is_refused() {
        let keys = ApiKeys::new(["first-key-0123456789"]);
        let token = issue(&digest("first-key-0123456789"), NOW + 60).unwrap();
        let longer = token.replacen(&format!(".{}.", NOW + 60), &format!(".{}.", NOW + 9_999), 1);
        assert_ne!(longer, token);
        assert!(!verify(&keys, &longer, NOW));
        let unknown = issue(&digest("not-a-configured-key"), NOW + 60).unwrap();
        assert!(!verify(&keys, &unknown, NOW));
        for junk in [
            "",
            "v1",
            "v1.a.b.c.d",
            "v2.x.1.n.00",
            &format!("{token}.extra"),
        ] {
            assert!(!verify(&keys, junk, NOW), "{junk}");
        }
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/pipelines/3?x=1")), "/pipelines/3?x=1");
        for elsewhere in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "x",
        ] {
            assert_eq!(local_path(Some(elsewhere)), "/", "{elsewhere}");
        }
        assert_eq!(local_path(None), "/");
    }
}
