"""The one exception the data readers raise: a message for a person, naming what, where and what was expected."""

from __future__ import annotations

from os import PathLike
from pathlib import Path


class DataError(ValueError):
    """A data file or data directory that cannot be used as it is.

    The message always names the file (and the line, where there is one), what was expected and what was found,
    and, where it helps, what to do about it. The parts are kept as attributes so tests and callers can check them.

    Args:
        path: the file or directory at fault.
        problem: what is wrong, e.g. "wrong number of values".
        line: 1-based line number in a text file, or None.
        expected: what the reader expected there.
        found: what it found (shortened to 60 characters).
        hint: what to do about it.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        problem: str,
        *,
        line: int | None = None,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.expected = expected
        self.found = found
        self.hint = hint
        where = self.path if line is None else f"{self.path}, line {line}"
        parts = [f"{where}: {problem}"]
        if expected is not None:
            parts.append(f"expected {expected}")
        if found is not None:
            parts.append(f"found {_shorten(found)}")
        message = "; ".join(parts)
        if hint is not None:
            message += f". {hint}"
        super().__init__(message)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_bytes(path: str | PathLike[str], what: str) -> bytes:
    """Return the whole content of `path`, or raise DataError for a missing, non-regular, unreadable or empty file.

    `what` describes the file for the message, e.g. "OCR letters CSV".
    """
    p = Path(path)
    if not p.exists():
        raise DataError(p, f"no such file (the {what})", expected="an existing file")
    if p.is_dir():
        raise DataError(p, "is a directory", expected=f"a file (the {what})")
    if not p.is_file():  # a FIFO or device would block or stream forever
        raise DataError(p, "is not a regular file", expected=f"a file (the {what})")
    try:
        data = p.read_bytes()
    except OSError as err:  # permission denied, a FIFO that fails, an I/O error
        raise DataError(p, f"cannot be read ({err.strerror or err})", expected=f"a readable file (the {what})") from None
    if not data:
        raise DataError(p, "file is empty", expected=f"the {what}")
    return data


def decode_text(data: bytes, path: str | PathLike[str], what: str) -> str:
    """Decode `data` as ASCII/UTF-8 text, or raise DataError naming the line of the first byte that is not text."""
    bad = data.find(b"\x00")
    if bad < 0:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as err:
            bad = err.start
    line = data.count(b"\n", 0, bad) + 1
    raise DataError(
        path, "not a text file (binary content)", line=line, expected=f"the {what} as plain text",
        found=f"byte 0x{data[bad]:02x} at offset {bad}",
    )
