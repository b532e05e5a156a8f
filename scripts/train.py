"""Train one configuration with LightningCLI (native PyTorch layers or the hand-written NumPy ones).

To run::

    python scripts/train.py fit --config configs/ocr_small.yaml
    python scripts/train.py fit --config configs/regression.yaml --model.backend numpy --trainer.max_epochs 5
    python scripts/train.py fit --config configs/ocr_small.yaml --ckpt_path last     # resume
    python scripts/train.py fit --config configs/ocr_small.yaml --print_config
    python scripts/train.py fit --help

Logs go to ``runs/<name>/version_<n>/``: ``tensorboard --logdir runs``. The main job (lab 3.2 on every OCR set and
both backends) is ``python scripts/main_job.py``.

Errors (`lightning_ffnn.cli.exit_status`): a setting that cannot work (a bad flag value, a bad config) prints
``error: invalid setting: ...`` and exits with 2; missing data, a diverged run or a failed gradient parity check print
``error: ...`` and exit with 1; Ctrl-C says where the run stopped and how to resume it, and exits with 130; anything
else is a bug and shows its traceback.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from lightning_ffnn.cli import cli_main, exit_status, resume_command

    return exit_status(lambda: cli_main(argv), resume_command(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
