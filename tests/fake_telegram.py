"""A local fake of the Telegram Bot API (the parts stylebot calls), served by uvicorn on 127.0.0.1.

It answers like Telegram (`{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description"}`),
records every call with its parameters and uploaded files (multipart `attach://` included), hosts files for
getFile + download, queues updates for getUpdates, and can inject faults (429 with retry_after, 5xx, 403).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DOWNLOAD_LIMIT = 20 * 1024 * 1024
BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Stylebot", "username": "stylebot_test_bot"}


def bad_request(description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": 400, "description": f"Bad Request: {description}"},
                        status_code=400)


@dataclass
class Call:
    method: str
    params: dict
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    status: int = 200                 # the injected error's status when the call was made to fail
    result: object = None             # what the fake answered (a sent message, with its message_id)


@dataclass
class HostedFile:
    data: bytes
    unique_id: str
    path: str
    size: int


class FakeTelegram:
    def __init__(self, token: str):
        self.token = token
        self.calls: list[Call] = []
        self.files: dict[str, HostedFile] = {}
        self.faults: dict[str, list[tuple[int | None, int, dict]]] = {}
        self.updates: list[dict] = []
        self.webhook: dict = {}
        self.commands: dict[str, list[dict]] = {}        # by language_code ("" for the default list)
        self.menu_buttons: dict[str, dict] = {}          # by chat_id ("" for the default button)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
            Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
        ])
        self.server: uvicorn.Server | None = None
        self.url = ""

    # -- test API -------------------------------------------------------------------------------------------
    def start(self, port: int) -> "FakeTelegram":
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Telegram did not start")
            time.sleep(0.05)
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self.server:
            self.server.should_exit = True

    def go_offline(self) -> None:
        """Close the port: every Bot API call and download gets "connection refused" until `go_online()`."""
        self.stop()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the fake Telegram server did not stop"

    def go_online(self) -> None:
        self.start(self.port)

    def host_file(self, data: bytes, size: int | None = None) -> str:
        """Host `data` as a Telegram file; `size` may claim a bigger size (for the 20 MB limit)."""
        n = self.next_id()
        file_id = f"AgACAgFILE{n:06d}"
        self.files[file_id] = HostedFile(data, f"UNIQ{n:06d}", f"photos/file_{n}.jpg", size or len(data))
        return file_id

    def fail(self, method: str, status: int, times: int = 1, retry_after: int | None = None,
             description: str | None = None, chat_id: int | None = None) -> None:
        """The next `times` calls of `method` (to `chat_id`, when given) fail with `status`."""
        params = {"retry_after": retry_after} if retry_after is not None else {}
        text = description or {429: "Too Many Requests: retry after", 403: "Forbidden: bot was blocked by the user",
                               500: "Internal Server Error", 502: "Bad Gateway"}.get(status, "Error")
        fault = (chat_id, status, {"description": text, "parameters": params})
        self.faults.setdefault(method, []).extend([fault] * times)

    def queue_update(self, update: dict) -> None:
        self.updates.append(update)

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        return [c for c in list(self.calls) if (method is None or c.method == method)
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def texts(self, chat_id: int) -> list[str]:
        return [c.params.get("text", "") for c in self.sent("sendMessage", chat_id)]

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "a call"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; calls: {[c.method for c in self.calls]}")

    # -- the API ------------------------------------------------------------------------------------------
    async def _params(self, request: Request) -> tuple[dict, dict[str, bytes]]:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            return await request.json(), {}
        if request.method == "GET":
            return dict(request.query_params), {}
        form = await request.form()
        params, files = {}, {}
        for key, value in form.multi_items():
            if hasattr(value, "read"):
                files[key] = await value.read()
            else:
                params[key] = value
        return params, files

    def _message(self, chat_id, **content) -> dict:
        return {"message_id": self.next_id(), "date": int(time.time()),
                "chat": {"id": int(chat_id), "type": "private"}, "from": BOT_USER, **content}

    def _photo(self, data: bytes) -> list[dict]:
        file_id = self.host_file(data)
        f = self.files[file_id]
        return [{"file_id": file_id, "file_unique_id": f.unique_id, "width": 1, "height": 1, "file_size": f.size}]

    def _resolve(self, ref: str, params: dict, files: dict) -> bytes:
        if ref.startswith("attach://"):
            return files[ref[len("attach://"):]]
        return self.files[ref].data

    async def _api(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        params, files = await self._params(request)
        call = Call(method, params, files)
        self.calls.append(call)
        for i, (chat, status, body) in enumerate(self.faults.get(method, [])):
            if chat is None or str(chat) == str(params.get("chat_id")):
                del self.faults[method][i]
                call.status = status
                return JSONResponse({"ok": False, "error_code": status, **body}, status_code=status)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                                status_code=404)
        result = handler(params, files)
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, Response):
            return result
        call.result = result
        return JSONResponse({"ok": True, "result": result})

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        for f in self.files.values():
            if f.path == request.path_params["path"]:
                return Response(f.data, media_type="application/octet-stream")
        return Response(status_code=404)

    # -- methods ------------------------------------------------------------------------------------------
    def _m_getMe(self, p, f):
        return BOT_USER

    def _m_setWebhook(self, p, f):
        self.webhook = p
        return True

    def _m_setMyCommands(self, p, f):
        commands = json.loads(p["commands"]) if isinstance(p["commands"], str) else p["commands"]
        if not all(re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]) and 1 <= len(c["description"]) <= 256
                   for c in commands) or len(commands) > 100:
            return bad_request("BOT_COMMAND_INVALID")
        self.commands[p.get("language_code") or ""] = commands
        return True

    def _m_setChatMenuButton(self, p, f):
        button = p.get("menu_button") or {"type": "default"}
        button = json.loads(button) if isinstance(button, str) else button
        if button["type"] == "web_app" and not (button.get("text") and button["web_app"]["url"].startswith("https://")):
            return bad_request("BUTTON_INVALID")
        self.menu_buttons[str(p.get("chat_id") or "")] = button
        return True

    def _m_deleteWebhook(self, p, f):
        self.webhook = {}
        return True

    async def _m_getUpdates(self, p, f):
        offset = int(p.get("offset") or 0)
        deadline = time.monotonic() + min(float(p.get("timeout") or 0), 1.0)
        while True:
            ready = [u for u in self.updates if u["update_id"] >= offset]
            if ready or time.monotonic() >= deadline:
                self.updates = ready
                return ready
            await asyncio.sleep(0.05)

    def _m_getFile(self, p, f):
        hosted = self.files.get(p.get("file_id"))
        if hosted is None:
            return bad_request("invalid file_id")
        if hosted.size > DOWNLOAD_LIMIT:
            return bad_request("file is too big")
        return {"file_id": p["file_id"], "file_unique_id": hosted.unique_id, "file_size": hosted.size,
                "file_path": hosted.path}

    def _m_sendMessage(self, p, f):
        return self._message(p["chat_id"], text=p.get("text", ""))

    def _m_editMessageText(self, p, f):
        return self._message(p["chat_id"], text=p.get("text", ""))

    def _m_editMessageCaption(self, p, f):
        return self._message(p["chat_id"], caption=p.get("caption", ""))

    def _m_editMessageMedia(self, p, f):
        media = json.loads(p["media"]) if isinstance(p["media"], str) else p["media"]
        return self._message(p["chat_id"], photo=self._photo(self._resolve(media["media"], p, f)),
                             caption=media.get("caption"))

    def media_bytes(self, call: Call) -> bytes:
        """The photo of a recorded editMessageMedia call."""
        media = json.loads(call.params["media"]) if isinstance(call.params["media"], str) else call.params["media"]
        return self._resolve(media["media"], call.params, call.files)

    def _m_editMessageReplyMarkup(self, p, f):
        return self._message(p["chat_id"], text="")

    def _m_deleteMessage(self, p, f):
        return True

    def _m_sendChatAction(self, p, f):
        return True

    def _m_answerCallbackQuery(self, p, f):
        return True

    def _m_sendPhoto(self, p, f):
        return self._message(p["chat_id"], photo=self._photo(self._resolve(p["photo"], p, f)),
                             caption=p.get("caption"))

    def _m_sendDocument(self, p, f):
        file_id = self.host_file(self._resolve(p["document"], p, f))
        return self._message(p["chat_id"], document={"file_id": file_id, "file_unique_id": self.files[file_id].unique_id},
                             caption=p.get("caption"))

    def _clip(self, p, f, field: str) -> dict:
        file_id = self.host_file(self._resolve(p[field], p, f))
        return {"file_id": file_id, "file_unique_id": self.files[file_id].unique_id,
                "duration": int(p.get("duration") or 0), "file_size": self.files[file_id].size}

    def _m_sendAnimation(self, p, f):
        return self._message(p["chat_id"], animation={**self._clip(p, f, "animation"), "width": 1, "height": 1},
                             caption=p.get("caption"))

    def _m_sendVideo(self, p, f):
        return self._message(p["chat_id"], video={**self._clip(p, f, "video"), "width": 1, "height": 1},
                             caption=p.get("caption"))

    def _m_sendVideoNote(self, p, f):
        return self._message(p["chat_id"], video_note={**self._clip(p, f, "video_note"),
                                                        "length": int(p.get("length") or 1)})

    def _m_sendMediaGroup(self, p, f):
        media = json.loads(p["media"]) if isinstance(p["media"], str) else p["media"]
        return [self._message(p["chat_id"], photo=self._photo(self._resolve(m["media"], p, f)),
                              caption=m.get("caption")) for m in media]

    def album_images(self, call: Call) -> list[tuple[str, bytes]]:
        """(caption, image bytes) of each item of a recorded sendMediaGroup call."""
        media = json.loads(call.params["media"])
        return [(m.get("caption"), self._resolve(m["media"], call.params, call.files)) for m in media]

    def upload(self, call: Call, field: str = "photo") -> bytes:
        """The bytes sent in `field` of a recorded call (an upload via attach://, or a file_id we host)."""
        return self._resolve(call.params[field], call.params, call.files)

    def photo_bytes(self, call: Call) -> bytes:
        return self.upload(call, "photo")


class Updates:
    """Real-shaped Update JSON for one private chat."""

    def __init__(self, chat_id: int, first_name: str = "Ada", language_code: str | None = "en"):
        self.chat_id, self.first_name = chat_id, first_name
        self._ids = itertools.count(chat_id * 1000)
        self.language_code = language_code   # what the person's Telegram app is set to

    def _user(self) -> dict:
        user = {"id": self.chat_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _base(self) -> dict:
        uid = next(self._ids)
        return {"update_id": uid, "message": {
            "message_id": uid, "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": "private", "first_name": self.first_name},
            "from": self._user()}}

    def text(self, text: str) -> dict:
        u = self._base()
        u["message"]["text"] = text
        if text.startswith("/"):
            u["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return u

    def photo(self, file_id: str, size: int, caption: str | None = None) -> dict:
        u = self._base()
        u["message"]["photo"] = [{"file_id": file_id, "file_unique_id": "u" + file_id[-6:], "width": 320,
                                  "height": 240, "file_size": size}]
        if caption:
            u["message"]["caption"] = caption
            if caption.startswith("/"):
                u["message"]["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": len(caption)}]
        return u

    def document(self, file_id: str, size: int, mime: str, name: str) -> dict:
        u = self._base()
        u["message"]["document"] = {"file_id": file_id, "file_unique_id": "d" + file_id[-6:], "file_name": name,
                                    "mime_type": mime, "file_size": size}
        return u

    def clip(self, kind: str, file_id: str, size: int, width: int, height: int, duration: int) -> dict:
        """A GIF ("animation": Telegram sends it as MP4, and as a document too), a "video" or a "video_note"."""
        u = self._base()
        about = {"file_id": file_id, "file_unique_id": "c" + file_id[-6:], "duration": duration, "file_size": size}
        if kind == "video_note":
            u["message"]["video_note"] = {**about, "length": width}
            return u
        u["message"][kind] = {**about, "width": width, "height": height, "mime_type": "video/mp4"}
        if kind == "animation":
            u["message"]["document"] = {"file_id": file_id, "file_unique_id": about["file_unique_id"],
                                        "file_name": "clip.gif.mp4", "mime_type": "video/mp4", "file_size": size}
        return u

    def sticker(self) -> dict:
        u = self._base()
        u["message"]["sticker"] = {"file_id": "CAACAgSTICKER", "file_unique_id": "stk", "type": "regular",
                                   "width": 512, "height": 512, "is_animated": False, "is_video": False}
        return u

    def tap(self, data: str, message_id: int = 1) -> dict:
        uid = next(self._ids)
        return {"update_id": uid, "callback_query": {
            "id": str(uid), "chat_instance": "ci", "data": data,
            "from": self._user(),
            "message": {"message_id": message_id, "date": int(time.time()),
                        "chat": {"id": self.chat_id, "type": "private"}, "text": "Pick a style:"}}}
