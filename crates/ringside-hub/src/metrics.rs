//! What the hub counts and times for Prometheus (`GET /metrics`, see
//! [`crate::api::metrics`]): webhooks by provider and outcome with the time each took
//! (counted by [`crate::webhook::observe`]), and the gauges read when scraped (streams, the
//! event log, the relay's outbox, the expiry of the hub's own certificate). The store's latencies (its commits, and its reads off
//! the async threads) are timed where they happen ([`crate::store::Store::read_times`],
//! [`crate::recorder::Recorder::commit_times`]) and registered here.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

/// Bounds of the latency histograms, in seconds: 50 µs to about 6.5 s, doubling. A webhook
/// takes about 100 µs on a quiet hub, a read tens of microseconds, a commit an fsync.
pub fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
}

/// A webhook's provider, as the metric labels it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabel {
    provider: &'static str,
}

/// A webhook's provider and what became of it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    provider: &'static str,
    /// `accepted` (2xx), `refused` (401, 403: a wrong token or signature), `invalid` (any
    /// other 4xx) or `failed` (any other status: 5xx, the hub could not make it durable now;
    /// webhook routes answer no 1xx or 3xx).
    outcome: &'static str,
}

/// The gauges set when scraped, from the hub's state at that moment.
#[derive(Debug, Default)]
pub struct Gauges {
    /// Open live streams on this node.
    pub stream_connections: Gauge,
    /// The newest `seq` in the event log.
    pub event_log_seq: Gauge,
    /// The newest `seq` this node has sent to its streams.
    pub published_seq: Gauge,
    /// Events in the log that this node has not yet sent to its streams.
    pub event_lag: Gauge,
    /// Items waiting in the relay's outbox to be posted to Zammad.
    pub outbox_pending: Gauge,
    /// Items of the outbox that failed for good (kept for the admin).
    pub outbox_failed: Gauge,
    /// Age of the oldest pending outbox item, in seconds (0 when none).
    pub outbox_oldest_pending: Gauge,
    /// When the certificate in force expires, as a Unix time (0 while none is); registered
    /// only when the hub serves TLS itself.
    pub certificate_expiry: Gauge,
}

/// The hub's metrics; see the module documentation.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    webhooks: Family<WebhookLabels, Counter>,
    webhook_times: Family<ProviderLabel, Histogram, fn() -> Histogram>,
    /// Set by the scrape before it encodes.
    pub(crate) gauges: Gauges,
}

