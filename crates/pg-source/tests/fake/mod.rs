//! A fake PostgreSQL server on a local port that speaks just enough of the protocol to test the
//! replication client where the real cluster cannot: authentication methods other than trust
//! (its pg_hba.conf trusts every loopback connection), a refused SSLRequest, and exact control
//! of the bytes of a stream (half a message, then the rest).
//!
//! The server side of SCRAM-SHA-256 is computed here from RFC 5802 with ring, independently of
//! the client's postgres-protocol; the md5 answer is the one PostgreSQL's formula gives for the
//! fixed user, password and salt, computed once outside the test.
#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::{Buf, BufMut, BytesMut};
use ring::{digest, hmac, pbkdf2};
use std::num::NonZeroU32;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The role the fake server expects.
pub const USER: &str = "replicator";
/// `md5` + md5(md5(password + user) + salt) for `hunter2-secret`, `replicator`, salt 1 2 3 4.
pub const MD5_ANSWER: &str = "md584a042630e17755e3b0c9fa2962f47b2";
pub const MD5_SALT: [u8; 4] = [1, 2, 3, 4];

/// How the fake server wants the client to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Trust,
    Cleartext,
    Md5,
    Scram,
    /// SCRAM, with a server signature that does not prove knowledge of the password.
    ScramForged,
}

/// One accepted client connection.
pub struct Peer {
    pub socket: TcpStream,
    buffer: BytesMut,
}

/// A message from the client: its tag and body.
#[derive(Debug)]
pub struct Message {
    pub tag: u8,
    pub body: BytesMut,
}

/// Listens on a free local port.
pub async fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

impl Peer {
    pub async fn accept(listener: &TcpListener) -> Self {
        let (socket, _) = listener.accept().await.unwrap();
        Self {
            socket,
            buffer: BytesMut::new(),
        }
    }

    async fn fill(&mut self, at_least: usize) -> bool {
        while self.buffer.len() < at_least {
            if self.socket.read_buf(&mut self.buffer).await.unwrap_or(0) == 0 {
                return false;
            }
        }
        true
    }

    /// The startup packet's parameters, answering an SSLRequest with `N` first if one comes.
    pub async fn startup(&mut self) -> Vec<(String, String)> {
        loop {
            assert!(self.fill(4).await, "no startup packet");
            let len = u32::from_be_bytes(self.buffer[..4].try_into().unwrap()) as usize;
            assert!(self.fill(len).await, "startup packet cut short");
            let mut packet = self.buffer.split_to(len);
            packet.advance(4);
            let code = packet.get_u32();
            if code == 80_877_103 {
                self.socket.write_all(b"N").await.unwrap();
                continue;
            }
            assert_eq!(code, 196_608, "protocol 3.0");
            let fields: Vec<String> = packet[..]
                .split(|&b| b == 0)
                .map(|s| String::from_utf8(s.to_vec()).unwrap())
                .collect();
            return fields
                .chunks(2)
                .filter(|pair| pair.len() == 2 && !pair[0].is_empty())
                .map(|pair| (pair[0].clone(), pair[1].clone()))
                .collect();
        }
    }

    /// The next tagged message from the client, `None` when it closed.
    pub async fn message(&mut self) -> Option<Message> {
        if !self.fill(5).await {
            return None;
        }
        let len = u32::from_be_bytes(self.buffer[1..5].try_into().unwrap()) as usize;
        if !self.fill(len + 1).await {
            return None;
        }
        let mut message = self.buffer.split_to(len + 1);
        let tag = message[0];
        message.advance(5);
        Some(Message { tag, body: message })
    }

    pub async fn send(&mut self, tag: u8, body: &[u8]) {
        let mut out = BytesMut::new();
        out.put_u8(tag);
        out.put_u32(4 + body.len() as u32);
        out.extend_from_slice(body);
        // A client that gave up has closed its end; what it would have read does not matter.
        let _ = self.socket.write_all(&out).await;
    }

    async fn auth(&mut self, code: u32, data: &[u8]) {
        let mut body = code.to_be_bytes().to_vec();
        body.extend_from_slice(data);
        self.send(b'R', &body).await;
    }

    /// Sends an ErrorResponse.
    pub async fn error(&mut self, code: &str, message: &str) {
        let body = format!("SERROR\0VERROR\0C{code}\0M{message}\0\0");
        self.send(b'E', body.as_bytes()).await;
    }

    /// Runs the login as `auth` says with `password` as the role's; returns whether the client
    /// passed, after answering it (AuthenticationOk … ReadyForQuery, or an error).
    pub async fn login(&mut self, auth: Auth, password: &str) -> bool {
        let passed = match auth {
            Auth::Trust => true,
            Auth::Cleartext => {
                self.auth(3, &[]).await;
                let Some(answer) = self.message().await else {
                    return false;
                };
                assert_eq!(answer.tag, b'p');
                answer.body[..] == *format!("{password}\0").as_bytes()
            }
            Auth::Md5 => {
                self.auth(5, &MD5_SALT).await;
                let Some(answer) = self.message().await else {
                    return false;
                };
                assert_eq!(answer.tag, b'p');
                answer.body[..] == *format!("{MD5_ANSWER}\0").as_bytes()
            }
            Auth::Scram | Auth::ScramForged => {
                self.scram(password, auth == Auth::ScramForged).await
            }
        };
        if !passed {
            self.error(
                "28P01",
                &format!("password authentication failed for user \"{USER}\""),
            )
            .await;
            return false;
        }
        self.auth(0, &[]).await;
        self.send(b'S', b"server_version\x0015.20 (fake)\0").await;
        self.send(b'K', &[0, 0, 0, 42, 0, 0, 0, 7]).await;
        self.send(b'Z', b"I").await;
        true
    }

