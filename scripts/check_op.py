"""Check your own backward: a user's op against central differences and a numpy_ops reference.

Run from the repository root::

    python scripts/check_op.py my_ops.py:Sigmoid --like sigmoid     # an object with forward/backward
    python scripts/check_op.py layers.py:affine --like linear --json  # or affine_forward / affine_backward
    python scripts/check_op.py my_ops.py:Square --shapes 4x3          # no reference: central differences only
    python scripts/check_op.py submissions/ --like sigmoid --out grades/   # a teacher's table for the class
    python scripts/check_op.py submissions/ --out grades/ --jobs 4 --seed-file ~/hidden_seed

A teacher's directory is graded file by file, each in its own sandboxed process (course/grading/).
Exit status 0: everything passed; 1: something failed; 2: the file or name cannot be loaded.
See docs/check_op.md.
"""

import sys

from course.opcheck.cli import main

if __name__ == "__main__":
    sys.exit(main())
