"""Drawing badges: the QR code (segno), a badge as SVG and as PNG (Pillow).

A badge is a card of 86 × 54 mm (the ID-1 size that badge holders take). It carries the
artisan's name in Arabic and Latin script, the card number, the craft, the stall and venue, and
a QR code of the public badge URL. Labels are bilingual (Arabic and French) whatever the
language of whoever prints it: the badge is worn in front of everyone. The caller passes the
labels already translated (this module knows no language).

The SVG leaves text shaping to whatever displays it (browsers shape Arabic). The PNG is drawn by
Pillow, which shapes Arabic only with libraqm: when Pillow has no raqm, the PNG carries the
Latin text and the QR code only (:data:`ARABIC_IN_PNG` says which), and the SVG and the HTML
print page remain the badges with Arabic.

SVG markup uses presentation attributes only (``fill``, ``font-size``…): the site's
Content-Security-Policy forbids inline ``style``.

Plain Python: no Flask, no database.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import segno
from PIL import Image, ImageDraw, ImageFont, features

WIDTH_MM, HEIGHT_MM = 86, 54
PNG_DPI = 300
BRAND = "#0b5d3b"
INK = "#111111"
MUTED = "#444444"
FONT_FAMILY = "DejaVu Sans, Noto Sans, Noto Naskh Arabic, Tahoma, Arial, sans-serif"

# Fonts with Arabic glyphs, most likely first (Debian's fonts-dejavu-core has Arabic).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/tahoma.ttf",
)

ARABIC_IN_PNG = features.check("raqm")


@dataclass(frozen=True)
class Badge:
    """Everything printed on one badge (already in the right words)."""

    url: str
    name_ar: str
    name_latin: str
    card_number: str
    craft_ar: str
    craft_fr: str
    stall_code: str
    venue_ar: str
    venue_fr: str
    labels: BadgeLabels


@dataclass(frozen=True)
class BadgeLabels:
    """The fixed words of a badge, in Arabic and in French."""

    title_ar: str = "صانع تقليدي مسجل"
    title_fr: str = "Artisan enregistré"  # the card is national, not one event's
    stall_ar: str = "المحل"
    stall_fr: str = "Stand"
    card_fr: str = "N° %(number)s"
    scan_ar: str = "امسح الرمز للتحقق"
    scan_fr: str = "Scannez pour vérifier"


# --- QR code ---------------------------------------------------------------------------------


def qr_code(url: str) -> segno.QRCode:
    """The QR code of a URL: error correction M at least, raised when it costs no size."""
    return segno.make_qr(url, error="m", boost_error=True)


def qr_path(code: segno.QRCode) -> tuple[str, int]:
    """SVG path data drawing the dark modules (one unit per module), and the side in modules.

    Runs of dark modules on a row become one rectangle: a few hundred bytes per code.
    """
    rows = list(code.matrix_iter(border=0))
    parts = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return "".join(parts), len(rows)


def qr_svg(url: str, *, label: str = "", quiet: int = 4) -> str:
    """A standalone ``<svg>`` of the QR code, sized by its container (for inline HTML)."""
    data, side = qr_path(qr_code(url))
    total = side + 2 * quiet
    title = f"<title>{escape(label)}</title>" if label else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 {total} {total}" '
        f'role="img" aria-label={quoteattr(label or url)} shape-rendering="crispEdges">{title}'
        f'<rect width="{total}" height="{total}" fill="#fff"/>'
        f'<path transform="translate({quiet} {quiet})" fill="#000" d="{data}"/></svg>'
    )


# --- Text fitting ------------------------------------------------------------------------------


@cache
def font_path(preferred: str | None = None) -> str | None:
    """The first font file that exists (``preferred`` first), or None for Pillow's default."""
    for candidate in (preferred, *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _bold_path(regular: str | None) -> str | None:
    if regular is None:
        return None
    bold = regular.replace("Sans.ttf", "Sans-Bold.ttf").replace("-Regular.ttf", "-Bold.ttf")
    return bold if Path(bold).is_file() else regular


@cache
def _font(path: str | None, size: int, raqm: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        return ImageFont.load_default(size)
    engine = ImageFont.Layout.RAQM if raqm else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size, layout_engine=engine)


def is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" for ch in text)


def _text_kwargs(text: str, raqm: bool) -> dict:
    # Only a wholly Arabic line runs right to left; raqm still shapes Arabic words in a mixed
    # line, which keeps its Latin reading order.
    if raqm and is_arabic(text) and not _has_latin_letters(text):
        return {"direction": "rtl", "language": "ar"}
    return {}


def _measure(text: str, size_px: int, path: str | None, raqm: bool) -> float:
    font = _font(path, size_px, raqm)
    return font.getlength(text, **_text_kwargs(text, raqm))


def _fit(
    text: str,
    size: float,
    min_size: float,
    width: float,
    path: str | None,
    scale: float,
    raqm: bool,
) -> tuple[float, bool]:
    """Largest size from ``size`` down to ``min_size`` at which ``text`` fits ``width``.

    Sizes and widths are in badge units (mm); ``scale`` turns them into pixels for measuring.
    Returns the size and whether the text still overflows at the smallest size.
    """
    current = size
    while current >= min_size:
        if _measure(text, max(1, round(current * scale)), path, raqm) / scale <= width:
            return current, False
        current = round(current - 0.2, 2)
    return min_size, True


# --- The badge's layout, in millimetres ---------------------------------------------------------

BAND = 8.0
QR_X, QR_Y, QR_SIDE = 2.5, 11.0, 31.0
TEXT_LEFT, TEXT_RIGHT = 35.0, 84.0
TEXT_CENTRE = (TEXT_LEFT + TEXT_RIGHT) / 2
TEXT_WIDTH = TEXT_RIGHT - TEXT_LEFT


@dataclass(frozen=True)
class _Spec:
    text: str
    size: float  # preferred size, mm
    min_size: float  # below this, wrap onto a second line (if allowed) or squeeze
    bold: bool = False
    colour: str = INK
    max_lines: int = 1


@dataclass(frozen=True)
class _Line:
    text: str
    y: float  # baseline, mm
    size: float  # mm
    bold: bool
    colour: str
    overflow: bool  # still too wide at the smallest size: squeeze (SVG) or ellipsize (PNG)


def _specs(badge: Badge) -> list[_Spec]:
    craft = f"{badge.craft_ar} · {badge.craft_fr}" if badge.craft_ar else badge.craft_fr
    return [
        _Spec(badge.name_ar, 5.0, 3.6, bold=True, max_lines=2),
        _Spec(badge.name_latin, 4.0, 3.2, bold=True, max_lines=2),
        _Spec(craft, 2.8, 2.2, colour=MUTED),
        _Spec(badge.labels.card_fr % {"number": badge.card_number}, 2.8, 2.2),
        _Spec(
            f"{badge.labels.stall_fr} {badge.stall_code} · {badge.labels.stall_ar}",
            3.6,
            2.6,
            bold=True,
        ),
        _Spec(badge.venue_fr, 2.6, 2.2, colour=MUTED, max_lines=2),
        _Spec(badge.venue_ar, 2.6, 2.2, colour=MUTED, max_lines=2),
    ]


TEXT_TOP, TEXT_BOTTOM = 10.0, 52.5
LINE_PITCH = 1.32  # line height, as a multiple of the font size


def _layout(
    badge: Badge, path: str | None, scale: float, raqm: bool, drop_arabic: bool = False
) -> list[_Line]:
    """Fit, wrap (names and venue, two lines at most) and stack the text, centred vertically."""
    bold = _bold_path(path)
    placed: list[tuple[str, float, _Spec, bool]] = []
    for spec in _specs(badge):
        text = spec.text.strip()
        if drop_arabic and is_arabic(text):
            text = _latin_part(text)
        if not text:
            continue
        font_file = bold if spec.bold else path
        size, overflow = _fit(text, spec.size, spec.min_size, TEXT_WIDTH, font_file, scale, raqm)
        if overflow and spec.max_lines > 1 and " " in text:
            parts = _split_in_two(text)
            fits = [
                _fit(part, spec.min_size, 2.0, TEXT_WIDTH, font_file, scale, raqm) for part in parts
            ]
            size = min(s for s, _ in fits)
            placed += [
                (part, size, spec, over) for part, (_, over) in zip(parts, fits, strict=True)
            ]
        else:
            placed.append((text, size, spec, overflow))
    total = sum(size * LINE_PITCH for _, size, _, _ in placed)
    y = TEXT_TOP + max(0.0, (TEXT_BOTTOM - TEXT_TOP - total) / 2)
    lines = []
    for text, size, spec, overflow in placed:
        lines.append(_Line(text, round(y + size, 2), size, spec.bold, spec.colour, overflow))
        y += size * LINE_PITCH
    return lines


HTML_TEXT_WIDTH = 47.0  # the text column of the printed HTML cards, mm
SIZE_STEPS = (("", 1.0), ("s", 0.78), ("xs", 0.62))


def size_step(
    text: str,
    size: float,
    *,
    bold: bool = False,
    lines: int = 2,
    width: float = HTML_TEXT_WIDTH,
    font: str | None = None,
) -> str:
    """For HTML cards (where CSS wraps but cannot shrink): "" when ``text`` fits in ``lines``
    lines at ``size`` mm, else "s" or "xs", the smaller steps print.css defines."""
    path = font_path(font)
    font_file = _bold_path(path) if bold else path
    scale = 10.0
    for step, factor in SIZE_STEPS:
        measured = (
            _measure(text, max(1, round(size * factor * scale)), font_file, ARABIC_IN_PNG) / scale
        )
        if measured <= lines * width * 0.9:  # a wrapped line is never quite full
            return step
    return SIZE_STEPS[-1][0]


def _split_in_two(text: str) -> tuple[str, str]:
    """Split at the space that makes the two halves most even."""
    words = text.split()
    best = min(
        range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:])))
    )
    return " ".join(words[:best]), " ".join(words[best:])


