"""The course kit: student handouts generated from the project's own code, and a checker that ships no answers.

* `markers` -- ``# BEGIN SOLUTION task`` / ``# END SOLUTION`` regions in the solution code, and their stripping;
* `labs`    -- the lab table (the course's labs in order, each with its tasks); new labs are rows;
* `tasks`   -- what each task checks: forward against recorded numbers, gradients against central differences,
  with `course.opcheck`'s hints;
* `build`   -- a lab's handout (``solutions=False``) or teacher's copy, with check.py, README and notebook;
* `checker` -- ``python check.py [TASK]`` inside a handout, and the API a grader runs it by (`task_checks`).

Run it as ``python scripts/course.py list`` / ``build LAB --out DIR [--solutions]`` (see docs/course.md).
"""
