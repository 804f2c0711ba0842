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

/// Starts the platform on a free local port and returns its base URL.
pub async fn serve(state: greenbridge_web::state::AppState) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = greenbridge_web::serve(listener, state).await;
    });
    Ok(address)
}

/// Times `count` GETs of `url` (the whole body read): a bare route measured in the
/// same run is the ceiling the search routes are compared with.
pub async fn time_gets(
    client: &reqwest::Client,
    url: &str,
    count: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = std::time::Instant::now();
        client.get(url).send().await?.bytes().await?;
        times.push(started.elapsed());
    }
    Ok(times)
}

/// Prints how much slower SQL LIKE was than the search layer and than HTTP.
pub fn print_like_ratios(
    layer: (Duration, Duration),
    http: (Duration, Duration),
    like: (Duration, Duration),
) {
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!(
        "ratio SQL LIKE / search layer: p50 {:.1}×, p99 {:.1}×; SQL LIKE / HTTP: p50 {:.1}×, p99 {:.1}×",
        ratio(like.0, layer.0),
        ratio(like.1, layer.1),
        ratio(like.0, http.0),
        ratio(like.1, http.1),
    );
}
