"""The one error a training entry point reports as a person's mistake in the settings.

`SettingsError` is a ValueError raised for a setting that cannot work (a batch larger than the training set, a
checkpoint of another network, ...); `lightning_ffnn.cli` raises it for every error found while LightningCLI
builds the classes of a run. ``scripts/train.py`` prints it as ``error: invalid setting: ...`` and exits with 2;
any other ValueError is a bug and shows its traceback.
"""

from __future__ import annotations


class SettingsError(ValueError):
    """A setting (a flag, a config value, a checkpoint given to resume) that cannot work, said in one line."""
