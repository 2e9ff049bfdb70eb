//! Property tests: encodings read back what they write.

use pgauth::pgpool::{secret_matches, PoolKey};
use pgauth::scram::ScramVerifier;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn aes_round_trips(key in "\\PC{1,40}", password in "\\PC{0,40}") {
        let key = PoolKey::new(key.as_bytes()).unwrap();
        prop_assume!(password.len() <= 128);
        let text = key.encrypt(&password).unwrap();
        prop_assert_eq!(key.decrypt(&text).unwrap(), password.clone());
        let secret = format!("AES{text}");
        prop_assert_eq!(secret_matches(&secret, "u", &password, Some(&key)), Ok(true));
    }

    #[test]
    fn scram_text_round_trips(password in "\\PC{0,20}", salt in proptest::collection::vec(any::<u8>(), 1..32), iterations in 1u32..64) {
        let v = ScramVerifier::with_salt(&password, &salt, iterations);
        let text = v.to_string();
        let back = ScramVerifier::parse(&text).unwrap();
        prop_assert_eq!(back.to_string(), text);
        prop_assert!(back.verifies(&password));
    }

    #[test]
    fn scram_parse_never_panics(text in "SCRAM-SHA-256\\$[0-9a-zA-Z+/=:$]{0,80}") {
        let _ = ScramVerifier::parse(&text);
    }
}
