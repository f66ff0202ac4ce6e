"""Chaos suite, hostile input through the bot: bodies that are not Updates, update kinds the bot ignores,
channel posts, group chats, forged and stale taps, files it cannot use. The webhook answers each with 200 or a
JSON 4xx, the person gets a short explanation where one is due, and the bot keeps answering afterwards."""
import json

import httpx
import pytest
from ray import serve

from bot import texts
from bot.ingress import build_bot_app
from tests.conftest import free_port
from tests.fake_telegram import FakeTelegram
from tests.test_bot_e2e import SECRET, TOKEN, Chat, bot_env

pytestmark = [pytest.mark.serve, pytest.mark.chaos]
PREFIX = "/telegram-chaos"


@pytest.fixture(scope="module")
def fake():
    f = FakeTelegram(TOKEN).start(free_port())
    yield f
    f.stop()


@pytest.fixture(scope="module")
def bot(styles_app, fake, tmp_path_factory):
    env = bot_env(fake, tmp_path_factory.mktemp("chaos") / "state.db")
    serve.run(build_bot_app({"env": env}), name="bot-chaos", route_prefix=PREFIX)
    client = httpx.Client(base_url=styles_app["url"], timeout=30)
    yield client
    client.close()
    serve.delete("bot-chaos")


@pytest.fixture()
def chat(bot, fake, data_dir):
    return Chat(bot, fake, data_dir, prefix=PREFIX)


def post_raw(bot, body: bytes, content_type="application/json") -> httpx.Response:
    return bot.post(f"{PREFIX}/webhook", content=body,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": content_type})


@pytest.mark.parametrize("name,body,status", [
    ("not json", b"hello", 400),
    ("html", b"<html><body>hi</body></html>", 400),
    ("a json array", b"[1, 2, 3]", 400),
    ("a json string", b'"update"', 400),
    ("no update_id", b'{"message": {}}', 400),
    ("update_id a string", b'{"update_id": "7"}', 400),
    ("update_id negative", b'{"update_id": -4}', 400),
    ("update_id huge", b'{"update_id": 1180591620717411303424}', 400),
    ("update_id true", b'{"update_id": true}', 400),
    ("deeply nested", b"[" * 200_000 + b"]" * 200_000, 400),
    ("8 MB body", b'{"update_id": 1, "x": "' + b"a" * (8 * 1024 * 1024) + b'"}', 413),
    ("message is a string", json.dumps({"update_id": 990001, "message": "boo"}).encode(), 200),
    ("chat id is a list", json.dumps({"update_id": 990002, "message": {"chat": {"id": [1]}}}).encode(), 200),
])
def test_webhook_bodies_get_200_or_json_4xx(bot, name, body, status):
    r = post_raw(bot, body)
    assert r.status_code == status, (name, r.text[:200])
    assert r.headers["content-type"].startswith("application/json")
    if status != 200:
        assert isinstance(r.json().get("error"), str)


def ignored_kinds(chat) -> list[dict]:
    base = chat.updates.text("x")
    msg = base["message"]
    uid = base["update_id"]
    return [
        {"update_id": uid, "edited_message": {**msg, "text": "edited", "edit_date": msg["date"]}},
        {"update_id": uid + 500, "poll": {"id": "p1", "question": "?", "options": [], "total_voter_count": 0,
                                          "is_closed": False, "is_anonymous": True, "type": "regular",
                                          "allows_multiple_answers": False}},
        {"update_id": uid + 501, "my_chat_member": {
            "chat": msg["chat"], "from": msg["from"], "date": msg["date"],
            "old_chat_member": {"status": "member", "user": msg["from"]},
            "new_chat_member": {"status": "kicked", "user": msg["from"], "until_date": 0}}},
        {"update_id": uid + 502, "channel_post": {"message_id": 1, "date": msg["date"],
                                                  "chat": {"id": -100123, "type": "channel", "title": "c"},
                                                  "text": "a channel post"}},
        {"update_id": uid + 503, "some_future_kind": {"anything": True}},
    ]


def test_update_kinds_the_bot_ignores_change_nothing(chat):
    for update in ignored_kinds(chat):
        assert chat.post(update).status_code == 200
    chat.say("/start")
    chat.wait_text("Hi, Ada!")
    assert len(chat.texts()) == 1    # nothing answered the ignored kinds


def test_a_group_chat_photo_and_text_get_the_usual_answers(chat):
    group = chat.updates.text("hello group")
    group["message"]["chat"] = {"id": -4242, "type": "group", "title": "friends"}
    assert chat.post(group).status_code == 200
    chat.fake.wait_for(lambda: chat.fake.texts(-4242), 30, "an answer in the group")
    assert chat.fake.texts(-4242) == [texts.TEXT_WHEN_IMAGE_EXPECTED]


@pytest.mark.parametrize("data,answer", [
    ("set:strength:abc", "no longer exists"), ("set:quality:" + "q" * 40, "no longer exists"),
    ("retry:abc:xyz", texts.OLD_BUTTON), ("style:monet:000000000000", texts.OLD_BUTTON),
    ("style:*own", texts.OLD_BUTTON), ("", texts.OLD_BUTTON), ("x" * 300, texts.OLD_BUTTON),
    ("retry:000000000000:1", texts.OLD_BUTTON),
    ("save:1", texts.SAVE_TOO_OLD), ("save:abc", texts.OLD_BUTTON), ("mine:1:000000000000", texts.OLD_BUTTON),
    ("mystyle:rename:1", texts.SAVED_STYLE_GONE), ("mystyle:delete:-5", texts.SAVED_STYLE_GONE),
    ("mystyle:explode:1", texts.OLD_BUTTON),
])
def test_forged_and_stale_taps_are_answered(chat, data, answer):
    before = len(chat.fake.sent("answerCallbackQuery"))
    chat.tap(data)
    call = chat.fake.wait_for(lambda: chat.fake.sent("answerCallbackQuery")[before:], 30, "the answer")[0]
    assert answer in call.params.get("text", "")


def test_files_the_bot_cannot_use_get_an_explanation(chat):
    assert chat.post(chat.updates.photo("no-such-file-id", 1234)).status_code == 200
    chat.wait_text(texts.DOWNLOAD_FAILED)
    chat.send_document(b"\xff\xd8" + b"0" * 10, "image/jpeg", "huge.jpg", claimed_size=30 * 1024 * 1024)
    chat.wait_text("over 20 MB")
    chat.send_document(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", "art.svg")
    chat.wait_text(texts.NOT_AN_IMAGE)
    chat.say("🎨" * 2000)
    chat.wait_text(texts.TEXT_WHEN_IMAGE_EXPECTED)


def test_the_bot_is_healthy_after_all_of_it(bot, chat):
    assert bot.get(f"{PREFIX}/healthz").json()["bot"] == "running"
    chat.send_photo()
    chat.wait_text(texts.CHOOSE_STYLE)
