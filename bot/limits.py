"""The bot's limits in one place."""
TELEGRAM_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the largest file the Bot API lets a bot download
MAX_UPDATE_BYTES = 1024 * 1024  # real updates are a few KB; Telegram's largest carry long texts and entities
BUSY_RETRY_S = 30               # the wait to suggest when the styles app is busy and names none
ALBUM_MAX = 10                  # Telegram's limit on one media group
DELIVERY_PATIENCE_S = 300.0     # how long a finished result waits out a Bot API outage
FILE_CACHE_BYTES = 64 * 1024 * 1024  # checked photos kept for the job that paints them
FILE_CACHE_TTL_S = 3600.0
STYLE_NAME_MAX = 32             # characters in a saved style's name (a button's width)
