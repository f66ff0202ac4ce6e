"""Keep the bot token and webhook secret out of every log line, whoever logs it."""
from __future__ import annotations

import logging


class SecretFilter(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None and any(s in repr(record.exc_info[1])
                                                                     for s in self.secrets):
            record.msg, record.args = f"{clean} [traceback withheld: it contained a secret]", None
            record.exc_info, record.exc_text = None, None
        return True


def install(secrets: list[str], loggers: tuple[str, ...] = ("", "ray.serve", "aiogram")) -> SecretFilter:
    """Attach the filter to every handler of the given loggers (filters on a logger skip propagated records)."""
    f = SecretFilter(secrets)
    for name in loggers:
        log = logging.getLogger(name)
        log.addFilter(f)
        for handler in log.handlers:
            handler.addFilter(f)
    return f
