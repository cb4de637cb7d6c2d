"""The photo pipeline (compliance.photos) on real images made by tests/imagefactory.py.

Pure unit tests: no app, no database. Renditions are reopened with Pillow and inspected.
"""

import collections
import functools
import io
import random
import subprocess
import sys
import tempfile
from datetime import datetime

import pytest
from PIL import ExifTags, Image

from compliance import photos
from compliance.photos import PhotoError, process

from . import imagefactory as make


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def is_red(pixel) -> bool:
    red, green, blue = pixel[:3]
    return red > 200 and green < 60 and blue < 60


def is_blue(pixel) -> bool:
    red, green, blue = pixel[:3]
    return blue > 200 and red < 60 and green < 60


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG's header segments, up to the start of the image data."""
    markers, position = [], 2
    while position + 4 <= len(data):
        marker = data[position + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + length
    return markers


def refused(data: bytes, **kwargs) -> PhotoError:
    with pytest.raises(PhotoError) as caught:
        process(data, **kwargs)
    return caught.value


# --- accepted uploads ----------------------------------------------------------------------


def test_plain_jpeg_is_accepted():
    data = make.jpeg(400, 200)

    photo = process(data, filename="IMG_0001.jpg")

    assert photo.source_format == "JPEG"
    assert photo.size_bytes == len(data)
    assert (photo.width, photo.height) == (400, 200)
    assert reopen(photo.display).format == "JPEG"
    assert reopen(photo.thumbnail).format == "JPEG"


def test_exif_rotated_jpeg_is_turned_upright():
    # Phones store a portrait sideways and say "rotate 90° clockwise" (6) in EXIF.
    photo = process(make.jpeg(400, 200, orientation=6))

    display = reopen(photo.display)
    assert (photo.width, photo.height) == display.size == (200, 400)
    assert is_red(display.getpixel((100, 50)))  # the left half is now on top
    assert is_blue(display.getpixel((100, 350)))


@pytest.mark.parametrize(
    ("orientation", "size", "red_at", "blue_at"),
    [
        (1, (400, 200), (50, 100), (350, 100)),
        (2, (400, 200), (350, 100), (50, 100)),  # mirrored
        (3, (400, 200), (350, 100), (50, 100)),  # upside down
        (4, (400, 200), (50, 100), (350, 100)),  # flipped top to bottom
        (5, (200, 400), (100, 50), (100, 350)),
        (6, (200, 400), (100, 50), (100, 350)),
        (7, (200, 400), (100, 350), (100, 50)),
        (8, (200, 400), (100, 350), (100, 50)),  # rotated the other way
    ],
)
def test_every_exif_orientation_is_applied(orientation, size, red_at, blue_at):
    display = reopen(process(make.jpeg(400, 200, orientation=orientation)).display)

    assert display.size == size
    assert is_red(display.getpixel(red_at))
    assert is_blue(display.getpixel(blue_at))


def test_rotated_large_jpeg_keeps_1600_on_its_long_side():
    # The reduced-scale JPEG decode must not shrink the image below the display size.
    photo = process(make.jpeg(4000, 3000, orientation=6, quality=70))

    assert (photo.width, photo.height) == (1200, 1600)


def test_multi_picture_jpeg_is_a_jpeg_showing_its_first_picture():
    photo = process(make.mpo(400, 200), filename="IMG_0002.jpg")

    assert photo.source_format == "JPEG"
    display = reopen(photo.display)
    assert is_red(display.getpixel((50, 100)))
    assert is_blue(display.getpixel((350, 100)))


def test_gps_and_capture_time_are_read_then_stripped():
    taken = datetime(2025, 12, 22, 16, 45, 12)
    photo = process(make.jpeg(exif_datetime=taken, gps=make.RABAT))

    assert photo.taken_at == taken
    assert photo.gps == pytest.approx(make.RABAT, abs=1e-5)
    for rendition in (photo.display, photo.thumbnail):
        image = reopen(rendition)
        assert not image.getexif()
        assert "exif" not in image.info


def test_southern_and_eastern_hemispheres_get_their_signs():
    photo = process(make.jpeg(gps=(-33.9249, 18.4241)))  # Cape Town

    assert photo.gps == pytest.approx((-33.9249, 18.4241), abs=1e-5)


def test_photo_without_exif_has_no_time_or_place():
    photo = process(make.jpeg())

    assert photo.taken_at is None
    assert photo.gps is None


def test_no_metadata_in_renditions():
    data = make.jpeg(
        800,
        600,
        orientation=6,
        exif_datetime=datetime(2025, 12, 22, 10, 0),
        gps=make.RABAT,
        comment=b"Stall 12, Agadir fan zone",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>',
        icc_profile=make.srgb_icc_profile(),
    )

    photo = process(data)

    for rendition in (photo.display, photo.thumbnail):
        image = reopen(rendition)
        assert not image.getexif()
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"):
            assert key not in image.info
        # Only the JFIF header and the tables needed to decode: no APP1 (EXIF, XMP), APP2
        # (ICC), APP13 (IPTC) or COM segment.
        assert set(jpeg_segments(rendition)) <= {0xD8, 0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDA}


# --- a phone's JPEG kept as it was sent ----------------------------------------------------


def phone_jpeg(width=800, height=600, **params) -> bytes:
    """What the app's canvas sends: at most 1600 px, upright, JPEG at quality 80, JFIF only."""
    out = io.BytesIO()
    make.two_tone(width, height).save(out, "JPEG", quality=80, **params)
    return out.getvalue()


def pixels(data: bytes) -> bytes:
    return reopen(data).tobytes()


def test_phone_jpeg_is_its_own_display_rendition():
    data = phone_jpeg()

    photo = process(data)

    assert photo.display is data  # not decoded and encoded again: no generation lost
    assert (photo.width, photo.height) == (800, 600)
    assert reopen(photo.thumbnail).size == (320, 240)
    assert is_red(reopen(photo.thumbnail).getpixel((40, 120)))


def test_kept_jpeg_loses_its_metadata_and_keeps_its_pixels():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.Base.DateTime] = "2025:12:22 10:30:00"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(make._gps_ifd(*make.RABAT))
    data = phone_jpeg(
        exif=exif.tobytes(),
        comment=b"Stall 12, Agadir fan zone",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>',
    )
    # A file that is also a web page, from its end: nothing after the picture is kept.
    data += b"<html><script>alert(1)</script></html>"

    photo = process(data)

    assert photo.taken_at == datetime(2025, 12, 22, 10, 30)
    assert photo.gps == pytest.approx(make.RABAT, abs=1e-5)
    assert pixels(photo.display) == pixels(data)
    assert photo.display.endswith(b"\xff\xd9")
    assert b"Agadir" not in photo.display and b"xmpmeta" not in photo.display
    assert set(jpeg_segments(photo.display)) <= {0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDA}
    assert not reopen(photo.display).getexif()


