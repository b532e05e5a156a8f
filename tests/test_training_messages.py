"""What a run tells its user at the end: the summary's epoch count, a resumed run that had nothing left to train, and
a Ctrl-C (where the run stopped, how to resume it, exit status 130)."""

from __future__ import annotations

import signal
import time

from helpers_training import CONFIGS, MAIN_JOB_SCRIPT, QUIET, fit_args, run_dir, run_main, skip_figures, start_train

XOR = ["--trainer.max_epochs", "120", "--trainer.logger.init_args.name", "xor"]  # evaluated at 49, 99 and 119


def test_summary_counts_trained_epochs_and_a_finished_run_says_nothing_was_left(tmp_path, capsys, monkeypatch):
    skip_figures(monkeypatch)
    code, out, err = run_main(fit_args("xor", tmp_path, *XOR), capsys)
    assert code == 0, err
    assert "Epochs: 120 trained (3 evaluated)" in out, out
    assert "Nothing left to train" not in out
    code, out, err = run_main(fit_args("xor", tmp_path, *XOR, "--ckpt_path", "last"), capsys)
    assert code == 0, err
    last = run_dir(tmp_path, "xor") / "checkpoints" / "last.ckpt"
    assert f"Nothing left to train: {last} already holds epoch 120 of max_epochs 120" in out, out
    assert "--trainer.max_epochs" in out and "Epochs: 120 trained (3 evaluated)" in out


def test_ctrl_c_says_where_the_run_stopped_and_how_to_resume(tmp_path):
    args = ["fit", "--config", "configs/xor.yaml", "--trainer.logger.init_args.save_dir", str(tmp_path), *QUIET,
            "--trainer.logger.init_args.name", "xor"]
    last = run_dir(tmp_path, "xor") / "checkpoints" / "last.ckpt"
    log = tmp_path / "run.log"
    from helpers_training import REPO

    proc = start_train(args, REPO, log)
    try:
        deadline = time.monotonic() + 180
        while not last.is_file():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no checkpoint within the time limit"
            time.sleep(0.05)
        time.sleep(0.5)  # into the next epochs
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert proc.returncode == 130, text
    assert "stopped: interrupted in epoch" in text and f"{last} holds epoch" in text, text
    assert "the last one evaluated" in text
    assert ("Resume it with: python scripts/train.py fit --config configs/xor.yaml --trainer.logger.init_args.save_dir "
            f"{tmp_path} --trainer.enable_progress_bar false --trainer.logger.init_args.name xor --ckpt_path last"
            ) in text, text
    assert "Traceback" not in text


def test_a_misspelt_flag_is_said_first_with_the_close_one(capsys):
    code, out, err = run_main(["fit", "--config", str(CONFIGS / "xor.yaml"), "--trainer.max_epohcs", "3"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[0] == "error: unrecognized arguments: --trainer.max_epohcs 3", err
    assert "did you mean --trainer.max_epochs?" in err and "--help" in lines[-1] and len(lines) <= 4, err
    code, _, err = run_main(["fit", "--config", str(CONFIGS / "xor.yaml"), "--data_dir", "/tmp"], capsys)
    assert code == 2 and "--data.init_args.data_dir" in err and "main job" in err, err


def test_help_shows_the_main_jobs_options_and_the_subcommands(capsys):
    code, out, _ = run_main(["--help"], capsys, MAIN_JOB_SCRIPT)
    assert code == 0
    assert "--data_dir" in out and "--sizes" in out and "--settings" in out
    assert "python scripts/train.py fit --help" in out
