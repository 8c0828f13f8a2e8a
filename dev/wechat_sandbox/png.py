"""Tiny PNG images for QR codes and mini-program codes, written with zlib and struct alone.

The picture only looks like a code (finder squares and a grid derived from the content's hash); it is not
scannable. What it stands for travels in a `tEXt` chunk under the keyword "Content", so a test or the demo can
"scan" an image with `read_text`.
"""
from __future__ import annotations

import hashlib
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MODULES = 25  # a version-2 QR code is 25x25 modules
QUIET = 2  # modules of white border


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _is_finder(x: int, y: int) -> bool | None:
    """Dark/light for the three 7x7 corner squares; None outside them."""
    for ox, oy in ((0, 0), (MODULES - 7, 0), (0, MODULES - 7)):
        dx, dy = x - ox, y - oy
        if 0 <= dx < 7 and 0 <= dy < 7:
            ring = max(abs(dx - 3), abs(dy - 3))
            return ring != 2
    return None


def _modules(content: str) -> list[list[bool]]:
    stream = b""
    counter = 0
    while len(stream) * 8 < MODULES * MODULES:
        stream += hashlib.sha256(f"{counter}:{content}".encode()).digest()
        counter += 1
    grid = []
    for y in range(MODULES):
        row = []
        for x in range(MODULES):
            finder = _is_finder(x, y)
            bit = y * MODULES + x
            row.append(finder if finder is not None else bool(stream[bit // 8] >> (bit % 8) & 1))
        grid.append(row)
    return grid


def code_image(content: str, width: int = 430) -> bytes:
    """A square grayscale PNG about `width` pixels wide that carries `content` in its tEXt chunk."""
    scale = max(1, width // (MODULES + 2 * QUIET))
    side = (MODULES + 2 * QUIET) * scale
    white_row = b"\x00" + b"\xff" * side  # each scanline starts with filter type 0
    rows = [white_row] * (QUIET * scale)
    for module_row in _modules(content):
        pixels = b"\xff" * (QUIET * scale)
        pixels += b"".join((b"\x00" if dark else b"\xff") * scale for dark in module_row)
        pixels += b"\xff" * (QUIET * scale)
        rows.extend([b"\x00" + pixels] * scale)
    rows.extend([white_row] * (QUIET * scale))
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit grayscale, no interlace
    text = b"Content\x00" + content.encode("latin-1", "backslashreplace")
    return (SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"tEXt", text)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b""))


def read_text(png: bytes) -> dict[str, str]:
    """The tEXt chunks of a PNG, keyword -> text."""
    if not png.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    texts: dict[str, str] = {}
    pos = len(SIGNATURE)
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            keyword, _, text = data.partition(b"\x00")
            texts[keyword.decode("latin-1")] = text.decode("latin-1")
        pos += 12 + length
    return texts
