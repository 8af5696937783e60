use super::*;

fn record(c: &Clock) -> Record {
    Record {
        key: RecordKey::new(&"k"),
        value: b"hello".to_vec(),
        publisher: Some(PeerId::random()),
        version: Version(1_700_000_000_123),
        expires: Some(c.instant + Duration::from_millis(90_000)),
    }
}

#[test]
fn record_round_trips_with_publisher_version_and_expiry() {
    let c = Clock::now();
    let r = record(&c);
    let back = decode_record(b"k", &encode_record(&r, &c), &c).unwrap();
    assert_eq!(back, r);
}

#[test]
fn every_flipped_byte_is_detected() {
    let c = Clock::now();
    let bytes = encode_record(&record(&c), &c);
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = bytes.clone();
            bad[i] ^= bit;
            assert!(
                decode_record(b"k", &bad, &c).is_err(),
                "flip of bit {bit:#x} in byte {i} went unnoticed"
            );
        }
    }
    // The checksum covers the key: a record moved under another key is caught.
    assert_eq!(decode_record(b"j", &bytes, &c), Err(CodecError::Checksum));
}

/// A record written by p2pnode 0.1 (format 1): flags 0b11, publisher,
/// expiry, value "sunny".
#[test]
fn format_1_records_still_read_with_version_1() {
    let c = Clock::now();
    let p = PeerId::random();
    let mut v1 = vec![1u8, 0b11];
    put_bytes(&mut v1, &p.to_bytes());
    v1.extend_from_slice(&(c.to_unix_ms(c.instant) + 60_000).to_be_bytes());
    put_bytes(&mut v1, b"sunny");
    let r = decode_record(b"weather", &v1, &c).unwrap();
    assert_eq!(r.value, b"sunny");
    assert_eq!(r.publisher, Some(p));
    assert_eq!(r.version, Version(1));
    assert!(!r.is_expired(c.instant));
}

#[test]
fn providers_round_trip_and_are_sealed() {
    let c = Clock::now();
    let list = vec![ProviderRecord {
        key: RecordKey::new(&"k"),
        provider: PeerId::random(),
        expires: Some(c.instant + Duration::from_secs(3)),
        addresses: vec!["/ip4/127.0.0.1/tcp/1".parse().unwrap()],
    }];
    let bytes = encode_providers(b"k", &list, &c);
    assert_eq!(decode_providers(b"k", &bytes, &c).unwrap(), list);
    let mut bad = bytes.clone();
    bad[3] ^= 1;
    assert!(decode_providers(b"k", &bad, &c).is_err());
}

#[test]
fn garbage_is_an_error_and_unknown_formats_say_so() {
    let c = Clock::now();
    assert_eq!(decode_record(b"k", &[], &c), Err(CodecError::Truncated));
    let e = decode_record(b"k", &[9, 0], &c).unwrap_err();
    assert!(e.is_unknown_format());
    assert!(decode_record(b"k", &[1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f], &c).is_err());
    assert!(decode_providers(b"k", &[1, 0xff, 0xff, 0xff, 0xff, 0x0f], &c).is_err());
    let good = encode_record(&Record::new(RecordKey::new(&"k"), vec![1, 2]), &c);
    for cut in 0..good.len() {
        assert!(decode_record(b"k", &good[..cut], &c).is_err(), "{cut}");
    }
}
