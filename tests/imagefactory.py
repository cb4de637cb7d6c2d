"""Real images made in memory with Pillow, for tests that need photo uploads.

Nothing here is mocked: each function returns the bytes a phone or a browser could send.
JPEGs are split in two colours (``color`` on the left half, blue on the right) so a test can
tell which way up a rendition came out.
"""

import io
import struct
import zlib
from datetime import datetime

import pillow_heif
from PIL import ExifTags, Image, ImageCms, TiffImagePlugin

pillow_heif.register_heif_opener()

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)

# Rabat, near the Prince Moulay Abdellah stadium: (lat, lon) in decimal degrees.
RABAT = (33.9599, -6.8891)


def two_tone(width: int, height: int, color=RED, other=BLUE, mode: str = "RGB") -> Image.Image:
    """An image whose left half is ``color`` and right half ``other``."""
    image = Image.new(mode, (width, height), other)
    image.paste(color, (0, 0, width // 2, height))
    return image


def jpeg(
    width: int = 400,
    height: int = 200,
    *,
    orientation: int | None = None,
    exif_datetime: datetime | None = None,
    gps: tuple[float, float] | None = None,
    color=RED,
    comment: bytes | None = None,
    xmp: bytes | None = None,
    icc_profile: bytes | None = None,
    quality: int = 90,
) -> bytes:
    """A JPEG with real EXIF: orientation (tag 274), DateTimeOriginal and a GPS IFD."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if exif_datetime is not None:
        stamp = exif_datetime.strftime("%Y:%m:%d %H:%M:%S")
        exif[ExifTags.Base.DateTime] = stamp
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = stamp
    if gps is not None:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(_gps_ifd(*gps))
    extra = {}
    if orientation is not None or exif_datetime is not None or gps is not None:
        # Test the arguments, not len(exif): a GPS IFD alone leaves the top level empty.
        extra["exif"] = exif.tobytes()
    if comment is not None:
        extra["comment"] = comment
    if xmp is not None:
        extra["xmp"] = xmp
    if icc_profile is not None:
        extra["icc_profile"] = icc_profile
    out = io.BytesIO()
    two_tone(width, height, color).save(out, "JPEG", quality=quality, **extra)
    return out.getvalue()


def _gps_ifd(latitude: float, longitude: float) -> dict:
    return {
        ExifTags.GPS.GPSVersionID: b"\x02\x03\x00\x00",
        ExifTags.GPS.GPSLatitudeRef: "N" if latitude >= 0 else "S",
        ExifTags.GPS.GPSLatitude: _dms(abs(latitude)),
        ExifTags.GPS.GPSLongitudeRef: "E" if longitude >= 0 else "W",
        ExifTags.GPS.GPSLongitude: _dms(abs(longitude)),
    }


def _dms(value: float) -> tuple:
    """Decimal degrees -> the three EXIF rationals phones write (seconds to 1/10000)."""
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600 * 10000)
    rational = TiffImagePlugin.IFDRational
    return rational(degrees, 1), rational(minutes, 1), rational(seconds, 10000)


def mpo(width: int = 400, height: int = 200) -> bytes:
    """A multi-picture JPEG (MPO), as some Android cameras save: the photo, then a green frame."""
    second = Image.new("RGB", (width, height), GREEN)
    return _save(two_tone(width, height), "MPO", save_all=True, append_images=[second])


def srgb_icc_profile() -> bytes:
    """The bytes of an sRGB ICC profile, as some cameras embed."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def png_with_alpha(width: int = 200, height: int = 100) -> bytes:
    """RGBA PNG: opaque red on the left, fully transparent on the right."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, width // 2, height))
    return _save(image, "PNG")


def png(width: int = 200, height: int = 100, *, mode: str = "RGB", color=RED) -> bytes:
    """A PNG in any mode Pillow writes: RGB, L, P, LA, 1, I;16, ..."""
    if mode == "I;16":
        # Mid grey at 16 bits: a naive 8-bit conversion would clip it to white.
        image = Image.new("I;16", (width, height), 0x8000)
    elif mode == "P":
        image = two_tone(width, height, color).convert("P", palette=Image.Palette.ADAPTIVE)
    else:
        image = two_tone(width, height, color).convert(mode)
    return _save(image, "PNG")


def cmyk_jpeg(width: int = 200, height: int = 100) -> bytes:
    """A CMYK JPEG, as print-minded software sometimes exports."""
    return _save(two_tone(width, height).convert("CMYK"), "JPEG")


def webp(width: int = 400, height: int = 200, *, color=RED) -> bytes:
    """A lossy WebP, as Android share sheets and messaging apps produce."""
    return _save(two_tone(width, height, color), "WEBP", quality=90)


def animated_webp(width: int = 200, height: int = 100) -> bytes:
    """A two-frame WebP: all red, then all green."""
    frames = [Image.new("RGB", (width, height), RED), Image.new("RGB", (width, height), GREEN)]
    out = io.BytesIO()
    frames[0].save(
        out, "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True
    )
    return out.getvalue()


def heic(width: int = 400, height: int = 200, *, color=RED) -> bytes:
    """A HEIC (HEVC in HEIF) as iPhones save by default, encoded by pillow_heif."""
    return _save(two_tone(width, height, color), "HEIF", quality=90)


def gif(width: int = 100, height: int = 100) -> bytes:
    return _save(two_tone(width, height), "GIF")


def bmp(width: int = 100, height: int = 100) -> bytes:
    return _save(two_tone(width, height), "BMP")


def tiff(width: int = 100, height: int = 100) -> bytes:
    return _save(two_tone(width, height), "TIFF")


def truncated_jpeg(width: int = 800, height: int = 600) -> bytes:
    """A JPEG cut off halfway, as an interrupted upload leaves it (the header is intact)."""
    data = jpeg(width, height)
    return data[: len(data) // 2]


def decompression_bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels.

    Crafted by hand so the test never needs the gigabytes a real one would take to make; the
    image data holds only a few rows, so anything that tried to decode it would also fail.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = zlib.compress((b"\x00" + b"\x00" * 3 * width) * 4)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    """The start of a PDF, as a mistaken "choose file" would send."""
    return b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n%%EOF\n"


def text_file() -> bytes:
    return "Stand 12 — prix affichés, badge porté.\n".encode()


def _save(image: Image.Image, format: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **params)
    return out.getvalue()
