//! Loading the database into the store at start, entry by entry: one bad
//! entry never stops the start nor hides the others.

use libp2p::{Multiaddr, PeerId};
use tracing::warn;

use super::codec::{self, Clock};
use super::disk::{Contents, Op, Table};
use super::{Held, Holder, LoadReport, Refusal, Store};
use crate::dht::Record;
use crate::keys;

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The saved form of a peer's addresses: a count, then each length-prefixed.
pub(super) fn encode_addrs(addrs: &[Multiaddr]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, addrs.len() as u64);
    for a in addrs {
        let b = a.to_vec();
        varint(&mut out, b.len() as u64);
        out.extend_from_slice(&b);
    }
    out
}

pub(super) fn decode_addrs(mut bytes: &[u8]) -> Option<Vec<Multiaddr>> {
    fn take_varint(b: &mut &[u8]) -> Option<usize> {
        let mut n: u64 = 0;
        for shift in (0..63).step_by(7) {
            let (&x, rest) = b.split_first()?;
            *b = rest;
            n |= u64::from(x & 0x7f) << shift;
            if x & 0x80 == 0 {
                return usize::try_from(n).ok();
            }
        }
        None
    }
    let count = take_varint(&mut bytes)?;
    let mut out = Vec::with_capacity(count.min(16));
    for _ in 0..count {
        let len = take_varint(&mut bytes)?;
        if len > bytes.len() {
            return None;
        }
        let (a, rest) = bytes.split_at(len);
        bytes = rest;
        out.push(Multiaddr::try_from(a.to_vec()).ok()?);
    }
    bytes.is_empty().then_some(out)
}

/// Counts an entry that was not loaded: one in a format this p2pnode does
/// not know stays on disk; a damaged one is moved to quarantine.
fn skip(
    report: &mut LoadReport,
    ops: &mut Vec<Op>,
    table: Table,
    (key, bytes): (&[u8], &[u8]),
    what: &str,
    e: &dyn std::fmt::Display,
    unknown: bool,
) {
    let shown = keys::display(&crate::dht::RecordKey::new(&key));
    if unknown {
        report.unknown += 1;
        return;
    }
    report.corrupt += 1;
    warn!(key = %shown, error = %e, "a damaged {what} was moved to the quarantine table and will not be served");
    ops.push(Op {
        table,
        key: key.to_vec(),
        value: None,
    });
    let mut q = Vec::with_capacity(bytes.len() + 1);
    q.push(match table {
        Table::Providers => b'p',
        _ => b'r',
    });
    q.extend_from_slice(bytes);
    ops.push(Op {
        table: Table::Quarantine,
        key: key.to_vec(),
        value: Some(q),
    });
}

/// Loads `contents` into `store`; queues the clean-up writes (expired
/// entries deleted, damaged ones quarantined).
pub(super) fn load(store: &mut Store, contents: Contents, clock: &Clock) -> LoadReport {
    let mut report = LoadReport::default();
    let mut ops = Vec::new();
    // This node's own records first, so that they keep their room when the
    // budgets are smaller than what the disk holds.
    let mut live = Vec::new();
    for (k, v) in &contents.records {
        match codec::decode_record(k, v, clock) {
            Err(e) => {
                let unknown = e.is_unknown_format();
                skip(
                    &mut report,
                    &mut ops,
                    Table::Records,
                    (k, v),
                    "record",
                    &e,
                    unknown,
                );
            }
            Ok(r) if r.is_expired(clock.instant) => {
                report.expired += 1;
                ops.push(Op {
                    table: Table::Records,
                    key: k.clone(),
                    value: None,
                });
            }
            Ok(r) => live.push((r, v)),
        }
    }
    let local = store.local;
    let holder = |r: &Record| match r.publisher == Some(local) {
        true => Holder::Own,
        false => Holder::Unattributed,
    };
    live.sort_by_key(|(r, _)| holder(r) != Holder::Own);
    for (mut r, v) in live {
        let h = holder(&r);
        match store.check_record(&mut r) {
            Err(Refusal::NotOwner(e)) => {
                let entry = (r.key.as_ref(), v.as_slice());
                skip(
                    &mut report,
                    &mut ops,
                    Table::Records,
                    entry,
                    "record",
                    &e,
                    false,
                );
                continue;
            }
            Err(_) => {
                report.over_limit += 1;
                continue;
            }
            Ok(()) => {}
        }
        if store.admit(&r, h).is_err() {
            report.over_limit += 1;
            continue;
        }
        report.loaded += 1;
        store.hold(
            r.key.clone(),
            Held {
                record: r,
                holder: h,
                stored: clock.instant,
                confirmed: false,
            },
        );
    }
    for (k, v) in &contents.providers {
        match codec::decode_providers(k, v, clock) {
            Err(e) => {
                let unknown = e.is_unknown_format();
                let entry = (k.as_slice(), v.as_slice());
                skip(
                    &mut report,
                    &mut ops,
                    Table::Providers,
                    entry,
                    "provider list",
                    &e,
                    unknown,
                );
            }
            Ok(list) => {
                let live: Vec<_> = list
                    .into_iter()
                    .filter(|p| !p.is_expired(clock.instant))
                    .collect();
                if live.is_empty() {
                    report.expired += 1;
                    ops.push(Op {
                        table: Table::Providers,
                        key: k.clone(),
                        value: None,
                    });
                } else if store.providers.len() < store.limits.max_provider_keys {
                    report.loaded += 1;
                    store.providers.insert(crate::dht::RecordKey::new(k), live);
                } else {
                    report.over_limit += 1;
                }
            }
        }
    }
    for (k, v) in &contents.peers {
        match (PeerId::from_bytes(k), decode_addrs(v)) {
            (Ok(p), Some(addrs)) if p != store.local => store.saved_peers.push((p, addrs)),
            _ => ops.push(Op {
                table: Table::Peers,
                key: k.clone(),
                value: None,
            }),
        }
    }
    if let Some(d) = &mut store.disk {
        d.extra.extend(ops);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_and_garbage_is_none() {
        let a: Vec<Multiaddr> = vec![
            "/ip4/127.0.0.1/tcp/1".parse().unwrap(),
            "/ip6/::1/udp/2/quic-v1".parse().unwrap(),
        ];
        assert_eq!(decode_addrs(&encode_addrs(&a)), Some(a));
        assert_eq!(decode_addrs(&[5, 1]), None);
        assert_eq!(decode_addrs(&[]), None);
    }
}
