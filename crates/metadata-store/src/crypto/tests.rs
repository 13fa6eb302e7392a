//! The cipher on its own: round trips, fresh nonces, and every way a stored value can fail to
//! open, each with a clear error and never a wrong plaintext.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::*;

const KEY_1: [u8; 32] = [0x11; 32];
const KEY_2: [u8; 32] = [0x22; 32];

fn cipher(keys: &[(u32, [u8; 32])]) -> SecretCipher {
    SecretCipher::new(keys.iter().copied()).unwrap()
}

const ROW_5: SecretField = SecretField::source_password(5);
const ROW_6: SecretField = SecretField::source_password(6);

#[test]
fn a_value_encrypted_then_decrypted_comes_back() {
    let cipher = cipher(&[(1, KEY_1)]);
    for value in ["hunter2", "ü-ñ-€ and spaces", &"x".repeat(255)] {
        let stored = cipher.encrypt(value, &ROW_5).unwrap();
        assert!(stored.starts_with("rosetta:v1:1:"), "{stored}");
        assert!(!stored.contains(value));
        assert_eq!(cipher.decrypt(&stored, &ROW_5).unwrap(), value);
    }
}

#[test]
fn each_value_gets_a_fresh_nonce() {
    let cipher = cipher(&[(1, KEY_1)]);
    let first = cipher.encrypt("same", &ROW_5).unwrap();
    let second = cipher.encrypt("same", &ROW_5).unwrap();
    assert_ne!(first, second);
    let nonce = |s: &str| STANDARD.decode(&s["rosetta:v1:1:".len()..]).unwrap()[..12].to_vec();
    assert_ne!(nonce(&first), nonce(&second));
}

#[test]
fn new_values_use_the_highest_key_and_old_ones_still_open() {
    let old = cipher(&[(1, KEY_1)]);
    let stored_under_1 = old.encrypt("pw", &ROW_5).unwrap();
    let both = cipher(&[(2, KEY_2), (1, KEY_1)]);
    assert_eq!(both.newest_key_id(), 2);
    assert!(!both.is_current(&stored_under_1));
    assert_eq!(both.decrypt(&stored_under_1, &ROW_5).unwrap(), "pw");
    let stored_under_2 = both.encrypt("pw", &ROW_5).unwrap();
    assert!(stored_under_2.starts_with("rosetta:v1:2:"));
    assert!(both.is_current(&stored_under_2));
}

#[test]
fn a_tampered_ciphertext_is_refused() {
    let cipher = cipher(&[(1, KEY_1)]);
    let stored = cipher.encrypt("hunter2", &ROW_5).unwrap();
    let mut blob = STANDARD.decode(&stored["rosetta:v1:1:".len()..]).unwrap();
    for index in [0, 12, blob.len() - 1] {
        blob[index] ^= 0x01;
        let tampered = format!("rosetta:v1:1:{}", STANDARD.encode(&blob));
        blob[index] ^= 0x01;
        let error = cipher.decrypt(&tampered, &ROW_5).unwrap_err();
        assert_eq!(
            error,
            CipherError::Tampered {
                at: ROW_5,
                key_id: 1
            }
        );
        assert_eq!(
            error.to_string(),
            "cannot decrypt sources 5 pg_password: tampered with, or copied from another row \
             (or key 1 is not the key that encrypted it)"
        );
    }
}

#[test]
fn a_ciphertext_moved_to_another_row_or_field_is_refused() {
    let cipher = cipher(&[(1, KEY_1)]);
    let stored = cipher.encrypt("hunter2", &ROW_5).unwrap();
    assert_eq!(
        cipher.decrypt(&stored, &ROW_6),
        Err(CipherError::Tampered {
            at: ROW_6,
            key_id: 1
        })
    );
    let other_field = SecretField::new("sources", 5, "config.password");
    assert!(matches!(
        cipher.decrypt(&stored, &other_field),
        Err(CipherError::Tampered { .. })
    ));
    let other_table = SecretField::new("destinations", 5, "pg_password");
    assert!(matches!(
        cipher.decrypt(&stored, &other_table),
        Err(CipherError::Tampered { .. })
    ));
}

#[test]
fn a_key_with_the_right_id_but_other_bytes_is_refused() {
    let stored = cipher(&[(1, KEY_1)]).encrypt("hunter2", &ROW_5).unwrap();
    let impostor = cipher(&[(1, KEY_2)]);
    assert!(matches!(
        impostor.decrypt(&stored, &ROW_5),
        Err(CipherError::Tampered { .. })
    ));
}

#[test]
fn a_value_under_a_key_not_configured_says_which_key() {
    let stored = cipher(&[(3, KEY_1)]).encrypt("hunter2", &ROW_5).unwrap();
    let error = cipher(&[(1, KEY_1)]).decrypt(&stored, &ROW_5).unwrap_err();
    assert_eq!(
        error,
        CipherError::UnknownKey {
            at: ROW_5,
            key_id: 3
        }
    );
    assert_eq!(
        error.to_string(),
        "cannot decrypt sources 5 pg_password: encrypted with key 3, which is not configured"
    );
}

#[test]
fn malformed_values_are_refused() {
    let cipher = cipher(&[(1, KEY_1)]);
    for stored in [
        "rosetta:v1:",
        "rosetta:v1:1",
        "rosetta:v1:x:AAAA",
        "rosetta:v1:+1:AAAA",
        "rosetta:v1:99999999999:AAAA",
        "rosetta:v1:1:not base64!",
        "rosetta:v1:1:AAAA",
    ] {
        assert!(
            matches!(
                cipher.decrypt(stored, &ROW_5),
                Err(CipherError::Malformed { .. })
            ),
            "{stored}"
        );
    }
}

#[test]
fn values_not_in_the_format_are_legacy_plaintext() {
    let cipher = cipher(&[(1, KEY_1)]);
    assert!(!SecretCipher::is_encrypted("hunter2"));
    assert_eq!(cipher.decrypt("hunter2", &ROW_5).unwrap(), "hunter2");
    assert_eq!(
        cipher.decrypt("rosetta:v2:x", &ROW_5).unwrap(),
        "rosetta:v2:x"
    );
}

#[test]
fn no_key_material_or_plaintext_shows_in_debug_or_errors() {
    let cipher = cipher(&[(1, KEY_1), (2, KEY_2)]);
    let shown = format!("{cipher:?}");
    assert_eq!(shown, "SecretCipher { key_ids: [1, 2], newest: 2, .. }");
    let stored = cipher.encrypt("hunter2", &ROW_5).unwrap();
    let error = cipher.decrypt(&stored, &ROW_6).unwrap_err();
    for text in [format!("{error}"), format!("{error:?}")] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("17"), "{text}"); // 0x11 as decimal
        assert!(!text.contains(&stored), "{text}");
    }
}

#[test]
fn a_cipher_needs_a_key_and_distinct_ids() {
    assert_eq!(
        SecretCipher::new(std::iter::empty()).unwrap_err(),
        CipherError::NoKeys
    );
    assert_eq!(
        SecretCipher::new([(1, KEY_1), (1, KEY_2)]).unwrap_err(),
        CipherError::DuplicateKeyId { key_id: 1 }
    );
}

#[test]
fn generated_keys_differ() {
    assert_ne!(
        SecretCipher::generate_key().unwrap(),
        SecretCipher::generate_key().unwrap()
    );
}
