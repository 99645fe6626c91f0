"""Generated cover art: a 3000x3000 PNG with the podcast's title, for feeds that have none.

Apple rejects a feed without square art of 1400-3000 px, so a podcast must never lack one. The
art is light text on a near-black ground (contrast above 15:1), the largest size that fits, and
it is redrawn only when the title or author changes (the PNG records what it shows).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from .errors import SettingsError
from .files import write_atomic

SIZE = 3000
MARGIN = 300
BACKGROUND = (16, 20, 24)
FOREGROUND = (255, 255, 255)
SECONDARY = (222, 226, 230)
ACCENT = (255, 176, 0)
_KEY = "audioessay-cover"
_VERSION = 1
_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
"""Preferred faces (wide Unicode coverage) where the system has them; Pillow's own otherwise."""

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def ensure_cover(path: Path, title: str, author: str) -> bool:
    """Draw the cover at ``path`` unless it already shows this title and author; True if drawn."""
    stamp = json.dumps({"v": _VERSION, "title": title, "author": author}, ensure_ascii=False)
    if path.exists():
        try:
            with Image.open(path) as existing:
                if existing.info.get(_KEY) == stamp:
                    return False
        except OSError:
            pass  # unreadable: draw it again
    write_atomic(path, cover_png(title, author))
    return True


def cover_png(title: str, author: str) -> bytes:
    """The generated cover as PNG bytes, stamped with what it shows (``ensure_cover``
    writes exactly these bytes; ``serve`` sends them while no feed build has written it)."""
    stamp = json.dumps({"v": _VERSION, "title": title, "author": author}, ensure_ascii=False)
    info = PngImagePlugin.PngInfo()
    info.add_itxt(_KEY, stamp)
    buffer = io.BytesIO()
    draw_cover(title, author).save(buffer, format="PNG", optimize=True, pnginfo=info)
    return buffer.getvalue()


def draw_cover(title: str, author: str) -> Image.Image:
    """The cover as an image: the title as large as fits, the author beneath, an accent rule."""
    image = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = SIZE - 2 * MARGIN
    byline = _font(120)
    byline_height = 200 if author else 0
    size, lines = _fit(draw, title, width, SIZE - 2 * MARGIN - 400 - byline_height)
    font = _font(size)
    line_height = round(size * 1.18)
    y = (SIZE - (line_height * len(lines) + 160 + byline_height)) // 2
    draw.rectangle((MARGIN, y, MARGIN + 360, y + 36), fill=ACCENT)
    y += 160
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=FOREGROUND)
        y += line_height
    if author:
        draw.text((MARGIN, y + 80), _clip(draw, author, byline, width), font=byline, fill=SECONDARY)
    return image


def _font(size: int) -> Font:
    for candidate in _FONTS:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, height: int) -> tuple[int, list[str]]:
    """The largest font size (and its lines) at which ``text`` wraps into the box."""
    for size in range(360, 79, -20):
        font = _font(size)
        lines = _wrap(draw, text, font, width)
        if lines and round(size * 1.18) * len(lines) <= height:
            return size, lines
    font = _font(80)
    lines = _wrap(draw, text, font, width)
    fits = max(1, height // round(80 * 1.18))
    if len(lines) > fits:
        lines = lines[:fits]
        lines[-1] = _clip(draw, lines[-1] + " …", font, width)
    return 80, lines


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(trial, font=font) <= width:
            lines[-1] = trial
        else:
            lines.append(_clip(draw, word, font, width))
    return lines


def _clip(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    """``text`` shortened with an ellipsis until it fits ``width``."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def check_art(path: Path) -> list[str]:
    """Problems Apple would reject ``path`` for as cover art (empty when it is fine)."""
    try:
        with Image.open(path) as image:
            kind, (width, height) = image.format, image.size
    except OSError as exc:
        raise SettingsError(f"cover art {path} cannot be read as an image: {exc}") from exc
    problems = []
    if kind not in ("JPEG", "PNG"):
        problems.append(f"{path.name} is {kind}; Apple accepts JPEG or PNG")
    if width != height:
        problems.append(f"{path.name} is {width}x{height}; cover art must be square")
    elif not 1400 <= width <= 3000:
        problems.append(f"{path.name} is {width} px square; Apple wants 1400 to 3000 px")
    return problems
