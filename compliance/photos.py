"""Inspection photos: check an upload, turn it upright, strip its metadata, make renditions.

Photos are evidence, taken on phones and sent over patchy networks, so an upload is treated as
hostile until it has fully decoded: only JPEG, PNG, WebP and HEIC/HEIF are opened, sizes are
checked before any pixel is decoded, and every failure becomes a :class:`PhotoError` whose
message an inspector can act on. What is served afterwards is a JPEG holding the picture only:
a fresh encoding, or, for a photo the app already shrank on the phone, its own compressed
picture with every metadata segment cut out (see :func:`_as_sent`); either way it has decoded
in full first. The capture time and place are read from EXIF first and handed back for the
database.

Pure Pillow: no Flask, no database, safe to call from a request, a CLI command or a benchmark.
"""

import contextlib
import hashlib
import io
import math
import mmap
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

import pillow_heif
from PIL import ExifTags, Image, ImageCms

# Once per process: teaches Image.open the "HEIF" format (iPhones save HEIC by default).
pillow_heif.register_heif_opener()

DISPLAY_MAX_SIDE = 1600
THUMBNAIL_MAX_SIDE = 320
JPEG_QUALITY = 82
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000

ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif"

# Extension -> the format its content must be. Names without an extension ("blob", "image")
# are fine: browsers and share sheets often send those.
_EXTENSION_FORMAT = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jfif": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".heic": "HEIF",
    ".heif": "HEIF",
}
ALLOWED_EXTENSIONS = frozenset(_EXTENSION_FORMAT)

# Decoders Image.open may use; nothing else in Pillow ever sees an upload.
_DECODERS = ["JPEG", "PNG", "WEBP", "HEIF"]
# Pillow reports a multi-picture JPEG (some Android cameras) as MPO; it is still a JPEG.
_SOURCE_FORMAT = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "HEIF": "HEIF"}
_FORMAT_NAME = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC"}

# Everything Pillow and its plugins are known to raise on hostile or broken input.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    TypeError,
    IndexError,
    KeyError,
    ZeroDivisionError,
    OverflowError,
    RuntimeError,
    MemoryError,
    struct.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


def N_(message: str) -> str:
    """Mark a message for Babel extraction; views translate it with ``gettext(err.message)``."""
    return message


_MESSAGES = {
    "empty": N_("The photo is empty. Take the picture again."),
    "too_large": N_(
        "This photo is too big (more than %(max_mb)s MB). Choose a smaller photo or take the "
        "picture again."
    ),
    "not_an_image": N_(
        "This file is not a photo. Take the picture again or choose a JPEG, PNG, WebP or "
        "HEIC image."
    ),
    "unsupported_format": N_(
        "This kind of image is not accepted. Take the picture again or choose a JPEG, PNG, "
        "WebP or HEIC image."
    ),
    "mismatched_extension": N_(
        "The name of this file (%(extension)s) does not match what is inside it (a %(actual)s "
        "image). Take the picture again or choose the original photo."
    ),
    "corrupt": N_(
        "This photo is damaged or incomplete, perhaps the upload was cut off. Take the "
        "picture again or choose it again."
    ),
    "too_many_pixels": N_(
        "This image is too large to process (more than %(max_megapixels)s megapixels). Take "
        "the picture again with the phone's usual camera settings."
    ),
}


