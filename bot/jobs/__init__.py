"""Jobs: one running job per chat, run in the background, delivered at most once.

runner.py      the lifecycle: start under a lease, cancel, take over orphans, stop (`JobRunner`, the handlers' face)
painting.py    a job's run: its picture fetched, painted in its turn, failures put in the person's words
painters.py    one painter per kind of job (preset, all presets, saved style, quick version, NST)
waiting_room.py  the bot's line while the styles app is busy, with each job's place shown
progress.py    the progress message: place in line, NST steps, the picture so far
delivery.py    the result sent step by step, at most once, patient through Bot API outages
outcomes.py    metrics of ended jobs;  helpers.py  pure helpers;  quiet.py  best-effort Telegram calls
"""
from bot.jobs.helpers import delivery_reason, finishing, language, refusal_text, result_format
from bot.jobs.runner import JobRunner

__all__ = ["JobRunner", "delivery_reason", "finishing", "language", "refusal_text", "result_format"]
