"""The Mini App's initData check (deployments/web_app_auth.py), against data signed here the way Telegram signs it."""
import json
import time
from urllib.parse import urlencode

import pytest

from deployments.web_app_auth import MAX_AGE_S, InitDataRefused, checked_user, signature

TOKEN = "123456789:AAFakeTokenForStylebotTests_abcdefghij"


def init_data(token: str = TOKEN, age_s: float = 10, user: dict | None = None, **changes) -> str:
    """An initData as Telegram builds it: the fields, and `hash` over them with the bot's token."""
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "auth_date": str(int(time.time() - age_s)),
              "user": json.dumps(user or {"id": 424242, "first_name": "Ada", "language_code": "ru"})}
    fields["hash"] = signature(fields, token)
    fields.update(changes)
    return urlencode(fields)


def test_a_signed_init_data_names_its_person():
    person = checked_user(init_data(), TOKEN)
    assert (person.id, person.first_name, person.language_code) == (424242, "Ada", "ru")


@pytest.mark.parametrize("make, words", [
    (lambda: "", "no Telegram sign-in"),
    (lambda: None, "no Telegram sign-in"),
    (lambda: init_data(token="987654321:AnotherBotsToken"), "does not check out"),          # another bot's
    (lambda: init_data().replace("424242", "424243"), "does not check out"),                  # someone else
    (lambda: init_data(hash="0" * 64), "does not check out"),
    (lambda: init_data().split("&hash=")[0], "does not check out"),                          # no hash at all
    (lambda: init_data(user={"first_name": "Nobody"}), "names no person"),
    (lambda: init_data(age_s=MAX_AGE_S + 60), "too long ago"),                               # replayed too late
    (lambda: init_data() + "&x=" + "a" * 5000, "too long"),
])
def test_anything_else_is_refused_with_a_reason(make, words):
    with pytest.raises(InitDataRefused, match=words) as refused:
        checked_user(make(), TOKEN)
    assert TOKEN not in str(refused.value)


def test_a_field_changed_after_signing_is_caught():
    genuine = init_data()
    tampered = genuine.replace("auth_date=", "auth_date=9")
    with pytest.raises(InitDataRefused, match="does not check out"):
        checked_user(tampered, TOKEN)
