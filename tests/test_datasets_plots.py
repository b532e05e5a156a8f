"""The data figures: built without pyplot, titled with letters, and saying SYNTHETIC when the data is."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course.datasets import LETTERS, make_flower, make_sine
from course.datasets.plots import ocr_samples_figure, points_2d_figure, scatter_1d_figure


def test_ocr_grid_titles_are_the_letters_and_synthetic_is_said(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 2, (50, 128)), rng.integers(0, 10, 50)
    fig = ocr_samples_figure(X, y, n=10, seed=3, synthetic=True)
    assert isinstance(fig, Figure) and "SYNTHETIC" in fig.get_suptitle()
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert len(titles) == 10 and all(t.strip("'") in LETTERS for t in titles)
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (16, 8)
    fig.savefig(tmp_path / "ocr.png")
    assert "SYNTHETIC" not in ocr_samples_figure(X, y).get_suptitle()


def test_scatter_and_points_figures(tmp_path):
    data = make_sine(50, 10)
    fig = scatter_1d_figure(data, title="sine", synthetic=True)
    assert "SYNTHETIC" in fig.axes[0].get_title() and len(fig.axes[0].collections) == 2
    X, y = make_flower()
    fig2 = points_2d_figure(X, y, title="flower")
    assert len(fig2.axes[0].collections) == 2 and "SYNTHETIC" not in fig2.axes[0].get_title()
    fig.savefig(tmp_path / "a.png")
    fig2.savefig(tmp_path / "b.png")


def test_datasets_package_never_imports_torch_or_lightning():
    """The pure-NumPy labs import course.datasets: it must not pull PyTorch in."""
    import subprocess
    import sys

    code = ("import sys, course.datasets, course.datasets.plots, course.datasets.synthetic_ocr;"
            "bad = [m for m in ('torch', 'lightning') if m in sys.modules]; assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_long_data_source_stays_inside_the_figure_and_names_no_machine_path():
    X = np.random.default_rng(0).integers(0, 2, (20, 128))
    source = "real handout files from /srv/teaching/2026/neural-networks/course-material/handout/data/ocr"
    fig = ocr_samples_figure(X, np.arange(20) % 10, source=source, title="OCR letters (small): 10 random samples")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    width = fig.bbox.width
    titles = [t for t in [fig._suptitle, *(ax.title for ax in fig.axes)] if t is not None and t.get_text()]
    assert any(".../data/ocr" in t.get_text() for t in titles) and not any("/srv/" in t.get_text() for t in titles)
    for t in titles:
        box = t.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= width, (t.get_text(), box.x0, box.x1, width)


def test_wrap_title_breaks_long_lines_only():
    from course.datasets.plots import wrap_title

    assert wrap_title("short\nlines") == "short\nlines"
    long = "Adam + Kaiming as reported (gradients / N again, no bias correction, nn.Linear biases)"
    assert all(len(line) <= 60 for line in wrap_title(long).split("\n")) and wrap_title(long).replace("\n", " ") == long
