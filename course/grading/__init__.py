"""Grading a class that no submission can break or fool (NumPy only; no torch import).

Each submission runs in its own fresh interpreter with limits, in a scratch folder, out of reach of the
project's reference ops (`sandbox`, `child`); it only runs its op on the arrays the grader sends and sends
back arrays (`framing`, `remote`). Every verdict, hint and point is computed in the grader's process by the
op checker (`course.opcheck.check`) with hidden cases (`grade`), and only the grader writes the grades
(`results`). A course-kit value task (an optimizer's steps, an initialiser) has no op: its call runs in the child
and is compared with the project's own run (`values`). See docs/check_op.md, "For teachers".

* `grade_class(submissions, settings, jobs=4)` -> (rows, isolation); `write_outputs(out, rows, isolation)`;
* `grade_handouts(class_dir, tasks, settings, jobs=4)`: a folder per student, each a completed handout;
* `Submission(student, files, tasks)` with `Task(file, name, like, title)`; `Settings(limits, seed, weights)`;
* `Limits(timeout_s, memory_mb, file_mb, cpu_s)`.
"""

from .grade import Settings, Submission, Task, grade_class, grade_submission, hidden_reference
from .handouts import grade_handouts, handout_submissions
from .results import Row, Weights, summary, to_grades_csv, to_markdown, to_rows_csv, write_outputs
from .sandbox import Limits, Sandbox, Stopped

__all__ = ["Settings", "Submission", "Task", "grade_class", "grade_submission", "hidden_reference",
           "grade_handouts", "handout_submissions", "Row",
           "Weights", "summary", "to_grades_csv", "to_markdown", "to_rows_csv", "write_outputs", "Limits",
           "Sandbox", "Stopped"]
