"""The styles app's HTTP routes, a base class of StylesIngress (Serve's @serve.ingress(api) serves the deployment
class's methods and its bases'). Each route checks its query and form fields with its endpoint's model
(deployments/requests.py, which the OpenAPI schema is generated from too), then calls the handle method the bot
uses; errors become JSON in deployments/http_api.py.

No `from __future__ import annotations` here: FastAPI must see `Request` itself in the route signatures that
Serve rewrites for the class, not a string it can no longer resolve."""

import base64
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from deployments.http_api import ERRORS, Health, Styles, StyleVector, api, form_body, query_parameters
from deployments.http_errors import ServiceError
from deployments.http_forms import MEDIA, read_body, read_form, wanted_format
from deployments.requests import (MAX_PREVIEWS, FastParams, NoQuery, NSTParams, NSTQuery, PresetParams, StreamQuery,
                                  VectorParams, VideoParams, validated)
from models.nst.options import SIZE_RANGE

BINARY = {"schema": {"type": "string", "format": "binary"}}
IMAGE_OUT = {200: {"description": "The painting: JPEG, or PNG when `Accept` asks for it only.",
                   "content": {"image/jpeg": BINARY, "image/png": BINARY}}, **ERRORS}
NST_OUT = {**IMAGE_OUT, 200: {**IMAGE_OUT[200], "content": {**IMAGE_OUT[200]["content"],
                                                            "application/x-ndjson": BINARY}}}
STYLIZE_BODY = {"requestBody": {"required": True, "description": "The photo: JPEG, PNG, WebP, BMP or GIF.",
                                "content": {t: BINARY for t in ("image/jpeg", "image/png", "image/webp")}},
                **query_parameters(PresetParams)}
NST_BODY = {**form_body(NSTParams, {"content": "the photo", "style": "the style image"}, ("content", "style")),
            **query_parameters(NSTQuery)}
FAST_BODY = form_body(FastParams, {"content": "the photo", "style": "the style image (or send `style_vector`)"},
                      ("content",))
VECTOR_BODY = form_body(VectorParams, {"style": "the style image"}, ("style",))
VIDEO_OUT = {200: {"description": "The painted clip as MP4 (H.264, the source's sound kept), or with `Accept: "
                                  "application/x-ndjson` progress lines and the MP4 in base64 on the last line.",
                   "content": {"video/mp4": BINARY, "application/x-ndjson": BINARY}}, **ERRORS}
CLIP = "the clip: MP4, MOV, WebM or GIF, at most 60 s"
VIDEO_BODY = {**form_body(VideoParams, {"video": CLIP}, ("video",)), **query_parameters(StreamQuery)}
FAST_VIDEO_BODY = {**form_body(VideoParams, {"video": CLIP, "style": "the style image (or send `style_vector`)"},
                               ("video",)), **query_parameters(StreamQuery)}


