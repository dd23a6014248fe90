"""Rewrite the expected results of the golden cases (``make golden``).

Usage: ``python tests/golden/regenerate.py [NAME ...]`` (all cases by default).
Each case runs through ``python -m adcsim`` exactly as in ``test_golden.py``
and its ``cases/<name>.json`` is rewritten; expected files without a case are
reported. Review ``git diff tests/golden/cases`` and say in the commit why the
figures changed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import golden_cases  # noqa: E402


def main(argv: list[str]) -> int:
    names = argv or golden_cases.case_names()
    unknown = sorted(set(names) - set(golden_cases.case_names()))
    if unknown:
        print(f"no such case: {', '.join(unknown)}", file=sys.stderr)
        return 2
    changed = 0
    for name in names:
        with tempfile.TemporaryDirectory(prefix="adcsim-golden-") as tmp:
            result = golden_cases.run_case(name, Path(tmp))
        text = golden_cases.dump(result)
        path = golden_cases.expected_path(name)
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="utf-8")
            changed += 1
            print(f"{'new' if old is None else 'changed'}: {path.name}")
    cases = set(golden_cases.case_names())
    for stale in sorted(golden_cases.CASES_DIR.glob("*.json")):
        if stale.stem not in cases:
            print(f"no case for {stale.name}: delete it or add its .toml")
    print(f"{len(names)} cases, {changed} expected files written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
