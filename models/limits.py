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
# clips (models/video): checked from the file's header and frame count before any painting
MAX_CLIP_SECONDS = 60                 # Telegram's own animations are at most a minute; longer is refused
MAX_CLIP_FRAMES = 1800                # 60 s at 30 fps; a 60 fps clip may be at most 30 s
VIDEO_SIDE = 480                      # the long side clips are painted at unless asked otherwise
MAX_VIDEO_SIDE = 720                  # the most a clip is painted at: 720p
MAX_CLIP_PIXEL_RATE = 1920 * 1080 * 60  # source pixels per second of clip: decoding more would outlast its painting