impl Metrics {
    /// The registry, with the store's read times and the writer's commit times beside the
    /// hub's own metrics.
    pub fn new(read_times: Histogram, commit_times: Histogram) -> Self {
        let mut registry = Registry::with_prefix("ringside");
        let webhooks = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhooks",
            "PBX webhooks answered, by provider and outcome",
            webhooks.clone(),
        );
        let webhook_times =
            Family::<ProviderLabel, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_buckets,
            );
        registry.register_with_unit(
            "webhook_duration",
            "Time from a webhook's request to its answer, by provider",
            Unit::Seconds,
            webhook_times.clone(),
        );
        registry.register_with_unit(
            "store_read_duration",
            "Time of each longer read of the store (on a blocking thread)",
            Unit::Seconds,
            read_times,
        );
        registry.register_with_unit(
            "store_commit_duration",
            "Time of each of the writer's transactions, until durable or failed",
            Unit::Seconds,
            commit_times,
        );
        let gauges = Gauges::default();
        for (name, help, gauge) in [
            (
                "stream_connections",
                "Live streams open on this node",
                &gauges.stream_connections,
            ),
            (
                "event_log_seq",
                "Newest seq in the event log",
                &gauges.event_log_seq,
            ),
            (
                "published_seq",
                "Newest seq this node has sent to its streams",
                &gauges.published_seq,
            ),
            (
                "event_lag",
                "Events in the log this node has not yet sent to its streams",
                &gauges.event_lag,
            ),
            (
                "outbox_pending",
                "Items waiting in the outbox of the relay to Zammad",
                &gauges.outbox_pending,
            ),
            (
                "outbox_failed",
                "Items of the outbox to Zammad that failed for good",
                &gauges.outbox_failed,
            ),
        ] {
            registry.register(name, help, gauge.clone());
        }
        registry.register_with_unit(
            "outbox_oldest_pending",
            "Age of the oldest item waiting in the outbox to Zammad (0 when none)",
            Unit::Seconds,
            gauges.outbox_oldest_pending.clone(),
        );
        registry.register(
            "build",
            "The hub's version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry,
            webhooks,
            webhook_times,
            gauges,
        }
    }

    /// Adds when the hub's own certificate expires, for a hub that serves TLS itself.
    pub fn with_certificate_expiry(mut self) -> Self {
        self.registry.register_with_unit(
            "tls_certificate_expiry_timestamp",
            "When the certificate in force expires, as a Unix time (0 while none is in force)",
            Unit::Seconds,
            self.gauges.certificate_expiry.clone(),
        );
        self
    }

    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// The counters and the histogram of `provider`'s webhooks, looked up once when the
    /// routes are made rather than on every request.
    pub fn webhook_meter(&self, provider: &'static str) -> WebhookMeter {
        let count = |outcome| {
            self.webhooks
                .get_or_create(&WebhookLabels { provider, outcome })
                .clone()
        };
        WebhookMeter {
            accepted: count("accepted"),
            refused: count("refused"),
            invalid: count("invalid"),
            failed: count("failed"),
            times: self
                .webhook_times
                .get_or_create(&ProviderLabel { provider })
                .clone(),
        }
    }
}

/// One provider's webhook metrics; see [`Metrics::webhook_meter`].
#[derive(Debug, Clone)]
pub struct WebhookMeter {
    accepted: Counter,
    refused: Counter,
    invalid: Counter,
    failed: Counter,
    times: Histogram,
}

impl WebhookMeter {
    /// Counts one webhook answered with `status` after `seconds`; returns its outcome's
    /// label.
    pub fn count(&self, status: axum::http::StatusCode, seconds: f64) -> &'static str {
        let (counter, outcome) = match status.as_u16() {
            200..=299 => (&self.accepted, "accepted"),
            401 | 403 => (&self.refused, "refused"),
            400..=499 => (&self.invalid, "invalid"),
            _ => (&self.failed, "failed"),
        };
        counter.inc();
        self.times.observe(seconds);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_are_counted_by_outcome_in_the_openmetrics_format() {
        let metrics = Metrics::new(latency_buckets(), latency_buckets());
        assert!(!metrics.encode().contains("certificate"));
        let metrics = metrics.with_certificate_expiry();
        metrics.webhook_meter("placetel");
        let generic = metrics.webhook_meter("generic");
        for status in [200, 204, 401, 403, 400, 422, 503] {
            let status = axum::http::StatusCode::from_u16(status).unwrap();
            generic.count(status, 0.0001);
        }
        metrics.gauges.event_lag.set(3);
        metrics.gauges.certificate_expiry.set(1_924_992_000);
        let text = metrics.encode();
        for line in [
            r#"ringside_webhooks_total{provider="generic",outcome="accepted"} 2"#,
            r#"ringside_webhooks_total{provider="generic",outcome="refused"} 2"#,
            r#"ringside_webhooks_total{provider="generic",outcome="invalid"} 2"#,
            r#"ringside_webhooks_total{provider="generic",outcome="failed"} 1"#,
            r#"ringside_webhooks_total{provider="placetel",outcome="accepted"} 0"#,
            r#"ringside_webhook_duration_seconds_count{provider="generic"} 7"#,
            "ringside_event_lag 3",
            "# UNIT ringside_tls_certificate_expiry_timestamp_seconds seconds",
            "ringside_tls_certificate_expiry_timestamp_seconds 1924992000",
            "# TYPE ringside_store_commit_duration_seconds histogram",
            r#"ringside_build_info{version=""#,
            "# EOF",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
