"""The messages between the grader and a submission's process: a JSON header and raw arrays, nothing else.

One message on a pipe is::

    8 bytes: length of the header (big-endian)      header: UTF-8 JSON, {"arrays": [[dtype, shape], ...], ...}
    then per array: its raw bytes (C order), as many as dtype and shape say

No pickle crosses the pipe, only JSON and the bytes of numeric arrays (a dtype string such as ``"<f8"``, checked
to be a bool, integer or float type), so a submission's process can send only numbers and text, never an object
the grader would run. The reader caps every length (`MAX_BYTES`), so a garbled or hostile stream ends in
`FramingError`, not in an allocation of its choosing. (np.save's format would do as well; it costs a header
parse per array, and a check sends thousands.)

This file is copied beside the child runner (`course.grading.child`), whose import path holds nothing of the
project: it imports only the standard library and NumPy.
"""

from __future__ import annotations

import json
import os
import select
import time

import numpy as np

#: The largest header or array one message may hold (bytes).
MAX_BYTES = 256 * 2**20
_LEN = 8
_KINDS = "biuf"


class FramingError(Exception):
    """The stream does not hold a well-formed message (truncated, too long, not JSON, not an array)."""


class Timeout(Exception):
    """No complete message before the deadline."""


def encode(header: dict, arrays=()) -> bytes:
    """One message: ``header`` (JSON-able) and the arrays (numeric; any other dtype raises ValueError)."""
    arrays = [np.asarray(a) for a in arrays]  # tobytes() writes C order whatever the strides
    for a in arrays:
        if a.dtype.kind not in _KINDS:
            raise ValueError(f"an array of dtype {a.dtype} cannot be sent (numbers only)")
    body = json.dumps(dict(header, arrays=[[a.dtype.str, list(a.shape)] for a in arrays])).encode()
    return b"".join([len(body).to_bytes(_LEN, "big"), body, *(a.tobytes() for a in arrays)])


def write_all(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Write every byte; with a ``deadline`` the fd must be non-blocking, and a reader that stops reading
    ends in `Timeout` instead of a writer blocked for ever."""
    view = memoryview(data)
    while view:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([], [fd], [], wait)[1]:
                raise Timeout("the other end stopped reading")
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            continue


def send(fd: int, header: dict, arrays=(), deadline: float | None = None) -> None:
    write_all(fd, encode(header, arrays), deadline)


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise Timeout(f"no answer before the deadline ({n - left} of {n} bytes read)")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_length(fd: int, deadline: float | None) -> int:
    n = int.from_bytes(_read_exact(fd, _LEN, deadline), "big")
    if n > MAX_BYTES:
        raise FramingError(f"a message part of {n} bytes (at most {MAX_BYTES})")
    return n


def _layout(spec) -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, shape, bytes) of one array's description, or FramingError."""
    try:
        dtype, shape = np.dtype(str(spec[0])), tuple(int(n) for n in spec[1])
    except (TypeError, ValueError, IndexError):
        raise FramingError(f"an array description {str(spec)[:80]!r}") from None
    if dtype.kind not in _KINDS or dtype.hasobject or any(n < 0 for n in shape) or len(shape) > 32:
        raise FramingError(f"an array of dtype {dtype} and shape {shape} (numbers only)")
    size = dtype.itemsize * int(np.prod(shape, dtype=np.float64))
    if size > MAX_BYTES:
        raise FramingError(f"an array of {size} bytes (at most {MAX_BYTES})")
    return dtype, shape, size


def receive(fd: int, deadline: float | None = None) -> tuple[dict, list[np.ndarray]]:
    """The next message: (header, arrays). EOFError when the writer is gone, Timeout after ``deadline``
    (a `time.monotonic()` value; None waits for ever), FramingError for anything malformed."""
    raw = _read_exact(fd, _read_length(fd, deadline), deadline)
    try:
        header = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError):
        raise FramingError("the header is not JSON") from None
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), list) or len(header["arrays"]) > 64:
        raise FramingError("the header is not an object with a list of arrays")
    layouts = [_layout(spec) for spec in header.pop("arrays")]
    if sum(size for *_, size in layouts) > MAX_BYTES:
        raise FramingError(f"arrays of more than {MAX_BYTES} bytes in all")
    return header, [np.frombuffer(_read_exact(fd, size, deadline), dtype).reshape(shape).copy()
                    for dtype, shape, size in layouts]
