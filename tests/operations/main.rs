//! Operating p2pnode, as an operator would: `health` (and `ctl health`,
//! the image's health check) on a node without peers, a stalled one and
//! one whose disk fills up; the metrics checked by `promtool`, with the
//! alert rules and dashboard of `deploy/`; JSON logs and the log level
//! changed at run time; swarm keys (generated, required, mismatched);
//! `delete`, `compact`, `config`, `backup`; two nodes with one identity;
//! and a data directory written by the previous release.
//!
//! Its own harness (the test kit's): the disk test needs to mount a tmpfs
//! (root) and the promtool tests need promtool (Debian's `prometheus`
//! package); where either is missing those tests are listed as ignored
//! (skipped), unless `P2PNODE_REQUIRE_OPS=1` (CI) makes them fail.

mod clash;
mod common;
mod compat;
mod day2;
mod disk;
mod health;
mod keys;
mod promtool;

use std::process::ExitCode;

use p2pnode_testkit::harness::{self, test};

fn main() -> ExitCode {
    harness::main(vec![
        test(
            "health_fails_without_peers_after_the_grace_and_recovers",
            health::without_peers,
        ),
        test("a_stopped_node_fails_its_health_check", health::stopped),
        test(
            "a_full_disk_makes_the_node_unhealthy_until_it_has_room",
            disk::full_disk,
        )
        .needs(disk::MOUNT),
        test(
            "own_puts_answered_ok_on_a_failing_disk_survive_a_sigkill",
            disk::own_puts_on_a_failing_disk,
        )
        .needs(disk::MOUNT),
        test(
            "the_metrics_pass_promtool_and_serve_every_alerts_metric",
            promtool::metrics,
        )
        .needs(promtool::PROMTOOL),
        test(
            "the_alert_rules_and_dashboard_pass_promtool",
            promtool::rules,
        )
        .needs(promtool::PROMTOOL),
        test("version_names_commit_and_schema", day2::version),
        test(
            "json_logs_one_object_a_line_and_the_level_changes_at_run_time",
            day2::logs,
        ),
        test("delete_compact_config_and_backup", day2::maintenance),
        test(
            "a_generated_swarm_key_forms_a_network_and_is_required",
            keys::generated_and_required,
        ),
        test(
            "a_swarm_key_mismatch_is_named_on_both_sides",
            keys::mismatch,
        ),
        test(
            "two_nodes_with_one_identity_are_warned_about",
            clash::same_identity,
        ),
        test(
            "a_data_directory_of_the_previous_release_opens",
            compat::previous_release,
        ),
    ])
}
