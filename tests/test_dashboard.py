"""configs/grafana_dashboard.json charts every custom metric the code defines, under the name Ray exports."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "deployments" / "metrics.py", ROOT / "bot" / "metrics.py"]


def defined_metrics() -> dict[str, str]:
    """{name: Counter | Gauge | Histogram} from the metric modules."""
    found = {}
    for path in SOURCES:
        for kind, name in re.findall(r'metrics\.(Counter|Gauge|Histogram)\(\s*"(stylebot_\w+)"', path.read_text()):
            found[name] = kind
    return found


def exported(name: str, kind: str) -> str:
    """Ray prefixes custom metrics with `ray_`; Prometheus adds `_total` to counters, `_bucket` to histograms."""
    return "ray_" + name + {"Counter": "_total", "Histogram": "_bucket", "Gauge": ""}[kind]


def test_the_dashboard_charts_every_metric():
    metrics = defined_metrics()
    assert len(metrics) >= 10 and all(n.startswith("stylebot_") for n in metrics)
    dashboard = json.loads((ROOT / "configs" / "grafana_dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    assert [n for n, kind in metrics.items() if not re.search(rf"\b{exported(n, kind)}\b", exprs)] == []
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
