"""Benchmark the photo pipeline on what phones send: a 12 MP JPEG and a 12 MP HEIC.

Run from the repository root: ``.venv/bin/python bench/photos.py [runs]``. The last line is
``photos jpeg12mp_ms=<median> heic_ms=<median> peak_rss_mb=<peak of this process>``.
Targets: jpeg12mp_ms <= 250 and peak_rss_mb <= 200 on the 2-core reference machine.
The line before gives the CPU per photo (median, ms), which the machine's load moves far less,
also for what the app itself sends: a photo shrunk on the phone to 1600 x 1200, quality 80.

The test images are made in memory with Pillow (no files to ship). The HEIC is encoded in a
child process because the x265 encoder alone peaks at several hundred megabytes, which says
nothing about the pipeline; the JPEG is made here, so its cost counts against peak RSS.
"""

import io
import itertools
import resource
import statistics
import subprocess
import sys
import time

from PIL import ExifTags, Image

from compliance import photos

WARM_UP = 2
RUNS = 15


def phone_like(width: int, height: int) -> Image.Image:
    """Gradients plus sensor-like noise: compresses like a photo, not like a flat test card.

    Built so that the only full-size buffer is the image itself: the gradients are scaled up
    from a small image and the noise is blended in tile by tile.
    """
    small = (max(1, width // 16), max(1, height // 16))
    gradients = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").rotate(90).resize(small),
            Image.linear_gradient("L").resize(small),
            Image.radial_gradient("L").resize(small),
        ),
    )
    image = gradients.resize((width, height), Image.Resampling.BICUBIC)
    side = 500
    tiles = [
        Image.merge("RGB", [Image.effect_noise((side, side), 24) for _ in "RGB"]) for _ in range(4)
    ]
    weight = Image.new("L", (side, side), 77)  # 30 % noise, 70 % gradient
    corners = itertools.product(range(0, width, side), range(0, height, side))
    for index, corner in enumerate(corners):
        image.paste(tiles[index % len(tiles)], corner, weight)
    return image


def make_jpeg() -> bytes:
    """4000 x 3000 JPEG held sideways with EXIF orientation 6, as most phones save portraits."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    out = io.BytesIO()
    phone_like(4000, 3000).save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def make_heic() -> bytes:
    """4032 x 3024 HEIC, the size of an iPhone 12 MP photo (about 3 MB, like theirs)."""
    out = io.BytesIO()
    phone_like(4032, 3024).save(out, "HEIF", quality=50)
    return out.getvalue()


def make_phone_jpeg() -> bytes:
    """What the app sends after shrinking on the phone (static/app.js): upright, JFIF only."""
    out = io.BytesIO()
    phone_like(1600, 1200).save(out, "JPEG", quality=80)
    return out.getvalue()


def heic_from_child() -> bytes:
    child = subprocess.run(
        [sys.executable, __file__, "--make-heic"], capture_output=True, check=True
    )
    return child.stdout


def median_ms(data: bytes, runs: int) -> tuple[int, float]:
    """Median wall time and median CPU time of processing ``data``, in milliseconds."""
    for _ in range(WARM_UP):
        photos.process(data)
    timings, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        photos.process(data)
        cpu.append(time.process_time() - start_cpu)
        timings.append(time.perf_counter() - start)
    return round(statistics.median(timings) * 1000), statistics.median(cpu) * 1000


def main() -> None:
    if sys.argv[1:] == ["--make-heic"]:
        sys.stdout.buffer.write(make_heic())
        return
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS

    jpeg = make_jpeg()
    heic = heic_from_child()
    print(f"jpeg: 4000x3000 {len(jpeg) / 1e6:.1f} MB; heic: 4032x3024 {len(heic) / 1e6:.1f} MB")
    result = photos.process(jpeg)
    print(f"display {result.width}x{result.height} {len(result.display) // 1024} KB")

    jpeg_ms, jpeg_cpu = median_ms(jpeg, runs)
    heic_ms, heic_cpu = median_ms(heic, runs)
    _phone_ms, phone_cpu = median_ms(make_phone_jpeg(), runs)
    print(
        f"cpu per photo: jpeg12mp {jpeg_cpu:.1f} ms, heic {heic_cpu:.1f} ms, "
        f"phone1600 {phone_cpu:.1f} ms"
    )
    peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"photos jpeg12mp_ms={jpeg_ms} heic_ms={heic_ms} peak_rss_mb={peak_rss_mb}")


if __name__ == "__main__":
    main()
