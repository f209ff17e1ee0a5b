//! Prometheus metrics: request counts and latency histograms by method, route template and
//! status; the connection pool; readiness; rate-limited requests; JWKS refreshes; event streams
//! (open, events sent, ended by reason).
//!
//! Recorded with the `metrics` crate into a `metrics-exporter-prometheus` recorder that each
//! [`Metrics`] owns (never the process-wide one: tests run many servers in one process), and
//! rendered by it in the text format (version 0.0.4). (`prometheus-client` was not chosen: it
//! writes OpenMetrics, whose counters are typed without their `_total`, which would change what
//! `/metrics` says.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
    with_local_recorder,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::store::PoolStats;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

const REQUESTS: &str = "todo_api_http_requests_total";
const DURATION: &str = "todo_api_http_request_duration_seconds";
const POOL: &str = "todo_api_db_pool_connections";
const POOL_MAX: &str = "todo_api_db_pool_max_connections";
const READY: &str = "todo_api_ready";
const RATE_LIMITED: &str = "todo_api_rate_limited_total";
const JWKS_REFRESHES: &str = "todo_api_jwks_refreshes_total";
const STREAMS_OPEN: &str = "todo_api_event_streams_open";
const EVENTS_SENT: &str = "todo_api_events_sent_total";
const STREAMS_CLOSED: &str = "todo_api_event_streams_closed_total";
const EVENT_DELAY: &str = "todo_api_event_delay_seconds";

/// The events a stream sends (each counted from the start, at 0).
pub(crate) const STREAM_EVENTS: [&str; 4] = ["ready", "change", "reauth", "resync"];

/// Why a stream ended (each counted from the start, at 0): the token expired (`reauth`), the
/// client fell behind (`resync`), the client went away, the server shut down, or the database
/// failed.
pub(crate) const STREAM_CLOSE_REASONS: [&str; 5] =
    ["reauth", "resync", "client_gone", "shutdown", "error"];

/// The outcomes a JWKS refresh is counted under (each shown from the start, at 0).
const JWKS_OUTCOMES: [&str; 2] = ["ok", "error"];

/// Latency samples wait in the recorder until they are folded into the histograms, which
/// rendering does; so does every this-many-th request, keeping memory bounded without scrapes.
const FOLD_EVERY: u64 = 1024;

/// The metrics of one server.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    requests: AtomicU64,
}

