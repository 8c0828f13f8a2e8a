"""Tiny baseline JPEGs for QR codes and mini-program codes, written with the standard library alone.

WeChat answers `showqrcode` (mp.weixin.qq.com, `Content-Type: image/jpg`) and `getwxacodeunlimit` (`image/jpeg`)
with JPEG images, so the sandbox does too: a client that insists on PNG fails here as it would on WeChat.

The picture is the same stand-in as `png.py` (finder squares and a hashed grid, not scannable). Each module is a
multiple of 8 pixels, so every 8x8 block is one flat colour and only its DC coefficient is non-zero: the encoder
needs no DCT. What the code stands for travels in a COM (comment) segment, read back by `read_text`.
"""
from __future__ import annotations

import struct

from wechat_sandbox.png import MODULES, QUIET, _modules

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
# The standard luminance DC table (ITU T.81 Annex K.3): code lengths 1..16 and the categories they code.
DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
DC_VALUES = tuple(range(12))
# An AC table with one symbol: EOB (0x00), coded "0". Every block is flat, so EOB is all it needs.
AC_BITS = (1,) + (0,) * 15
AC_VALUES = (0,)


def _segment(marker: int, data: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data


def _codes(bits: tuple[int, ...], values: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes: symbol -> (code, length)."""
    codes, code, k = {}, 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[k]] = (code, length)
            code, k = code + 1, k + 1
        code <<= 1
    return codes


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def write(self, value: int, length: int) -> None:
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)  # byte stuffing
                self.acc, self.n = 0, 0

    def flush(self) -> bytes:
        if self.n:
            self.write((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with 1 bits
        return bytes(self.out)


def code_image(content: str, width: int = 430) -> bytes:
    """A square grayscale JPEG about `width` pixels wide (at least 8 pixels a module) carrying `content`."""
    grid = _modules(content)
    side_modules = MODULES + 2 * QUIET
    scale = 8 * max(1, width // (side_modules * 8))  # pixels per module, a multiple of 8
    blocks_per_module = scale // 8
    side = side_modules * scale
    dark_rows = [[False] * side_modules] * QUIET + [[False] * QUIET + row + [False] * QUIET for row in grid] \
        + [[False] * side_modules] * QUIET
    dc_codes, ac_codes = _codes(DC_BITS, DC_VALUES), _codes(AC_BITS, AC_VALUES)
    writer, previous = _BitWriter(), 0
    for module_row in dark_rows:
        for _ in range(blocks_per_module):
            for dark in module_row:
                for _ in range(blocks_per_module):
                    # A flat block of value v has DC = 8 * (v - 128) after the level shift (quantiser 1).
                    dc = 8 * ((0 if dark else 255) - 128)
                    diff, previous = dc - previous, dc
                    category = abs(diff).bit_length()
                    writer.write(*dc_codes[category])
                    if category:
                        writer.write(diff if diff > 0 else diff + (1 << category) - 1, category)
                    writer.write(*ac_codes[0])  # EOB
    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    comment = content.encode("utf-8")[:65000]
    dqt = b"\x00" + b"\x01" * 64
    sof = struct.pack(">BHHB", 8, side, side, 1) + b"\x01\x11\x00"
    dht = (b"\x00" + bytes(DC_BITS) + bytes(DC_VALUES)) + (b"\x10" + bytes(AC_BITS) + bytes(AC_VALUES))
    sos = b"\x01\x01\x00\x00\x3f\x00"
    return (SOI + _segment(0xE0, jfif) + _segment(0xFE, comment) + _segment(0xDB, dqt) + _segment(0xC0, sof)
            + _segment(0xC4, dht) + _segment(0xDA, sos) + writer.flush() + EOI)


def read_text(jpeg: bytes) -> dict[str, str]:
    """{"Content": the COM segment} of a JPEG made by `code_image` (the PNG helper's shape, for the tests)."""
    if not jpeg.startswith(SOI):
        raise ValueError("not a JPEG")
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        (length,) = struct.unpack(">H", jpeg[pos + 2:pos + 4])
        if marker == 0xFE:
            return {"Content": jpeg[pos + 4:pos + 2 + length].decode("utf-8")}
        if marker == 0xDA:
            break
        pos += 2 + length
    return {}
