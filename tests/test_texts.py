"""Every text the bot says exists in English and Russian, with the same format fields (bot/texts.py, texts_ru.py)."""
import re
from pathlib import Path

import pytest

from bot import texts, texts_ru
from bot.jobs import refusal_text
from bot.styles_client import StylesError
from models.error_codes import IMAGE_CODES, ErrorCode
from bot.state import Settings

EN, RU = texts.names(texts), texts.names(texts_ru)
SERVICE_REASONS = "BAD_IMAGE_REASONS"  # English shows the styles service's own English words
CATALOGUE_WORDS = {"STYLE_LABELS", "STYLE_DESCRIPTIONS", "STYLE_ORIGINS"}  # and the catalogue's


@pytest.mark.parametrize("code", list(ErrorCode))
@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_error_code_has_the_bots_words_in_both_languages(code, language):
    """A refusal reads as the bot's own words in the person's language, never the service's raw message (English
    keeps the service's own explanation of a bad image inside the bot's sentence)."""
    service_message = "SERVICE MESSAGE."
    said = refusal_text(StylesError(code, service_message, 30), texts.for_language(language))
    assert said and said != service_message
    if language == "ru":
        assert re.search(r"[а-яА-Я]", said) and service_message not in said, said


def test_an_error_code_outside_the_shared_list_is_refused_by_the_service():
    from deployments.http_errors import BadInput

    with pytest.raises(ValueError):
        BadInput("bad_optoin", "a typo")
    assert BadInput(ErrorCode.BAD_OPTION, "m").as_dict() == {"error": "bad_option", "message": "m"}


def test_every_text_exists_in_both_languages():
    assert set(EN) == set(RU)
    assert len(EN) > 60


@pytest.mark.parametrize("name", sorted(EN))
def test_format_fields_and_keys_match(name):
    en, ru = EN[name], RU[name]
    assert type(en) is type(ru)
    if isinstance(en, dict):
        if name == SERVICE_REASONS:
            assert en == {} and set(ru) == IMAGE_CODES
            return
        if name in CATALOGUE_WORDS:
            assert en == {}
            return
        assert set(en) == set(ru)
        pairs = [(en[k], ru[k]) for k in en]
    else:
        pairs = [(en, ru)]
    for e, r in pairs:
        assert texts.format_fields(e) == texts.format_fields(r), (e, r)
        assert re.findall(r"</?\w+>", e) == re.findall(r"</?\w+>", r)    # the same HTML markup
        assert re.findall(r"/\w+", e) == re.findall(r"/\w+", r) or name == "HELP"  # the same commands


def test_russian_texts_are_russian():
    bilingual = {"CHOOSE_LANGUAGE"}
    for name, value in RU.items():
        for text in (value.values() if isinstance(value, dict) else [value]):
            if re.search(r"[A-Za-z]{3,}", re.sub(r"</?\w+>|/\w+|\{\w*\}|JPEG|PNG|WebP|BMP|GIF|MP4|WebM|Telegram|English|CycleGAN|stylebot|TF stylize|Magenta", "", text)):
                assert name in bilingual, f"{name}: {text!r}"
            assert re.search(r"[а-яА-Я]", text), f"{name}: {text!r}"


def test_help_lists_the_same_commands_in_both():
    assert sorted(re.findall(r"/\w+", texts.HELP)) == sorted(re.findall(r"/\w+", texts_ru.HELP))
    assert "/language" in texts.HELP


@pytest.mark.parametrize("chosen, telegram, expected", [
    ("", "ru", "ru"), ("", "ru-RU", "ru"), (None, "de", "en"), ("", None, "en"), ("en", "ru", "en"),
    ("ru", "en", "ru"), ("xx", "ru", "ru"),
])
def test_the_language_is_the_choice_else_telegrams_else_english(chosen, telegram, expected):
    assert texts.pick_language(chosen, telegram) == expected


def test_texts_with_values_render_in_each_language():
    ru, en = texts.for_language("ru"), texts.for_language("en")
    settings = Settings(quality="best", own_style="quick", keep_colors=True)
    assert "лучше всего" in ru.settings_summary(settings) and "best" in en.settings_summary(settings)
    assert ru.start("<Ann>").startswith("Привет, &lt;Ann&gt;!")
    assert ru.nst_progress(30, 300).endswith("10% (шаг 30 из 300)")
    assert ru.bad_image("The image is 8000x40 pixels...", "image_too_narrow") == \
        texts_ru.BAD_IMAGE_REASONS["image_too_narrow"] + " Пришлите другое фото."
    assert en.bad_image("The image is 8000x40 pixels...", "image_too_narrow").startswith("The image is 8000x40")
    styles = [{"name": "monet", "label": "Monet", "description": "d", "available": True}]
    assert ru.styles_list(styles).endswith(texts_ru.STYLES_FOOTER) and ru.styles_list([]) == texts_ru.NO_STYLES


def test_every_preset_and_origin_of_the_catalogue_has_russian_words():
    from models.catalogue import Catalogue

    catalogue = Catalogue.load()
    presets = catalogue.presets
    names = {p.name for p in presets}
    assert set(texts_ru.STYLE_LABELS) == names and set(texts_ru.STYLE_DESCRIPTIONS) == names
    origins = {w.origin for p in presets for w in p.choices} - {"vintagify 0.1.2"}  # a package name stays
    tests_catalogue = Catalogue.load(Path(__file__).parent / "data" / "styles.yaml").presets
    origins |= {w.origin for p in tests_catalogue for w in p.choices} - {"vintagify 0.1.2"}
    assert set(texts_ru.STYLE_ORIGINS) == origins
    assert len(set(texts_ru.STYLE_LABELS.values())) == len(names)                     # no two buttons alike


def test_labels_captions_and_the_styles_list_follow_the_language():
    styles = [{"name": "monet", "label": "Monet", "description": "Soft light.", "origin": "official CycleGAN",
               "available": True},
              {"name": "newcomer", "label": "Newcomer", "description": "Not translated yet.", "origin": "lab",
               "available": True}]
    ru, en = texts.for_language("ru"), texts.for_language("en")
    assert en.captions(styles) == {"monet": "Monet (official CycleGAN)", "newcomer": "Newcomer (lab)"}
    assert ru.captions(styles) == {"monet": "Моне (официальные веса CycleGAN)", "newcomer": "Newcomer (lab)"}
    assert "<b>Моне</b>: Мягкий свет" in ru.styles_list(styles) and "<b>Newcomer</b>" in ru.styles_list(styles)
    assert "<b>Monet</b>: Soft light." in en.styles_list(styles)
