//! How fast p2pnode finds content kubo announces: the time from kubo
//! connecting to a p2pnode network to p2pnode's `providers <CID>` naming
//! kubo as the provider of a file kubo added.
//!
//! ```text
//! cargo bench --bench kubo                 # 5 rounds, prints each and the median
//! cargo bench --bench kubo -- --rounds 9
//! ```
//!
//! Each round runs in a fresh loopback-only network namespace (root; see
//! `p2pnode_testkit::kubo`): two p2pnode processes with `--lan` (the second
//! joined through the first), then a fresh kubo. The clock starts when kubo
//! is told to `connect` to the first node; kubo then `add`s a file (which
//! it announces), and the second node asks `providers <CID>` back to back
//! (no pause between asks) until kubo is named. Times are wall-clock round
//! trips measured here. Prints one line per round, the median, and one
//! JSON line.
//!
//! Without `--bench` (under `cargo test` / `cargo nextest`, which run bench
//! targets as tests) it is one `smoke` round; where kubo cannot run it is
//! listed as ignored (nextest: SKIP), unless `P2PNODE_REQUIRE_KUBO=1` (CI).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use p2pnode_testkit::harness::{self, test};
use p2pnode_testkit::kubo::{KUBO, KuboPeer, Netns};
use p2pnode_testkit::{Ask, Binary, NodeProc, Opts};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));
/// The longest one round may wait for kubo to be found.
const ROUND_LIMIT: Duration = Duration::from_secs(60);
/// kubo's port inside each round's own namespace.
const KUBO_PORT: u16 = 4801;

/// One round's times, in milliseconds from kubo's `connect`.
struct Round {
    connected_ms: f64,
    added_ms: f64,
    found_ms: f64,
    asks: usize,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn node(ns: &Netns, args: &[&str]) -> NodeProc {
    BIN.start(Opts::default().wrap(&ns.wrap()).args(args).quiet())
}

fn round(i: usize) -> Result<Round, String> {
    let ns = Netns::create();
    let mut first = node(&ns, &["--lan"]);
    let mut asker = node(&ns, &["--lan", "--bootstrap", &first.addrs[0]]);
    first.wait_for("routing", ROUND_LIMIT, |v| v["size"] == 1);
    let mut kubo = KuboPeer::start(&ns, KUBO_PORT, false);
    let started = Instant::now();
    let answer = kubo.cmd(&format!("connect {}", first.addrs[0]));
    if answer != "OK" {
        return Err(format!("kubo connect: {answer}"));
    }
    let connected_ms = ms(started);
    let added = kubo.cmd(&format!(
        "add p2pnode kubo bench {} {i}",
        std::process::id()
    ));
    let cid = match added.split_whitespace().collect::<Vec<_>>()[..] {
        ["CID", cid, ..] => cid.to_string(),
        _ => return Err(format!("kubo add: {added}")),
    };
    let added_ms = ms(started);
    let mut asks = 0;
    loop {
        asks += 1;
        let v = asker.try_cmd(&format!("providers {cid}"), ROUND_LIMIT)?;
        let named = v["providers"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p == kubo.id.as_str()));
        if named {
            return Ok(Round {
                connected_ms,
                added_ms,
                found_ms: ms(started),
                asks,
            });
        }
        if started.elapsed() > ROUND_LIMIT {
            return Err(format!("kubo not named within {ROUND_LIMIT:?}: {v}"));
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn bench(rounds: usize) -> Result<(), String> {
    let mut found = Vec::new();
    for i in 0..rounds {
        let r = round(i)?;
        println!(
            "round {}: connect {:.1} ms, add {:.1} ms, providers names kubo {:.1} ms ({} ask(s))",
            i + 1,
            r.connected_ms,
            r.added_ms,
            r.found_ms,
            r.asks
        );
        found.push(r.found_ms);
    }
    let m = median(&found);
    println!("median of {rounds}: kubo connect -> p2pnode `providers <CID>` names kubo: {m:.1} ms");
    println!(
        "{}",
        serde_json::json!({"bench": "kubo", "rounds": rounds, "found_ms": found, "median_found_ms": m})
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        return harness::main(vec![
            test("smoke", || {
                round(0).unwrap_or_else(|e| panic!("{e}"));
            })
            .needs(KUBO),
        ]);
    }
    let rounds = match args.iter().position(|a| a == "--rounds") {
        None => Ok(5),
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .ok_or("--rounds needs a number from 1"),
    };
    let outcome = rounds
        .map_err(str::to_string)
        .and_then(|n| (KUBO.check)().map(|_| n))
        .and_then(bench);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kubo bench: {e}");
            ExitCode::FAILURE
        }
    }
}
