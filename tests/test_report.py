"""``scripts/report.py --quick``: one run of every lab into a temporary directory, then what the report promises.

The OCR data is whatever the environment gives (``LIGHTNING_FFNN_OCR_DIR`` is left as it is): the report must say
REAL or SYNTHETIC, and which one must match the files. One quick report takes about 30-45 s on two busy cores.
"""

import importlib.util
import re
from pathlib import Path

import pytest

from course.datasets.ocr import load_ocr
from lightning_ffnn.labs import report

REPO = Path(__file__).resolve().parents[1]
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")
HEADINGS = ["## 1. Lab 3.1", "## 2. Lab 3.2", "## 3. Lab 3.3", "## 4. ", "### 4.1 ", "### 4.2 ", "### 4.3 ",
            "### 4.4 ", "### 4.5 ", "## 5. ", "### 5.1 ", "### 5.2 ", "### 5.3 ", "## 6. "]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    result = report.build_report(report.Options(out_dir=out, quick=True), log=lambda line: None)
    return result, result.markdown.read_text(encoding="utf-8"), result.html.read_text(encoding="utf-8")


def section(md: str, number: str) -> str:
    """The text of section ``number`` ("2", "4.1"), up to the next heading of the same or a higher level."""
    level = "###" if "." in number else "##"
    start = md.index(f"{level} {number}{'' if '.' in number else '.'} ")
    nxt = re.compile(r"^#{2,%d} " % len(level), re.M).search(md, start + 1)
    return md[start:nxt.start() if nxt else len(md)]


def test_every_lab_section_is_there_numbered_and_in_order(quick):
    _, md, _ = quick
    positions = [md.find(h) for h in HEADINGS]
    assert -1 not in positions, [h for h, p in zip(HEADINGS, positions) if p < 0]
    assert positions == sorted(positions)
    assert md.startswith("# lightning-ffnn lab report") and "mode: --quick" in md


def test_no_lab_failed(quick):
    result, md, _ = quick
    assert result.failures == {}, result.failures
    assert "FAILED" not in md


def test_every_image_exists_and_every_saved_figure_is_referenced(quick):
    result, md, _ = quick
    out = result.markdown.parent
    refs = IMAGE.findall(md)
    assert len(refs) >= 20, refs
    assert len(set(refs)) == len(refs)
    for ref in refs:
        assert not Path(ref).is_absolute(), ref
        assert (out / ref).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", ref
    assert {(out / r).resolve() for r in refs} == {p.resolve() for p in (out / "figures").glob("*.png")}


def test_figures_and_tables_are_numbered_by_section(quick):
    _, md, _ = quick
    for number in ("2", "3", "4.1", "4.3", "5.2"):
        text = section(md, number)
        assert f"*Figure {number}.1.*" in text and f"**Table {number}.1.**" in text, number
    assert "*Figure 2.1.*" not in section(md, "3")


def test_lab31_table_has_the_lab_values(quick):
    _, md, _ = quick
    text = section(md, "1")
    assert "Y = [24.49047994  0.67661701]" in text and "| 24.49047994 | 0.67661701 |" in text
    assert "max |J_numpy - J_torch|" in text


def test_each_training_lab_states_its_data_source(quick):
    _, md, _ = quick
    ocr = section(md, "2")
    expected = "**SYNTHETIC**" if load_ocr("small").is_synthetic else "**REAL**"  # what this environment holds
    assert f"Data: {expected} -- small: " in ocr, ocr[:800]
    assert ocr.count(f"| {expected} |") == 2  # one row per backend
    assert re.search(r"Data: \*\*(REAL|SYNTHETIC)\*\* -- ", section(md, "3"))
    assert "Not run in --quick mode" in section(md, "6")  # the toy configs: see test_training_cli
    for number in ("4.1", "4.2", "4.3", "5.1", "5.2"):
        assert "Data: **GENERATED** -- " in section(md, number), number


def test_training_runs_give_their_settings_and_how_to_rerun(quick):
    _, md, _ = quick
    ocr = section(md, "2")
    assert "| small, torch | torch | 128-64-64-10 sigmoid |" in ocr and "| small, numpy | numpy |" in ocr
    assert "python scripts/train.py fit --config configs/ocr_small_selected.yaml" in ocr
    reg = section(md, "3")
    assert "test_ood RMSE" in reg and re.search(r"\| torch \| 3 \| \d+\.\d{4} \| \d+\.\d{4} \| \d+\.\d{4} \|", reg)