@pytest.mark.parametrize(
    "params",
    [{"progressive": True}, {"restart_marker_blocks": 4}, {"subsampling": 0}],
    ids=["progressive", "restart markers", "4:4:4"],
)
def test_kept_jpeg_decodes_to_the_same_pixels(params):
    data = phone_jpeg(comment=b"dropped", **params)

    photo = process(data)

    assert len(photo.display) < len(data)  # kept, without its comment
    assert pixels(photo.display) == pixels(data)


@pytest.mark.parametrize(
    "opener",
    [functools.partial(tempfile.SpooledTemporaryFile, max_size=1024**2), tempfile.TemporaryFile],
    ids=["spooled in memory", "on disk"],
)
def test_form_upload_is_kept_from_where_it_lies(opener):
    data = phone_jpeg(comment=b"dropped")
    with opener() as upload:
        upload.write(data)

        photo = process(upload)

    assert len(photo.display) == len(data) - len(b"dropped") - 4  # the comment segment
    assert pixels(photo.display) == pixels(data)


def test_grey_phone_jpeg_is_kept():
    out = io.BytesIO()
    make.two_tone(400, 200, (30, 30, 30), (220, 220, 220)).convert("L").save(out, "JPEG")
    data = out.getvalue()

    photo = process(data)

    assert photo.display is data
    assert reopen(photo.thumbnail).mode == "RGB"


@pytest.mark.parametrize(
    "data",
    [
        phone_jpeg(2000, 1500),  # bigger than the display rendition
        make.jpeg(800, 600, quality=98),  # far heavier than our own encoding
        make.jpeg(800, 600, quality=80, orientation=6),  # not upright
        make.jpeg(800, 600, quality=80, icc_profile=make.srgb_icc_profile()),  # has a profile
    ],
    ids=["too big", "quality 98", "sideways", "colour profile"],
)
def test_other_jpegs_are_encoded_again(data):
    photo = process(data)

    assert pixels(photo.display) != pixels(data) or reopen(photo.display).size != reopen(data).size


