//! Logging in: trust, cleartext password, md5 and SCRAM-SHA-256, with postgres-protocol's
//! message writers and SCRAM state machine. The password is read only to answer the server and
//! never appears in an error.

use bytes::Bytes;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::frontend;
use rosetta_domain::Secret;

use super::{take_cstr, take_i32, Frame, ServerError, WireConnection, WireError};

const AUTH_OK: i32 = 0;
const AUTH_CLEARTEXT: i32 = 3;
const AUTH_MD5: i32 = 5;
const AUTH_SASL: i32 = 10;
const AUTH_SASL_CONTINUE: i32 = 11;
const AUTH_SASL_FINAL: i32 = 12;

/// Answers the server's authentication requests until it says `AuthenticationOk`.
///
/// # Errors
///
/// `Server` when the server refuses the login, `Auth` when it asks for a password the source
/// has none for or for a method this client lacks (Kerberos, SSPI, …), `Protocol` otherwise.
pub(super) async fn authenticate(
    conn: &mut WireConnection,
    user: &str,
    password: Option<&Secret>,
) -> Result<(), WireError> {
    loop {
        let mut body = expect_auth(conn.read_frame().await?)?;
        match take_i32(&mut body)? {
            AUTH_OK => return Ok(()),
            AUTH_CLEARTEXT => {
                let password = needed(password)?;
                frontend::password_message(password.expose().as_bytes(), conn.output())
                    .map_err(encode)?;
                conn.flush().await?;
            }
            AUTH_MD5 => {
                let password = needed(password)?;
                let salt: [u8; 4] = body
                    .get(..4)
                    .and_then(|salt| salt.try_into().ok())
                    .ok_or_else(|| WireError::Protocol("an md5 request without salt".into()))?;
                let hash = md5_hash(user.as_bytes(), password.expose().as_bytes(), salt);
                frontend::password_message(hash.as_bytes(), conn.output()).map_err(encode)?;
                conn.flush().await?;
            }
            AUTH_SASL => scram(conn, body, needed(password)?).await?,
            other => {
                return Err(WireError::Auth(format!(
                    "the server asks for an authentication method Rosetta does not support \
                     (code {other}); use scram-sha-256, md5, password or trust in pg_hba.conf"
                )))
            }
        }
    }
}

/// The SCRAM-SHA-256 exchange, from the server's list of mechanisms to its final message, whose
/// signature proves it knew the password too. No channel binding: the gs2 header says the
/// client does not support it, which servers accept unless `require_auth`-style settings on
/// their side insist.
async fn scram(
    conn: &mut WireConnection,
    mut mechanisms: Bytes,
    password: &Secret,
) -> Result<(), WireError> {
    let mut offered = false;
    loop {
        let mechanism = take_cstr(&mut mechanisms)?;
        if mechanism.is_empty() {
            break;
        }
        offered |= &mechanism[..] == sasl::SCRAM_SHA_256.as_bytes();
    }
    if !offered {
        return Err(WireError::Auth(
            "the server offers no SASL mechanism Rosetta supports (SCRAM-SHA-256)".into(),
        ));
    }
    let mut exchange = sasl::ScramSha256::new(
        password.expose().as_bytes(),
        sasl::ChannelBinding::unsupported(),
    );
    frontend::sasl_initial_response(sasl::SCRAM_SHA_256, exchange.message(), conn.output())
        .map_err(encode)?;
    conn.flush().await?;

    let mut body = expect_auth(conn.read_frame().await?)?;
    if take_i32(&mut body)? != AUTH_SASL_CONTINUE {
        return Err(WireError::Protocol("SCRAM: no server-first-message".into()));
    }
    exchange.update(&body).map_err(scram_error)?;
    frontend::sasl_response(exchange.message(), conn.output()).map_err(encode)?;
    conn.flush().await?;

    let mut body = expect_auth(conn.read_frame().await?)?;
    if take_i32(&mut body)? != AUTH_SASL_FINAL {
        return Err(WireError::Protocol("SCRAM: no server-final-message".into()));
    }
    exchange.finish(&body).map_err(scram_error)
}

/// The body of an authentication request; an error the server sends instead becomes `Server`.
fn expect_auth(frame: Frame) -> Result<Bytes, WireError> {
    match frame.tag {
        b'R' => Ok(frame.body),
        b'E' => Err(WireError::Server(ServerError::parse(&frame.body))),
        other => Err(WireError::Protocol(format!(
            "message '{}' during authentication",
            char::from(other)
        ))),
    }
}

fn needed(password: Option<&Secret>) -> Result<&Secret, WireError> {
    password.ok_or_else(|| {
        WireError::Auth("the server asks for a password, and the source has none".into())
    })
}

fn encode(error: std::io::Error) -> WireError {
    WireError::Protocol(format!("cannot encode a login message: {error}"))
}

/// postgres-protocol's SCRAM errors say what was wrong with the server's messages (a bad nonce,
/// a wrong server signature); none holds the password.
fn scram_error(error: std::io::Error) -> WireError {
    WireError::Auth(format!("SCRAM-SHA-256 failed: {error}"))
}
