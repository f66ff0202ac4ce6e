"""The service's limits in one place: what an upload may be, how large a model sees it, how long a busy caller
is asked to wait. The HTTP API, the image decoder, the builder and the CLI all read them from here."""
MAX_UPLOAD_BYTES = 20 * 1024 * 1024   # what Telegram lets a bot download, so a bot user never meets this limit
MAX_PIXELS = 50_000_000               # e.g. 8660 x 5773; larger is refused from the header, before decoding
MIN_IMAGE_SIDE = 32
MAX_SIDE = 1024                       # decoded images are shrunk to this long side before a model sees them
MIN_PRESET_SIDE = 64                  # a preset's output below this is not worth painting
RETRY_AFTER_S = 30                    # the wait a "busy" answer asks for
FULL = "full"                         # a size: the photo's own, painted tile by tile (models/fullres)
FULL_DECODE_SIDE = 1_000_000          # the long side a full-size photo is decoded at: no shrinking; MAX_PIXELS bounds it
