"""A synthetic stand-in for the OCR letters, for users without the course handout's files.

The ten letters a e g i l n o r t u are taken from the fonts that matplotlib ships (DejaVu Sans, Serif and Sans
Mono, STIX, each upright and slanted, regular and bold: 16 faces), put through a random scale, shift, rotation,
shear and stroke width, and binarised on the handout's 16x8 grid, in the handout's sizes. Deterministic by seed
(for one matplotlib version: the glyph outlines come from its fonts).

How, and why this way: each glyph outline is turned once into a signed distance field (SDF) on a fine grid in font
units and cached. A sample is then a few array lookups: map the 16x8 grid (3x3 points per pixel) back through its
random affine map into font units, read the SDF there, and call a point ink when it lies inside the outline grown
by the stroke width. All samples go through one vectorised pass: the glyph table takes ~1 s once per process,
then 10 000 letters another ~1 s (measured on the 2-core dev machine).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .ocr_format import IMAGE_SHAPE, LETTERS, SIZES, check_size

FACES = (
    "DejaVuSans", "DejaVuSans-Oblique", "DejaVuSans-Bold", "DejaVuSans-BoldOblique",
    "DejaVuSerif", "DejaVuSerif-Italic", "DejaVuSerif-Bold", "DejaVuSerif-BoldItalic",
    "DejaVuSansMono", "DejaVuSansMono-Oblique", "DejaVuSansMono-Bold", "DejaVuSansMono-BoldOblique",
    "STIXGeneral", "STIXGeneralItalic", "STIXGeneralBol", "STIXGeneralBolIta",
)

# The glyph frame, in em units: baseline at y=0. The SDF grid covers it with margin for the thickest stroke.
_GRID_STEP = 0.02
_X_RANGE = (-0.15, 0.85)
_Y_RANGE = (-0.40, 0.95)
_OUTSIDE = 0.1  # SDF value beyond the grid: far outside every glyph

# Placement on the 16x8 grid (pixel units, y down), chosen by looking at the handout's letters: the x-height spans
# about 8-9 rows with the baseline near row 12, ascenders reach row 0-1, descenders row 15, and letters fill the
# width.
_BASELINE_ROW = 12.3
_X_HEIGHT_PX = 9.0
_MAX_INK_WIDTH_PX = 7.6
_SUPERSAMPLE = 3


@functools.cache
def glyph_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The glyphs of every face and letter, computed once per process.

    Returns:
        sdf: float32 (n_faces, 10, H, W), signed distance (em) to the outline, positive inside; row 0 is y_min.
        x_height: float64 (n_faces,), the height of the face's 'x' (em).
        ink_box: float64 (n_faces, 10, 4), x0, x1, y0, y1 of each glyph's outline (em).
    """
    import matplotlib
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    font_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    gx = np.arange(_X_RANGE[0], _X_RANGE[1], _GRID_STEP)
    gy = np.arange(_Y_RANGE[0], _Y_RANGE[1], _GRID_STEP)
    points = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2).astype(np.float32)
    sdf = np.empty((len(FACES), len(LETTERS), len(gy), len(gx)), dtype=np.float32)
    x_height = np.empty(len(FACES))
    ink_box = np.empty((len(FACES), len(LETTERS), 4))
    for f, face in enumerate(FACES):
        prop = FontProperties(fname=font_dir / f"{face}.ttf")
        x_height[f] = TextPath((0, 0), "x", size=1, prop=prop).get_extents().y1
        for k, letter in enumerate(LETTERS):
            # Outlines at size 100, scaled down: curves are flattened to within ~1/100 of a unit.
            polygons = [p / 100.0 for p in TextPath((0, 0), letter, size=100, prop=prop).to_polygons()]
            a = np.concatenate([p[:-1] for p in polygons]).astype(np.float32)
            b = np.concatenate([p[1:] for p in polygons]).astype(np.float32)
            ink_box[f, k] = a[:, 0].min(), a[:, 0].max(), a[:, 1].min(), a[:, 1].max()
            sdf[f, k] = _signed_distance(points, a, b).reshape(len(gy), len(gx))
    return sdf, x_height, ink_box


