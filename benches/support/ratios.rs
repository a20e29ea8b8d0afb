//! Reads the medians criterion wrote in this run and prints them with ratios.
//!
//! Shared by `benches/guard.rs` and `peers/benches/peers.rs` (through `#[path]`), so every
//! ratio is computed from measurements of one process run, never across runs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One measured median, in nanoseconds per request, with its 95% confidence interval.
#[derive(Clone, Copy, Debug)]
pub struct Median {
    pub ns: f64,
    pub low: f64,
    pub high: f64,
}

/// Where criterion writes its results: `$CRITERION_HOME`, `$CARGO_TARGET_DIR/criterion`, or
/// `<target>/criterion` found from the bench executable's path (`target/release/deps/x`).
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .map(|target| target.join("criterion"))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// The median of `group/function` if criterion wrote it after `since` (this run).
pub fn median(group: &str, function: &str, since: SystemTime) -> Option<Median> {
    let path = criterion_dir()
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let median = json.get("median")?;
    let ci = median.get("confidence_interval")?;
    Some(Median {
        ns: median.get("point_estimate")?.as_f64()?,
        low: ci.get("lower_bound")?.as_f64()?,
        high: ci.get("upper_bound")?.as_f64()?,
    })
}

/// A table of medians and ratios, as Markdown, built up row by row.
#[derive(Default)]
pub struct Table {
    rows: Vec<String>,
}

impl Table {
    /// `name = numerator / denominator`, against `goal` when there is one (`<=` or `>=`).
    pub fn ratio(&mut self, name: &str, num: Option<Median>, den: Option<Median>, goal: Goal) {
        let (Some(num), Some(den)) = (num, den) else {
            self.rows
                .push(format!("| {name} | - | - | - | not measured in this run |"));
            return;
        };
        let ratio = num.ns / den.ns;
        let verdict = match goal {
            Goal::None => String::new(),
            Goal::AtMost(g) => format!(
                "goal <= {g}: {}",
                if ratio <= g { "met" } else { "NOT met" }
            ),
            Goal::AtLeast(g) => format!(
                "goal >= {g}: {}",
                if ratio >= g { "met" } else { "NOT met" }
            ),
        };
        self.rows.push(format!(
            "| {name} | {} | {} | {ratio:.2}x | {verdict} |",
            fmt_ns(num.ns),
            fmt_ns(den.ns)
        ));
    }

    pub fn print(&self, title: &str) {
        let mut out = String::new();
        let _ = writeln!(out, "\n### {title}\n");
        let _ = writeln!(out, "| ratio | numerator | denominator | ratio | goal |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for row in &self.rows {
            let _ = writeln!(out, "{row}");
        }
        println!("{out}");
    }
}

/// What a ratio is held against.
#[derive(Clone, Copy)]
pub enum Goal {
    None,
    AtMost(f64),
    AtLeast(f64),
}

/// Prints every median of `benches` (`(group, function)`) measured in this run.
pub fn print_medians(title: &str, benches: &[(String, String)], since: SystemTime) {
    println!("\n### {title}\n");
    println!("| benchmark | median | 95% CI |");
    println!("|---|---|---|");
    for (group, function) in benches {
        match median(group, function, since) {
            Some(m) => println!(
                "| {group}/{function} | {} | {} .. {} |",
                fmt_ns(m.ns),
                fmt_ns(m.low),
                fmt_ns(m.high)
            ),
            None => println!("| {group}/{function} | - | not measured in this run |"),
        }
    }
}

pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} us", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}
