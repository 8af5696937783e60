//! Rendering: the one verdict read by both formats, values shown
//! reversibly and safely, and the terms `closest` and `routing` use.

use std::num::NonZeroUsize;
use std::time::Duration;

use crate::dht::{RecordKey, Version};
use libp2p::PeerId;
use serde_json::json;

use super::*;
use crate::command::Command;
use crate::reports::Found;
use crate::reports::Quorum;

fn key(text: &str) -> Option<UserKey> {
    UserKey::parse(text).ok()
}

fn got(values: &[&[u8]], quorum_met: bool) -> Reply {
    let report = GetReport {
        key: RecordKey::new(&"k"),
        values: values
            .iter()
            .map(|v| Found {
                value: v.to_vec(),
                from: None,
                version: Version::NONE,
                publisher: None,
                owner: None,
            })
            .collect(),
        conflict: values.len() > 1,
        copies: values.len(),
        stale: 0,
        oversized: 0,
        quorum_met,
        elapsed: Duration::from_millis(2),
        peers_queried: 3,
    };
    Reply::new("get", key("k"), Ok(Body::Get(report)))
}

fn put(replicated: usize, quorum_met: bool) -> Reply {
    let report = PutReport {
        key: RecordKey::new(&"k"),
        version: Version(1),
        replicated,
        replicated_to: Vec::new(),
        refused: Vec::new(),
        unreachable: 0,
        wanted: 1,
        quorum: Quorum::N(NonZeroUsize::MIN),
        quorum_met,
        elapsed: Duration::from_millis(1),
    };
    Reply::new("put", key("my key"), Ok(Body::Put(report)))
}

/// Both formats say the same thing about success.
fn assert_verdict(reply: &Reply, ok: bool, error: Option<&str>) {
    assert_eq!(reply.ok(), ok);
    let v = reply.to_json();
    assert_eq!(v["ok"], ok);
    assert_eq!(v["error"].as_str(), error);
    let text = reply.render(Format::Human);
    assert_eq!(text.starts_with("error: "), !ok, "{text}");
    if let Some(error) = error {
        assert!(text.contains(error), "{text}");
    }
}

#[test]
fn success_is_decided_once_and_both_formats_agree() {
    assert_verdict(&put(2, true), true, None);
    let failed = "quorum not met: stored locally, replicated to 0 peer(s)";
    assert_verdict(&put(0, false), false, Some(failed));
    assert_verdict(&got(&[b"v"], true), true, None);
    assert_verdict(&got(&[], true), false, Some("not found"));
    assert_verdict(
        &got(&[b"v"], false),
        false,
        Some("quorum not met: found 1 copies"),
    );
    let rejected = Command::from_args(&["frobnicate"]).unwrap_err();
    let reply = Reply::rejected(rejected);
    assert_eq!(reply.cmd(), "frobnicate");
    assert_verdict(
        &reply,
        false,
        Some("unknown command frobnicate; type 'help' for the list"),
    );
    let reply = Reply::new("id", None, Err(crate::Error::Stopped.into()));
    assert_verdict(&reply, false, Some("the node has stopped"));
}

#[test]
fn keys_are_shown_as_they_could_be_typed() {
    assert!(
        put(1, true)
            .render(Format::Human)
            .starts_with("stored \"my key\" locally")
    );
    assert_eq!(put(1, true).to_json()["key"], "my key");
}

#[test]
fn values_are_shown_reversibly_and_safely() {
    assert_eq!(show_value(b"hello world"), "hello world");
    assert_eq!(show_value(b"say \"hi\""), "say \"hi\"");
    assert_eq!(show_value(&[0xff]), "hex:ff");
    assert_eq!(show_value(b"hex:ff"), "\"hex:ff\"");
    assert_eq!(show_value(b""), "\"\"");
    assert_eq!(show_value(b" padded"), "\" padded\"");
    assert_eq!(show_value(b"\"quoted\""), r#""\"quoted\"""#);
    assert_eq!(show_value(b"a\nfake line"), r#""a\nfake line""#);
    assert_eq!(show_value(b"\x1b[2Jcleared\r"), r#""\x1b[2Jcleared\r""#);
    assert_ne!(show_value(&[0xff]), show_value(&[0xfe]));
}

#[test]
fn a_value_never_fakes_a_line() {
    let text = got(&[b"evil\nerror: fake\x1b[31m"], true).render(Format::Human);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.starts_with(r#""evil\nerror: fake\x1b[31m""#), "{text}");
}

#[test]
fn values_that_are_not_utf8_keep_their_bytes_in_json() {
    let v = got(&[&[0xff]], true).to_json();
    assert_eq!(v["value_hex"], "ff");
    let v = got(&[&[0xff], &[0xfe], b"text"], true).to_json();
    assert_eq!(v["value_hex"], "ff");
    assert_eq!(v["values_hex"], json!(["ff", "fe", "74657874"]));
    assert_eq!(v["values"][2], "text");
    assert_ne!(v["values_hex"][0], v["values_hex"][1]);
    let text = got(&[&[0xff], &[0xfe]], true).render(Format::Human);
    assert!(text.contains("hex:ff") && text.contains("hex:fe"), "{text}");
    // All UTF-8: no hex fields.
    let v = got(&[b"a", b"b"], true).to_json();
    assert!(v.get("values_hex").is_none() && v.get("value_hex").is_none());
}

#[test]
fn closest_shows_the_common_prefix_with_the_key() {
    let close = |bucket: Option<u32>| Close {
        peer: PeerId::random(),
        distance: "00".repeat(32),
        common_prefix_bits: bucket.map_or(256, |b| 255 - b),
        bucket,
    };
    let reply = Reply::new(
        "closest",
        key("k"),
        Ok(Body::Closest(vec![
            close(Some(253)),
            close(Some(0)),
            close(None),
        ])),
    );
    let v = reply.to_json();
    let bits: Vec<_> = (0..3)
        .map(|i| v["peers"][i]["common_prefix_bits"].clone())
        .collect();
    assert_eq!(bits, [json!(2), json!(255), json!(256)]);
    assert!(v["peers"][0].get("bucket").is_none());
    let text = reply.render(Format::Human);
    assert!(text.contains("common prefix   2 bits"), "{text}");
    assert!(!text.contains("bucket"), "{text}");
}

#[test]
fn routing_says_what_a_k_bucket_is() {
    let bucket = Bucket {
        index: 255,
        entries: vec![(PeerId::random(), vec![], true)],
    };
    let text = Reply::new("routing", None, Ok(Body::Routing(vec![bucket]))).render(Format::Human);
    assert!(
        text.contains("XOR distance [2^i, 2^(i+1)) from this node"),
        "{text}"
    );
    assert!(text.contains("\n  k-bucket 255: 1 peer(s)"), "{text}");
}

#[test]
fn help_comes_from_the_table_with_the_quoting_rules() {
    let reply = Reply::new("help", None, Ok(Body::Help(crate::command::help())));
    let v = reply.to_json();
    assert_eq!(v["commands"][0]["name"], "put");
    assert_eq!(v["commands"][0]["aliases"], json!(["set"]));
    assert_eq!(
        v["quoting"].as_array().map(Vec::len),
        Some(crate::command::QUOTING.len())
    );
    let text = reply.render(Format::Human);
    assert!(
        text.contains("(also: set)") && text.contains("quoting:"),
        "{text}"
    );
}
