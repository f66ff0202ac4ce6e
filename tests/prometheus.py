"""Reading a Prometheus text endpoint in tests: stylebot's series and their totals."""
import httpx


def scrape(url: str) -> dict[str, float]:
    """{'name{label="v",...}': value} from a Prometheus text endpoint, only stylebot's series."""
    series = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("ray_stylebot_"):
            key, value = line.rsplit(" ", 1)
            series[key] = float(value)
    return series


def total(series: dict[str, float], name: str, **labels) -> float:
    return sum(v for k, v in series.items() if k.split("{")[0] == name
               and all(f'{label}="{value}"' in k for label, value in labels.items()))
