"""The Lightning system as Lightning's own examples have it (issue 18): Lightning's flags mean what its docs say with
the speed path on, the module changes no Trainer setting, the data reaches the model through the CLI's links,
checkpoints written before the change still load, a run is data that gives its own command, and a settings error is
told apart from a bug."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from helpers_training import REPO, fit_args, run_fit, run_main, script, skip_figures
from lightning_ffnn.cli import Setting
from lightning_ffnn.datamodules import OCRDataModule, SineDataModule
from lightning_ffnn.models import SpecNetModule, data_settings
from lightning_ffnn.speed import StepsPerCall

OLD_CHECKPOINT = Path(__file__).parent / "fixtures" / "ocr_small_before_issue18.ckpt"  # 128-4-10 sigmoid, numpy


@pytest.mark.parametrize("limit, steps", [("1", 1), ("7", 7), ("0.5", 2)])
def test_limit_train_batches_counts_batches_with_several_steps_a_call(limit, steps, tmp_path, monkeypatch):
    """OCR small in batches of 100 is 5 batches an epoch; the configs group 10 a call. An integer limit is that many
    batches (optimizer steps), a fraction that share of the epoch's batches (int(5 * 0.5) = 2), as in Lightning."""
    skip_figures(monkeypatch)
    results = run_fit("ocr_small", tmp_path, "--trainer.max_epochs", "2", "--trainer.limit_train_batches", limit,
                      "--data.init_args.batch_size", "100")
    assert [e["step"] for e in results["epochs"]] == [min(steps, 5), 2 * min(steps, 5)]


def _sine_model(dm) -> SpecNetModule:
    return SpecNetModule(hidden_sizes=[4], lr=0.01, **data_settings(dm))


@pytest.mark.parametrize("flags, grouped", [({}, True), ({"max_steps": 9}, False), ({"limit_train_batches": 3}, False),
                                            ({"accumulate_grad_batches": 2}, False)])
def test_the_speed_path_steps_aside_when_a_setting_counts_batches(flags, grouped):
    class Spy(L.Callback):
        def __init__(self):
            self.calls = 0

        def on_train_batch_end(self, *args):
            self.calls += 1

    dm = SineDataModule(n_train=40, n_test=10, batch_size=4)
    speed, spy = StepsPerCall(5), Spy()
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, callbacks=[speed, spy], **flags)
    model = _sine_model(dm)
    trainer.fit(model, datamodule=dm)
    expected_steps = {"max_steps": 9, "limit_train_batches": 3}.get(next(iter(flags), ""), 10)
    expected_steps //= flags.get("accumulate_grad_batches", 1)
    assert trainer.global_step == expected_steps
    assert spy.calls == (2 if grouped else expected_steps * flags.get("accumulate_grad_batches", 1))
    assert model.automatic_optimization and "training_step" not in vars(model), "teardown puts the module back"
    assert "train_dataloader" not in vars(dm)


