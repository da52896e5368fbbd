//! The JSON report every `uadk bench` subcommand prints, and the text table.
//!
//! Shape: `{"bench": NAME, "results": [ROW, ...], ...extra keys}`; each row is an object
//! with at least `"impl"` (ours is `"uadk"`, peers by name).

use serde_json::{Map, Value};

/// One benchmark's report.
#[derive(Debug, Clone)]
pub struct Report {
    bench: String,
    results: Vec<Value>,
    extra: Map<String, Value>,
}

impl Report {
    /// An empty report for the benchmark `bench`.
    pub fn new(bench: &str) -> Self {
        Report {
            bench: bench.to_string(),
            results: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Adds a result row.
    pub fn push(&mut self, row: Value) {
        self.results.push(row);
    }

    /// Sets a top-level key beside `bench` and `results`.
    pub fn set(&mut self, key: &str, value: Value) {
        self.extra.insert(key.to_string(), value);
    }

    /// The rows.
    pub fn results(&self) -> &[Value] {
        &self.results
    }

    /// The benchmark name.
    pub fn bench(&self) -> &str {
        &self.bench
    }

    /// The whole report as JSON.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("bench".into(), Value::String(self.bench.clone()));
        m.insert("results".into(), Value::Array(self.results.clone()));
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

/// Prints rows as an aligned text table.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < w.len() {
                w[i] = w[i].max(c.len());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let s: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:>width$}", width = w[i]))
            .collect();
        println!("  {}", s.join("  "));
    };
    line(headers.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// Formats an operations-per-second figure (e.g. `12.3 M`).
pub fn fmt_rate(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.2} G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.1}")
    }
}