class StylesRoutes:
    """HTTP for StylesIngress: its attributes (generators, styles, limits, ...) and handle methods."""

    @api.get("/healthz", response_model=Health)
    def healthz(self) -> Health:
        return Health(status="ok", presets=sorted(self.generators), nst=self.nst_handle is not None,
                      fast=self.fast_handle is not None)

    @api.get("/v1/styles", response_model=Styles, summary="Every preset, available or not, and why")
    def http_styles(self) -> Styles:
        return Styles(styles=self.styles,
                      nst_max_size=min(self.nst_max_side, SIZE_RANGE[1]) if self.nst_handle is not None else None)

    @api.get("/v1/styles/sheet", response_class=Response, responses=IMAGE_OUT,
             summary="Every available preset on one sample photo (a JPEG contact sheet)")
    async def http_styles_sheet(self) -> Response:
        return Response(await self.styles_sheet(), media_type="image/jpeg")

    @api.post("/v1/stylize/{preset}", response_class=Response, responses=IMAGE_OUT, openapi_extra=STYLIZE_BODY,
              summary="Repaint a photo (the raw request body) with a preset")
    async def http_stylize(self, preset: str, request: Request) -> Response:
        params = validated(PresetParams, request.query_params, "query parameter")
        fmt = wanted_format(request)
        out = await self.stylize(preset, await read_body(request, self.limits.max_bytes), fmt, params.size,
                                 params.strength, params.keep_colors)
        return Response(out, media_type=MEDIA[fmt])

    @api.post("/v1/nst", response_class=Response, openapi_extra=NST_BODY, responses=NST_OUT,
              summary="Repaint a photo in the style of your own image (Gatys NST); NDJSON progress on request")
    async def http_nst(self, request: Request) -> Response:
        query = validated(NSTQuery, request.query_params, "query parameter")
        files, options = await read_form(request, self.limits.max_bytes, ("content", "style"))
        fmt = wanted_format(request)
        streaming = "application/x-ndjson" in request.headers.get("accept", "") or bool(query.stream)
        previews = {"every_s": query.previews, "max": MAX_PREVIEWS} if query.previews and streaming else None
        events = self.nst(files["content"], files["style"], options, fmt, previews)  # the handle method, in-process
        first = await anext(events)  # surfaces bad input and overload as 4xx/503 before streaming starts
        if streaming:
            return StreamingResponse(ndjson(first, events), media_type="application/x-ndjson")
        event = first
        async for event in events:
            pass
        return Response(event["image"], media_type=MEDIA[fmt])

    @api.post("/v1/fast", response_class=Response, openapi_extra=FAST_BODY, responses=IMAGE_OUT,
              summary="Repaint a photo in the style of your own image in one pass (about a second on a CPU)")
    async def http_fast(self, request: Request) -> Response:
        validated(NoQuery, request.query_params, "query parameter")
        files, options = await read_form(request, self.limits.max_bytes, ("content",), ("style",))
        fmt = wanted_format(request)
        return Response(await self.fast(files["content"], files.get("style"), options, fmt), media_type=MEDIA[fmt])

    @api.post("/v1/fast/vector", response_model=StyleVector, openapi_extra=VECTOR_BODY, responses=ERRORS,
              summary="The style vector of a style image: keep it, and send it to POST /v1/fast as `style_vector`")
    async def http_fast_vector(self, request: Request) -> StyleVector:
        validated(NoQuery, request.query_params, "query parameter")
        files, options = await read_form(request, self.limits.max_bytes, ("style",))
        validated(VectorParams, options, "field")
        vector = await self.style_vector(files["style"])
        return StyleVector(vector=vector, length=len(vector))

    @api.post("/v1/video/{preset}", response_class=Response, openapi_extra=VIDEO_BODY, responses=VIDEO_OUT,
              summary="Repaint a clip (a GIF, a short video) with a preset, steady from frame to frame")
    async def http_video(self, preset: str, request: Request) -> Response:
        return await self._video_response(request, preset, ())

    @api.post("/v1/fast/video", response_class=Response, openapi_extra=FAST_VIDEO_BODY, responses=VIDEO_OUT,
              summary="Repaint a clip in the style of your own image, with the quick own-style network")
    async def http_fast_video(self, request: Request) -> Response:
        return await self._video_response(request, None, ("style",))

    async def _video_response(self, request: Request, preset: str | None, optional: tuple[str, ...]) -> Response:
        """The MP4, or NDJSON progress then the MP4 in base64 (answered in this request, not as a job to fetch
        later: any ingress replica can serve it, and a client that goes away stops the painting)."""
        query = validated(StreamQuery, request.query_params, "query parameter")
        files, options = await read_form(request, self.limits.max_bytes, ("video",), optional)
        events = self.video(files["video"], preset, files.get("style"), options)
        first = await anext(events)  # a bad clip or option, or overload, is a 4xx/503 before any streaming
        if "application/x-ndjson" in request.headers.get("accept", "") or query.stream:
            return StreamingResponse(ndjson(first, events), media_type="application/x-ndjson")
        event = first
        async for event in events:
            pass
        return Response(event["video"], media_type="video/mp4")


async def ndjson(first: dict, events: AsyncIterator[dict]) -> AsyncIterator[bytes]:
    """NST events as NDJSON lines, a result's or preview's image in base64; an error after the first line is the
    last line."""
    event = first
    while True:
        if event["type"] in ("result", "preview"):
            event = {**event, **{k: base64.b64encode(event[k]).decode() for k in ("image", "video") if k in event}}
        yield (json.dumps(event) + "\n").encode()
        try:
            event = await anext(events)
        except StopAsyncIteration:
            return
        except ServiceError as e:  # the status line went out with the first event: the error is the last line
            yield (json.dumps({"type": "error", "status": e.status, **e.as_dict()}) + "\n").encode()
            return
