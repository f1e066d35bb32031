"""A portable deflate encoder and fixed gzip framing, for deterministic layers.

zlib-ng and madler zlib produce different bytes at the same level, so a
layer gzipped by the interpreter's zlib would get another digest on another
machine. This encoder's output is a function of the input alone.
"""

from __future__ import annotations

import bisect
import struct
import zlib

from .._model.mediatypes import GZIP_MAGIC

__all__ = ["gzip_bytes"]

# One block with the fixed Huffman codes of RFC 1951 section 3.2.6 and greedy
# LZ77 matching. It compresses worse than zlib, but its output is a function
# of the input alone, which is the point.

_LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99]
_LEN_BASE += [115, 131, 163, 195, 227, 258]
_LEN_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
_DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769]
_DIST_BASE += [1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
_DIST_EXTRA = [0, 0, 0, 0] + [i // 2 for i in range(2, 28)]
_WINDOW = 32768
_MIN_MATCH, _MAX_MATCH = 3, 258
_CHAIN = 16  # candidates tried per position: bounded work, deterministic result


def _reverse_bits(code: int, nbits: int) -> int:
    out = 0
    for _ in range(nbits):
        out = (out << 1) | (code & 1)
        code >>= 1
    return out


def _fixed_litlen_codes() -> list[tuple[int, int]]:
    codes: list[tuple[int, int]] = []
    for sym in range(288):
        if sym < 144:
            code, n = 0x30 + sym, 8
        elif sym < 256:
            code, n = 0x190 + sym - 144, 9
        elif sym < 280:
            code, n = sym - 256, 7
        else:
            code, n = 0xC0 + sym - 280, 8
        # Huffman codes go MSB first into an LSB-first bit stream.
        codes.append((_reverse_bits(code, n), n))
    return codes


_LITLEN = _fixed_litlen_codes()
_DIST_CODES = [_reverse_bits(i, 5) for i in range(30)]
_LEN_SYMBOL = [0] * (_MAX_MATCH + 1)
for _length in range(_MIN_MATCH, _MAX_MATCH + 1):
    _LEN_SYMBOL[_length] = bisect.bisect_right(_LEN_BASE, _length) - 1
_LEN_SYMBOL[_MAX_MATCH] = len(_LEN_BASE) - 1


def _deflate_portable(data: bytes) -> bytes:
    out = bytearray()
    bitbuf = 0
    bitcount = 0

    def put(value: int, nbits: int) -> None:
        nonlocal bitbuf, bitcount
        bitbuf |= value << bitcount
        bitcount += nbits
        while bitcount >= 8:
            out.append(bitbuf & 0xFF)
            bitbuf >>= 8
            bitcount -= 8

    put(1, 1)  # BFINAL
    put(1, 2)  # BTYPE 01: fixed Huffman codes
    heads: dict[bytes, list[int]] = {}
    n = len(data)
    i = 0
    while i < n:
        best_len = 0
        best_dist = 0
        if i + _MIN_MATCH <= n:
            key = data[i : i + _MIN_MATCH]
            chain = heads.get(key)
            if chain:
                limit = min(_MAX_MATCH, n - i)
                for cand in reversed(chain):
                    dist = i - cand
                    if dist > _WINDOW:
                        break
                    length = _MIN_MATCH
                    while length < limit and data[cand + length] == data[i + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_dist = length, dist
                        if length == limit:
                            break
                chain.append(i)
                if len(chain) > _CHAIN:
                    del chain[0]
            else:
                heads[key] = [i]
        if best_len >= _MIN_MATCH:
            idx = _LEN_SYMBOL[best_len]
            code, nbits = _LITLEN[257 + idx]
            put(code, nbits)
            if _LEN_EXTRA[idx]:
                put(best_len - _LEN_BASE[idx], _LEN_EXTRA[idx])
            didx = bisect.bisect_right(_DIST_BASE, best_dist) - 1
            put(_DIST_CODES[didx], 5)
            if _DIST_EXTRA[didx]:
                put(best_dist - _DIST_BASE[didx], _DIST_EXTRA[didx])
            i += best_len
        else:
            code, nbits = _LITLEN[data[i]]
            put(code, nbits)
            i += 1
    code, nbits = _LITLEN[256]  # end of block
    put(code, nbits)
    if bitcount:
        out.append(bitbuf & 0xFF)
    return bytes(out)


def _deflate_stored(data: bytes) -> bytes:
    """Deflate "stored" blocks: no compression, fast, and the same bytes everywhere.

    zlib's own level 0 changed its block sizes between releases, so the
    blocks are framed here (at most 65,535 bytes each, RFC 1951 3.2.4).
    """
    out = bytearray()
    step = 0xFFFF
    for start in range(0, max(len(data), 1), step):
        chunk = data[start : start + step]
        final = 1 if start + step >= len(data) else 0
        out += struct.pack("<BHH", final, len(chunk), len(chunk) ^ 0xFFFF) + chunk
    return bytes(out)


def gzip_bytes(data: bytes, compresslevel: int | None) -> bytes:
    """Gzip framing, the same bytes on every OS; ``None`` uses the portable encoder."""
    if compresslevel is None:
        body = _deflate_portable(data)
    elif compresslevel == 0:
        body = _deflate_stored(data)
    else:
        comp = zlib.compressobj(compresslevel, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = comp.compress(data) + comp.flush()
    # Header written by hand so it is identical on every OS: no name, mtime 0,
    # XFL 0, OS 255 ("unknown") rather than the host's OS code.
    header = GZIP_MAGIC + b"\x08\x00" + struct.pack("<I", 0) + b"\x00\xff"
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + body + trailer
