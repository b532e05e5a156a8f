"""The OCR letters set's format, shared by the reader (`ocr`) and the synthetic stand-in (`synthetic_ocr`)."""

from __future__ import annotations

LETTERS = "aegilnortu"
N_PIXELS = 128
IMAGE_SHAPE = (16, 8)
SIZES: dict[str, tuple[int, int]] = {"small": (500, 100), "medium": (5000, 1000), "large": (9000, 1000)}
"""Rows of (Train, Validation) in the handout's files; the synthetic stand-in has the same sizes."""


def check_size(size: str) -> None:
    """Raise unless ``size`` is one of `SIZES`, naming the choices."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(map(repr, SIZES))}; got {size!r}")
