"""``python -m openenv_harness.tasks validate REF [REF ...]``: validate tasksets, exit 1 on errors."""

from __future__ import annotations

import argparse

from ._validate import main_validate


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``validate`` one or more taskset references."""
    parser = argparse.ArgumentParser(prog="python -m openenv_harness.tasks", description="Taskset tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check a taskset's manifest, data, hidden columns and runtime target")
    v.add_argument("refs", nargs="+", metavar="REF", help="hf://datasets/ORG/NAME/ENV@REV or a local folder")
    v.add_argument("--json", action="store_true", help="print one JSON object per reference")
    args = parser.parse_args(argv)
    try:  # the report is the output; datasets' per-split progress bars are noise here
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass
    return max(main_validate(ref, as_json=args.json) for ref in args.refs)


if __name__ == "__main__":
    raise SystemExit(main())
