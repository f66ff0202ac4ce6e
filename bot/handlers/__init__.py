"""aiogram Routers, one per part of the conversation; `all_routers()` gives them in matching order."""
from aiogram import Router


def all_routers() -> list[Router]:
    from bot.handlers import choice, commands, content, fallbacks, my_styles, settings
    return [commands.router, content.router, choice.router, settings.router, my_styles.router, fallbacks.router]
