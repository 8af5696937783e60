//! The standard process metrics (`process_resident_memory_bytes`,
//! `process_open_fds`, `process_max_fds`, `process_cpu_seconds_total`,
//! `process_start_time_seconds`, ...), as the Prometheus client libraries
//! name them, read at each scrape.
//!
//! prometheus-client has no process collector, and the one crate made for
//! it (kubert-prometheus-process) is built against an older
//! prometheus-client whose types do not mix with 0.25. The reading itself
//! comes from the `metrics-process` crate (Linux, macOS, Windows, BSDs),
//! whose raw snapshot is used without its `metrics` facade; this file only
//! encodes it.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// Reads the process's figures at each scrape; register it under the
/// `process` prefix.
#[derive(Debug, Default)]
pub(super) struct ProcessCollector;

/// Encodes one gauge, when the platform gave its value.
fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    value: Option<f64>,
) -> std::fmt::Result {
    let Some(value) = value else {
        return Ok(());
    };
    let g = ConstGauge::new(value);
    let e = encoder.encode_descriptor(name, help, unit.as_ref(), g.metric_type())?;
    g.encode(e)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let m = metrics_process::collector::collect();
        if let Some(cpu) = m.cpu_seconds_total {
            let c = ConstCounter::new(cpu);
            let e = encoder.encode_descriptor(
                "cpu",
                "Total user and system CPU time spent in seconds",
                Some(&Unit::Seconds),
                c.metric_type(),
            )?;
            c.encode(e)?;
        }
        let f = |v: Option<u64>| v.map(|v| v as f64);
        // 0 stands for "unlimited": no figure to compare with.
        let limit = |v: Option<u64>| v.filter(|v| *v > 0).map(|v| v as f64);
        let e = &mut encoder;
        gauge(
            e,
            "open_fds",
            "Number of open file descriptors",
            None,
            f(m.open_fds),
        )?;
        let max_fds = limit(m.max_fds);
        gauge(
            e,
            "max_fds",
            "Maximum number of open file descriptors",
            None,
            max_fds,
        )?;
        let resident = f(m.resident_memory_bytes);
        gauge(
            e,
            "resident_memory",
            "Resident memory size in bytes",
            Some(Unit::Bytes),
            resident,
        )?;
        let virt = f(m.virtual_memory_bytes);
        gauge(
            e,
            "virtual_memory",
            "Virtual memory size in bytes",
            Some(Unit::Bytes),
            virt,
        )?;
        let vmax = limit(m.virtual_memory_max_bytes);
        let help = "Maximum amount of virtual memory available in bytes";
        gauge(e, "virtual_memory_max", help, Some(Unit::Bytes), vmax)?;
        let start = f(m.start_time_seconds);
        let help = "Start time of the process since the Unix epoch in seconds";
        gauge(e, "start_time", help, Some(Unit::Seconds), start)?;
        gauge(
            e,
            "threads",
            "Number of OS threads in the process",
            None,
            f(m.threads),
        )
    }
}
