"""What each styles endpoint accepts, as one pydantic model per endpoint: HTTP (query parameters, form fields)
and the handle API (the bot's options) are checked by the same model, and the OpenAPI schema is generated from
it (deployments/http_api.py). Values may come as form strings ("true", "0.5", "256") or as JSON/Python values;
an unknown, mistyped or out-of-range one is a JSON 422 (ErrorCode.BAD_OPTION) whose message names the field."""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, WithJsonSchema,
                      field_validator, model_validator)
from pydantic_core import PydanticCustomError

from deployments.http_errors import BadInput
from deployments.style_vector import parse_style_vector
from models.arbitrary.fixed import VECTOR_LENGTH
from models.error_codes import ErrorCode
from models.limits import FULL, MAX_VIDEO_SIDE, MIN_PRESET_SIDE, VIDEO_SIDE
from models.nst.options import MAX_SEED, MAX_STRENGTH, SIZE_RANGE, STYLE_SCALE_RANGE, NSTOptions


def _form_value(value: Any) -> Any:
    """A form's " 256 " is 256; true/false is no number (pydantic's lax mode would read them as 1 and 0)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        raise PydanticCustomError("bool_not_number", "true or false is not a number")
    return value


def is_full(size: Any) -> bool:
    """Whether a (not yet validated) size asks for the photo's own size."""
    return isinstance(size, str) and size.strip().lower() == FULL


def _size_value(value: Any) -> Any:
    """A form value, and "Full" or " full " is "full"."""
    value = _form_value(value)
    return FULL if isinstance(value, str) and value.lower() == FULL else value


# Form-friendly but strict-ish types: "256" and 256 are an Int, "0.5" a Number (never NaN or infinite: see
# Options.model_config), "true"/"yes"/"on"/"1" and "false"/"no"/"off"/"0" a Flag; "maybe" or 2.5 for an Int is refused.
Int = Annotated[int, BeforeValidator(_form_value)]
Number = Annotated[float, BeforeValidator(_form_value)]
Flag = Annotated[bool, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)]
# A preset's (and /v1/fast's) size: none means the service's limit, and a larger one is cut to it. (The bound goes
# before the validator, or pydantic's JSON schema shows it as "ge", not "minimum".)
PresetSize = Annotated[Annotated[int, Field(ge=MIN_PRESET_SIDE)] | Literal["full"], BeforeValidator(_size_value)] | None
PRESET_SIZE = ("long side of the result in pixels (default and most: the service's limit), or \"full\": the photo's "
               "own size, painted tile by tile")


class Options(BaseModel):
    """An endpoint's options: nothing unknown, no NaN or infinity."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)
    none_taken: ClassVar[str] = "it takes none"  # the unknown-option message of a model without fields

    @classmethod
    def takes(cls) -> str:
        return f"known: {', '.join(cls.model_fields)}" if cls.model_fields else cls.none_taken


class PresetParams(Options):
    """POST /v1/stylize/{preset}'s query parameters; the handle's stylize and stylize_all."""
    size: PresetSize = Field(None, description=PRESET_SIZE)
    strength: Number = Field(1.0, ge=0, le=1, description="0 = the photo, 1 = the full painting (default)")
    keep_colors: Flag = Field(False, description="keep the photo's colours")


MIN_PREVIEW_S, MAX_PREVIEW_S, MAX_PREVIEWS = 2, 60, 10   # POST /v1/nst?previews=N: the picture so far


class NSTQuery(Options):
    """POST /v1/nst's query parameter (its options are form fields: NSTParams)."""
    stream: Flag | None = Field(None, description="true: stream NDJSON progress events (or send Accept: "
                                                  "application/x-ndjson)")
    previews: Int | None = Field(None, ge=MIN_PREVIEW_S, le=MAX_PREVIEW_S,
                                 description=f"streaming only: a preview event (the picture so far, base64 JPEG) "
                                             f"every this many seconds, at most {MAX_PREVIEWS}")


class NoQuery(Options):
    """The query of an endpoint whose options are form fields."""
    none_taken: ClassVar[str] = "it takes none: send options as form fields"


