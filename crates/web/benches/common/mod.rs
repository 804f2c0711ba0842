//! What the search benchmarks share: latency percentiles, one report line per measured
//! layer, and the size of an index directory. Each bench includes it with `mod common;`.

#![allow(dead_code)] // not every bench uses every helper

use std::time::Duration;

/// The `p`-th percentile (0–100) of sorted durations, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Prints one line (count, p50, p99, max) for `label` and returns (p50, p99).
pub fn report(label: &str, mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    let p50 = percentile(&times, 50.0);
    let p99 = percentile(&times, 99.0);
    println!(
        "{label:<44} n={:<5} p50 {:>8.2} ms   p99 {:>8.2} ms   max {:>8.2} ms",
        times.len(),
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    (p50, p99)
}

/// Bytes under `path`, recursively (an index directory's size on disk).
pub fn dir_size(path: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            let path = entry.path();
            total += if path.is_dir() {
                dir_size(&path)
            } else {
                entry.metadata().map(|m| m.len()).unwrap_or(0)
            };
        }
    }
    total
}