def test_html_shows_the_same_images_and_tables(quick):
    _, md, page = quick
    assert re.findall(r'<img [^>]*src="([^"]+)"', page) == IMAGE.findall(md)
    assert page.count("<table>") == md.count("\n|---")
    assert "<strong>" in page and "<pre><code" in page and "24.49047994" in page


def test_html_comes_from_the_markdown_package():
    page = report.to_html("## A *b*\n\n| x | y |\n|---|---:|\n| 1 | 2 |\n\n```text\nkeep  this\n```\n", "t<")
    assert "<h2>A <em>b</em></h2>" in page and "<td>1</td>" in page and "<title>t&lt;</title>" in page
    assert "<pre><code class=\"language-text\">keep  this" in page
    assert not hasattr(report, "simple_markdown_to_html")


def test_sine_section_explains_the_report_with_a_table(quick):
    _, md, _ = quick
    text = section(md, "4.1")
    assert "**The report's numbers, explained.**" in text and "2e-5" in text
    assert "AsReportedSGD" in text and "| SGD as reported (gradients / N again) | 0.002 | raw | 200 |" in text
    assert text.count("| 34.5 |") >= 2 and "| 0.59 |" in text


def test_an_added_part_runs_in_its_place(tmp_path, monkeypatch):
    from course.labs.sections_numpy import classic_activations

    part = report.Part("7", "extra", "An added section", classic_activations)
    monkeypatch.setattr(report, "PARTS", (*report.PARTS, part))
    monkeypatch.setattr(report, "KEYS", (*report.KEYS, "extra"))
    result = report.build_report(report.Options(out_dir=tmp_path, quick=True, only=frozenset({"extra", "xor"})),
                                 log=lambda line: None)
    md = result.markdown.read_text(encoding="utf-8")
    assert result.failures == {}
    assert md.index("## 4. ") < md.index("### 4.2 XOR") < md.index("## 7. An added section")
    assert "### 4.1" not in md and "## 5." not in md and "*Figure 7.1.*" in md


def test_script_runs_one_section_and_rejects_unknown_ones(tmp_path):
    spec = importlib.util.spec_from_file_location("report_script", REPO / "scripts" / "report.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--quick", "--only", "jacobian", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## 1. Lab 3.1" in md and "## 2." not in md
    with pytest.raises(SystemExit):
        script.main(["--only", "nonsense", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="unknown section"):
        report.build_report(report.Options(out_dir=tmp_path, only=frozenset({"nonsense"})))


def test_no_broken_code_span_and_no_path_of_the_build_machine(quick):
    import sys
    import sysconfig

    result, md, page = quick
    prose = re.sub(r"```.*?```", "", md, flags=re.S)  # fenced blocks may hold anything
    assert "``" not in prose, [line for line in prose.splitlines() if "``" in line][:3]
    assert "output_activation = *none*" in md
    text = re.sub(r"<pre>.*?</pre>", "", page, flags=re.S)
    assert text.count("<code>") == text.count("</code>") and "``" not in text
    machine = [str(result.markdown.parent), str(REPO), sys.prefix, sysconfig.get_paths()["stdlib"], str(Path.home())]
    for doc in (md, page):
        assert not [p for p in machine if p in doc], [p for p in machine if p in doc]
        assert not re.search(r"(?<![\w.:/~-])/(tmp|work|root|home|usr)/", doc), re.search(r"/(tmp|work|root|home|usr)/.{40}", doc)
    assert "--trainer.logger.init_args.save_dir runs " in md  # rerun commands name the report's runs/ relatively
    assert "white-space:pre-wrap" in page  # long rerun commands wrap instead of running past the right edge


def test_code_spans_and_portable_paths():
    from course.labs.document import code_span, portable_paths

    assert code_span("") == code_span(None) == "*none*" and code_span("relu") == "`relu`"
    assert code_span("a`b") == "``a`b``"
    out = Path("/srv/build/reports/x")
    text = (f"save_dir {out}/runs; {REPO}/configs/xor.yaml; data from /data/course/handout/ocr; "
            "1/N and https://example.org/a/b/c stay")
    assert portable_paths(text, out, REPO) == ("save_dir runs; configs/xor.yaml; data from .../handout/ocr; "
                                                "1/N and https://example.org/a/b/c stay")
