"""G.711 µ-law (PCMU) and A-law (PCMA), vectorised with numpy lookup tables.

The tables are built once, at import, with array operations over every
possible input (65 536 linear samples, 256 code words); encoding, decoding
and transcoding are then single ``numpy.take`` calls, with no per-sample
Python loop.

The quantisation follows the classic Sun Microsystems ``g711.c`` reference
(also used by CPython's ``audioop``): µ-law works on the 14 most significant
bits, A-law on the 13 most significant bits of a 16-bit linear sample.

Linear audio is ``numpy.ndarray`` of ``int16`` (native byte order);
:func:`pcm16_from_bytes` / :func:`pcm16_to_bytes` convert to and from
little-endian 16-bit PCM bytes.  Encoded audio is ``bytes`` (one byte per
sample).  Any byte string is a valid G.711 payload, so decoding never
raises.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALAW_SILENCE",
    "ULAW_SILENCE",
    "alaw_to_ulaw",
    "decode",
    "decode_alaw",
    "decode_ulaw",
    "encode",
    "encode_alaw",
    "encode_ulaw",
    "pcm16_from_bytes",
    "pcm16_to_bytes",
    "ulaw_to_alaw",
]

Int16Array = npt.NDArray[np.int16]
UInt8Array = npt.NDArray[np.uint8]

#: Encoded value of linear 0 (the "silence" byte) for each law.
ULAW_SILENCE: Final = 0xFF
ALAW_SILENCE: Final = 0xD5

_ULAW_SEG_END: Final = np.array(
    [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32
)
_ALAW_SEG_END: Final = np.array(
    [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF], dtype=np.int32
)
_ULAW_BIAS: Final = 0x84
_ULAW_CLIP: Final = 8159


def _all_linear() -> npt.NDArray[np.int32]:
    """Every int16 value, ordered by its uint16 bit pattern (the table index)."""
    return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)


def _build_ulaw_encode() -> UInt8Array:
    pcm = _all_linear() >> 2  # 14-bit
    negative = pcm < 0
    mask = np.where(negative, 0x7F, 0xFF)
    mag = np.minimum(np.where(negative, -pcm, pcm), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    seg = np.searchsorted(_ULAW_SEG_END, mag, side="left").astype(np.int32)
    safe_seg = np.minimum(seg, 7)
    uval = (safe_seg << 4) | ((mag >> (safe_seg + 1)) & 0xF)
    out = np.where(seg >= 8, 0x7F ^ mask, uval ^ mask)
    return out.astype(np.uint8)


def _build_ulaw_decode() -> Int16Array:
    u = (~np.arange(256, dtype=np.int32)) & 0xFF
    t = ((u & 0x0F) << 3) + _ULAW_BIAS
    t = t << ((u & 0x70) >> 4)
    out = np.where((u & 0x80) != 0, _ULAW_BIAS - t, t - _ULAW_BIAS)
    return out.astype(np.int16)


def _build_alaw_encode() -> UInt8Array:
    pcm = _all_linear() >> 3  # 13-bit
    negative = pcm < 0
    mask = np.where(negative, 0x55, 0xD5)
    mag = np.where(negative, -pcm - 1, pcm)
    seg = np.searchsorted(_ALAW_SEG_END, mag, side="left").astype(np.int32)
    safe_seg = np.minimum(seg, 7)
    quant = np.where(safe_seg < 2, (mag >> 1) & 0xF, (mag >> safe_seg) & 0xF)
    aval = (safe_seg << 4) | quant
    out = np.where(seg >= 8, 0x7F ^ mask, aval ^ mask)
    return out.astype(np.uint8)


def _build_alaw_decode() -> Int16Array:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, (t + 0x108) << np.maximum(seg - 1, 0))
    out = np.where((a & 0x80) != 0, t, -t)
    return out.astype(np.int16)


_ULAW_ENCODE: Final = _build_ulaw_encode()
_ULAW_DECODE: Final = _build_ulaw_decode()
_ALAW_ENCODE: Final = _build_alaw_encode()
_ALAW_DECODE: Final = _build_alaw_decode()
# Transcoding: decode with one law, re-encode with the other (as audioop would).
_ULAW_TO_ALAW: Final = _ALAW_ENCODE[_ULAW_DECODE.view(np.uint16)]
_ALAW_TO_ULAW: Final = _ULAW_ENCODE[_ALAW_DECODE.view(np.uint16)]
# the same transcoding tables for bytes.translate (no array per packet on the relay path)
_ULAW_TO_ALAW_BYTES: Final = _ULAW_TO_ALAW.astype(np.uint8).tobytes()
_ALAW_TO_ULAW_BYTES: Final = _ALAW_TO_ULAW.astype(np.uint8).tobytes()

for _table in (_ULAW_ENCODE, _ULAW_DECODE, _ALAW_ENCODE, _ALAW_DECODE, _ULAW_TO_ALAW, _ALAW_TO_ULAW):
    _table.flags.writeable = False
del _table


def _as_int16(samples: npt.ArrayLike) -> Int16Array:
    arr = np.asarray(samples)
    if arr.dtype != np.int16:
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"expected int16 samples, got dtype {arr.dtype}")
        arr = np.clip(arr, -32768, 32767).astype(np.int16)
    return arr.reshape(-1)


def _as_codes(data: bytes | bytearray | memoryview) -> UInt8Array:
    return np.frombuffer(data, dtype=np.uint8)


def pcm16_from_bytes(data: bytes | bytearray | memoryview) -> Int16Array:
    """Little-endian signed 16-bit PCM bytes -> int16 array (a copy).

    A trailing odd byte is ignored.
    """
    usable = len(data) - (len(data) % 2)
    return np.frombuffer(data, dtype="<i2", count=usable // 2).astype(np.int16)


def pcm16_to_bytes(samples: npt.ArrayLike) -> bytes:
    """int16 samples -> little-endian signed 16-bit PCM bytes."""
    return _as_int16(samples).astype("<i2").tobytes()


def encode_ulaw(samples: npt.ArrayLike) -> bytes:
    """Encode linear int16 samples to µ-law (PCMU) bytes.

    Integer inputs of other dtypes are saturated to the int16 range first.
    """
    return _ULAW_ENCODE.take(_as_int16(samples).view(np.uint16)).tobytes()


def decode_ulaw(data: bytes | bytearray | memoryview) -> Int16Array:
    """Decode µ-law (PCMU) bytes to linear int16 samples."""
    return _ULAW_DECODE.take(_as_codes(data))  # take(): 2-3x faster than fancy indexing


def encode_alaw(samples: npt.ArrayLike) -> bytes:
    """Encode linear int16 samples to A-law (PCMA) bytes."""
    return _ALAW_ENCODE.take(_as_int16(samples).view(np.uint16)).tobytes()


def decode_alaw(data: bytes | bytearray | memoryview) -> Int16Array:
    """Decode A-law (PCMA) bytes to linear int16 samples."""
    return _ALAW_DECODE.take(_as_codes(data))


def ulaw_to_alaw(data: bytes | bytearray | memoryview) -> bytes:
    """Transcode µ-law bytes to A-law bytes through a 256-entry table."""
    return (data if isinstance(data, bytes) else bytes(data)).translate(_ULAW_TO_ALAW_BYTES)


def alaw_to_ulaw(data: bytes | bytearray | memoryview) -> bytes:
    """Transcode A-law bytes to µ-law bytes through a 256-entry table."""
    return (data if isinstance(data, bytes) else bytes(data)).translate(_ALAW_TO_ULAW_BYTES)


def encode(encoding: str, samples: npt.ArrayLike) -> bytes:
    """Encode with the codec named as in SDP (``"PCMU"`` or ``"PCMA"``)."""
    name = encoding.upper()
    if name == "PCMU":
        return encode_ulaw(samples)
    if name == "PCMA":
        return encode_alaw(samples)
    raise ValueError(f"unsupported G.711 encoding: {encoding!r}")


def decode(encoding: str, data: bytes | bytearray | memoryview) -> Int16Array:
    """Decode with the codec named as in SDP (``"PCMU"`` or ``"PCMA"``)."""
    name = encoding.upper()
    if name == "PCMU":
        return decode_ulaw(data)
    if name == "PCMA":
        return decode_alaw(data)
    raise ValueError(f"unsupported G.711 encoding: {encoding!r}")
