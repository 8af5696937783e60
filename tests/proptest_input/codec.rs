//! The record store's on-disk format (`store::codec`): records and
//! provider lists round-trip, keep their expiry, and every truncation or
//! damage is an error, never a panic.

use std::time::Duration;

use libp2p::Multiaddr;
use p2pnode::dht::{ProviderRecord, Record, RecordKey, Version};
use p2pnode::store::codec::{self, Clock};
use proptest::prelude::*;

use super::{config, peer};

/// A record's parts; its expiry is an offset from the clock the test reads.
type Parts = (Vec<u8>, Vec<u8>, Option<[u8; 32]>, Option<u64>);

fn record_parts() -> impl Strategy<Value = Parts> {
    (
        proptest::collection::vec(any::<u8>(), 1..64),
        proptest::collection::vec(any::<u8>(), 0..2048),
        proptest::option::of(any::<[u8; 32]>()),
        proptest::option::of(0u64..(200 * 24 * 3600 * 1000)),
    )
}

fn record((key, value, publisher, expires_ms): Parts, clock: &Clock) -> Record {
    Record {
        key: RecordKey::new(&key),
        value,
        publisher: publisher.map(peer),
        version: Version(expires_ms.unwrap_or(1)),
        expires: expires_ms.map(|ms| clock.instant + Duration::from_millis(ms)),
    }
}

type ProviderParts = Vec<([u8; 32], Option<u64>, Vec<Multiaddr>)>;

fn provider_parts() -> impl Strategy<Value = ProviderParts> {
    let addr = prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, port)| format!("/ip4/{}/tcp/{port}", std::net::Ipv4Addr::from(ip))),
        "[a-z]{1,10}".prop_map(|h| format!("/dns/{h}/udp/4001/quic-v1")),
    ]
    .prop_map(|s| s.parse::<Multiaddr>().expect("valid multiaddr"));
    let one = (
        any::<[u8; 32]>(),
        proptest::option::of(0u64..1_000_000_000),
        proptest::collection::vec(addr, 0..4),
    );
    proptest::collection::vec(one, 0..5)
}

fn providers(parts: ProviderParts, clock: &Clock) -> Vec<ProviderRecord> {
    parts
        .into_iter()
        .map(|(seed, ms, addresses)| ProviderRecord {
            key: RecordKey::new(&b"k"),
            provider: peer(seed),
            expires: ms.map(|ms| clock.instant + Duration::from_millis(ms)),
            addresses,
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn records_round_trip(parts in record_parts()) {
        let clock = Clock::now();
        let r = record(parts, &clock);
        let bytes = codec::encode_record(&r, &clock);
        let back = codec::decode_record(r.key.as_ref(), &bytes, &clock);
        prop_assert_eq!(back, Ok(r));
    }

    #[test]
    fn records_read_later_keep_their_expiry(parts in record_parts(), later_ms in 0u64..10_000_000) {
        // Written now, read after a restart `later_ms` on: the expiry is the
        // same wall-clock moment, or expired if that moment has passed.
        let clock = Clock::now();
        let r = record(parts, &clock);
        let bytes = codec::encode_record(&r, &clock);
        let step = Duration::from_millis(later_ms);
        let later = Clock { instant: clock.instant + step, system: clock.system + step };
        let back = codec::decode_record(r.key.as_ref(), &bytes, &later).expect("decodes");
        match (back.expires, r.expires) {
            (None, None) => {}
            (Some(b), Some(a)) if a > later.instant => prop_assert_eq!(b, a),
            (Some(b), Some(_)) => prop_assert!(back.is_expired(later.instant), "{:?}", b),
            other => prop_assert!(false, "expiry lost or invented: {:?}", other),
        }
    }

    #[test]
    fn truncated_records_are_errors(parts in record_parts(), cut in any::<prop::sample::Index>()) {
        let clock = Clock::now();
        let r = record(parts, &clock);
        let bytes = codec::encode_record(&r, &clock);
        let cut = cut.index(bytes.len());
        prop_assert!(codec::decode_record(r.key.as_ref(), &bytes[..cut], &clock).is_err());
    }

    #[test]
    fn a_damaged_record_is_always_detected(
        parts in record_parts(),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        // A changed byte is an error (the checksum), never a wrong record.
        let clock = Clock::now();
        let r = record(parts, &clock);
        let mut bytes = codec::encode_record(&r, &clock);
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        prop_assert!(codec::decode_record(r.key.as_ref(), &bytes, &clock).is_err());
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let clock = Clock::now();
        let _ = codec::decode_record(b"k", &bytes, &clock);
        let _ = codec::decode_providers(b"k", &bytes, &clock);
    }

    #[test]
    fn provider_lists_round_trip(parts in provider_parts(), cut in any::<prop::sample::Index>()) {
        let clock = Clock::now();
        let list = providers(parts, &clock);
        let bytes = codec::encode_providers(b"k", &list, &clock);
        let back = codec::decode_providers(b"k", &bytes, &clock).expect("decodes");
        prop_assert_eq!(back.len(), list.len());
        for (a, b) in back.iter().zip(&list) {
            prop_assert_eq!(a.provider, b.provider);
            prop_assert_eq!(&a.addresses, &b.addresses);
            prop_assert_eq!(a.expires, b.expires);
        }
        let cut = cut.index(bytes.len());
        prop_assert!(codec::decode_providers(b"k", &bytes[..cut], &clock).is_err());
    }
}