class PhotoError(ValueError):
    """An upload that cannot be kept as a photo.

    ``code`` is stable for programs and tests, ``message`` is the English source string
    (already marked for translation) and ``params`` fills its ``%(name)s`` placeholders.
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.message = _MESSAGES[code]
        self.params = params
        super().__init__(self.message % params)


@dataclass(frozen=True)
class ProcessedPhoto:
    """The outcome of :func:`process`: the content address, the renditions and what EXIF said."""

    sha256: str
    source_format: str
    size_bytes: int
    width: int
    height: int
    display: bytes = field(repr=False)
    thumbnail: bytes = field(repr=False)
    taken_at: datetime | None
    gps: tuple[float, float] | None


def process(
    upload: bytes | BinaryIO,
    *,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    sha256: str | None = None,
) -> ProcessedPhoto:
    """Validate an uploaded photo and make its display and thumbnail renditions.

    ``upload`` is the bytes, or a seekable binary file holding them (a form's upload, read in
    place: the worker never holds a photo's bytes twice). ``sha256`` is the upload's digest if
    the caller has already computed it from the same bytes.

    Raises :class:`PhotoError` (and nothing else) when the upload is empty, too big, not one
    of the accepted formats, named as something it is not, damaged, or has too many pixels.
    """
    source = io.BytesIO(upload) if isinstance(upload, bytes | bytearray) else upload
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(0)
    if not size:
        raise PhotoError("empty")
    # Before decoding anything: the size limit is what keeps memory and time bounded.
    if size > max_bytes:
        raise PhotoError("too_large", max_mb=_megabytes(max_bytes))
    if sha256 is None:
        sha256 = hashlib.file_digest(source, "sha256").hexdigest()
        source.seek(0)

    image = _open(source, max_pixels)
    try:
        source_format = _SOURCE_FORMAT[image.format or ""]
        _check_extension(filename, source_format)
        width, height = image.size
        # From the header only: a few kilobytes can declare billions of pixels.
        if width * height > max_pixels:
            raise PhotoError("too_many_pixels", max_megapixels=_megapixels(max_pixels))
        as_sent = _as_sent(image, upload if isinstance(upload, bytes) else None, source)
        if as_sent is not None:  # kept as sent: same size, metadata left out
            display, thumbnail, taken_at, gps = as_sent
        else:
            display_image, taken_at, gps = _decode_display(image, max_pixels)
            # The thumbnail comes from the display rendition: a fifth of the pixels to reduce.
            # A gap of 1 box-reduces by the largest whole factor (exact, and all of it when the
            # display is 1600 px: a fifth), then filters the rest of the way: with Hamming,
            # half the time of Lanczos, within 1/255 of it on average at 320 px (less than the
            # JPEG rounding after).
            thumbnail_image = _fit(
                display_image, THUMBNAIL_MAX_SIDE, reducing_gap=1.0, last=Image.Resampling.HAMMING
            )
            # Encoded before close(): a small upright RGB photo may still be the opened image.
            display, thumbnail = _encode_jpeg(display_image), _encode_jpeg(thumbnail_image)
            width, height = display_image.size
    finally:
        image.close()

    return ProcessedPhoto(
        sha256=sha256,
        source_format=source_format,
        size_bytes=size,
        width=width,
        height=height,
        display=display,
        thumbnail=thumbnail,
        taken_at=taken_at,
        gps=gps,
    )


# --- A phone's JPEG, kept as it was sent ------------------------------------------------------
#
# The app shrinks each photo on the phone (1600 px at most, upright, JPEG at quality 80, no
# metadata), so most uploads already are the display rendition we would make: decoding and
# encoding them again cost most of a photo's CPU and a generation of JPEG loss. Such an upload
# keeps its compressed picture; only its metadata segments are left out, and what is kept is
# decoded in full (at the thumbnail's scale) before it is stored.

# Quantisation at quality 90 (the IJG luminance table scaled as libjpeg does): an upload whose
# luminance steps add up to less is heavier than our quality 82 by far more than re-encoding
# costs, so it is re-encoded.
_IJG_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_KEEP_AT_MOST_QUALITY = 90
_LUMINANCE_STEPS_AT_LEAST = sum(
    min(255, max(1, (step * (200 - 2 * _KEEP_AT_MOST_QUALITY) + 50) // 100))
    for step in _IJG_LUMINANCE
)

# A JFIF header with no embedded thumbnail: it tells every decoder the colours are YCbCr.
_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
# Frames every browser decodes: baseline, extended and progressive, Huffman-coded.
_SOF_KEPT = frozenset({0xC0, 0xC1, 0xC2})
# Tables and frame header a decoder needs: quantisation, Huffman, restart interval.
_TABLES = frozenset({0xDB, 0xC4, 0xDD})
# In entropy-coded data, 0xFF followed by anything but a stuffed zero or a restart marker
# (or more 0xFF fill) starts the next marker.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _as_sent(
    image: Image.Image, upload: bytes | None, source: BinaryIO
) -> tuple[bytes, bytes, datetime | None, tuple[float, float] | None] | None:
    """(display, thumbnail, taken_at, gps) of a JPEG already fit to be the display rendition,
    or None when it needs decoding and encoding again."""
    if image.format not in ("JPEG", "MPO") or max(image.size) > DISPLAY_MAX_SIDE:
        return None
    if image.mode not in ("RGB", "L") or "icc_profile" in image.info or "adobe" in image.info:
        return None  # other colours would change without their profile or Adobe's marker
    layers = getattr(image, "layer", [])
    if image.mode == "RGB" and [layer[0] for layer in layers] != [1, 2, 3]:
        return None  # component ids other than JFIF's may mean RGB to some decoders
    try:
        luminance = image.quantization[layers[0][3]]
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    if sum(luminance) < _LUMINANCE_STEPS_AT_LEAST:
        return None
    orientation, taken_at, gps = _read_exif(image)
    if orientation != 1:
        return None  # turning it upright needs its pixels
    with _bytes_of(upload, source) as view:
        display = None if view is None else _without_metadata(view, upload)
    if display is None:
        return None
    # Decode exactly what will be served, in full: the proof it is whole, and the thumbnail.
    try:
        with Image.open(io.BytesIO(display), formats=["JPEG"]) as kept:
            if kept.size != image.size:
                return None
            draft_size = _draft_size(kept.size, THUMBNAIL_MAX_SIDE)
            if draft_size is not None:
                kept.draft(kept.mode, draft_size)
            kept.load()
            thumbnail_image = _fit(
                _to_resizable_mode(kept, None),
                THUMBNAIL_MAX_SIDE,
                reducing_gap=1.0,
                last=Image.Resampling.HAMMING,
            )
            thumbnail = _encode_jpeg(thumbnail_image)
    except _DECODE_ERRORS:
        raise PhotoError("corrupt") from None
    return display, thumbnail, taken_at, gps


@contextlib.contextmanager
def _bytes_of(upload: bytes | None, source: BinaryIO) -> Iterator[memoryview | None]:
    """The upload's bytes where they already are (never a copy), or None if they cannot be."""
    if upload is not None:
        yield memoryview(upload)
    elif isinstance(source, io.BytesIO):
        with source.getbuffer() as view:
            yield view
    else:
        try:
            # A file on disk (a form's upload spooled to one first) is mapped, not read.
            mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
        except (AttributeError, OSError, ValueError):
            yield None
            return
        with mapped, memoryview(mapped) as view:
            yield view


def _without_metadata(data: memoryview, whole: bytes | None = None) -> bytes | None:
    """The JPEG in ``data`` with a plain JFIF header and only what decoding needs after it
    (tables, frame, scans), up to its first end-of-image; None for anything unusual.

    ``whole`` is ``data``'s bytes object, returned itself when nothing is left out.
    """
    if data[:2] != b"\xff\xd8":
        return None
    if data[2:20] == _JFIF:
        kept: list[bytes | memoryview] = [data[:20]]  # already the plain header we would write
        position, dropped = 20, False
    else:
        kept, position, dropped = [data[:2], _JFIF], 2, True
    frames, end = 0, len(data)
    while True:
        if position + 2 > end or data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xD9:  # end of image: anything after it is not served
            kept.append(data[position : position + 2])
            dropped = dropped or position + 2 != end
            break
        if position + 4 > end:
            return None
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segment_end = position + 2 + length
        if length < 2 or segment_end > end:
            return None
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            # APPn (a JFIF thumbnail, EXIF, XMP, ICC, MPF, IPTC) and comments
            dropped = True
        elif marker in _SOF_KEPT:
            frames += 1
            if frames > 1 or segment_end - position < 10 or data[position + 4] != 8:
                return None  # 8 bits per sample only, one frame
            kept.append(data[position:segment_end])
        elif marker in _TABLES or marker == 0xDA:
            kept.append(data[position:segment_end])
            if marker == 0xDA:
                if not frames:
                    return None
                found = _NEXT_MARKER.search(data, segment_end)
                if found is None:
                    return None
                kept.append(data[segment_end : found.start()])
                segment_end = found.start()
        else:
            return None  # arithmetic coding, lossless, hierarchical, DNL: re-encode
        position = segment_end
    if not dropped and whole is not None:
        return whole  # the bytes object itself: nothing copied
    return b"".join(kept)


def _open(source: BinaryIO, max_pixels: int) -> Image.Image:
    """Open the header with only our four decoders, telling "not ours" from "broken"."""
    try:
        image = Image.open(source, formats=_DECODERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard fired first (far beyond ours); report the limit the caller set.
        raise PhotoError("too_many_pixels", max_megapixels=_megapixels(max_pixels)) from None
    except _DECODE_ERRORS:
        source.seek(0)
        raise PhotoError(_unopenable_code(source.read(32))) from None
    if image.format not in _SOURCE_FORMAT or _is_avif(image):
        image.close()
        raise PhotoError("unsupported_format")
    return image


def _is_avif(image: Image.Image) -> bool:
    # pillow_heif also opens AVIF stored in a generic HEIF container; we promise HEIC only.
    return getattr(image, "custom_mimetype", None) == "image/avif"


# Leading bytes of images we refuse, so the inspector hears "wrong kind of image" rather than
# "not a photo".
_OTHER_IMAGE_SIGNATURES = (
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00",  # ICO
    b"8BPS",  # Photoshop
    b"\x00\x00\x00\x0cjP  ",  # JPEG 2000
    b"\xff\x4f\xff\x51",  # JPEG 2000 codestream
    b"\xff\x0a",  # JPEG XL codestream
    b"\x00\x00\x00\x0cJXL ",  # JPEG XL container
)


def _unopenable_code(head: bytes) -> str:
    if (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or (head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1"))
    ):
        return "corrupt"  # one of ours by its signature, but the header did not parse
    if head.startswith(_OTHER_IMAGE_SIGNATURES) or (head[4:8] == b"ftyp" and b"avi" in head[8:12]):
        return "unsupported_format"
    return "not_an_image"


def _check_extension(filename: str | None, source_format: str) -> None:
    """Refuse a name whose extension says another format; unknown extensions are ignored."""
    if not filename:
        return
    # Old browsers send the full client path, sometimes with Windows separators.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    extension = os.path.splitext(name)[1].lower()
    if not extension:
        return
    claimed = _EXTENSION_FORMAT.get(extension) or Image.registered_extensions().get(extension)
    if claimed is None:
        return  # ".tmp", ".download", "IMG.0042": says nothing about the content
    if _SOURCE_FORMAT.get(claimed, claimed) != source_format:
        raise PhotoError(
            "mismatched_extension", extension=extension, actual=_FORMAT_NAME[source_format]
        )


def _decode_display(
    image: Image.Image, max_pixels: int
) -> tuple[Image.Image, datetime | None, tuple[float, float] | None]:
    """Decode fully, read EXIF, and return the upright RGB display rendition."""
    # JPEG only. pillow_heif's draft would swap in an embedded HEIC thumbnail, which is not
    # evidence: the primary image is what must be decoded and shown.
    if image.format in ("JPEG", "MPO"):
        # libjpeg can decode at 1/2, 1/4 or 1/8 scale for far less time and memory; ask for
        # the smallest scale that keeps the longest side (whichever way up) at 1600 or more.
        draft_size = _draft_size(image.size, DISPLAY_MAX_SIDE)
        if draft_size is not None:
            image.draft("RGB", draft_size)
    try:
        # A full decode is the only proof the file is whole; truncated files stay refused.
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow checks when opening; this is for any plugin that checks again while decoding.
        raise PhotoError("too_many_pixels", max_megapixels=_megapixels(max_pixels)) from None
    except _DECODE_ERRORS:
        raise PhotoError("corrupt") from None

    orientation, taken_at, gps = _read_exif(image)
    icc_profile = image.info.get("icc_profile")
    try:
        rgb = _to_resizable_mode(image, icc_profile)
        # Resize first and rotate the small result: the same pixels, less work.
        # A gap of 1 box-reduces by the largest whole factor, which is what libjpeg's draft
        # does for JPEG; PNG, WebP and HEIC get the same quality at the same speed. What is
        # left is a factor under 2 (2000 -> 1600 for a 12 MP photo): bicubic there is within
        # 0.3/255 of Lanczos on average (3/255 at most, below the JPEG rounding after) for
        # two thirds of its time.
        display = _fit(rgb, DISPLAY_MAX_SIDE, reducing_gap=1.0, last=Image.Resampling.BICUBIC)
        if orientation in _TRANSPOSE:
            display = display.transpose(_TRANSPOSE[orientation])
        if image.mode != "CMYK":  # CMYK went through its profile on the way to RGB
            display = _to_srgb(display, icc_profile)
        display = _flatten(display)
    except _DECODE_ERRORS:
        raise PhotoError("corrupt") from None
    return display, taken_at, gps


def _draft_size(size: tuple[int, int], longest: int) -> tuple[int, int] | None:
    width, height = size
    side = max(width, height)
    if side <= longest:
        return None
    # Pillow picks the largest 1/n scale whose result still covers this box on both axes.
    return max(1, width * longest // side), max(1, height * longest // side)


# The same table as ImageOps.exif_transpose; applied here to the resized image, from EXIF read
# once by _read_exif (which survives a broken EXIF block).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _to_resizable_mode(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Bring any decoded mode to RGB, or RGBA when there is transparency to flatten."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        # 16-bit grey: scale to 8 bits, where convert("L") would clip every tone above 255 to white.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("RGB")
    if mode == "CMYK":
        return _cmyk_to_rgb(image, icc_profile)
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        return image.convert("RGBA")
    if mode != "RGB":
        return image.convert("RGB")
    return image


def _cmyk_to_rgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            return ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile: the plain conversion below is still a fair picture
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert from the embedded colour profile to sRGB, since the profile itself is dropped."""
    if not icc_profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if source.profile.xcolor_space.strip() != "RGB":
            return image
        return ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile costs a little colour accuracy, never the photo


def _flatten(image: Image.Image) -> Image.Image:
    """Put transparent pixels on white: JPEG has no alpha, and white reads as "nothing"."""
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _fit(
    image: Image.Image,
    longest: int,
    reducing_gap: float,
    last: Image.Resampling = Image.Resampling.LANCZOS,
) -> Image.Image:
    """Scale down (never up) so the longest side is at most ``longest``.

    Pillow first box-reduces by a whole factor that leaves the image at least ``reducing_gap``
    times the target, then finishes with ``last``: much faster than it all the way.
    """
    width, height = image.size
    side = max(width, height)
    if side <= longest:
        return image
    size = (max(1, round(width * longest / side)), max(1, round(height * longest / side)))
    return image.resize(size, last, reducing_gap=reducing_gap)


def _encode_jpeg(image: Image.Image) -> bytes:
    """Encode pixels only: no EXIF, XMP, ICC profile or comment reaches the output."""
    # The JPEG writer falls back to image.info for some fields (the comment); give it nothing.
    image.info = {}
    out = io.BytesIO()
    # Baseline with optimised Huffman tables: as small as progressive (within a few per cent)
    # for a third to a fifth of the encoding time, which was most of a photo's cost.
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=False)
    return out.getvalue()


# --- EXIF ------------------------------------------------------------------------------------

# Reading metadata must never cost the photo: a malformed EXIF block just means "unknown".
_EXIF_ERRORS = (*_DECODE_ERRORS, AttributeError)


def _read_exif(image: Image.Image) -> tuple[int, datetime | None, tuple[float, float] | None]:
    """Return (orientation, taken_at, gps) from the EXIF block, defaulting what is unreadable."""
    try:
        exif = image.getexif()
    except _EXIF_ERRORS:
        return 1, None, None
    orientation = _orientation(exif)
    taken_at = _taken_at(exif)
    gps = _gps(exif)
    return orientation, taken_at, gps


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(ExifTags.Base.Orientation, 1))
    except _EXIF_ERRORS:
        return 1
    return value if value in _TRANSPOSE else 1


def _taken_at(exif: Image.Exif) -> datetime | None:
    try:
        details = exif.get_ifd(ExifTags.IFD.Exif)
        raw = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    except _EXIF_ERRORS:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str):
        return None
    text = raw.strip("\x00 ")[:19]
    # The EXIF form is "2025:12:22 10:30:00"; a few apps write ISO dashes instead.
    for pattern in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None  # blank ("    :  :     :  :  ") or made up


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        latitude = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
        longitude = _degrees(
            gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef)
        )
    except _EXIF_ERRORS:
        return None
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    # Some phones write 0/0 when they had no fix; nobody inspects a stall in the Gulf of Guinea.
    if latitude == 0 and longitude == 0:
        return None
    return latitude, longitude


def _degrees(value: Any, ref: Any) -> float | None:
    """Degrees, minutes, seconds as EXIF rationals -> signed decimal degrees."""
    if not isinstance(value, tuple) or not 1 <= len(value) <= 3:
        return None
    degrees = sum(float(part) / 60**index for index, part in enumerate(value))
    if not math.isfinite(degrees):
        return None  # a rational with a zero denominator
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() in ("S", "W"):
        degrees = -degrees
    return degrees


def _megabytes(size: int) -> int | float:
    value = size / (1024 * 1024)
    return int(value) if value.is_integer() else round(value, 1)


def _megapixels(pixels: int) -> int | float:
    value = pixels / 1_000_000
    return int(value) if value.is_integer() else round(value, 1)
