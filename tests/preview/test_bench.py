"""The benchmark's own logic: generated stacks and the linearity check."""

from __future__ import annotations

import json

from tools.bench import MODELS_KEY, ScalePoint, generated_config, linear_fit, render


def test_generated_config_clones_prod_models_with_distinct_names():
    cfg = generated_config(7)
    models = json.loads(cfg[MODELS_KEY])
    assert [m["name"] for m in models] == [f"model-{i:03d}" for i in range(1, 8)]
    # Everything derived from the original name is renamed with it (namespaces, keys…).
    originals = [m["name"] for m in json.loads(generated_config(1)[MODELS_KEY])]
    assert originals == ["model-001"]
    assert not any("fraud-scorer" in json.dumps(m) for m in models)
    assert cfg["aws:region"] == "eu-west-2"


def test_linear_fit_recovers_a_line_and_flags_quadratic_growth():
    line = [ScalePoint(n, r, 0.5 + 0.002 * r, 0.0) for n, r in ((1, 140), (10, 400), (50, 1500))]
    fit = linear_fit(line)
    assert abs(fit["ms_per_resource"] - 2.0) < 1e-9 and fit["r2"] > 0.999999
    quadratic = [
        ScalePoint(n, r, 1e-5 * r * r, 0.0) for n, r in ((1, 140), (10, 400), (25, 800), (50, 1500))
    ]
    assert linear_fit(quadratic)["r2"] < 0.99


def test_render_reports_targets():
    points = [ScalePoint(50, 1500, 12.0, 3.0)]
    text = render(
        [], {"resources_analyzed": 150, "median_s": 0.3, "ms_per_resource": 2.0}, points, 3
    )
    assert "2.00 ms per resource  (target < 1 ms: OVER TARGET)" in text
    assert "50-model stack: 15.0 s (target < 20 s: ok)" in text
