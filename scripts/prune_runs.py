"""Keep only the newest runs of a config: every training run adds a ``runs/<name>/version_<n>/`` and none is removed.

    python scripts/prune_runs.py runs/mnist_cnn --keep 3            # remove all but the 3 newest versions
    python scripts/prune_runs.py runs/mnist_cnn --keep 3 --dry_run  # only list them, with their sizes

Newest means the highest version number (the one ``--ckpt_path last`` resumes is the newest with a checkpoint).
Exit status 0, or 2 for a directory that does not exist. See docs/training.md ("What a run keeps on disk").
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str]) -> int:
    from lightning_ffnn.runs import prune_runs, run_sizes

    parser = argparse.ArgumentParser(description="Remove all but the newest runs of runs/<name>.")
    parser.add_argument("run_root", help="the runs of one config, e.g. runs/mnist_cnn")
    parser.add_argument("--keep", type=int, required=True, help="how many of the newest versions to keep (>= 0)")
    parser.add_argument("--dry_run", action="store_true", help="list what would be removed, remove nothing")
    opts = parser.parse_args(argv)
    if opts.keep < 0:
        parser.error(f"--keep must be >= 0, got {opts.keep}")
    try:
        sizes = dict(run_sizes(opts.run_root))
        removed = prune_runs(opts.run_root, opts.keep, dry_run=opts.dry_run)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verb = "would remove" if opts.dry_run else "removed"
    for path in removed:
        print(f"{verb} {path} ({sizes[path] / 2 ** 20:.1f} MiB)")
    kept = [p for p in sizes if p not in removed]
    print(f"{verb} {len(removed)} run(s), {sum(sizes[p] for p in removed) / 2 ** 20:.1f} MiB; kept {len(kept)}: "
          f"{', '.join(p.name for p in kept) or 'none'} ({sum(sizes[p] for p in kept) / 2 ** 20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
