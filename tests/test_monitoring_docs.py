"""docs/quality-metrics.md and docs/monitoring.md name what the code publishes and alarms."""

from __future__ import annotations

from pathlib import Path

from regulated_inference.components import audit_monitoring, bedrock_monitoring
from regulated_inference.lib import metrics

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_quality_contract_page_names_every_fact_of_metrics_py():
    page = (DOCS / "quality-metrics.md").read_text()
    facts = [
        metrics.QUALITY_NAMESPACE,
        *metrics.QUALITY_DIMENSIONS,
        *(q.name for q in metrics.QUALITY_METRICS),
        *(q.config_key for q in metrics.QUALITY_METRICS),
        metrics.DRIFT_NAMESPACE,
        *metrics.DRIFT_DIMENSIONS,
        *metrics.DRIFT_NAMESPACES.values(),
        f"{metrics.DRIFT_METRIC_PREFIX}<feature>",
        f"`{metrics.QUALITY_UNIT}`",
        str(metrics.QUALITY_PERIOD_SECONDS),
    ]
    assert [f for f in facts if f not in page] == []


def test_monitoring_page_describes_every_new_alarm():
    page = (DOCS / "monitoring.md").read_text()
    roles = [
        *(f"bedrock-{m}" for m in audit_monitoring.DELIVERY_FAILURE_METRICS),
        "bedrock-invocation-logs-silent",
        "trail-heartbeat",
        "trail-s3-heartbeat",
        *(audit_monitoring._kebab(m) for m in audit_monitoring.FILTERS),
        "capture-heartbeat-",
        "latency-p95",
        "latency-p99",
        "server-error-rate",
        "client-error-rate",
        "throttle-rate",
        "guardrail-intervention-rate",
        "guardrail-server-errors",
        *bedrock_monitoring.DEFAULT_POLICY_TYPES,
        "feature-drift",
        audit_monitoring.AUDIT_NAMESPACE,
    ]
    assert [r for r in roles if r not in page] == []
