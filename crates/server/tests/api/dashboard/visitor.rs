//! A browser without JavaScript: keeps cookies, posts forms, does not follow redirects.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

/// A page as the browser got it.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    /// Asserts the status, showing the page when it differs.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "page: {}", self.html);
        self
    }

    /// Where a redirect goes.
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no location ({}): {}", self.status, self.html))
    }

    /// Asserts that the page shows `text`.
    pub fn shows(&self, text: &str) -> &Self {
        assert!(
            self.html.contains(text),
            "{text:?} not in page: {}",
            self.html
        );
        self
    }

    /// Asserts that the page does not show `text`.
    pub fn hides(&self, text: &str) -> &Self {
        assert!(!self.html.contains(text), "{text:?} in page: {}", self.html);
        self
    }

    /// The message shown under field `name` (its `f-<name>-error` paragraph).
    pub fn field_error(&self, name: &str) -> Option<String> {
        let id = format!("id=\"f-{}-error\">", name.replace('.', "-"));
        let start = self.html.find(&id)? + id.len();
        let end = self.html[start..].find("</p>")? + start;
        Some(self.html[start..end].to_owned())
    }

    /// The `value` of the input named `name`.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"");
        let at = self.html.find(&marker)?;
        let tag_start = self.html[..at].rfind('<')?;
        let tag_end = at + self.html[at..].find('>')?;
        let tag = &self.html[tag_start..tag_end];
        let value = tag.find("value=\"")? + 7;
        let end = tag[value..].find('"')? + value;
        Some(tag[value..end].to_owned())
    }
}

/// A browser session against one server.
pub struct Visitor {
    base: String,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    /// Every `Set-Cookie` header received, as sent.
    pub set_cookies: Vec<String>,
}

impl Visitor {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            set_cookies: Vec::new(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().unwrap().to_owned();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let removed = text.contains("Max-Age=0") || value.is_empty();
            if removed {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
            self.set_cookies.push(text);
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = if self.cookies.is_empty() {
            request
        } else {
            request.header(COOKIE, self.cookie_header())
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        self.keep(&headers);
        let html = response.text().await.unwrap();
        Page {
            status,
            headers,
            html,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.read(request).await
    }

    /// A GET as htmx sends it (the live refresh).
    pub async fn poll(&mut self, path: &str) -> Page {
        let request = self
            .client
            .get(format!("{}{path}", self.base))
            .header("HX-Request", "true");
        self.read(request).await
    }

    /// Posts `fields` with the anti-forgery token the browser holds, as a same-origin form.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.cookie("rosetta_csrf").unwrap_or_default().to_owned();
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, &[("Sec-Fetch-Site", "same-origin")])
            .await
    }

    /// Posts exactly `fields` with extra `headers`.
    pub async fn post_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.read(request).await
    }
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
