"""The bot's custom Serve metrics, exported by Ray with its `ray_` prefix (`ray_stylebot_jobs_total{kind,
outcome}`); configs/grafana_dashboard.json charts them. Outside a Ray worker (unit tests) recording is a no-op."""
from __future__ import annotations

from aiogram.exceptions import (TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError,
                                TelegramRetryAfter, TelegramServerError)
from ray.serve import metrics

TIME_BUCKETS_S = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200]

jobs = metrics.Counter(
    "stylebot_jobs", description="Bot jobs by kind (preset, all, nst) and outcome (done, failed, cancelled, "
                                 "closed, interrupted).", tag_keys=("kind", "outcome"))
time_to_result = metrics.Histogram(
    "stylebot_time_to_result_seconds", description="From a job's start to its result delivered, by kind.",
    boundaries=TIME_BUCKETS_S, tag_keys=("kind",))
telegram_errors = metrics.Counter(
    "stylebot_telegram_errors", description="Bot API calls that failed, by kind (rate_limited, server, network, "
                                            "forbidden, bad_request, other) and method.", tag_keys=("kind", "method"))
jobs_in_flight = metrics.Gauge(
    "stylebot_bot_jobs_in_flight", description="Jobs this bot replica is running now.")


def telegram_error_kind(error: BaseException) -> str:
    for kind, types in (("rate_limited", TelegramRetryAfter), ("server", TelegramServerError),
                        ("network", TelegramNetworkError), ("forbidden", TelegramForbiddenError),
                        ("bad_request", TelegramBadRequest)):
        if isinstance(error, types):
            return kind
    return "other"
