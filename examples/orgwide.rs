//! Profiling aid: the direct `kms:Decrypt` answers of keys with many entries, repeated.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use keyproof::ingest::{load, LoadOptions};
use keyproof::solve::{who_can_among, Among};
fn main() {
    let dir = std::env::args().nth(1).unwrap_or_default();
    let world = load(std::slice::from_ref(&dir), &LoadOptions::default());
    let keys: Vec<usize> = (0..world.keys.len())
        .filter(|k| who_can_among(&world, *k, "kms:Decrypt", Among::ALL).principals.len() > 300)
        .take(200)
        .collect();
    let t = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..3 {
        for k in &keys {
            n += who_can_among(&world, *k, "kms:Decrypt", Among::ALL).principals.len();
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!("{} keys, {n} entries in {s:.2} s: {:.1} µs per entry (wall)", keys.len(), s * 1e6 / n as f64);
}
