"""Solution markers: regions found, stripped to a TODO that raises, malformed ones named by file and line."""

from __future__ import annotations

import pytest

from course.kit import markers

SOURCE = '''"""A docstring quoting a marker:
    # BEGIN SOLUTION quoted
is not a marker."""


def f(x):
    """Doubles x."""
    y = 1
    # BEGIN SOLUTION double
    y = 2 * x
    # END SOLUTION
    return y


class A:
    def g(self, x):
        # BEGIN SOLUTION double other
        return x + x
        # END SOLUTION
'''


def test_regions_name_their_tasks_and_functions():
    found = markers.regions(SOURCE, "s.py")
    assert [(r.tasks, r.function) for r in found] == [(("double",), "f"), (("double", "other"), "A.g")]
    assert markers.solution_lines(SOURCE, ["other"]) == ["return x + x"]


def test_strip_keeps_signature_and_docstring_and_raises_the_todo():
    text = markers.strip(SOURCE, lambda t, hidden: "TODO (double): yours" if t == "double" else None)
    namespace: dict = {}
    exec(compile(text, "s.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^TODO \(double\)"):
        namespace["f"](3)
    assert namespace["f"].__doc__ == "Doubles x."
    assert "2 * x" not in text and "x + x" not in text
    assert markers.strip(SOURCE, lambda t, hidden: None) == SOURCE


@pytest.mark.parametrize("bad, message", [
    ("def f():\n    # BEGIN SOLUTION t\n    return 1\n", "s.py:2: BEGIN SOLUTION never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "s.py:3: END SOLUTION without a BEGIN"),
    ("def f():\n    # BEGIN HIDDEN t\n    return 1\n    # END SOLUTION\n", "s.py:4: END SOLUTION without a BEGIN"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", "s.py:2: BEGIN SOLUTION names no task"),
    ("# BEGIN SOLUTION t\nx = 1\n# END SOLUTION\n", "s.py:1: a solution region must lie inside a function"),
    ("def f():\n    # BEGIN SOLUTION t\n    # END SOLUTION\n    return 1\n", "s.py:2: the solution region holds no code"),
])
def test_malformed_regions_are_named_by_line(bad, message):
    with pytest.raises(markers.MarkerError, match=message.replace("(", r"\(")):
        markers.regions(bad, "s.py")


def test_a_handout_section_replaces_the_region_instead_of_a_raise():
    source = ("def fast(x):\n    # BEGIN HIDDEN t\n    return x * 2.0\n    # HANDOUT\n    # return slow(x)\n"
              "    # END HIDDEN\n")
    (region,) = markers.regions(source, "s.py")
    assert region.hidden and region.handout == ("    return slow(x)",)
    assert markers.solution_lines(source) == ["return x * 2.0"]
    stripped = markers.strip(source, lambda t, hidden: "TODO")
    assert "return slow(x)" in stripped and "x * 2.0" not in stripped and "raise" not in stripped