class NSTParams(Options):
    """POST /v1/nst's form fields (or its `options` JSON object); the handle's nst. The service's own limits on
    size and steps come as validation context: max_size, max_steps."""
    size: Int = Field(NSTOptions.size, ge=SIZE_RANGE[0], le=SIZE_RANGE[1], validate_default=True,
                      description="long side of the result in pixels (at most the service's limit)")
    steps: Int = Field(NSTOptions.steps, ge=1, validate_default=True,
                       description="budget of objective evaluations (at most the service's limit)")
    strength: Number = Field(NSTOptions.strength, ge=0, le=MAX_STRENGTH, description="multiplies the style weight")
    keep_colors: Flag = Field(NSTOptions.keep_colors, description="transfer the style's texture only; the photo "
                                                                  "keeps its colours")
    seed: Int = Field(NSTOptions.seed, ge=0, le=MAX_SEED, description="0: start from the photo; another number: "
                                                                      "from a light jitter of it (another result)")
    style_scale: Number = Field(NSTOptions.style_scale, ge=STYLE_SCALE_RANGE[0], le=STYLE_SCALE_RANGE[1],
                                description="the style image's scale relative to the photo's (equal area at 1)")
    full_size: Flag = Field(False, description="the result at the photo's own size: the optimiser's picture (at "
                                               "`size`) with the detail of a full-size painting in the same style "
                                               "above its scale")

    @field_validator("size", "steps")
    @classmethod
    def _within_the_service(cls, value: int, info: ValidationInfo) -> int:
        limit = (info.context or {}).get(f"max_{info.field_name}")
        if limit is not None and value > limit:
            raise PydanticCustomError("less_than_equal", "Input should be less than or equal to {le}", {"le": limit})
        return value


NST_ONLY = frozenset(NSTParams.model_fields) - {"size", "strength", "keep_colors"}


class FastParams(Options):
    """POST /v1/fast's form fields (or its `options` JSON object); the handle's fast."""
    size: PresetSize = Field(None, description=PRESET_SIZE)
    strength: Number = Field(1.0, ge=0, le=1, description="0 = the photo's own style, 1 = the style image's "
                                                          "(default)")
    keep_colors: Flag = Field(False, description="keep the photo's colours")
    style_vector: Annotated[list[float] | None, WithJsonSchema({"type": "string"})] = Field(
        None, description=f"instead of `style`: a JSON list of {VECTOR_LENGTH} numbers, as POST /v1/fast/vector "
                          "returns")

    @model_validator(mode="before")
    @classmethod
    def _no_nst_options(cls, data: Any) -> Any:
        """The optimiser's own options are refused by name: they mean nothing to a one-pass model."""
        for key in sorted(NST_ONLY.intersection(data) if isinstance(data, Mapping) else ()):
            raise PydanticCustomError("nst_only", f"Option {key!r} applies to /v1/nst only: the fast model paints in "
                                                  "one pass. Options here: size, strength, keep_colors.")
        return data

    @field_validator("style_vector", mode="before")
    @classmethod
    def _style_vector(cls, raw: Any) -> list[float] | None:
        return None if raw is None else parse_style_vector(raw)


class VideoParams(Options):
    """POST /v1/video/{preset}'s and /v1/fast/video's form fields (or their `options` JSON object); the handle's
    video. `style_vector` is for the quick own-style network only."""
    size: Int = Field(VIDEO_SIDE, ge=MIN_PRESET_SIDE, le=MAX_VIDEO_SIDE,
                      description="long side of the painted clip in pixels (never more than the clip's own)")
    strength: Number = Field(1.0, ge=0, le=1, description="0 = the clip, 1 = the full painting (default)")
    keep_colors: Flag = Field(False, description="keep the clip's colours")
    steady: Flag = Field(True, description="one set of norm statistics for the whole clip, and still areas held "
                                           "still (default); false paints each frame on its own, as a photo")
    style_vector: Annotated[list[float] | None, WithJsonSchema({"type": "string"})] = Field(
        None, description=f"/v1/fast/video instead of `style`: a JSON list of {VECTOR_LENGTH} numbers")

    @field_validator("style_vector", mode="before")
    @classmethod
    def _style_vector(cls, raw: Any) -> list[float] | None:
        return None if raw is None else parse_style_vector(raw)


