"""The styles application's HTTP surface: the FastAPI app (OpenAPI schema at /openapi.json, docs at /docs), its
typed response models, and the rule that every error is JSON: {"error": code, "message": text a person can read},
validation errors, unknown routes and wrong methods included."""
from __future__ import annotations

import copy
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from deployments.access import AccessMiddleware, current_policy
from deployments.http_errors import ServiceError
from deployments.requests import Options, field_schemas
from models.error_codes import ErrorCode

ROUTES = ("GET /v1/styles, GET /v1/styles/{preset}/thumbnail, POST /v1/stylize/{preset}, POST /v1/nst, "
          "POST /v1/fast, POST /v1/fast/vector, POST /v1/video/{preset}, POST /v1/fast/video, GET /healthz "
          "(docs: GET /docs; the studio page: GET /)")


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    presets: list[str] = Field(description="the presets served right now")
    nst: bool = Field(description="whether own style images can be painted")
    fast: bool = Field(description="whether own style images can be painted in one pass (POST /v1/fast)")


class Style(BaseModel):
    name: str = Field(examples=["vangogh"])
    label: str = Field(examples=["Van Gogh"])
    description: str = ""
    available: bool
    origin: str | None = Field(None, description="whose weights paint it, when available")
    caption: str = Field(description="what a result is captioned with")
    engine: str | None = Field(None, description='what paints it, when available: "fixed style" (the arbitrary '
                                                 'network with a fixed style vector), "generator" or "multi-style"')
    reason: str | None = Field(None, description="why it is unavailable, with the fix")
    group: str = Field("main", description='"main" (the first page, "All styles") or "more" ("More styles")')


class Styles(BaseModel):
    styles: list[Style]
    nst_max_size: int | None = Field(None, description="the largest `size` POST /v1/nst takes (px, long side); "
                                                       "null when own style images are not painted")


class StyleVector(BaseModel):
    vector: list[float] = Field(description="the style image's style vector: send it to POST /v1/fast as "
                                            "`style_vector` (a JSON list) in place of the image")
    length: int = Field(description="how many numbers the vector has", examples=[100])


class ErrorBody(BaseModel):
    error: str = Field(description="a machine-readable code", examples=["unknown_style"])
    message: str = Field(description="what went wrong and what to do, fit to show a person")


ERRORS = {status: {"model": ErrorBody} for status in (400, 404, 413, 415, 422, 503)}
BINARY = {"type": "string", "format": "binary"}


def query_parameters(model: type[Options]) -> dict:
    """A route's openapi_extra: `model`'s fields as its query parameters, their schemas generated from the model."""
    return {"parameters": [{"name": name, "in": "query", "required": False, "description": prop.get("description", ""),
                            "schema": {k: v for k, v in prop.items() if k != "description"}}
                           for name, prop in copy.deepcopy(field_schemas(model)).items()]}


def form_body(model: type[Options], files: dict[str, str], required: tuple[str, ...]) -> dict:
    """A route's openapi_extra: a multipart/form-data request body of image `files` ({name: description}) and
    `model`'s fields (generated from the model), which may also come as one JSON object in `options`."""
    properties = {name: {**BINARY, "description": about} for name, about in files.items()}
    properties.update(copy.deepcopy(field_schemas(model)))
    if model.model_fields:
        properties["options"] = {"type": "string", "description": "the same options as one JSON object"}
    schema = {"type": "object", "required": list(required), "properties": properties, "additionalProperties": False}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}

# The interactive docs are Swagger UI served by this app from deployments/static (no CDN: they work offline);
# ReDoc, which FastAPI also loads from a CDN, is left out.
api = FastAPI(title="stylebot styles API", version="1", docs_url=None, redoc_url=None,
              description="Repaint photos with a preset painting style, or in the style of your own image.")
api.add_middleware(AccessMiddleware, policy_of=current_policy)   # the ingress sets the policy as it starts
STATIC = Path(__file__).resolve().parent / "static"
api.mount("/static", StaticFiles(directory=STATIC), name="static")


@api.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    assets = f"{root}/static/swagger-ui"
    return get_swagger_ui_html(openapi_url=f"{root}{api.openapi_url}", title=f"{api.title}: docs",
                               swagger_js_url=f"{assets}/swagger-ui-bundle.js",
                               swagger_css_url=f"{assets}/swagger-ui.css",
                               swagger_favicon_url=f"{assets}/favicon-32x32.png")


def error_response(e: ServiceError) -> JSONResponse:
    headers = {"Retry-After": str(e.retry_after)} if e.retry_after else None
    return JSONResponse(e.as_dict(), status_code=e.status, headers=headers)


@api.exception_handler(ServiceError)
async def _service_error(request: Request, e: ServiceError) -> JSONResponse:
    return error_response(e)


@api.exception_handler(RequestValidationError)
async def _invalid(request: Request, e: RequestValidationError) -> JSONResponse:
    first = e.errors()[0] if e.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
    return JSONResponse({"error": ErrorCode.BAD_OPTION, "message": f"{where}: {first.get('msg', 'invalid')}."},
                        status_code=422)


@api.exception_handler(HTTPException)
async def _http_error(request: Request, e: HTTPException) -> JSONResponse:
    path = request.url.path
    if e.status_code == 404:
        body = {"error": ErrorCode.NOT_FOUND, "message": f"No endpoint {path[:200]}. See {ROUTES}."}
    elif e.status_code == 405:
        body = {"error": ErrorCode.METHOD_NOT_ALLOWED, "message": f"{request.method} is not allowed on {path[:200]}."}
    else:
        body = {"error": ErrorCode.HTTP_ERROR, "message": f"{e.status_code}: {e.detail}"}
    return JSONResponse(body, status_code=e.status_code, headers=getattr(e, "headers", None))
