use std::time::{Duration, Instant};

use libp2p::PeerId;

use super::*;
use crate::dht::Version;

fn record(key: &str, value: &str, publisher: Option<PeerId>, version: u64) -> Record {
    Record {
        key: RecordKey::new(&key),
        value: value.as_bytes().to_vec(),
        publisher,
        version: Version(version),
        expires: None,
    }
}

/// Waits until every write queued is on disk.
fn settle(s: &mut Store) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    while s.unflushed() > 0 {
        let e = rt.block_on(s.disk_event());
        s.on_disk_event(&e);
    }
}

fn raw_insert(dir: &std::path::Path, table: &str, key: &[u8], value: &[u8]) {
    use redb::TableDefinition;
    let db = redb::Database::create(dir.join(DB_FILE)).unwrap();
    let txn = db.begin_write().unwrap();
    let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(table);
    txn.open_table(def).unwrap().insert(key, value).unwrap();
    txn.commit().unwrap();
}

#[test]
fn records_providers_and_peers_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let me = PeerId::random();
    let other = PeerId::random();
    let limits = Limits::default();
    let soon = Instant::now() + Duration::from_secs(3600);
    let addr: libp2p::Multiaddr = "/ip4/127.0.0.1/tcp/9".parse().unwrap();
    {
        let mut s = Store::open(dir.path(), me, &limits).unwrap();
        assert!(matches!(
            s.put_own(record("mine", "1", Some(me), 7)),
            Ok(Stored::Written(Some(_)))
        ));
        let mut theirs = record("theirs", "2", Some(other), 9);
        theirs.expires = Some(soon);
        s.accept(theirs, Some(other)).unwrap();
        s.add_provider(ProviderRecord {
            key: RecordKey::new(&"p"),
            provider: me,
            addresses: vec![],
            expires: None,
        })
        .unwrap();
        s.save_peers(vec![(other, vec![addr.clone()])]);
        assert!(s.unflushed() > 0);
        settle(&mut s);
        assert_eq!(s.unflushed(), 0);
    }
    let s = Store::open(dir.path(), me, &limits).unwrap();
    assert_eq!(s.record_count(), 2);
    let mine = s.get(&RecordKey::new(&"mine")).unwrap();
    assert_eq!(mine.record.publisher, Some(me));
    assert_eq!(mine.record.version, Version(7));
    assert!(!mine.confirmed, "loaded copies are unconfirmed");
    let theirs = &s.get(&RecordKey::new(&"theirs")).unwrap().record;
    let left = theirs.expires.unwrap() - Instant::now();
    assert!(left > Duration::from_secs(3590) && left <= Duration::from_secs(3600));
    assert_eq!(s.originated().len(), 1);
    assert_eq!(s.provided_keys(), vec![RecordKey::new(&"p")]);
    assert_eq!(s.saved_peers(), &[(other, vec![addr])]);
}

#[test]
fn removals_and_expiry_reach_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let me = PeerId::random();
    let limits = Limits::default();
    {
        let mut s = Store::open(dir.path(), me, &limits).unwrap();
        s.put_own(record("gone", "1", Some(me), 1)).unwrap();
        let mut short = record("short", "2", None, 1);
        short.expires = Some(Instant::now() + Duration::from_millis(50));
        s.accept(short, None).unwrap();
        s.remove(&RecordKey::new(&"gone"));
        // Closing writes what is pending.
    }
    std::thread::sleep(Duration::from_millis(100));
    let s = Store::open(dir.path(), me, &limits).unwrap();
    assert_eq!(s.record_count(), 0);
    assert_eq!(s.load_report().expired, 1);
}

#[test]
fn a_flipped_byte_is_quarantined_never_served_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let me = PeerId::random();
    {
        let mut s = Store::open(dir.path(), me, &Limits::default()).unwrap();
        s.put_own(record("weather", "sunny", Some(me), 3)).unwrap();
        s.put_own(record("other", "fine", Some(me), 3)).unwrap();
    }
    // Flip one byte of the value "sunny" in place.
    let clock = codec::Clock::now();
    let mut bytes = codec::encode_record(&record("weather", "sunny", Some(me), 3), &clock);
    let at = bytes.windows(5).position(|w| w == b"sunny").unwrap();
    bytes[at] ^= 0x01;
    raw_insert(dir.path(), "records", b"weather", &bytes);
    let s = Store::open(dir.path(), me, &Limits::default()).unwrap();
    assert!(s.get(&RecordKey::new(&"weather")).is_none());
    assert_eq!(
        s.get(&RecordKey::new(&"other")).unwrap().record.value,
        b"fine"
    );
    assert_eq!(s.load_report().corrupt, 1);
    drop(s);
    // Quarantined, not reloaded next time.
    let s = Store::open(dir.path(), me, &Limits::default()).unwrap();
    assert_eq!(s.load_report().corrupt, 0);
    assert_eq!(s.record_count(), 1);
}