def badge_svg(badge: Badge, *, font: str | None = None) -> str:
    """The badge as an SVG document, 86 × 54 mm, text left for the viewer to shape."""
    path = font_path(font)
    measure_scale = 10.0  # measure at 10 px per mm: close enough to any print resolution
    data, side = qr_path(qr_code(badge.url))
    quiet = 2
    module = QR_SIDE / (side + 2 * quiet)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_MM}mm" height="{HEIGHT_MM}mm" '
        f'viewBox="0 0 {WIDTH_MM} {HEIGHT_MM}" font-family={quoteattr(FONT_FAMILY)}>',
        f"<title>{escape(badge.name_latin)} · {escape(badge.stall_code)}</title>",
        f'<rect x="0.25" y="0.25" width="{WIDTH_MM - 0.5}" height="{HEIGHT_MM - 0.5}" rx="3" '
        f'fill="#fff" stroke="{BRAND}" stroke-width="0.5"/>',
        f'<path d="M0.25 3.25a3 3 0 0 1 3-3h{WIDTH_MM - 6.5}a3 3 0 0 1 3 3V{BAND}H0.25z" '
        f'fill="{BRAND}"/>',
        _svg_text(badge.labels.title_fr, 3.0, 5.5, 2.6, "#fff", anchor="start", bold=True),
        _svg_text(badge.labels.title_ar, WIDTH_MM - 3.0, 5.5, 2.8, "#fff", anchor="end", bold=True),
        f'<g transform="translate({QR_X} {QR_Y})">'
        f'<rect width="{QR_SIDE}" height="{QR_SIDE}" fill="#fff"/>'
        f'<path transform="translate({quiet * module:.4f} {quiet * module:.4f}) '
        f'scale({module:.5f})" fill="#000" d="{data}" shape-rendering="crispEdges"/></g>',
    ]
    for line in _layout(badge, path, measure_scale, ARABIC_IN_PNG):
        out.append(
            _svg_text(
                line.text,
                TEXT_CENTRE,
                line.y,
                line.size,
                line.colour,
                bold=line.bold,
                squeeze=TEXT_WIDTH if line.overflow else None,
            )
        )
    for text, y in zip(_footer(badge), (46.0, 49.5), strict=True):
        out.append(_svg_text(text, QR_X + QR_SIDE / 2, y, 2.2, MUTED))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_text(
    text: str,
    x: float,
    y: float,
    size: float,
    colour: str,
    *,
    anchor: str = "middle",
    bold: bool = False,
    squeeze: float | None = None,
) -> str:
    """One line of text; ``anchor`` is physical: "start" = left edge, "end" = right edge."""
    rtl = is_arabic(text) and not _has_latin_letters(text)
    if rtl and anchor != "middle":
        # In a right-to-left run "start" is the right edge: swap so x stays where it was meant.
        anchor = "end" if anchor == "start" else "start"
    attrs = [
        f'x="{x:g}"',
        f'y="{y:g}"',
        f'font-size="{size:g}"',
        f'fill="{colour}"',
        f'text-anchor="{anchor}"',
    ]
    if bold:
        attrs.append('font-weight="bold"')
    if rtl:
        attrs += ['direction="rtl"', 'xml:lang="ar"']
    if squeeze is not None:
        attrs += [f'textLength="{squeeze:g}"', 'lengthAdjust="spacingAndGlyphs"']
    return f"<text {' '.join(attrs)}>{escape(text)}</text>"