def _stroke_widths(sdf: np.ndarray, ink_box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per face (em): the stem width (twice the deepest point of 'l') and the hairline width (the top of 'o')."""
    stem = 2 * sdf[:, LETTERS.index("l")].max(axis=(1, 2))
    k = LETTERS.index("o")
    hairline = np.empty(len(sdf))
    for f in range(len(sdf)):
        x0, x1, y0, y1 = ink_box[f, k]
        col = int(round(((x0 + x1) / 2 - _X_RANGE[0]) / _GRID_STEP))
        top = int(round(((y0 + y1) / 2 - _Y_RANGE[0]) / _GRID_STEP))
        hairline[f] = 2 * sdf[f, k, top:, col - 1 : col + 2].max()  # three columns: the grid is coarse
    return stem, np.minimum(hairline, stem)


def _signed_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each point (P, 2) to the nearest edge a->b (E, 2), positive inside (even-odd rule)."""
    ab = b - a
    length2 = np.maximum((ab**2).sum(1), 1e-12)
    px, py = points[:, :1], points[:, 1:]
    t = np.clip(((px - a[:, 0]) * ab[:, 0] + (py - a[:, 1]) * ab[:, 1]) / length2, 0.0, 1.0)
    dist = np.sqrt((px - a[:, 0] - t * ab[:, 0]) ** 2 + (py - a[:, 1] - t * ab[:, 1]) ** 2).min(1)
    # Even-odd ray casting to +x: an edge is crossed when it straddles the point's y and lies right of the point.
    straddles = (a[:, 1] > py) != (b[:, 1] > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = a[:, 0] + (py - a[:, 1]) * ab[:, 0] / ab[:, 1]
    inside = (straddles & (px < x_cross)).sum(1) % 2 == 1
    return np.where(inside, dist, -dist)


def render_letters(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one random instance of each letter in `labels` (int (N,), 0-9).

    Returns uint8 (N, 128): pixels 0/1 of 16x8 images in row-major order, as in the handout's files.
    """
    sdf, x_height, ink_box = glyph_table()
    stem_width, hairline_width = _stroke_widths(sdf, ink_box)
    n = len(labels)
    face = rng.integers(len(FACES), size=n)
    scale = rng.uniform(0.8, 1.08, size=n)
    aspect = rng.uniform(0.85, 1.2, size=n)
    rotation = np.deg2rad(rng.uniform(-10.0, 10.0, size=n))
    shear = rng.uniform(-0.3, 0.3, size=n)
    shift = rng.uniform(-0.8, 0.8, size=(n, 2))
    stroke_px = rng.uniform(0.9, 1.7, size=n)  # width of the main strokes, whatever the face's weight

    box = ink_box[face, labels]  # (N, 4)
    # Forward map, em -> pixels (y down): scale by the x-height, narrow letters that would not fit the width,
    # then shear, rotate about the centre of the x-height band, and shift:
    #     pixel = M @ (em - centre_em) + centre_px + shift,   M = R(rotation) @ [[1, shear], [0, 1]] @ diag(sx, -sy)
    sy = scale * _X_HEIGHT_PX / x_height[face]
    sx = np.minimum(sy * aspect, _MAX_INK_WIDTH_PX / np.maximum(box[:, 1] - box[:, 0], 1e-3))
    centre_em = np.stack([(box[:, 0] + box[:, 1]) / 2, x_height[face] / 2], axis=1)
    centre_px = np.array([IMAGE_SHAPE[1] / 2, _BASELINE_ROW - _X_HEIGHT_PX / 2]) + shift
    cos, sin = np.cos(rotation), np.sin(rotation)
    m00, m01 = cos * sx, (sin - cos * shear) * sy
    m10, m11 = sin * sx, -(sin * shear + cos) * sy
    det = m00 * m11 - m01 * m10
    inverse = np.stack([m11, -m01, -m10, m00], axis=1).reshape(n, 2, 2) / det[:, None, None]
    px_per_em = np.sqrt(np.abs(det))
    # Grow (or shrink) the outline all round so that the face's stem comes out stroke_px wide.
    # ... but never so thin that the face's hairlines (the top of its 'o') drop below a pixel and break up.
    stroke = np.maximum(stroke_px - stem_width[face] * px_per_em, 1.0 - hairline_width[face] * px_per_em) / 2

    table = face * len(LETTERS) + labels
    out = np.empty((n, IMAGE_SHAPE[0] * IMAGE_SHAPE[1]), dtype=np.uint8)
    for lo in range(0, n, _CHUNK):  # chunks bound the memory of the (chunk, 1152) sample-point arrays
        hi = min(lo + _CHUNK, n)
        out[lo:hi] = _rasterise(sdf, table[lo:hi], inverse[lo:hi], centre_em[lo:hi], centre_px[lo:hi],
                                px_per_em[lo:hi], stroke[lo:hi])
    return out


_CHUNK = 1024


def _rasterise(sdf, table, inverse, centre_em, centre_px, px_per_em, stroke) -> np.ndarray:
    """Pixels (n, 128) uint8 of n glyphs, given each one's SDF index and inverse affine map (n, 2, 2)."""
    n = len(table)
    h, w = IMAGE_SHAPE
    offsets = (np.arange(_SUPERSAMPLE) + 0.5) / _SUPERSAMPLE
    ys = (np.arange(h)[:, None] + offsets).ravel()
    xs = (np.arange(w)[:, None] + offsets).ravel()
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)  # (S, 2) as (x, y), row-major over the image
    rx = (grid[None, :, 0] - centre_px[:, 0:1]).astype(np.float32)  # (n, S)
    ry = (grid[None, :, 1] - centre_px[:, 1:2]).astype(np.float32)
    inv = inverse.astype(np.float32)
    ex = inv[:, 0, 0:1] * rx + inv[:, 0, 1:2] * ry + centre_em[:, 0:1].astype(np.float32)
    ey = inv[:, 1, 0:1] * rx + inv[:, 1, 1:2] * ry + centre_em[:, 1:2].astype(np.float32)

    # Bilinear read of the SDF at those points. The table has a border of "outside" cells, and coordinates are
    # clamped into the bordered grid, so points off the grid read as outside without any masking.
    gh, gw = sdf.shape[2:]
    gx = np.clip((ex - _X_RANGE[0]) / _GRID_STEP + 1, 0, gw + 1 - 1e-3)
    gy = np.clip((ey - _Y_RANGE[0]) / _GRID_STEP + 1, 0, gh + 1 - 1e-3)
    x0 = gx.astype(np.int64)
    y0 = gy.astype(np.int64)
    fx, fy = gx - x0, gy - y0
    flat = np.pad(sdf, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-_OUTSIDE).reshape(-1, (gh + 2) * (gw + 2))
    index = y0 * (gw + 2) + x0
    rows = table[:, None]
    v00 = flat[rows, index]
    v01 = flat[rows, index + 1]
    v10 = flat[rows, index + gw + 2]
    v11 = flat[rows, index + gw + 3]
    value = (1 - fy) * ((1 - fx) * v00 + fx * v01) + fy * ((1 - fx) * v10 + fx * v11)
    ink = value * px_per_em[:, None] > -stroke[:, None]  # inside the outline grown by the stroke (pixels)
    coverage = ink.reshape(n, h, _SUPERSAMPLE, w, _SUPERSAMPLE).mean(axis=(2, 4))
    return (coverage >= 0.34).reshape(n, h * w).astype(np.uint8)


def make_synthetic_set(n: int, seed: int | list[int] = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` random letters, the ten classes as equal as `n` allows, in random order, deterministic by `seed`.

    Returns X uint8 (n, 128) pixels 0/1, y int64 (n,) labels 0-9.
    """
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(LETTERS)).astype(np.int64)
    return render_letters(y, rng), y


def make_synthetic_ocr(size: str = "small", seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The stand-in for {size}Train.csv and {size}Validation.csv: (X_train, y_train, X_test, y_test).

    Same row counts as the handout (small 500/100, medium 5000/1000, large 9000/1000); train and test come from
    independent random streams of `seed`.
    """
    check_size(size)
    n_train, n_test = SIZES[size]
    X_train, y_train = make_synthetic_set(n_train, [seed, 0])
    X_test, y_test = make_synthetic_set(n_test, [seed, 1])
    return X_train, y_train, X_test, y_test


def write_ocr_csv(path: str | Path, X: np.ndarray, y: np.ndarray) -> None:
    """Write a set in the handout's format (no header, label then 128 pixels, LF line endings)."""
    rows = np.column_stack([np.asarray(y, dtype=np.int64), np.asarray(X, dtype=np.int64)])
    np.savetxt(path, rows, fmt="%d", delimiter=",")