#[test]
fn an_entry_of_an_unknown_format_is_skipped_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let me = PeerId::random();
    drop(Store::open(dir.path(), me, &Limits::default()).unwrap());
    raw_insert(dir.path(), "records", b"future", &[9, 1, 2, 3]);
    let s = Store::open(dir.path(), me, &Limits::default()).unwrap();
    assert_eq!(s.load_report().unknown, 1);
    assert_eq!(s.record_count(), 0);
    drop(s);
    let s = Store::open(dir.path(), me, &Limits::default()).unwrap();
    assert_eq!(
        s.load_report().unknown,
        1,
        "still on disk for a newer p2pnode"
    );
}

#[test]
fn the_newest_write_wins_whatever_the_order() {
    let mut s = Store::in_memory(PeerId::random(), &Limits::default());
    let a = PeerId::random();
    let b = PeerId::random();
    s.accept(record("colour", "blue", Some(b), 200), Some(b))
        .unwrap();
    assert_eq!(
        s.accept(record("colour", "red", Some(a), 100), Some(a)),
        Err(Refusal::Stale)
    );
    assert_eq!(
        s.get(&RecordKey::new(&"colour")).unwrap().record.value,
        b"blue"
    );
    assert_eq!(
        s.accept(record("colour", "blue", Some(b), 200), Some(a)),
        Ok(Stored::Same(None))
    );
    assert!(matches!(
        s.accept(record("colour", "green", Some(a), 300), Some(a)),
        Ok(Stored::Written(None))
    ));
}

#[test]
fn limits_apply_to_own_puts_and_pushes_alike_and_the_exact_limit_fits() {
    let limits = Limits {
        max_value_bytes: 10,
        max_key_bytes: 4,
        max_records: 2,
        max_provider_keys: 1,
        ..Limits::default()
    };
    let me = PeerId::random();
    let mut s = Store::in_memory(me, &limits);
    s.put_own(Record::new(RecordKey::new(&"a"), vec![0; 10]))
        .unwrap();
    assert_eq!(
        s.put_own(Record::new(RecordKey::new(&"b"), vec![0; 11])),
        Err(Refusal::ValueTooLarge {
            size: 11,
            limit: 10
        })
    );
    assert_eq!(
        s.accept(Record::new(RecordKey::new(&"b"), vec![0; 11]), None),
        Err(Refusal::ValueTooLarge {
            size: 11,
            limit: 10
        })
    );
    assert!(matches!(
        s.accept(Record::new(RecordKey::new(&"long!"), vec![0]), None),
        Err(Refusal::KeyTooLong { .. })
    ));
    s.accept(Record::new(RecordKey::new(&"b"), vec![0]), None)
        .unwrap();
    assert_eq!(
        s.accept(Record::new(RecordKey::new(&"c"), vec![0]), None),
        Err(Refusal::Full { limit: 2 })
    );
}

#[test]
fn expired_records_and_providers_do_not_count_against_limits() {
    let limits = Limits {
        max_records: 1,
        max_provider_keys: 1,
        ..Limits::default()
    };
    let me = PeerId::random();
    let mut s = Store::in_memory(me, &limits);
    let mut dead = Record::new(RecordKey::new(&"dead"), vec![1]);
    dead.expires = Some(Instant::now() - Duration::from_millis(1));
    s.hold(
        dead.key.clone(),
        Held {
            record: dead,
            holder: Holder::Own,
            stored: Instant::now(),
            confirmed: true,
        },
    );
    // The only slot is the dead record's: it goes, the live one comes.
    s.put_own(Record::new(RecordKey::new(&"alive"), vec![1]))
        .unwrap();
    let provider = |key: &str, expires| ProviderRecord {
        key: RecordKey::new(&key),
        provider: PeerId::random(),
        addresses: vec![],
        expires,
    };
    s.add_provider(provider(
        "k1",
        Some(Instant::now() - Duration::from_millis(1)),
    ))
    .unwrap();
    s.add_provider(provider("k2", None)).unwrap();
    assert_eq!(s.providers(&RecordKey::new(&"k1")), vec![]);
    assert_eq!(s.providers(&RecordKey::new(&"k2")).len(), 1);
}

#[test]
fn pk_records_must_hold_the_named_key() {
    let mut s = Store::in_memory(PeerId::random(), &Limits::default());
    let key = libp2p::identity::Keypair::generate_ed25519();
    let id = key.public().to_peer_id();
    let mut k = b"/pk/".to_vec();
    k.extend(id.to_bytes());
    let good = Record::new(RecordKey::new(&k), key.public().encode_protobuf());
    s.accept(good, None).unwrap();
    let other = libp2p::identity::Keypair::generate_ed25519();
    let bad = Record::new(RecordKey::new(&k), other.public().encode_protobuf());
    assert!(matches!(s.put_own(bad), Err(Refusal::Invalid(_))));
}