def _has_latin_letters(text: str) -> bool:
    return any("a" <= ch.lower() <= "z" for ch in text)


# --- PNG ---------------------------------------------------------------------------------------


def badge_png(badge: Badge, *, font: str | None = None, dpi: int = PNG_DPI) -> bytes:
    """The badge as a PNG at ``dpi`` (300 by default: 1016 × 638 pixels).

    Arabic lines are drawn only when Pillow has libraqm (:data:`ARABIC_IN_PNG`); without it a
    shaped Arabic line is impossible, and a broken one would be worse than none.
    """
    scale = dpi / 25.4
    raqm = ARABIC_IN_PNG
    path = font_path(font)
    bold = _bold_path(path)
    width, height = round(WIDTH_MM * scale), round(HEIGHT_MM * scale)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def px(mm: float) -> int:
        return round(mm * scale)

    draw.rounded_rectangle(
        (0, 0, width - 1, height - 1),
        radius=px(3),
        outline=BRAND,
        width=max(1, px(0.5)),
        fill="white",
    )
    draw.rounded_rectangle(
        (0, 0, width - 1, px(BAND)), radius=px(3), fill=BRAND, corners=(True, True, False, False)
    )
    _draw_line(
        draw, badge.labels.title_fr, px(3.0), px(5.5), px(2.6), bold, raqm, "#ffffff", anchor="ls"
    )
    if raqm or not is_arabic(badge.labels.title_ar):
        _draw_line(
            draw,
            badge.labels.title_ar,
            width - px(3.0),
            px(5.5),
            px(2.8),
            bold,
            raqm,
            "#ffffff",
            anchor="rs",
        )

    qr = _qr_image(badge.url, px(QR_SIDE))
    image.paste(
        qr, (px(QR_X) + (px(QR_SIDE) - qr.width) // 2, px(QR_Y) + (px(QR_SIDE) - qr.height) // 2)
    )

    for line in _layout(badge, path, scale, raqm, drop_arabic=not raqm):
        font_file = bold if line.bold else path
        text = _ellipsize(line.text, px(line.size), px(TEXT_WIDTH), font_file, raqm)
        _draw_line(
            draw,
            text,
            px(TEXT_CENTRE),
            px(line.y),
            px(line.size),
            font_file,
            raqm,
            line.colour,
            anchor="ms",
        )
    for text, y in zip(_footer(badge), (46.0, 49.5), strict=True):
        if raqm or not is_arabic(text):
            _draw_line(
                draw, text, px(QR_X + QR_SIDE / 2), px(y), px(2.2), path, raqm, MUTED, anchor="ms"
            )

    out = io.BytesIO()
    image.save(out, "PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()


def _footer(badge: Badge) -> tuple[str, str]:
    return badge.labels.scan_fr, badge.labels.scan_ar


def _draw_line(
    draw: ImageDraw.ImageDraw,
    text: str,
    x: int,
    y: int,
    size_px: int,
    path: str | None,
    raqm: bool,
    colour: str,
    *,
    anchor: str,
) -> None:
    font = _font(path, max(1, size_px), raqm)
    draw.text((x, y), text, fill=colour, font=font, anchor=anchor, **_text_kwargs(text, raqm))


def _ellipsize(text: str, size_px: int, width_px: int, path: str | None, raqm: bool) -> str:
    if _measure(text, size_px, path, raqm) <= width_px:
        return text
    while len(text) > 1 and _measure(text + "…", size_px, path, raqm) > width_px:
        text = text[:-1]
    return text.rstrip() + "…"


def _latin_part(text: str) -> str:
    """Drop Arabic words (and the separators they leave) from a bilingual line."""
    words = [w for w in text.split() if not is_arabic(w)]
    while words and words[-1] in ("·", "/", "-"):
        words.pop()
    while words and words[0] in ("·", "/", "-"):
        words.pop(0)
    return " ".join(words)


def _qr_image(url: str, side_px: int, quiet: int = 2) -> Image.Image:
    """The QR code as a 1-bit image, whole pixels per module (crisp when printed)."""
    rows = list(qr_code(url).matrix_iter(border=quiet))
    n = len(rows)
    small = Image.new("1", (n, n), 1)
    small.putdata([0 if dark else 1 for row in rows for dark in row])
    module = max(1, side_px // n)
    return small.resize((n * module, n * module), Image.Resampling.NEAREST)
