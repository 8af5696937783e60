//! Owned records end to end: a node writes `@self/NAME`, every node reads
//! it with its owner, and nobody else can change it: not another node's
//! user, and not a rogue peer that speaks the DHT protocol itself and
//! pushes forged, unsigned, moved or replayed values to every node. Each
//! attempt is refused and counted; the refusals of one peer are logged once
//! (the binary as processes on 127.0.0.1, the rogue in the test).

use p2pnode::dht::owned;
use p2pnode::dht::wire::WireRecord;
use p2pnode::dht::{RecordKey, Version};
use p2pnode_testkit::rogue::{Answer, Rogue, wire_record};
use p2pnode_testkit::{Ask, Binary, NodeProc, Opts, SETTLE, assert_error, assert_ok};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// A version above any a clock gives: a forgery's bid to win.
const HUGE: u64 = u64::MAX / 2;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Asserts that `node` holds `value` under `key`, owned by `owner`.
fn assert_owned(node: &mut NodeProc, key: &str, value: &str, owner: &str) {
    let got = node.cmd(&format!("get {key}"));
    assert_ok(&got);
    assert_eq!(got["value"], value, "{}: {got}", node.peer_id);
    assert_eq!(got["owner"], owner, "{got}");
}

#[test]
fn only_the_owner_changes_an_owned_record_on_any_node() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let log = tmp.path().join("b.log");
    let mut a = BIN.start(Opts::default());
    let seed = a.tcp_addr().to_string();
    let mut b = BIN.start(Opts::default().bootstrap(seed.clone()).log_file(&log));
    let mut c = BIN.start(Opts::default().bootstrap(seed));
    for n in [&mut a, &mut b, &mut c] {
        n.wait_routing(2, SETTLE);
    }
    let owner = a.peer_id.clone();
    let key = format!("@{owner}/greeting");

    let put = a.cmd("put @self/greeting hello");
    assert_ok(&put);
    assert_eq!(put["replicated"], 2, "{put}");
    assert_ok(&a.cmd("put @self/other elsewhere"));
    for n in [&mut a, &mut b, &mut c] {
        assert_owned(n, &key, "hello", &owner);
    }
    // Another node's user cannot write it, in either form of the key.
    assert_error(&b.cmd(&format!("put {key} PWNED")), "can write this key");
    let raw = owned::key(&owner.parse().expect("a peer id"), b"greeting");
    let hex_key = format!("hex:{}", hex::encode(raw.as_ref()));
    assert_error(
        &b.cmd(&format!("put {hex_key} PWNED")),
        "can write this key",
    );

    let rt = runtime();
    let mut rogue = Rogue::new();
    let peers: Vec<_> = [&a, &b, &c]
        .iter()
        .map(|n| rt.block_on(rogue.connect(&n.tcp_addr().parse().expect("a multiaddr"))))
        .collect();
    // The owner's first value, kept to replay once a newer one exists.
    let first = rt
        .block_on(rogue.get(peers[1], raw.as_ref()))
        .expect("b holds it");
    let other_key = owned::key(&owner.parse().expect("a peer id"), b"other");
    let other = rt
        .block_on(rogue.get(peers[1], other_key.as_ref()))
        .expect("b holds the other one");
    let put = a.cmd("put @self/greeting hello again");
    assert_eq!(put["replicated"], 2, "{put}");

    let forged = owned::seal(rogue.keypair(), &raw, Version(HUGE), b"PWNED").expect("signed");
    let attempts: Vec<(&str, WireRecord)> = vec![
        (
            "signed by the rogue",
            wire_record(raw.as_ref(), &forged, HUGE),
        ),
        ("not signed", wire_record(raw.as_ref(), b"PWNED", HUGE)),
        ("moved from another key", moved(&other, &raw)),
        (
            "replayed, older",
            WireRecord {
                version: HUGE,
                ..first
            },
        ),
    ];
    for (peer, node) in peers.iter().zip([&a, &b, &c]) {
        for (what, record) in &attempts {
            let answer = rt.block_on(rogue.put(*peer, record.clone()));
            assert!(
                matches!(answer, Answer::Refused(_)),
                "{what}: {} answered {answer:?}",
                node.peer_id
            );
        }
    }
    for n in [&mut a, &mut b, &mut c] {
        assert_owned(n, &key, "hello again", &owner);
        let s = n.cmd("stats");
        assert_eq!(s["refused_by_reason"]["not_owner"], 3, "{s}");
        assert_eq!(s["refused_by_reason"]["stale"], 1, "{s}");
    }
    // More attempts are counted, not logged again.
    for _ in 0..5 {
        let record = wire_record(raw.as_ref(), &forged, HUGE);
        assert!(matches!(
            rt.block_on(rogue.put(peers[1], record)),
            Answer::Refused(_)
        ));
    }
    assert_eq!(b.cmd("stats")["refused_by_reason"]["not_owner"], 8);
    b.stop(p2pnode_testkit::binary::SHUTDOWN_BOUND);
    let logs = std::fs::read_to_string(&log).expect("b's log");
    let rogue_id = rogue.peer_id().to_string();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("refused a record") && l.contains(&rogue_id))
        .collect();
    assert_eq!(lines.len(), 1, "logged once per peer and reason: {lines:?}");
    assert!(lines[0].contains("owner"), "{}", lines[0]);
}

/// The owner's signed value of `from` pushed under the key `to`.
fn moved(from: &WireRecord, to: &RecordKey) -> WireRecord {
    WireRecord {
        key: to.to_vec(),
        version: HUGE,
        ..from.clone()
    }
}

/// Guards the validation of `/pk/` records from the network (issue 12
/// item 2): a PUT_VALUE under `/pk/<peer id>` whose value is another
/// key's public key (or no key at all) is refused over the wire, not
/// stored, and counted in `records_refused` and
/// `refused_by_reason.invalid`; the right public key is stored.
#[test]
fn a_pk_record_from_the_network_must_hold_the_key_its_key_names() {
    let mut a = BIN.start(Opts::default());
    let rt = runtime();
    let mut rogue = Rogue::new();
    let peer = rt.block_on(rogue.connect(&a.tcp_addr().parse().expect("a multiaddr")));
    let id = rogue.peer_id();
    let pk_key = [b"/pk/".as_slice(), &id.to_bytes()].concat();
    let other = libp2p::identity::Keypair::generate_ed25519();
    let wrong = other.public().encode_protobuf();
    for (what, value) in [("another key", wrong.as_slice()), ("no key", b"nokey")] {
        let answer = rt.block_on(rogue.put(peer, wire_record(&pk_key, value, 1)));
        match &answer {
            Answer::Refused(reason) => assert!(reason.contains("/pk/"), "{what}: {reason}"),
            other => panic!("{what}: a bad /pk/ record answered {other:?}"),
        }
    }
    let s = a.cmd("stats");
    assert_eq!(s["records"], 0, "{s}");
    assert_eq!(s["records_refused"], 2, "{s}");
    assert_eq!(s["refused_by_reason"]["invalid"], 2, "{s}");
    let hex_key = format!("hex:{}", hex::encode(&pk_key));
    assert_eq!(a.cmd(&format!("get {hex_key}"))["error"], "not found");
    // The right key is stored: the refusals above were for the mismatch.
    let right = rogue.keypair().public().encode_protobuf();
    let answer = rt.block_on(rogue.put(peer, wire_record(&pk_key, &right, 1)));
    assert_eq!(answer, Answer::Stored);
    assert_eq!(a.stat("records"), 1);
}
