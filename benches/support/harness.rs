//! The measurement loop shared by `benches/guard.rs` and `peers/benches/peers.rs` (through
//! `#[path]`): every route is any tower `Service` (an axum 0.7 or 0.8 `Router`) driven with
//! `oneshot` on a current-thread tokio runtime, one request built per iteration.
//!
//! Each route is checked first: every credential it will be sent must answer 200 (a benchmark
//! of a 401 path would be a lie). criterion then measures it; afterwards the ratios the goals
//! are about are measured once more *interleaved*: 31 rounds of ~20 ms of each side, alternating
//! which goes first, so a neighbour's load on a shared machine hits both sides alike.

use std::fmt::Debug;

use axum::http;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;
use tower::ServiceExt;

/// A route under measurement: `n` requests, numbered from `offset`, timed.
pub trait Route {
    fn run(&self, rt: &tokio::runtime::Runtime, n: usize, offset: usize) -> Duration;
}

/// A service and the request it gets at iteration `i` (cycling through the credentials).
pub struct ServiceRoute<S, F> {
    pub service: S,
    pub request: F,
}

impl<S, F, B, RB> Route for ServiceRoute<S, F>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>> + Clone,
    S::Error: Debug,
    F: Fn(usize) -> http::Request<B>,
{
    fn run(&self, rt: &tokio::runtime::Runtime, n: usize, offset: usize) -> Duration {
        rt.block_on(async {
            let start = Instant::now();
            for i in offset..offset + n {
                let request = (self.request)(i);
                let response = self.service.clone().oneshot(request).await;
                let response = response.expect("the service failed");
                assert_eq!(response.status(), http::StatusCode::OK, "request {i}");
                black_box(response);
            }
            start.elapsed()
        })
    }
}

/// A ratio measured interleaved: median and quartiles of the per-round ratios, and the median
/// time per request of each side.
pub struct Interleaved {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub a_ns: f64,
    pub b_ns: f64,
}

pub struct Runner {
    pub rt: tokio::runtime::Runtime,
    /// `(group, function)` of every benchmark criterion ran, for the summary.
    pub ran: Vec<(String, String)>,
    routes: Vec<(String, Box<dyn Route>)>,
    /// `AUTHGATE_BENCH_COUNT=HS256/authgate_cold=5000`: run exactly that many requests of that
    /// benchmark, nothing else, and skip criterion: for instruction counts under
    /// `valgrind --tool=callgrind`, which are deterministic where the clock of a shared machine
    /// is not (see BENCHMARKS.md).
    pub count: Option<(String, usize)>,
}

impl Runner {
    pub fn new() -> Runner {
        Runner {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime"),
            ran: Vec::new(),
            routes: Vec::new(),
            count: std::env::var("AUTHGATE_BENCH_COUNT").ok().and_then(|v| {
                let (name, count) = v.rsplit_once('=')?;
                Some((name.to_owned(), count.parse().ok()?))
            }),
        }
    }

    /// Checks the route with its `distinct` credentials, measures it with criterion as
    /// `group/name`, and keeps it for the interleaved ratios.
    pub fn bench(
        &mut self,
        group: &mut BenchmarkGroup<'_, WallTime>,
        group_name: &str,
        name: &str,
        distinct: usize,
        route: impl Route + 'static,
    ) {
        let id = format!("{group_name}/{name}");
        if let Some((only, count)) = &self.count {
            if *only == id {
                route.run(&self.rt, *count, 0);
            }
            return;
        }
        route.run(&self.rt, distinct, 0);
        let rt = &self.rt;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| route.run(rt, iters as usize, 0))
        });
        self.ran.push((group_name.to_owned(), name.to_owned()));
        self.routes.push((id, Box::new(route)));
    }

    /// The ratio `a / b` (ids `group/name`) measured interleaved, if both were measured.
    pub fn interleaved(&self, a: &str, b: &str) -> Option<Interleaved> {
        let find = |id: &str| {
            let found = self.routes.iter().find(|(i, _)| i == id);
            found.map(|(_, r)| r.as_ref())
        };
        let (a, b) = (find(a)?, find(b)?);
        let calibrate = |route: &dyn Route| {
            let t = route.run(&self.rt, 200, 0).as_secs_f64() / 200.0;
            ((0.02 / t) as usize).clamp(20, 200_000)
        };
        let (na, nb) = (calibrate(a), calibrate(b));
        let mut ratios = Vec::with_capacity(31);
        let (mut times_a, mut times_b) = (Vec::with_capacity(31), Vec::with_capacity(31));
        for round in 0..31usize {
            let (ta, tb) = if round.is_multiple_of(2) {
                let ta = a.run(&self.rt, na, round * na);
                (ta, b.run(&self.rt, nb, round * nb))
            } else {
                let tb = b.run(&self.rt, nb, round * nb);
                (a.run(&self.rt, na, round * na), tb)
            };
            let per_a = ta.as_secs_f64() / na as f64;
            let per_b = tb.as_secs_f64() / nb as f64;
            ratios.push(per_a / per_b);
            times_a.push(per_a * 1e9);
            times_b.push(per_b * 1e9);
        }
        for v in [&mut ratios, &mut times_a, &mut times_b] {
            v.sort_by(f64::total_cmp);
        }
        Some(Interleaved {
            ratio: ratios[15],
            low: ratios[7],
            high: ratios[23],
            a_ns: times_a[15],
            b_ns: times_b[15],
        })
    }

    /// Prints the interleaved ratios of `pairs` (`a`, `b`, goal such as `"<= 1.3"` or
    /// `">= 5"`, or `""`), as a Markdown table.
    pub fn interleaved_table(&self, title: &str, pairs: &[(&str, &str, &str)]) {
        if std::env::var("AUTHGATE_BENCH_INTERLEAVED").as_deref() == Ok("0") {
            return;
        }
        println!("\n### {title}\n");
        println!("| ratio | a | b | median ratio | quartiles | goal |");
        println!("|---|---|---|---|---|---|");
        for (a, b, goal) in pairs {
            let Some(m) = self.interleaved(a, b) else {
                continue;
            };
            let verdict = if let Some(g) = goal.strip_prefix("<= ").and_then(|g| g.parse().ok()) {
                verdict(goal, m.ratio <= g)
            } else if let Some(g) = goal.strip_prefix(">= ").and_then(|g| g.parse().ok()) {
                verdict(goal, m.ratio >= g)
            } else {
                String::new()
            };
            println!(
                "| {a} / {b} | {} | {} | {:.2}x | {:.2} .. {:.2} | {verdict} |",
                super::ratios::fmt_ns(m.a_ns),
                super::ratios::fmt_ns(m.b_ns),
                m.ratio,
                m.low,
                m.high,
            );
        }
    }
}

fn verdict(goal: &str, met: bool) -> String {
    format!("{goal}: {}", if met { "met" } else { "NOT met" })
}