def test_the_module_changes_no_trainer_setting_and_the_last_epoch_is_evaluated(tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    seen = []
    original = SpecNetModule.on_validation_epoch_start

    def spy(self):
        seen.append(self.trainer.check_val_every_n_epoch)
        original(self)

    monkeypatch.setattr(SpecNetModule, "on_validation_epoch_start", spy)
    results = run_fit("xor", tmp_path, "--trainer.max_epochs", "5", "--trainer.check_val_every_n_epoch", "2")
    assert [e["epoch"] for e in results["epochs"]] == [1, 3, 4]
    assert seen == [2, 2, 2]


def test_the_data_reaches_the_model_through_the_cli_links(tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    results = run_fit("regression", tmp_path, "--trainer.max_epochs", "1")
    model = results["settings"]["model"]
    assert (model["task"], model["input_shape"], model["output_dim"]) == ("regression", [1], 1)
    assert model["eval_set_names"] == ["train", "test_id", "test_ood"]
    assert len(model["target_units"]) == 2 and model["target_units"][1] > 0


def test_a_model_built_by_hand_without_the_data_says_what_it_needs():
    dm = SineDataModule(n_train=40, n_test=10, batch_size=4)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    with pytest.raises(ValueError, match="data_settings"):
        trainer.fit(SpecNetModule(hidden_sizes=[4]), datamodule=dm)


def test_a_checkpoint_written_before_issue_18_loads_and_evaluates():
    model = SpecNetModule.load_from_checkpoint(OLD_CHECKPOINT)
    saved = torch.load(OLD_CHECKPOINT, weights_only=False)
    assert "steps_per_call" in saved["hyper_parameters"]  # the premise: the old module's settings
    for key, value in saved["state_dict"].items():
        assert torch.equal(model.state_dict()[key], value), key
    x, y = OCRDataModule(size="small").eval_sets()["test"]
    with torch.no_grad():
        metrics = model.evaluate(x, y)
    assert 0.0 <= metrics["accuracy"].item() <= 1.0 and torch.isfinite(metrics["loss"])


def test_an_older_checkpoint_with_input_dim_only_builds_its_flat_network(tmp_path):
    saved = torch.load(OLD_CHECKPOINT, weights_only=False)
    del saved["hyper_parameters"]["input_shape"]
    torch.save(saved, tmp_path / "older.ckpt")
    model = SpecNetModule.load_from_checkpoint(tmp_path / "older.ckpt")
    assert list(model.hparams.input_shape) == [128]
    assert torch.equal(model.net[0].weight, saved["state_dict"]["net.0.weight"])


def test_a_checkpoint_written_before_issue_18_resumes(tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    results = run_fit("ocr_small", tmp_path, "--model.backend", "numpy", "--model.hidden_sizes", "[4]",
                      "--trainer.max_epochs", "2", "--ckpt_path", str(OLD_CHECKPOINT))
    assert [e["epoch"] for e in results["epochs"]] == [0, 1]  # epoch 0 from the old run's record, then epoch 1


def test_a_setting_is_data_that_gives_its_command_and_its_arguments():
    setting = Setting("configs/ocr_small.yaml", {"model.backend": "numpy", "model.hidden_sizes": [8, 8],
                                                 "trainer.enable_progress_bar": False, "data.init_args.data_dir": None})
    assert setting.command() == ("python scripts/train.py fit --config configs/ocr_small.yaml --model.backend numpy "
                                 "--model.hidden_sizes '[8, 8]' --trainer.enable_progress_bar false "
                                 "--data.init_args.data_dir null")
    assert setting.args()[:3] == ["fit", "--config", str(REPO / "configs" / "ocr_small.yaml")]
    assert setting.args()[3:] == ["--model.backend", "numpy", "--model.hidden_sizes", "[8, 8]",
                                  "--trainer.enable_progress_bar", "false", "--data.init_args.data_dir", "null"]


def test_a_bug_inside_a_step_shows_its_traceback_not_invalid_setting(tmp_path, monkeypatch, capsys):
    skip_figures(monkeypatch)

    def broken(self, batch, batch_idx):
        raise ValueError("operands could not be broadcast together")  # what a wrong op would raise

    monkeypatch.setattr(SpecNetModule, "training_step", broken)
    with pytest.raises(ValueError, match="operands could not be broadcast together"):
        script().main(fit_args("ocr_small", tmp_path, "--trainer.max_epochs", "1"))
    assert "invalid setting" not in capsys.readouterr().err


def test_a_settings_error_found_during_the_run_is_named_as_one(tmp_path, capsys, monkeypatch):
    skip_figures(monkeypatch)
    code, out, err = run_main(fit_args("ocr_small", tmp_path, "--data.init_args.val_fraction", "0.999"), capsys)
    assert code == 2, err
    assert err.strip().splitlines()[-1].startswith("error: invalid setting: val_fraction=0.999 holds out"), err
    assert "Traceback (most recent call last)" not in err


def test_make_run_is_the_main_job_script():
    makefile = (REPO / "Makefile").read_text()
    assert "\t$(PY) scripts/main_job.py $(ARGS)" in makefile
    readme = (REPO / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_a_resume_that_would_group_batches_otherwise_is_refused_and_a_matching_one_continues(tmp_path, capsys,
                                                                                           monkeypatch):
    """Lightning's loop counts calls: a run of 5 batches in one call, resumed one batch a call (max_steps rules the
    grouping out), took its finished epoch 0 for one at batch 1 of 5 and trained 4 batches of it again."""
    skip_figures(monkeypatch)
    common = ["--trainer.logger.init_args.name", "run", "--data.init_args.batch_size", "100"]
    run_fit("ocr_small", tmp_path / "a", *common, "--trainer.max_epochs", "1")
    last = tmp_path / "a" / "run" / "version_0" / "checkpoints" / "last.ckpt"
    code, out, err = run_main(fit_args("ocr_small", tmp_path / "b", *common, "--trainer.max_epochs", "2",
                                       "--trainer.max_steps", "1000", "--ckpt_path", str(last)), capsys)
    assert code == 2, err
    assert err.strip().splitlines()[-1] == (
        "error: invalid setting: the checkpoint was trained with 10 batch(es) per Lightning call and this run takes 1 "
        "(trainer.max_steps is 1000): resume with --speed.steps_per_call 10 and without trainer settings that count "
        "batches (limit_train_batches, max_steps, val_check_interval), or start a new run")
    resumed = run_fit("ocr_small", tmp_path / "c", *common, "--trainer.max_epochs", "2", "--ckpt_path", str(last))
    straight = run_fit("ocr_small", tmp_path / "d", *common, "--trainer.max_epochs", "2")
    assert [e["step"] for e in resumed["epochs"]] == [5, 10]
    assert [{k: v for k, v in e.items() if k != "lr"} for e in resumed["epochs"]] == \
        [{k: v for k, v in e.items() if k != "lr"} for e in straight["epochs"]]
