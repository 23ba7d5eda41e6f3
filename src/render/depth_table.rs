//! The console table of stack-depth probe results that the `stack_depth` bench prints.

use crate::data::depth::DepthEntry;
use crate::render::units::format_bytes;

/// The printed table of probe results.
pub fn depth_table(entries: &[DepthEntry]) -> String {
    let opt = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
    let bytes = |b: u64| format_bytes(b as f64);
    let mut out = format!(
        "{:<15} {:>10} {:>10} {:>9} {:>11} {:>11} {:>8} {:>11} {:>11} {:>9}  outcome\n",
        "kind",
        "requested",
        "granted",
        "frame",
        "measured",
        "predicted",
        "diff %",
        "size/level",
        "bytes/level",
        "probe ms"
    );
    for e in entries {
        out += &format!(
            "{:<15} {:>10} {:>10} {:>9} {:>11} {:>11} {:>8} {:>11} {:>11} {:>9.1}  {}\n",
            e.kind.to_string(),
            e.requested_stack_bytes.map_or("default".into(), bytes),
            e.granted_stack_bytes.map_or("-".into(), bytes),
            bytes(e.frame_bytes),
            // A local_array probe's measurement is the largest array, in bytes.
            opt(e.measured_depth.or(e.largest_local_array_bytes)),
            opt(e.predicted_depth.or(e.predicted_local_array_bytes)),
            e.difference_percent
                .map_or("-".into(), |d| format!("{d:+.2}")),
            opt(e.naive_depth),
            opt(e.bytes_per_level),
            e.probe_ms,
            e.outcome
        );
    }
    out
}
