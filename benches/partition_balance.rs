//! How evenly each partition scheme shares the starter suite between N benches: for N = 2, 3
//! and 4, the slowest partition's nominal time (the oracle's expected duration of its
//! scenarios, settle periods included) over the ideal share (the suite's nominal time / N), for
//! `hash`, `count` and `time`. The target: `time` at most 1.05.
//!
//! Run: cargo bench --bench partition_balance

use std::path::Path;

use seedrig::method::expected_duration_ms;
use seedrig::run::partition::Partition;

const TARGET: f64 = 1.05;

fn main() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let loaded = seedrig::fixture::load(&[fixtures]).expect("the starter fixtures load");
    assert!(loaded.diagnostics.is_empty(), "the starter fixtures have mistakes");
    let catalog = &loaded.catalog;
    let ids: Vec<String> = catalog.scenarios.keys().cloned().collect();
    let ms = |id: &str| expected_duration_ms(catalog, &catalog.scenarios[id]);
    let total: u64 = ids.iter().map(|id| ms(id)).sum();
    println!("starter suite: {} scenarios, {:.1} s nominal in all\n", ids.len(), total as f64 / 1000.0);
    println!("slowest partition / ideal share (target for time: <= {TARGET})");
    println!("{:>3}  {:>6}  {:>6}  {:>6}", "N", "hash", "count", "time");
    let mut worst_time: f64 = 0.0;
    for n in 2..=4u64 {
        let ratio = |scheme: &str| {
            let ideal = total as f64 / n as f64;
            let slowest = (1..=n)
                .map(|m| {
                    let p = Partition::parse(&format!("{scheme}:{m}/{n}")).expect("a partition");
                    p.select(&ids, ms).iter().map(|id| ms(id)).sum::<u64>()
                })
                .max()
                .unwrap_or(0);
            slowest as f64 / ideal
        };
        let (hash, count, time) = (ratio("hash"), ratio("count"), ratio("time"));
        worst_time = worst_time.max(time);
        println!("{n:>3}  {hash:>6.3}  {count:>6.3}  {time:>6.3}");
    }
    println!(
        "\ntime, worst over N = 2..4: {worst_time:.3} ({})",
        if worst_time <= TARGET { "met" } else { "NOT MET" }
    );
}
