"""How the styles ingress calls its model deployments: a full queue downstream is a 503 (counted in
stylebot_rejections), a one-pass call whose replica was lost is sent again (stylebot_retries), then a 503."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from ray.exceptions import NodeDiedError, RayActorError, WorkerCrashedError
from ray.serve.exceptions import BackPressureError, ReplicaUnavailableError

from deployments.http_errors import busy, replica_lost
from deployments.metrics import rejections, retries

logger = logging.getLogger("ray.serve")

# The replica a call went to died (killed, crashed, its node gone). Serve starts another one (ActorDiedError and
# ActorUnavailableError are RayActorErrors); a preset call is a pure function, so it is simply sent again.
REPLICA_LOST = (RayActorError, WorkerCrashedError, NodeDiedError, ReplicaUnavailableError)
LOST_REPLICA_RETRIES = 2


def _causes(e: BaseException) -> tuple:
    return tuple(err for err in (e, getattr(e, "cause", None), e.__cause__) if err is not None)


def is_back_pressure(e: BaseException) -> bool:
    """A full queue downstream, however Serve wrapped it (directly, or as the cause of a task error)."""
    return any(isinstance(err, BackPressureError) or type(err).__name__ == "BackPressureError" for err in _causes(e))


def is_replica_lost(e: BaseException) -> bool:
    return any(isinstance(err, REPLICA_LOST) for err in _causes(e))


async def one_pass(target: str, label: str, what: str, call: Callable[[], Awaitable[bytes]]):
    """A one-pass model call (a pure function of its input): a full queue is a 503; a replica lost mid-call
    is sent again, then a 503. `target` tags the metrics, `label` the log lines, `what` names the service busy."""
    for attempt in range(LOST_REPLICA_RETRIES + 1):
        try:
            return await call()
        except Exception as e:
            if is_back_pressure(e):
                rejections.inc(tags={"target": target})
                raise busy(what) from None
            if not is_replica_lost(e):
                raise
            if attempt < LOST_REPLICA_RETRIES:
                retries.inc(tags={"target": target})
            logger.warning("%s: the replica painting it was lost (%s); attempt %d of %d", label,
                           type(e).__name__, attempt + 1, LOST_REPLICA_RETRIES + 1)
    raise replica_lost()


def streaming_error(e: Exception, target: str = "nst") -> Exception:
    """What a streaming (NST, full-size) call's failure becomes: a full queue a 503, a lost replica "interrupted"
    (progress went out already: the caller decides whether to start again), anything else itself."""
    if is_back_pressure(e):
        rejections.inc(tags={"target": target})
        return busy("painting service")
    if is_replica_lost(e):
        return replica_lost()
    return e


async def relayed(stream, target: str) -> AsyncIterator[dict]:
    """A deployment's event stream (a streaming handle call) passed on, its failures as streaming_error's; the
    call is cancelled when our own caller goes away (a no-op once it has finished)."""
    try:
        async for event in stream:
            yield event
    except Exception as e:
        error = streaming_error(e, target)
        if error is e:
            raise
        raise error from None
    finally:
        try:
            stream.cancel()
        except Exception:  # noqa: BLE001 - cancel() re-raises the call's own error, handled above
            pass


async def result_of(events: AsyncIterator[dict]) -> bytes:
    """The image of a stream's "result" event (its progress events dropped)."""
    async for event in events:
        if event["type"] == "result":
            return event["image"]
    raise RuntimeError("the painting ended without a result")
