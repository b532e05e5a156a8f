"""What every from-scratch lab shares: one run's settings (`RunConfig`), one run's outcome (`RunResult`), one lab's
outcome (`LabResult`), the training function, and the network read from a Lightning config.

A lab's network is written once, in ``configs/<name>.yaml``'s ``model`` section (``hidden_sizes`` + ``activation``,
or ``layers``; and ``init``): `RunConfig.from_yaml` reads it from there, so the NumPy lab and the Lightning run of
the same experiment build the same network (`numpy_ops.network.build`, the output layer appended as
`lightning_ffnn.models.SpecNetModule` appends it). Pure NumPy: nothing here imports torch.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from matplotlib.figure import Figure

from numpy_ops import LOSSES, OPTIMIZERS, Sequential, fit
from numpy_ops import spec as S
from numpy_ops.network import build
from numpy_ops.train import History

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
#: The `lightning_ffnn.models.SpecNetModule` defaults a config may leave out (its ``__init__``'s defaults).
MODEL_DEFAULTS = {"hidden_sizes": (64, 64), "activation": "sigmoid", "init": "torch_default", "layers": None}


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run except the data and the seed.

    The network is ``input_dim`` -> the body (``layers``, a `numpy_ops.spec` list in its YAML form, or the short form
    ``hidden_sizes`` + ``activation``) -> Linear(``output_dim``) -> ``output_activation`` if given.
    ``init`` is a `numpy_ops.init.init_linear` scheme; its non-default schemes set biases to zero, and
    ``default_bias=True`` redraws them as ``nn.Linear`` does, U(-1/sqrt(in), 1/sqrt(in)) -- what torch leaves when
    only ``nn.init.kaiming_uniform_(layer.weight)`` is called. ``optimizer`` names an `OPTIMIZERS` entry (or one
    of `EXTRA_OPTIMIZERS`, which receive ``batch_size`` too). ``batch_size=0`` is full-batch gradient descent.
    ``loss`` names a `numpy_ops.losses.LOSSES` entry; the network's last layer feeds it directly.
    ``standardise`` ("none", "x", "xy") applies to regression only: inputs (and targets) are standardised with the
    training set's `Standardiser`, and errors are reported back in the original units.
    """

    label: str
    input_dim: int
    output_dim: int
    hidden_sizes: tuple[int, ...] = ()
    activation: str = "relu"
    layers: tuple[dict, ...] | None = None
    output_activation: str | None = None
    init: str = "torch_default"
    normal_std: float = 0.01
    default_bias: bool = False
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    batch_size: int = 0
    epochs: int = 1
    loss: str = "mse"
    standardise: str = "none"
    dtype: str = "float64"

    @classmethod
    def from_yaml(cls, config: str | Path, label: str, input_dim: int, output_dim: int, **settings: Any) -> RunConfig:
        """The network of ``configs/<config>.yaml`` (or of the YAML file ``config`` when it is a `Path`): its
        model's hidden_sizes/activation or layers, and init, with `SpecNetModule`'s defaults for what it leaves out.
        The other settings are given here."""
        path = config if isinstance(config, Path) else CONFIGS / f"{config}.yaml"
        model = {**MODEL_DEFAULTS, **((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("model") or {})}
        layers = model["layers"]
        if layers is not None:
            try:
                S.parse(layers)  # names the layer on a bad list
            except (ValueError, TypeError, KeyError) as exc:
                raise ValueError(f"{path}: model.layers: {exc}") from None
        network = {"hidden_sizes": tuple(int(h) for h in model["hidden_sizes"]), "activation": model["activation"],
                   "layers": None if layers is None else tuple(dict(item) for item in layers), "init": model["init"]}
        return cls(label, input_dim, output_dim, **{**network, **settings})

    def spec(self) -> list[S.LayerSpec]:
        """The whole network as layer specs."""
        body = S.parse(self.layers) if self.layers is not None else S.mlp_spec(self.hidden_sizes, self.activation,
                                                                             self.output_dim)[:-1]
        out = [S.Linear(int(self.output_dim))]
        if self.output_activation is not None:
            out.append(S.Activation(self.output_activation))
        return [*body, *out]

    @property
    def network(self) -> str:
        """A short name of the network: ``1-16-16-16-16-1 relu`` (or the layer types of a layer list)."""
        if self.layers is not None:
            return " ".join(S.parse_layer(item).type for item in self.layers) + f" -> {self.output_dim}"
        sizes = "-".join(str(s) for s in (self.input_dim, *self.hidden_sizes, self.output_dim))
        return f"{sizes} {self.activation}" + (f" ({self.output_activation} out)" if self.output_activation else "")

    def build(self, seed: int) -> tuple[Sequential, Any]:
        """The network (initialised from ``default_rng(seed)``) and its optimiser."""
        rng = np.random.default_rng(seed)
        net = build(self.spec(), self.input_dim, rng, self.init, np.dtype(self.dtype), normal_std=self.normal_std)
        if self.default_bias:
            for layer in net.layers:
                if "weight" in layer.params:
                    out_features, in_features = layer.params["weight"].shape
                    bound = 1.0 / np.sqrt(in_features)
                    layer.params["bias"][...] = rng.uniform(-bound, bound, out_features)
        if self.optimizer in EXTRA_OPTIMIZERS:
            return net, EXTRA_OPTIMIZERS[self.optimizer](net.parameters(), lr=self.lr, batch_size=self.batch_size)
        kwargs = {"momentum": self.momentum} if self.optimizer == "sgd" else {}
        return net, OPTIMIZERS[self.optimizer](net.parameters(), lr=self.lr, **kwargs)

    def as_dict(self) -> dict[str, Any]:
        """The settings for a report: ``sizes`` (input, hidden..., output) of a short-form network, else ``layers``
        (the list in its YAML form), then the other fields."""
        d = asdict(self)
        network = {"sizes": (d.pop("input_dim"), *d.pop("hidden_sizes"), d.pop("output_dim"))}
        layers = d.pop("layers")
        if layers is not None:
            network = {"input_dim": network["sizes"][0], "layers": list(layers), "output_dim": network["sizes"][-1]}
        return {"label": d.pop("label"), **network, **d}


#: Optimisers a lab adds to numpy_ops' (name -> class taking ``params, lr, batch_size``); filled by the lab modules
#: that define them (e.g. the sine lab's "as reported" optimisers).
EXTRA_OPTIMIZERS: dict[str, type] = {}


@dataclass
class RunResult:
    """One run (a config and a seed): ``metrics`` are its final numbers by name (e.g. ``test_mse``, ``accuracy``),
    ``history`` its per-evaluation curves (``epoch`` 1-based, then one array per recorded quantity)."""

    label: str
    seed: int
    seconds: float
    metrics: dict[str, float]
    history: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class LabResult:
    """One lab: its runs, Markdown tables, matplotlib Figures (and the PNG paths when saved), the settings that
    produced them, the numbers reported elsewhere that it compares with, and ``skipped`` (why nothing ran)."""

    runs: list[RunResult] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    reported: dict[str, float] = field(default_factory=dict)
    skipped: str | None = None

    def run(self, label: str, seed: int | None = None) -> RunResult:
        """The run of ``label`` (and ``seed``: the first seed when None)."""
        for r in self.runs:
            if r.label == label and (seed is None or r.seed == seed):
                return r
        raise KeyError(f"no run {label!r}" + (f" with seed {seed}" if seed is not None else "")
                       + f"; runs: {sorted({r.label for r in self.runs})}")

    def metric(self, name: str, label: str, seed: int | None = None) -> float:
        return self.run(label, seed).metrics[name]

    def save(self, out_dir: str | Path | None) -> LabResult:
        """Save every figure as ``<out_dir>/<name>.png`` (nothing when ``out_dir`` is None)."""
        self.paths = save_figures(self.figures, out_dir)
        return self


def save_figures(figures: dict[str, Figure], out_dir: str | Path | None) -> dict[str, Path]:
    if out_dir is None:
        return {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, fig in figures.items():
        paths[name] = out_dir / f"{name}.png"
        fig.savefig(paths[name], dpi=120)
    return paths


def train(config: RunConfig, X: np.ndarray, y: np.ndarray, seed: int = 0, metric=None,
          eval_sets: dict | None = None, eval_every: int = 1) -> tuple[Sequential, History, float]:
    """Build ``config`` with ``seed``, train it on (X, y) (shuffled with the same seed); return the network, its
    `History` and the seconds it took."""
    net, optimizer = config.build(seed)
    batch = config.batch_size or X.shape[0]
    start = time.perf_counter()
    history = fit(net, LOSSES[config.loss], optimizer, X, y, config.epochs, batch, shuffle=batch < X.shape[0],
                  seed=seed, metric=metric, eval_sets=eval_sets, eval_every=eval_every)
    return net, history, time.perf_counter() - start


def settings(configs: list[RunConfig], **extra: Any) -> dict[str, Any]:
    """The configs as plain dicts (for a report), plus any lab-level settings."""
    return {"runs": [c.as_dict() for c in configs], **extra}


def with_epochs(runs: tuple[RunConfig, ...], epochs: int) -> tuple[RunConfig, ...]:
    return tuple(replace(r, epochs=epochs) for r in runs)
