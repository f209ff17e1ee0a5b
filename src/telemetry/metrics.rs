//! Prometheus metrics, kept in memory and rendered in the text exposition format: request
//! counts and latency histograms by method, route template and status; the connection pool;
//! readiness; rate-limited requests; JWKS refreshes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::store::PoolStats;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RequestKey {
    method: String,
    route: String,
    status: u16,
}

#[derive(Default)]
struct Histogram {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RequestKey, Histogram>>,
    jwks_refreshes: Mutex<BTreeMap<&'static str, u64>>,
    rate_limited: AtomicU64,
}

/// What is only known when rendering: the pool and readiness.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// The connection pool.
    pub pool: PoolStats,
    /// Whether the database is migrated and serving.
    pub ready: bool,
}

impl Metrics {
    /// Records one finished request. `route` is the route template, never the raw path.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let key = RequestKey {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let histogram = requests.entry(key).or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        for (bound, bucket) in BUCKETS.iter().zip(histogram.buckets.iter_mut()) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
    }

    /// Records a request refused by the rate limit.
    pub fn observe_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a refresh of a JWKS key set; `outcome` is a short fixed word such as `ok` or
    /// `error` (the hook a key-set verifier calls).
    pub fn observe_jwks_refresh(&self, outcome: &'static str) {
        let mut refreshes = self
            .jwks_refreshes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *refreshes.entry(outcome).or_default() += 1;
    }

    /// Everything, in the Prometheus text format (version 0.0.4).
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::new();
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);

        out.push_str(
            "# HELP todo_api_http_requests_total HTTP requests answered, by method, route \
             template and status.\n# TYPE todo_api_http_requests_total counter\n",
        );
        for (key, histogram) in requests.iter() {
            let _ = writeln!(
                out,
                "todo_api_http_requests_total{{{}}} {}",
                labels(key),
                histogram.count
            );
        }

        out.push_str(
            "# HELP todo_api_http_request_duration_seconds Time to answer HTTP requests, by \
             method, route template and status.\n\
             # TYPE todo_api_http_request_duration_seconds histogram\n",
        );
        for (key, histogram) in requests.iter() {
            let labels = labels(key);
            for (bound, count) in BUCKETS.iter().zip(histogram.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "todo_api_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "todo_api_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "todo_api_http_request_duration_seconds_sum{{{labels}}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "todo_api_http_request_duration_seconds_count{{{labels}}} {}",
                histogram.count
            );
        }
        drop(requests);

        let pool = gauges.pool;
        let _ = write!(
            out,
            "# HELP todo_api_db_pool_connections Database connections, by state.\n\
             # TYPE todo_api_db_pool_connections gauge\n\
             todo_api_db_pool_connections{{state=\"in_use\"}} {}\n\
             todo_api_db_pool_connections{{state=\"idle\"}} {}\n\
             # HELP todo_api_db_pool_max_connections The most connections the pool opens.\n\
             # TYPE todo_api_db_pool_max_connections gauge\n\
             todo_api_db_pool_max_connections {}\n\
             # HELP todo_api_ready 1 when the database is migrated and the server serves tasks.\n\
             # TYPE todo_api_ready gauge\n\
             todo_api_ready {}\n\
             # HELP todo_api_rate_limited_total Requests refused by the per-user rate limit.\n\
             # TYPE todo_api_rate_limited_total counter\n\
             todo_api_rate_limited_total {}\n",
            pool.in_use(),
            pool.idle,
            pool.max,
            u8::from(gauges.ready),
            self.rate_limited.load(Ordering::Relaxed),
        );

        out.push_str(
            "# HELP todo_api_jwks_refreshes_total Fetches of the JWKS key set, by outcome.\n\
             # TYPE todo_api_jwks_refreshes_total counter\n",
        );
        let refreshes = self
            .jwks_refreshes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (outcome, count) in refreshes.iter() {
            let _ = writeln!(
                out,
                "todo_api_jwks_refreshes_total{{outcome=\"{}\"}} {count}",
                escape(outcome)
            );
        }
        out
    }
}

fn labels(key: &RequestKey) -> String {
    format!(
        "method=\"{}\",route=\"{}\",status=\"{}\"",
        escape(&key.method),
        escape(&key.route),
        key.status
    )
}

/// Escapes a label value (backslash, double quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_histograms_and_gauges() {
        let metrics = Metrics::default();
        metrics.observe_request("GET", "/api/{user_id}/tasks", 200, Duration::from_millis(3));
        metrics.observe_request(
            "GET",
            "/api/{user_id}/tasks",
            200,
            Duration::from_millis(40),
        );
        metrics.observe_jwks_refresh("ok");
        let text = metrics.render(Gauges {
            pool: PoolStats {
                open: 3,
                idle: 1,
                max: 5,
            },
            ready: true,
        });
        let series = "method=\"GET\",route=\"/api/{user_id}/tasks\",status=\"200\"";
        assert!(text.contains(&format!("todo_api_http_requests_total{{{series}}} 2\n")));
        assert!(text.contains(&format!(
            "todo_api_http_request_duration_seconds_bucket{{{series},le=\"0.005\"}} 1\n"
        )));
        assert!(text.contains(&format!(
            "todo_api_http_request_duration_seconds_bucket{{{series},le=\"0.05\"}} 2\n"
        )));
        assert!(text.contains("todo_api_db_pool_connections{state=\"in_use\"} 2\n"));
        assert!(text.contains("todo_api_db_pool_connections{state=\"idle\"} 1\n"));
        assert!(text.contains("todo_api_jwks_refreshes_total{outcome=\"ok\"} 1\n"));
        assert!(text.contains("todo_api_ready 1\n"));
    }
}
