"""The computational graphs drawn: the figure shows every node's name, operation, value and gradient, and the
backward pass on the edges; it goes to PNG files, the report and TensorBoard."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course.labs import graph_figures as gf
from numpy_ops import graph, graph_examples

REPO = Path(__file__).resolve().parents[1]


def test_sigmoid_neuron_figure_shows_the_lectures_table():
    texts = gf.node_texts(gf.figure_for("sigmoid_neuron"))
    assert texts["node:h6"] == "h6 [/]\nvalue 0.5\ngrad 1"
    assert texts["node:w"] == "w [input]\nvalue 0\ngrad 0.25"    # sigma'(0) x
    assert texts["node:x"] == "x [input]\nvalue 1\ngrad 0"       # sigma'(0) w
    assert texts["node:h4"] == "h4 [exp]\nvalue 1\ngrad -0.25"
    # the backward pass on the edges: dh6/dh5 = -1/h5^2 = -0.25 reaches h5, then flows on to h1 and w
    assert texts["edge:h5<-h6"] == "-0.25" and texts["edge:w<-h1"] == "0.25" and texts["edge:x<-h1"] == "0"


def test_quadratic_figure_values_and_gradients():
    texts = gf.node_texts(gf.figure_for("quadratic"))
    assert texts["node:f"].endswith("value 42\ngrad 1")
    assert texts["node:x"] == "x [input]\nvalue 3\ngrad 24"     # 2xy
    assert texts["node:y"] == "y [input]\nvalue 4\ngrad 10"     # x^2 + 1
    # y feeds two nodes: each edge carries part of its gradient (x^2 = 9 and 1)
    assert texts["edge:y<-n2"] == "9" and texts["edge:y<-n3"] == "1"


def test_lab_figure_has_every_named_node_with_the_engines_numbers():
    fig = gf.figure_for("lab_y1")
    texts = gf.node_texts(fig)
    leaves, nodes = graph_examples.build_named_graph(graph_examples.lab_function, x1=2.0, x2=1.0, x3=3.0)
    grads = graph.backward(nodes["y1"])
    in_graph = {id(n) for n in graph.topological_order(nodes["y1"])}
    for name, node in {**leaves, **nodes}.items():
        if id(node) not in in_graph:
            assert f"node:{name}" not in texts  # y2 and v3 only lead to y2
            continue
        text = texts[f"node:{name}"]
        assert f"value {float(node.value):.4g}" in text and f"grad {float(grads[node]) + 0.0:.4g}" in text, text
    assert "node:y2" not in texts and "node:v3" not in texts
    assert texts["node:x1"] == "x1 [input]\nvalue 2\ngrad 45.25"  # the lab's J^T[0, 0] = 45.248


def test_array_figure_summarises_arrays():
    texts = gf.node_texts(gf.figure_for("array"))
    assert texts["node:z"] == "z [input]\nvalue 2x3 all 1\ngrad 2x3 all 1"  # dc/dz = 1
    assert texts["node:x"] == "x [input]\nvalue 2x3 sum 21\ngrad 2x3 all 0.5"  # dc/dx = y = 0.5
    assert texts["node:c"] == "c [sum]\nvalue 16.5\ngrad 1"


def test_the_script_draws_pngs(tmp_path):
    done = subprocess.run([sys.executable, "scripts/jacobian.py", "--draw", str(tmp_path), "--tensorboard",
                           str(tmp_path / "tb")], cwd=REPO,
                          capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "",
                                                               "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert written == sorted(f"graph_{k}.png" for k in gf.GRAPHS)
    assert all((tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in written)
    assert "logged graph/lab_y1" in done.stdout and list((tmp_path / "tb").glob("events.out.tfevents.*"))


def test_tensorboard_gets_every_graph(tmp_path):
    SummaryWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    writer = SummaryWriter(tmp_path)
    tags = gf.log_to_tensorboard(writer, step=3)
    writer.close()
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert sorted(events.Tags()["images"]) == sorted(tags) == sorted(f"graph/{k}" for k in gf.GRAPHS)
    image = events.Images("graph/sigmoid_neuron")[0]
    assert image.step == 3 and image.width > 200


def test_report_section_adds_one_figure_per_graph(tmp_path):
    from lightning_ffnn.labs.report import Section

    s = Section("1.2", "graphs", tmp_path)
    gf.graph_section(s)
    assert s.n_figures == len(gf.GRAPHS)
    assert all((tmp_path / "figures" / f"1_2_graph_{k}.png").is_file() for k in gf.GRAPHS)
    assert "backward pass" in s.blocks[0]


def test_fmt_and_layout():
    assert gf.fmt(np.float64(-0.0)) == "0" and gf.fmt(np.array([[1.0, 2.0]])) == "1x2 sum 3"
    x = graph.Node(1.0, name="x")
    y = (x * 2).named("y")
    pos = gf.layout(graph.topological_order(y))
    assert pos[id(x)][0] == 0 and pos[id(y)][0] == 1
