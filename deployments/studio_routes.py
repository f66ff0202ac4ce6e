"""The studio page (GET /: deployments/static/studio, plain files, no build step) and the style thumbnails its grid
shows, a base class of StylesIngress. A thumbnail is each preset painted once on the sample photo, kept by the
replica; the contact sheet of every style is made from the same thumbnails.

No `from __future__ import annotations` here, as in deployments/http_routes.py."""

import asyncio
import io

from PIL import Image
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from deployments.http_api import STATIC, api
from deployments.http_routes import IMAGE_OUT
from deployments.requests import NoQuery, validated
from models import paths
from models.contact_sheet import contact_sheet
from models.images import encode_image
from models.tensors import to_array

THUMB_SIDE = 128   # px, the long side of a style's thumbnail (and of its picture on the contact sheet)
STUDIO_PAGE = (STATIC / "studio" / "index.html").read_text()


class StudioRoutes:
    """Needs StylesIngress's generators, styles, _decode, _generator and _paint, and its _thumbnails ({preset: the
    task painting it}), _sample (the sample photo, decoded) and _sheet, which start empty."""

    @api.get("/", include_in_schema=False)
    async def studio_page(self) -> HTMLResponse:
        return HTMLResponse(STUDIO_PAGE, headers={"Cache-Control": "no-cache"})

    @api.get("/v1/styles/{preset}/thumbnail", response_class=Response, responses=IMAGE_OUT,
             summary="A preset painted on the sample photo (a small JPEG, the same every time)")
    async def http_thumbnail(self, preset: str, request: Request) -> Response:
        validated(NoQuery, request.query_params, "query parameter")
        return Response(await self.thumbnail(preset), media_type="image/jpeg",
                        headers={"Cache-Control": "public, max-age=86400"})

    async def thumbnail(self, preset: str) -> bytes:
        """`preset` on the sample photo, painted once per replica however many ask at the same time."""
        self._generator(preset)                       # an unknown or unavailable preset is a 404 here
        thumbnails = self._thumbnails
        if preset not in thumbnails:
            thumbnails[preset] = asyncio.ensure_future(self._paint_thumbnail(preset))
        task = thumbnails[preset]
        try:
            return await asyncio.shield(task)         # one caller leaving does not stop it for the others
        except Exception:
            if thumbnails.get(preset) is task:        # busy or failed: the next request tries again
                del thumbnails[preset]
            raise

    async def _paint_thumbnail(self, preset: str) -> bytes:
        if self._sample is None:
            sample = await asyncio.to_thread(paths.sample_photo_path().read_bytes)
            self._sample = to_array(await self._decode(sample, THUMB_SIDE))
        return await self._paint(preset, self._sample, "JPEG")

    async def styles_sheet(self) -> bytes:
        """A JPEG contact sheet: every available preset on the sample photo, labelled; made once per replica."""
        if self._sheet is None:
            names = list(self.generators)
            painted = await asyncio.gather(*(self.thumbnail(n) for n in names))
            labels = {s["name"]: s["label"] for s in self.styles}
            items = [(labels.get(n, n), Image.open(io.BytesIO(p))) for n, p in zip(names, painted)]
            self._sheet = await asyncio.to_thread(lambda: encode_image(contact_sheet(items, THUMB_SIDE), "JPEG"))
        return self._sheet
