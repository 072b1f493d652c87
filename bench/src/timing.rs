//! Percentiles of a run's timings, printed one line per measure: shared by
//! the single-purpose tools in `src/bin/` (each includes this file with
//! `#[path]`, as they are binaries without a library between them).

use std::time::Duration;

/// The `p` quantile (0 to 1) of `sorted`, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// "name: p50 … ms, p99 … ms, mean … ms (N runs)".
pub fn summary(name: &str, mut times: Vec<Duration>) {
    if times.is_empty() {
        println!("{name}: no runs");
        return;
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{name}: p50 {:.3} ms, p99 {:.3} ms, mean {:.3} ms ({} runs)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3,
        times.len()
    );
}
