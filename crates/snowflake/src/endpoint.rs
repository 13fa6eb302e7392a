//! Where a Snowflake account answers: `https://<account>.snowflakecomputing.com`, or the
//! destination's `host`.

use std::net::IpAddr;

use url::Url;

/// Why a destination's account or host does not make an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The host is not a host name, `host:port` or URL.
    #[error("host {host:?} is not a host name, host:port or https:// URL: {reason}")]
    Malformed {
        /// The host as configured.
        host: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Plain HTTP was asked for a host that is not this machine.
    #[error(
        "host {host:?} asks for plain http, which is only allowed for a loopback address \
         (127.0.0.1, ::1, localhost); use https://"
    )]
    PlainHttp {
        /// The host as configured.
        host: String,
    },
    /// The account name cannot be part of a host name.
    #[error("account {account:?} cannot be part of a host name; set host instead")]
    Account {
        /// The account as configured.
        account: String,
    },
}

/// The base URL of an account's REST API.
///
/// - no `host`: `https://<account>.snowflakecomputing.com` (the account as given, lower-cased:
///   `myorg-myaccount`, or a locator with its region such as `xy12345.us-east-2.aws`);
/// - `host` without a scheme (`acme.privatelink.snowflakecomputing.com`, `sf.internal:8443`):
///   HTTPS to it;
/// - `host` with `https://` or, for a loopback address only, `http://`: that URL.
///
/// # Errors
///
/// [`EndpointError`] when the host does not parse, asks for plain HTTP elsewhere than on a
/// loopback address, or the account cannot be a host name.
pub fn base_url(account: &str, host: Option<&str>) -> Result<Url, EndpointError> {
    let Some(host) = host.map(str::trim).filter(|host| !host.is_empty()) else {
        let account = account.trim().to_ascii_lowercase();
        let valid = !account.is_empty()
            && account
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(EndpointError::Account { account });
        }
        let name = account.replace('_', "-");
        return parse(&format!("https://{name}.snowflakecomputing.com"), &account);
    };
    let malformed = |reason: &str| EndpointError::Malformed {
        host: host.to_owned(),
        reason: reason.to_owned(),
    };
    let url = if host.contains("://") {
        parse(host, host)?
    } else {
        parse(&format!("https://{host}"), host)?
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(EndpointError::PlainHttp {
                host: host.to_owned(),
            })
        }
        _ => return Err(malformed("the scheme must be https")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(malformed("it names no host"));
    }
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(malformed(
            "it may hold a scheme, a host and a port, nothing more",
        ));
    }
    Ok(url)
}

fn parse(url: &str, host: &str) -> Result<Url, EndpointError> {
    Url::parse(url).map_err(|e| EndpointError::Malformed {
        host: host.to_owned(),
        reason: e.to_string(),
    })
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(account: &str, host: Option<&str>) -> String {
        base_url(account, host).unwrap().to_string()
    }

    #[test]
    fn the_account_names_the_host_when_no_host_is_set() {
        assert_eq!(
            url("MyOrg-Acct", None),
            "https://myorg-acct.snowflakecomputing.com/"
        );
        assert_eq!(
            url("xy12345.us-east-2.aws", Some("  ")),
            "https://xy12345.us-east-2.aws.snowflakecomputing.com/"
        );
        assert_eq!(
            url("my_org-my_acct", None),
            "https://my-org-my-acct.snowflakecomputing.com/"
        );
        assert!(matches!(
            base_url("a/b", None),
            Err(EndpointError::Account { .. })
        ));
    }

    #[test]
    fn a_host_overrides_the_account_and_may_carry_a_port() {
        assert_eq!(
            url("a", Some("sf.internal:8443")),
            "https://sf.internal:8443/"
        );
        assert_eq!(
            url("a", Some("https://acme.privatelink.snowflakecomputing.com")),
            "https://acme.privatelink.snowflakecomputing.com/"
        );
        assert_eq!(
            url("a", Some("http://127.0.0.1:8971")),
            "http://127.0.0.1:8971/"
        );
        assert_eq!(url("a", Some("http://localhost:1")), "http://localhost:1/");
        assert_eq!(url("a", Some("http://[::1]:9")), "http://[::1]:9/");
    }

    #[test]
    fn plain_http_is_refused_beyond_this_machine() {
        assert!(matches!(
            base_url("a", Some("http://sf.example.com")),
            Err(EndpointError::PlainHttp { .. })
        ));
        assert!(matches!(
            base_url("a", Some("http://10.0.0.1:80")),
            Err(EndpointError::PlainHttp { .. })
        ));
        for bad in [
            "ftp://x",
            "https://x/path",
            "https://user@x",
            "http://",
            "a b",
        ] {
            assert!(
                matches!(
                    base_url("a", Some(bad)),
                    Err(EndpointError::Malformed { .. })
                ),
                "{bad}"
            );
        }
    }
}
