"""Every error code the styles service answers with: one list shared by the service (HTTP bodies, handle errors),
its metrics and the bot, which has words for each in every language (tests/test_texts.py checks)."""
from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # the upload: models.images.ImageError and the ingress's own checks
    BAD_IMAGE = "bad_image"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    UNREADABLE_IMAGE = "unreadable_image"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_TOO_SMALL = "image_too_small"
    IMAGE_TOO_NARROW = "image_too_narrow"
    # a clip: models.video.clip.ClipError and the ingress's limits
    NOT_A_VIDEO = "not_a_video"
    UNREADABLE_VIDEO = "unreadable_video"
    EMPTY_VIDEO = "empty_video"
    VIDEO_TOO_LONG = "video_too_long"          # more seconds or frames than the service paints
    VIDEO_TOO_LARGE = "video_too_large"        # a bigger file than the service takes
    NO_NST_FOR_VIDEO = "no_nst_for_video"      # Gatys takes minutes a frame: clips get presets or the quick network
    # the request
    BAD_OPTION = "bad_option"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"                    # HTTP only: no such endpoint
    METHOD_NOT_ALLOWED = "method_not_allowed"  # HTTP only
    HTTP_ERROR = "http_error"                  # HTTP only: any other status the web framework answers
    UNAUTHORIZED = "unauthorized"              # HTTP only: no valid API key (deployments/access.py)
    RATE_LIMITED = "rate_limited"              # HTTP only: too many requests from one key or address
    UNKNOWN_STYLE = "unknown_style"
    STYLE_UNAVAILABLE = "style_unavailable"
    FAST_UNAVAILABLE = "fast_unavailable"
    NST_UNAVAILABLE = "nst_unavailable"
    # the work
    BUSY = "busy"
    INTERRUPTED = "interrupted"
    STYLE_NOT_TRANSFERRED = "style_not_transferred"


IMAGE_CODES = frozenset({ErrorCode.BAD_IMAGE, ErrorCode.NOT_AN_IMAGE, ErrorCode.UNSUPPORTED_FORMAT,
                         ErrorCode.UNREADABLE_IMAGE, ErrorCode.IMAGE_TOO_LARGE, ErrorCode.IMAGE_TOO_SMALL,
                         ErrorCode.IMAGE_TOO_NARROW})

VIDEO_CODES = frozenset({ErrorCode.NOT_A_VIDEO, ErrorCode.UNREADABLE_VIDEO, ErrorCode.EMPTY_VIDEO,
                         ErrorCode.VIDEO_TOO_LONG, ErrorCode.VIDEO_TOO_LARGE, ErrorCode.NO_NST_FOR_VIDEO})
