"""The datasets' command line: ``python -m fedlite.datasets {list,fetch}``.

    python -m fedlite.datasets list          # what is cached and verified, and where
    python -m fedlite.datasets fetch all     # download everything (same as `make data`)
"""

from __future__ import annotations

import argparse
import sys

from fedlite.datasets import available, data_dir, fetch, get_info, status
from fedlite.datasets.download import missing_files


def _cli_list() -> int:
    print(f"data directory: {data_dir()}  (set FEDLITE_DATA to change it)")
    for name in available():
        info = get_info(name)
        where = data_dir() / info.subdir if info.files else "inside scikit-learn"
        state = status(name)
        print(f"  {name:<25} {state:<9} {where}")
        if state == "partial":
            missing = missing_files(name)
            print(f"  {'':<25} only {len(info.files) - len(missing)} of {len(info.files)} files; "
                  f"missing: {', '.join(missing)}")
    return 0


def _cli_fetch(names: list[str], force: bool, mirror: str | None) -> int:
    names = available() if not names or "all" in names else names
    failed = 0
    for name in names:
        try:
            paths = fetch(name, force=force, base_url=mirror)
            print(f"{name}: {len(paths)} file(s) verified" if paths
                  else f"{name}: bundled with scikit-learn, nothing to fetch")
        except (ValueError, RuntimeError) as err:
            print(f"{name}: FAILED: {err}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m fedlite.datasets {list,fetch}``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m fedlite.datasets",
                                     description="List or download the fedlite course datasets.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="show each dataset, whether it is cached and verified, where")
    fetch_cmd = commands.add_parser("fetch", help="download datasets (default: all), MD5-verified")
    fetch_cmd.add_argument("names", nargs="*", metavar="NAME",
                           help=f"'all' or any of: {', '.join(available())}")
    fetch_cmd.add_argument("--force", action="store_true", help="download again even if verified")
    fetch_cmd.add_argument("--mirror", help="mirror URL laid out like the data directory "
                                            "(default: $FEDLITE_MIRROR, else the publisher)")
    args = parser.parse_args(argv)
    if args.command == "list":
        return _cli_list()
    return _cli_fetch(args.names, args.force, args.mirror)


if __name__ == "__main__":
    sys.exit(main())