def test_jfif_thumbnail_is_not_kept():
    data = phone_jpeg()
    # The same JFIF header with a 1x1 thumbnail (three bytes of RGB) in it.
    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x01\x01" + b"\xff\x00\x00"
    with_thumbnail = data[:2] + b"\xff\xe0" + (len(jfif) + 2).to_bytes(2, "big") + jfif + data[20:]

    photo = process(with_thumbnail)

    assert photo.display == data


def test_png_with_alpha_is_flattened():
    photo = process(make.png_with_alpha(200, 100), filename="screenshot.png")

    display = reopen(photo.display)
    assert photo.source_format == "PNG"
    assert display.mode == "RGB"
    assert is_red(display.getpixel((20, 50)))
    assert display.getpixel((180, 50)) >= (250, 250, 250)  # transparent became white


@pytest.mark.parametrize("mode", ["P", "L", "LA", "1", "I;16", "RGBA"])
def test_any_png_colour_mode_comes_out_rgb(mode):
    display = reopen(process(make.png(mode=mode)).display)

    assert display.mode == "RGB"


def test_sixteen_bit_grey_keeps_its_tones():
    display = reopen(process(make.png(mode="I;16")).display)

    red, green, blue = display.getpixel((10, 10))
    assert 118 <= red <= 138 and red == green == blue  # mid grey, not clipped to white


def test_cmyk_jpeg_comes_out_rgb():
    display = reopen(process(make.cmyk_jpeg()).display)

    assert display.mode == "RGB"
    assert is_red(display.getpixel((20, 50)))


def test_webp_is_accepted():
    photo = process(make.webp(400, 200), filename="IMG-20251222-WA0007.webp")

    assert photo.source_format == "WEBP"
    assert is_red(reopen(photo.display).getpixel((50, 100)))


def test_animated_webp_keeps_first_frame():
    photo = process(make.animated_webp())

    display = reopen(photo.display)
    assert is_red(display.getpixel((10, 10)))
    assert is_red(display.getpixel((190, 90)))


def test_heic_is_accepted():
    photo = process(make.heic(400, 200), filename="IMG_4521.HEIC")

    assert photo.source_format == "HEIF"
    assert (photo.width, photo.height) == (400, 200)
    display = reopen(photo.display)
    assert is_red(display.getpixel((50, 100)))
    assert is_blue(display.getpixel((350, 100)))


@pytest.mark.parametrize(
    "filename",
    [None, "", "blob", "image", "photo.JPG", "a.jpeg", "a.jfif", "C:\\DCIM\\IMG_1.jpg", "x.tmp"],
)
def test_jpeg_names_that_do_not_contradict_it_are_accepted(filename):
    assert process(make.jpeg(), filename=filename).source_format == "JPEG"


def test_renditions_are_bounded():
    photo = process(make.png(4000, 1000))

    display, thumbnail = reopen(photo.display), reopen(photo.thumbnail)
    assert display.size == (photo.width, photo.height) == (1600, 400)
    assert thumbnail.size == (320, 80)


def test_small_photo_is_not_enlarged():
    photo = process(make.jpeg(300, 120))

    assert reopen(photo.display).size == (300, 120)
    assert reopen(photo.thumbnail).size == (300, 120)


def test_same_bytes_same_hash():
    data = make.jpeg()

    first, second = process(data), process(bytes(data))

    assert first.sha256 == second.sha256
    assert len(first.sha256) == 64


def test_different_bytes_different_hash():
    assert process(make.jpeg(color=make.RED)).sha256 != process(make.jpeg(color=make.GREEN)).sha256


# --- refused uploads -----------------------------------------------------------------------


def test_empty_upload_is_refused():
    assert refused(b"").code == "empty"


def test_over_size_limit_is_refused_before_decoding():
    # Not an image at all: only a check made before decoding can call it "too large".
    error = refused(make.text_file() * 100, max_bytes=1024)

    assert error.code == "too_large"


