"""The teacher's copy of every lab's notebook runs top to bottom (nbclient, small settings), and a completed lab
3.2 handout trains the OCR network to the same numbers as the project's own ops."""

from __future__ import annotations

import json
import os

import pytest

from course.kit.build import ROOT, build
from course.kit.labs import LABS

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK_LABS = [lab.name for lab in LABS if lab.notebook]
#: The training cells' epochs in the test (the notebooks' default is 60).
EPOCHS = 3


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    base = tmp_path_factory.mktemp("teacher")
    return {lab: build(lab, base / lab, solutions=True) for lab in NOTEBOOK_LABS}


def execute(folder, lab):
    path = folder / "notebooks" / f"{lab}.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    old = os.environ.get("KIT_EPOCHS")
    os.environ["KIT_EPOCHS"] = str(EPOCHS)  # the kernel inherits the environment
    try:
        client.execute()
    finally:
        if old is None:
            os.environ.pop("KIT_EPOCHS")
        else:
            os.environ["KIT_EPOCHS"] = old
    return nb


def outputs(nb) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.slow
@pytest.mark.parametrize("lab", [lab for lab in NOTEBOOK_LABS if lab not in ("lab32", "lab33")])
def test_teacher_notebook_runs_and_every_check_passes(teacher, lab):
    text = outputs(execute(teacher[lab], lab))
    assert "FAIL" not in text and "NOT IMPLEMENTED" not in text
    assert text.count(": PASS") == len(next(x for x in LABS if x.name == lab).tasks)


@pytest.mark.slow
@pytest.mark.parametrize("lab", ["lab32", "lab33"])
def test_training_notebook_runs_with_the_students_ops(teacher, lab):
    nb = execute(teacher[lab], lab)
    text = outputs(nb)
    assert "FAIL" not in text and "NOT IMPLEMENTED" not in text
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "the curves are shown"


@pytest.mark.slow
def test_completed_lab32_handout_trains_to_the_project_numbers(teacher, tmp_path, monkeypatch):
    """The notebook's run in the completed handout (its own copy of the framework, the handout's ops) and the
    same run in the project give the same final losses and accuracies."""
    handout = teacher["lab32"]
    results_file = handout / "lab32_results.json"
    if not results_file.exists():
        execute(handout, "lab32")
    theirs = json.loads(results_file.read_text())
    from lightning_ffnn.cli import run
    from lightning_ffnn.labs.notebook import fit_args

    monkeypatch.chdir(ROOT)
    ours = run(fit_args("configs/ocr_small.yaml", EPOCHS, "uniform", save_dir=str(tmp_path)))
    assert ours["final"] == theirs
    assert 0 < theirs["train/loss"] < 10 and set(theirs) >= {"train/accuracy", "test/accuracy"}
