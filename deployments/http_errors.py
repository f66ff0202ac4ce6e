"""Errors the styles service returns to its callers, over HTTP (status + JSON body) and through handles."""
from __future__ import annotations

from models.images import ImageError, ImageTooLarge, NotAnImage, UnsupportedFormat
from models.limits import RETRY_AFTER_S
from models.error_codes import ErrorCode


class ServiceError(Exception):
    """Carries a machine-readable code, a message fit to show a person, and the HTTP status."""

    default_status = 400

    def __init__(self, code: ErrorCode | str, message: str, status: int | None = None, retry_after: int | None = None):
        code = ErrorCode(code)  # a code outside the shared list is a bug here, not a raw message in the bot
        super().__init__(code, message, status, retry_after)
        # Plain instance attributes, none of them also defined on the class: an exception that crosses a
        # Serve handle arrives wrapped in a RayTaskError subclass that looks up unknown names on the original.
        self.code, self.message = code, message
        self.status = status or type(self).default_status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> dict:
        return {"error": str(self.code), "message": self.message}


class BadInput(ServiceError):
    default_status = 400


class UnknownStyle(ServiceError):
    default_status = 404


class ServiceBusy(ServiceError):
    default_status = 503


def from_image_error(e: ImageError) -> BadInput:
    status = 413 if isinstance(e, ImageTooLarge) else 415 if isinstance(e, (NotAnImage, UnsupportedFormat)) else 422
    return BadInput(e.code, e.message, status)


def busy(what: str) -> ServiceBusy:
    return ServiceBusy(ErrorCode.BUSY, f"The {what} is busy right now. Please try again in a minute.", retry_after=RETRY_AFTER_S)


def replica_lost() -> ServiceBusy:
    """The model replica doing the work died (its node went away, it crashed) and retries did not get through."""
    return ServiceBusy(ErrorCode.INTERRUPTED, "The painting service lost the machine working on your picture. Please send it "
                                      "again in a minute.", retry_after=RETRY_AFTER_S)


def not_transferred(drop: float, required: float) -> BadInput:
    """NST ended with the photo barely moved toward the style: refused rather than returned as a painting."""
    return BadInput(ErrorCode.STYLE_NOT_TRANSFERRED,
                    f"The style did not take: the result is only {drop:.1f}x closer to the style than the photo "
                    f"(at least {required:g}x is needed), so it would look like the photo. Try again with another "
                    "seed, more steps or a higher strength, or use another style image.", 422)