/// What is only known when rendering: the pool and readiness.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// The connection pool.
    pub pool: PoolStats,
    /// Whether the database is migrated and serving.
    pub ready: bool,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        with_local_recorder(&recorder, || {
            describe_counter!(
                REQUESTS,
                "HTTP requests answered, by method, route template and status."
            );
            describe_histogram!(
                DURATION,
                "Time to answer HTTP requests, by method, route template and status."
            );
            describe_gauge!(POOL, "Database connections, by state.");
            describe_gauge!(POOL_MAX, "The most connections the pool opens.");
            describe_gauge!(
                READY,
                "1 when the database is migrated and the server serves tasks."
            );
            describe_counter!(RATE_LIMITED, "Requests refused by the per-user rate limit.");
            describe_counter!(JWKS_REFRESHES, "Fetches of the JWKS key set, by outcome.");
            describe_gauge!(STREAMS_OPEN, "Event streams open now.");
            describe_counter!(EVENTS_SENT, "Events sent on event streams, by event.");
            describe_counter!(STREAMS_CLOSED, "Event streams ended, by reason.");
            describe_histogram!(
                EVENT_DELAY,
                "Time from a task's change (its updated_at, taken by the writing process before \
                 it commits) to its event being handed to a stream's connection."
            );
            gauge!(STREAMS_OPEN).set(0.0);
            for event in STREAM_EVENTS {
                counter!(EVENTS_SENT, "event" => event).absolute(0);
            }
            for reason in STREAM_CLOSE_REASONS {
                counter!(STREAMS_CLOSED, "reason" => reason).absolute(0);
            }
            counter!(RATE_LIMITED).absolute(0);
            for outcome in JWKS_OUTCOMES {
                counter!(JWKS_REFRESHES, "outcome" => outcome).absolute(0);
            }
        });
        Self {
            recorder,
            handle,
            requests: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Records one finished request. `route` is the route template, never the raw path.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        with_local_recorder(&self.recorder, || {
            counter!(REQUESTS, &labels).increment(1);
            histogram!(DURATION, &labels).record(elapsed.as_secs_f64());
        });
        if self.requests.fetch_add(1, Ordering::Relaxed) % FOLD_EVERY == FOLD_EVERY - 1 {
            self.handle.run_upkeep();
        }
    }

    /// Records a request refused by the rate limit.
    pub fn observe_rate_limited(&self) {
        with_local_recorder(&self.recorder, || counter!(RATE_LIMITED).increment(1));
    }

    /// Records a refresh of a JWKS key set; `outcome` is `ok` or `error` (the hook a key-set
    /// verifier calls).
    pub fn observe_jwks_refresh(&self, outcome: &'static str) {
        with_local_recorder(&self.recorder, || {
            counter!(JWKS_REFRESHES, "outcome" => outcome).increment(1);
        });
    }

    /// Records an event stream opened.
    pub fn observe_stream_opened(&self) {
        with_local_recorder(&self.recorder, || gauge!(STREAMS_OPEN).increment(1.0));
    }

    /// Records an event sent on a stream; `event` is one of [`STREAM_EVENTS`].
    pub fn observe_event_sent(&self, event: &'static str) {
        with_local_recorder(&self.recorder, || {
            counter!(EVENTS_SENT, "event" => event).increment(1);
        });
    }

    /// Records how long after a task's change (its `updated_at`) its event was sent.
    pub fn observe_event_delay(&self, delay: Duration) {
        with_local_recorder(&self.recorder, || {
            histogram!(EVENT_DELAY).record(delay.as_secs_f64());
        });
    }

    /// Records an event stream ended; `reason` is one of [`STREAM_CLOSE_REASONS`].
    pub fn observe_stream_closed(&self, reason: &'static str) {
        with_local_recorder(&self.recorder, || {
            gauge!(STREAMS_OPEN).decrement(1.0);
            counter!(STREAMS_CLOSED, "reason" => reason).increment(1);
        });
    }

    /// Everything, in the Prometheus text format (version 0.0.4).
    pub fn render(&self, gauges: Gauges) -> String {
        let pool = gauges.pool;
        with_local_recorder(&self.recorder, || {
            gauge!(POOL, "state" => "in_use").set(f64::from(pool.in_use()));
            gauge!(POOL, "state" => "idle").set(f64::from(pool.idle));
            gauge!(POOL_MAX).set(f64::from(pool.max));
            gauge!(READY).set(f64::from(u8::from(gauges.ready)));
        });
        self.handle.render()
    }
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
        assert!(text.contains("# TYPE todo_api_http_request_duration_seconds histogram\n"));
        assert!(text.contains("todo_api_db_pool_connections{state=\"in_use\"} 2\n"));
        assert!(text.contains("todo_api_db_pool_connections{state=\"idle\"} 1\n"));
        assert!(text.contains("todo_api_db_pool_max_connections 5\n"));
        assert!(text.contains("todo_api_jwks_refreshes_total{outcome=\"ok\"} 1\n"));
        assert!(text.contains("todo_api_jwks_refreshes_total{outcome=\"error\"} 0\n"));
        assert!(text.contains("todo_api_rate_limited_total 0\n"));
        assert!(text.contains("todo_api_ready 1\n"));
        assert!(text.contains("todo_api_event_streams_open 0\n"));
        assert!(text.contains("todo_api_events_sent_total{event=\"resync\"} 0\n"));
        assert!(text.contains("todo_api_event_streams_closed_total{reason=\"shutdown\"} 0\n"));
    }

    #[test]
    fn streams_are_counted() {
        let metrics = Metrics::default();
        metrics.observe_stream_opened();
        metrics.observe_stream_opened();
        metrics.observe_event_sent("ready");
        metrics.observe_event_sent("change");
        metrics.observe_event_sent("change");
        metrics.observe_stream_closed("reauth");
        metrics.observe_event_delay(Duration::from_millis(7));
        let text = metrics.render(Gauges::default());
        assert!(
            text.contains("todo_api_event_delay_seconds_bucket{le=\"0.005\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("todo_api_event_delay_seconds_bucket{le=\"0.01\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("todo_api_event_streams_open 1\n"), "{text}");
        assert!(text.contains("todo_api_events_sent_total{event=\"change\"} 2\n"));
        assert!(text.contains("todo_api_event_streams_closed_total{reason=\"reauth\"} 1\n"));
    }

    #[test]
    fn each_server_has_its_own() {
        let one = Metrics::default();
        let other = Metrics::default();
        one.observe_rate_limited();
        assert!(
            one.render(Gauges::default())
                .contains("todo_api_rate_limited_total 1\n")
        );
        assert!(
            other
                .render(Gauges::default())
                .contains("todo_api_rate_limited_total 0\n")
        );
    }
}