def test_size_limit_message_names_the_limit_in_megabytes():
    error = refused(b"x" * (2 * 1024 * 1024 + 1), max_bytes=2 * 1024 * 1024)

    assert error.params == {"max_mb": 2}
    assert "2 MB" in error.message % error.params


def test_truncated_jpeg_is_refused():
    assert refused(make.truncated_jpeg()).code == "corrupt"


def test_png_with_a_broken_header_is_refused_as_corrupt():
    data = make.png()

    assert refused(data[:20]).code == "corrupt"


def test_decompression_bomb_is_refused():
    # 20000 x 20000 declared in a file of a few kilobytes.
    assert refused(make.decompression_bomb_png(20_000, 20_000)).code == "too_many_pixels"


def test_too_many_pixels_is_refused_from_the_header():
    # 8000 x 8000 passes Pillow's own guard but not ours; the file holds only a few rows, so
    # reaching "too_many_pixels" rather than "corrupt" proves nothing was decoded.
    error = refused(make.decompression_bomb_png(8000, 8000))

    assert error.code == "too_many_pixels"
    assert error.params == {"max_megapixels": 50}


def test_pixel_limit_is_configurable():
    assert refused(make.jpeg(400, 200), max_pixels=400 * 200 - 1).code == "too_many_pixels"


def test_text_file_named_jpg_is_refused():
    assert refused(make.text_file(), filename="photo.jpg").code == "not_an_image"


def test_pdf_is_refused():
    assert refused(make.pdf(), filename="report.pdf").code == "not_an_image"


def test_png_named_jpg_is_refused():
    error = refused(make.png(), filename="IMG_0001.jpg")

    assert error.code == "mismatched_extension"
    assert error.params == {"extension": ".jpg", "actual": "PNG"}


def test_jpeg_named_heic_is_refused():
    assert refused(make.jpeg(), filename="IMG_4521.HEIC").code == "mismatched_extension"


def test_jpeg_named_gif_is_refused():
    assert refused(make.jpeg(), filename="funny.gif").code == "mismatched_extension"


def test_gif_is_refused():
    assert refused(make.gif()).code == "unsupported_format"


@pytest.mark.parametrize("data", [make.bmp(), make.tiff()], ids=["bmp", "tiff"])
def test_other_image_formats_are_refused(data):
    assert refused(data).code == "unsupported_format"


def test_every_error_message_formats_with_its_params():
    errors = [
        PhotoError("empty"),
        PhotoError("too_large", max_mb=15),
        PhotoError("not_an_image"),
        PhotoError("unsupported_format"),
        PhotoError("mismatched_extension", extension=".jpg", actual="PNG"),
        PhotoError("corrupt"),
        PhotoError("too_many_pixels", max_megapixels=50),
    ]

    for error in errors:
        assert isinstance(error, ValueError)
        assert "%(" not in error.message % error.params
        assert str(error) == error.message % error.params


# Pillow warns as it skips the damaged EXIF tags; that tolerance is the point here.
@pytest.mark.filterwarnings("ignore::UserWarning:PIL")
def test_damaged_uploads_only_ever_raise_photo_error():
    # Flipped bytes and cuts anywhere in each accepted format: a clean photo or a PhotoError,
    # never a Pillow exception escaping to the view.
    rng = random.Random(2025)
    outcomes = collections.Counter()
    originals = [make.jpeg(320, 240, gps=make.RABAT), make.png(), make.webp(), make.heic()]
    for original in originals:
        for _ in range(40):
            data = bytearray(original)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[: rng.randrange(1, len(data))]
            try:
                process(bytes(data))
                outcomes["kept"] += 1
            except PhotoError as error:
                outcomes[error.code] += 1

    assert sum(outcomes.values()) == 4 * 40
    assert outcomes["corrupt"] > 0


def test_accept_attribute_lists_the_four_formats():
    assert photos.ACCEPT == "image/jpeg,image/png,image/webp,image/heic,image/heif"
    assert {".jpg", ".jpeg", ".jfif", ".png", ".webp", ".heic", ".heif"} == set(
        photos.ALLOWED_EXTENSIONS
    )


def test_module_works_without_flask():
    # Loaded on its own, as a worker or a script would, it must not pull in the web app.
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('photos', {photos.__file__!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert 'flask' not in sys.modules, 'photos imported flask'\n"
        "assert 'sqlalchemy' not in sys.modules, 'photos imported sqlalchemy'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
