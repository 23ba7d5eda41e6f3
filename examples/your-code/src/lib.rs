//! The user's own code, as it would be in their crate: a 256-byte reading serde_json deserialises
//! into, a nesting serde_json parses with its recursion limit off, and a workload that parses a
//! document and indexes it by name on several threads. `benches/your_code.rs` asks stackheap's
//! questions of them.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hint::black_box;

/// A sensor reading of exactly 256 bytes, all numbers: should it be kept on the stack or boxed?
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Reading {
    pub sensor: u64,
    pub taken_at: u64,
    pub values: [f64; 30],
}

/// One reading as JSON, the text the stack-or-box question deserialises every call.
pub fn reading_json() -> String {
    let reading = Reading {
        sensor: 17,
        taken_at: 1_764_000_000,
        values: std::array::from_fn(|i| i as f64 * 0.25),
    };
    serde_json::to_string(&reading).expect("serialisable")
}

/// serde_json deserialising `text` into a [`Reading`].
pub fn parse_reading(text: &str) -> Reading {
    serde_json::from_str(text).expect("a reading")
}

/// What a use of a reading reads: its values summed, with its ids.
pub fn reading_total(r: &Reading) -> f64 {
    r.values.iter().sum::<f64>() + (r.sensor + r.taken_at) as f64
}

/// serde_json parsing `depth` nested arrays into a `Value` with its recursion limit off (and
/// dropping it, which recurses too).
pub fn parse_nested(depth: u64) {
    let text = "[".repeat(depth as usize) + &"]".repeat(depth as usize);
    let mut de = serde_json::Deserializer::from_str(&text);
    de.disable_recursion_limit();
    let value = serde_json::Value::deserialize(&mut de).expect("valid JSON");
    black_box(&value);
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Record {
    pub id: u64,
    pub name: String,
    pub tags: Vec<String>,
    pub score: f64,
}

/// The document every thread of [`parse_and_index`] parses: 300 records.
pub fn document() -> String {
    let records: Vec<Record> = (0..300)
        .map(|id| Record {
            id,
            name: format!("user-{id}"),
            tags: vec!["a".into(), format!("group-{}", id % 7)],
            score: id as f64 / 3.0,
        })
        .collect();
    serde_json::to_string(&records).expect("serialisable")
}

/// `threads` threads each parse the document and index it by name.
pub fn parse_and_index(threads: usize) {
    let text = document();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let records: Vec<Record> = serde_json::from_str(&text).expect("valid JSON");
                let index: HashMap<String, Record> =
                    records.into_iter().map(|r| (r.name.clone(), r)).collect();
                black_box(index.len());
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_256_bytes_and_reads_back() {
        assert_eq!(size_of::<Reading>(), 256);
        let r = parse_reading(&reading_json());
        assert_eq!(r.sensor, 17);
        assert_eq!(reading_total(&r), 108.75 + 1_764_000_017.0);
    }
}