class StreamQuery(Options):
    """The query of an endpoint that answers with a file or, on request, with NDJSON progress first."""
    stream: Flag | None = Field(None, description="true: stream NDJSON progress events, the result last (or send "
                                                  "Accept: application/x-ndjson)")


class VectorParams(Options):
    """POST /v1/fast/vector's form fields: none, only the `style` file."""
    none_taken: ClassVar[str] = "this endpoint takes only the `style` image file"


def validated(model: type[Options], raw: Mapping | None, what: str = "option", **context) -> Options:
    """`raw` checked by `model` (`context`: limits known at run time); a ValidationError is a 422 BadInput whose
    message names the field. `what` is how the message calls a field: "option", "query parameter"."""
    try:
        return model.model_validate(dict(raw or {}), context=context)
    except ValidationError as e:
        error = e.errors(include_url=False)[0]
        raise BadInput(ErrorCode.BAD_OPTION, refusal(error, model, what, context), 422) from None


RANGE_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})
KINDS = {"integer": "a whole number", "number": "a number", "boolean": "true or false", "string": "text"}
UNITS = {"size": " px"}


def refusal(error: dict, model: type[Options], what: str, context: dict) -> str:
    """A message fit to show a person for pydantic's first `error` about `model` (`context`: the validation's)."""
    kind, name = error["type"], str(error["loc"][0]) if error["loc"] else ""  # a union's branch is loc[1]
    if kind == "extra_forbidden":
        return f"Unknown {what} {name[:40]!r}; {model.takes()}."
    if kind == "value_error":  # a validator's own message, which names the field
        return str(error["ctx"]["error"])
    schema = field_schemas(model).get(name)
    if schema is None:  # a model-level refusal: its message names the field
        return error["msg"] + ("" if error["msg"].endswith(".") else ".")
    label, about = f"{what.capitalize()} {name!r}", f": {schema['description']}" if "description" in schema else ""
    options = [o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"]  # a union: each option's kind, the bounds of the ranged one
    ranged = next((o for o in options if "minimum" in o or "maximum" in o), schema)
    bounds = _bounds(ranged, context.get(f"max_{name}"), UNITS.get(name, ""))
    if kind in RANGE_ERRORS:
        return f"{label} must be {bounds}, not {str(error['input'])[:40]}{about}."
    wanted = f"a finite number {bounds}".rstrip() if kind == "finite_number" else " or ".join(map(_kind, options))
    return f"{label} must be {wanted}, not {_shown(error['input'])}{about}."


def _kind(option: dict) -> str:
    return f'"{option["const"]}"' if "const" in option else KINDS.get(option.get("type"), "valid")


def _bounds(schema: dict, limit, unit: str) -> str:
    """"between 0 and 1", "at least 64 px", ...: a field's range, its maximum lowered to the service's `limit`."""
    low, high = schema.get("minimum"), min((x for x in (schema.get("maximum"), limit) if x is not None), default=None)
    if low is not None and high is not None:
        return f"between {_number(low)} and {_number(high)}{unit}"
    if low is not None or high is not None:
        return f"at least {_number(low)}{unit}" if low is not None else f"at most {_number(high)}{unit}"
    return ""


def _number(x) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@cache
def field_schemas(model: type[Options]) -> dict[str, dict]:
    """Each field's JSON schema, an optional field's (`anyOf` with null) as its type's: what the OpenAPI schema
    shows for a form field or query parameter."""
    return {name: plain(prop) for name, prop in model.model_json_schema()["properties"].items()}


def plain(prop: dict) -> dict:
    options = [p for p in prop.get("anyOf", ()) if p.get("type") != "null"]
    if len(options) != 1:
        return prop
    rest = {k: v for k, v in prop.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**options[0], **rest}