    /// The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677).
    async fn scram(&mut self, password: &str, forged: bool) -> bool {
        self.auth(10, b"SCRAM-SHA-256\0\0").await;
        let Some(first) = self.message().await else {
            return false;
        };
        assert_eq!(first.tag, b'p');
        let mut first = first.body;
        let end = first.iter().position(|&b| b == 0).unwrap();
        assert_eq!(&first[..end], b"SCRAM-SHA-256");
        first.advance(end + 1);
        let len = first.get_u32() as usize;
        let client_first = String::from_utf8(first[..len].to_vec()).unwrap();
        let (gs2, bare) = client_first.split_at(3);
        assert_eq!(gs2, "n,,", "no channel binding");
        let client_nonce = bare.split(",r=").nth(1).unwrap().to_owned();
        let salt = b"fake-server-salt";
        let iterations = 4096;
        let nonce = format!("{client_nonce}fakeservernonce");
        let server_first = format!("r={nonce},s={},i={iterations}", BASE64.encode(salt));
        self.auth(11, server_first.as_bytes()).await;

        let Some(last) = self.message().await else {
            return false;
        };
        assert_eq!(last.tag, b'p');
        let client_final = String::from_utf8(last.body.to_vec()).unwrap();
        let (without_proof, proof) = client_final.rsplit_once(",p=").unwrap();
        let proof = BASE64.decode(proof).unwrap();
        let auth_message = format!("{bare},{server_first},{without_proof}");

        let mut salted = [0_u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            NonZeroU32::new(iterations).unwrap(),
            salt,
            password.as_bytes(),
            &mut salted,
        );
        let salted = hmac::Key::new(hmac::HMAC_SHA256, &salted);
        let client_key = hmac::sign(&salted, b"Client Key");
        let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
        let signature = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, stored_key.as_ref()),
            auth_message.as_bytes(),
        );
        let recovered: Vec<u8> = proof
            .iter()
            .zip(signature.as_ref())
            .map(|(p, s)| p ^ s)
            .collect();
        if digest::digest(&digest::SHA256, &recovered).as_ref() != stored_key.as_ref() {
            return false;
        }
        let server_key = hmac::sign(&salted, b"Server Key");
        let mut server_signature = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, server_key.as_ref()),
            auth_message.as_bytes(),
        )
        .as_ref()
        .to_vec();
        if forged {
            server_signature[0] ^= 0xff;
        }
        let server_final = format!("v={}", BASE64.encode(&server_signature));
        self.auth(12, server_final.as_bytes()).await;
        true
    }

    /// Reads the client's query and answers with CopyBothResponse; returns the query.
    /// `None` when the client hung up instead.
    pub async fn start_streaming(&mut self) -> Option<String> {
        let query = self.message().await?;
        assert_eq!(query.tag, b'Q');
        let text = String::from_utf8(query.body[..query.body.len() - 1].to_vec()).unwrap();
        self.send(b'W', &[0, 0, 0]).await;
        Some(text)
    }

    /// Reads what the client sends until it hangs up, answering its CopyDone as PostgreSQL
    /// does (CopyDone, CommandComplete, ReadyForQuery).
    pub async fn serve_until_closed(&mut self) {
        while let Some(message) = self.message().await {
            if message.tag == b'c' {
                self.end_copy().await;
            }
        }
    }

    /// The server's side of the end of a stream.
    pub async fn end_copy(&mut self) {
        self.send(b'c', &[]).await;
        self.send(b'C', b"COPY 0\0").await;
        self.send(b'Z', b"I").await;
    }
}

/// A primary keepalive message (a whole CopyData message, tag and length included).
pub fn keepalive(wal_end: u64, reply: bool) -> Vec<u8> {
    let mut body = vec![b'k'];
    body.extend_from_slice(&wal_end.to_be_bytes());
    body.extend_from_slice(&0_i64.to_be_bytes());
    body.push(u8::from(reply));
    copy_data(&body)
}

/// An XLogData message carrying `payload` (a pgoutput message).
pub fn xlogdata(at: u64, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![b'w'];
    body.extend_from_slice(&at.to_be_bytes());
    body.extend_from_slice(&at.to_be_bytes());
    body.extend_from_slice(&0_i64.to_be_bytes());
    body.extend_from_slice(payload);
    copy_data(&body)
}

fn copy_data(body: &[u8]) -> Vec<u8> {
    let mut message = vec![b'd'];
    message.extend_from_slice(&(4 + body.len() as u32).to_be_bytes());
    message.extend_from_slice(body);
    message
}

/// The flush position of a standby status update (a CopyData body starting with `r`).
pub fn status_flush(message: &Message) -> Option<u64> {
    if message.tag != b'd' || message.body.first() != Some(&b'r') {
        return None;
    }
    Some(u64::from_be_bytes(message.body[9..17].try_into().unwrap()))
}
