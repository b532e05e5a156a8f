"""Character-level next-character prediction: the per-step task of the BPTT derivation (L = sum_t L_t).

The text ships with Python itself: ``source="python_license"`` is the standard library's own LICENSE.txt (the
history of Python and its licenses, about 14 000 characters of English); ``"zen"`` is the Zen of Python (857
characters), which the ``this`` module holds ROT13-encoded; any other UTF-8 file can be named instead.
The first ``1 - val_fraction`` of the text trains, the rest validates. Examples are windows of ``seq_len + 1``
characters every ``stride`` characters: the input is the first ``seq_len`` as one-hot rows (seq_len, V)
(``encoding="one_hot"``, for recurrent layers) or as character indices (seq_len,) (``encoding="index"``, for an
embedding layer), the target the next character at every step (seq_len,) as class indices; the model emits logits (N, T, V) and
`lightning_ffnn.models.per_step_flat` turns them into (N*T, V) for the mean cross-entropy per character.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from matplotlib.figure import Figure

from course.datasets.errors import DataError, read_bytes

from ..errors import SettingsError
from ..tasks import DTYPES, DType
from .base import ArrayDataModule


def zen_of_python() -> str:
    """The text of ``import this``, without printing it (the module prints on import: it is read from source)."""
    import importlib.util

    source = Path(importlib.util.find_spec("this").origin).read_text()
    encoded = source.split('s = """', 1)[1].split('"""', 1)[0]
    return codecs.decode(encoded, "rot13")


def load_text(source: str) -> tuple[str, str]:
    """(text, description) for ``source`` = "python_license", "zen" or a path to a UTF-8 text file."""
    if source == "python_license":
        import sysconfig

        path = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
        return path.read_text(encoding="utf-8"), f"Python's LICENSE.txt from its standard library ({path})"
    if source == "zen":
        return zen_of_python(), "the Zen of Python (Python's standard library module `this`, ROT13-decoded)"
    path = check_source(source)
    raw = read_bytes(path, "text file")
    try:
        return raw.decode("utf-8"), f"text file {path}"
    except UnicodeDecodeError as exc:
        raise DataError(path, "not UTF-8 text", expected="a UTF-8 text file",
                        found=f"byte 0x{raw[exc.start]:02x} at offset {exc.start}") from None


def check_source(source: str) -> Path:
    """The path of a text file named as ``source`` (not "python_license" or "zen"); FileNotFoundError if none."""
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"text source {source!r}: expected 'python_license', 'zen' or the path of a text file; no such file")
    return path


class CharTextDataModule(ArrayDataModule):
    """Next-character windows of a text: X (N, seq_len, V) one-hot or (N, seq_len) int64 indices, y (N, seq_len)
    int64.

    Args:
        source: "python_license" or "zen" (both shipped with Python) or the path of a UTF-8 text file.
        seq_len: time steps per example (T).
        stride: characters between the starts of consecutive windows.
        val_fraction: the tail of the text held out as the "val" set.
        encoding: the inputs as one-hot rows ("one_hot") or as character indices ("index", for an embedding).
    """

    task = "classification"

    def __init__(
        self,
        source: str = "python_license",
        seq_len: int = 32,
        stride: int = 4,
        val_fraction: float = 0.1,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        dtype: DType = "float32",
        encoding: Literal["one_hot", "index"] = "one_hot",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        for name, value in (("seq_len", seq_len), ("stride", stride)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1); got {val_fraction!r}")
        if encoding not in ("one_hot", "index"):
            raise ValueError(f"encoding must be 'one_hot' or 'index'; got {encoding!r}")
        self.encoding = encoding
        self.source, self.seq_len, self.stride, self.val_fraction = source, seq_len, stride, val_fraction
        if source not in ("python_license", "zen"):
            check_source(source)
        self._text: str | None = None
        self.layout = "rows"
        self.eval_set_names = ["train", "val"]
        self.save_hyperparameters()

    # The text is read when first needed (at the latest in `setup`), not here: an error raised while the CLI
    # builds this object comes out wrapped in the argument parser's report, one raised in setup as one line.
    @property
    def text(self) -> str:
        if self._text is None:
            self._text, self.data_source = load_text(self.source)
            self._vocab = sorted(set(self._text))
        return self._text

    @property
    def vocab(self) -> list[str]:
        """The distinct characters of the text, sorted: class ``i`` is ``vocab[i]``."""
        self.text  # noqa: B018  (reading the text sets the vocabulary)
        return self._vocab

    @property
    def class_names(self) -> list[str]:
        return self.vocab

    @property
    def input_dim(self) -> int:
        return len(self.vocab)

    output_dim = input_dim

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.seq_len, len(self.vocab)) if self.encoding == "one_hot" else (self.seq_len,)

    @property
    def target_shape(self) -> tuple[int, ...]:
        return (self.seq_len,)  # the next character's class at every step

    def encode(self, text: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.vocab)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise ValueError(f"characters {unknown!r} are not in the vocabulary of {self.data_source}")
        return np.array([index[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def one_hot(self, ids: np.ndarray) -> np.ndarray:
        return np.eye(len(self.vocab))[ids]

    def inputs(self, ids: np.ndarray) -> np.ndarray:
        """Character indices as the network takes them: one-hot rows or the indices themselves."""
        return self.one_hot(ids) if self.encoding == "one_hot" else np.asarray(ids, dtype=np.int64)

    def _windows(self, ids: np.ndarray, part: str) -> tuple[np.ndarray, np.ndarray]:
        starts = np.arange(0, len(ids) - self.seq_len, self.stride)
        if len(starts) == 0:
            raise DataError(self.source, f"text too short for seq_len={self.seq_len}",
                            expected=f"at least seq_len + 1 = {self.seq_len + 1} characters in its {part}",
                            found=f"{len(ids)} characters", hint="Use a longer text or a smaller data.seq_len")
        idx = starts[:, None] + np.arange(self.seq_len + 1)
        chunks = ids[idx]
        return self.inputs(chunks[:, :-1]), chunks[:, 1:]

    def _load(self):
        ids = self.encode(self.text)
        cut = int(round(len(ids) * (1 - self.val_fraction)))
        return {"train": self._windows(ids[:cut], "training part (the first {:.0%})".format(1 - self.val_fraction)),
                "val": self._windows(ids[cut:], f"validation part (the last {self.val_fraction:.0%})")}

    def setup(self, stage: str | None = None) -> None:
        """As the base class, but the targets keep their time axis (N, T)."""
        if self._sets is not None:
            return
        dtype = DTYPES[self.dtype] if self.encoding == "one_hot" else torch.int64
        self._sets = {name: (torch.as_tensor(X, dtype=dtype), torch.as_tensor(y, dtype=torch.int64))
                      for name, (X, y) in self._load().items()}
        if self.batch_size > len(self._sets["train"][0]):
            raise SettingsError(f"batch_size={self.batch_size} is larger than the training set "
                             f"({len(self._sets['train'][0])} windows) of {self.data_source}")

    def sample_figure(self) -> Figure:
        fig = Figure(figsize=(8, 3))
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0, 1, self.text[:400], va="top", family="monospace", fontsize=7, wrap=True)
        ax.set_title(f"{self.data_source}: {len(self.text)} characters, {len(self.vocab)} distinct")
        return fig


def sample_text(net: torch.nn.Module, dm: CharTextDataModule, prompt: str, n_chars: int, seed: int = 0,
                temperature: float = 1.0) -> str:
    """Generate ``n_chars`` characters after ``prompt`` with a network giving per-step logits (N, T, V):
    each next character is drawn from softmax(logits / temperature) of the last step, fed back in."""
    rng = np.random.default_rng(seed)
    ids = list(dm.encode(prompt))
    dtype = next(net.parameters()).dtype
    with torch.no_grad():
        for _ in range(n_chars):
            window = dm.inputs(np.array(ids[-dm.seq_len:]))[None]
            x = torch.as_tensor(window, dtype=dtype if window.dtype.kind == "f" else torch.int64)
            z = net(x)[0, -1].double().numpy() / temperature
            p = np.exp(z - z.max())
            ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return dm.decode(ids)
