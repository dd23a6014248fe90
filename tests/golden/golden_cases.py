"""Golden cases: run `adcsim quantize` on a case, normalize what it wrote, compare.

A case is ``cases/<name>.toml``:

``input``
    A file name in ``samples/``.
``args``
    The `adcsim quantize` arguments after the input path, output names relative
    to the run's directory. ``{samples}`` stands for the samples directory (for
    a second input such as ``--train``).
``stdin``, ``stdout`` (optional)
    ``stdin = true`` feeds the sample on standard input instead of naming it
    (``args`` then holds ``-``); ``stdout = "out.wav"`` saves standard output
    under that name, as one more output file.

Its expected result is ``cases/<name>.json``, written by ``regenerate.py``:
the case itself, the SHA-256 of every audio file the run wrote (the error
signal included), the names of the figures (their bytes are not frozen), and
the JSON report without what changes from machine to machine or version to
version (``adcsim_version``, ``provenance.versions``,
``provenance.command_line``) and with every path cut to its file name.

The runs go through ``python -m adcsim`` in a subprocess, never through an
import of the CLI module, so the comparison holds when modules move.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli before Python 3.11
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"
SAMPLES_DIR = HERE.parent.parent / "samples"

#: Report keys removed before freezing: they change with versions and machines.
VOLATILE = (
    ("adcsim_version",),
    ("provenance", "versions"),
    ("provenance", "command_line"),
)
#: Report keys holding a path; frozen as the file name only.
PATH_KEYS = ("path", "error_path", "report_path", "plot_path")
#: Suffixes of figure files: only their existence is checked.
PLOT_SUFFIXES = (".png", ".svg", ".pdf")

RTOL = 1e-9
ATOL = 1e-15
TIMEOUT_S = 120


def case_names() -> list[str]:
    """The names of all cases, sorted."""
    return sorted(p.stem for p in CASES_DIR.glob("*.toml"))


def load_case(name: str) -> dict[str, Any]:
    """The case's TOML as a dict, with only known keys and the right types."""
    with open(CASES_DIR / f"{name}.toml", "rb") as f:
        case = tomllib.load(f)
    unknown = set(case) - {"input", "args", "stdin", "stdout"}
    assert not unknown, f"{name}.toml: unknown keys {sorted(unknown)}"
    assert isinstance(case["input"], str), f"{name}.toml: input must be a string"
    assert (SAMPLES_DIR / case["input"]).is_file(), f"{name}.toml: no such sample"
    assert isinstance(case["args"], list), f"{name}.toml: args must be a list"
    assert all(isinstance(a, str) for a in case["args"]), f"{name}.toml: args"
    return case


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_case(name: str, workdir: Path) -> dict[str, Any]:
    """Run the case in ``workdir`` (empty) and return its normalized result."""
    case = load_case(name)
    sample = SAMPLES_DIR / case["input"]
    args = [a.replace("{samples}", str(SAMPLES_DIR)) for a in case["args"]]
    stdin_bytes = None
    if case.get("stdin", False):
        stdin_bytes = sample.read_bytes()
    else:
        args = [str(sample), *args]
    proc = subprocess.run(
        [sys.executable, "-m", "adcsim", "quantize", *args],
        cwd=workdir,
        input=stdin_bytes,
        capture_output=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    stderr = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, f"{name}: exit code {proc.returncode}\n{stderr}"
    if "stdout" in case:
        (workdir / case["stdout"]).write_bytes(proc.stdout)
    else:
        assert proc.stdout == b"", f"{name}: unexpected output on stdout"

    files: dict[str, str] = {}
    plots: list[str] = []
    reports: list[Path] = []
    for path in sorted(workdir.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(workdir).as_posix()
        if path.suffix in PLOT_SUFFIXES:
            assert path.stat().st_size > 0, f"{name}: empty figure {rel}"
            plots.append(rel)
        elif path.suffix == ".json":
            reports.append(path)
        else:
            files[rel] = sha256(path)
    assert len(reports) == 1, f"{name}: expected one JSON report, found {reports}"
    with open(reports[0], encoding="utf-8") as f:
        report = json.load(f)
    return {
        "case": case,
        "report_file": reports[0].relative_to(workdir).as_posix(),
        "files": files,
        "plots": plots,
        "report": normalize_report(report, roots=(workdir, SAMPLES_DIR)),
    }


def normalize_report(report: dict[str, Any], *, roots: tuple[Path, ...]) -> Any:
    """Drop the volatile keys, cut paths to file names, check nothing else leaks."""
    report = json.loads(json.dumps(report))
    for keys in VOLATILE:
        parent = report
        for key in keys[:-1]:
            parent = parent.get(key, {})
        parent.pop(keys[-1], None)

    def cut(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: (
                    os.path.basename(v)
                    if k in PATH_KEYS and isinstance(v, str)
                    else cut(v)
                )
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [cut(v) for v in value]
        return value

    report = cut(report)
    text = json.dumps(report)
    for root in roots:
        assert str(root) not in text, f"a path under {root} is left in the report"
    return report


# --- comparison ------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    raise TypeError(f"not a JSON value: {value!r}")


def floats_close(expected: float, actual: float) -> bool:
    """Whether two floats agree to ``RTOL`` (``ATOL`` near zero)."""
    if not (math.isfinite(expected) and math.isfinite(actual)):
        return expected == actual
    return abs(actual - expected) <= ATOL + RTOL * abs(expected)


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every difference between two JSON values, one line each, by key path.

    Floats agree to ``RTOL``/``ATOL``; everything else (integers, strings,
    booleans, nulls, hashes, list lengths, key sets) must be equal, and a value
    may not change its JSON type (``20`` is not ``20.0``).
    """
    where = path or "<top>"
    ke, ka = _kind(expected), _kind(actual)
    if ke != ka:
        return [f"{where}: expected {ke} {expected!r}, got {ka} {actual!r}"]
    if ke == "dict":
        out = [f"{path}.{k}: missing" for k in expected if k not in actual]
        out += [f"{path}.{k}: unexpected key" for k in actual if k not in expected]
        for k in expected:
            if k in actual:
                out += differences(expected[k], actual[k], f"{path}.{k}")
        if not out and list(expected) != list(actual):
            out.append(f"{where}: key order {list(actual)}, expected {list(expected)}")
        return out
    if ke == "list":
        if len(expected) != len(actual):
            return [f"{where}: length {len(actual)}, expected {len(expected)}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out += differences(e, a, f"{path}[{i}]")
        return out
    if ke == "float":
        if floats_close(expected, actual):
            return []
        rel = abs(actual - expected) / abs(expected) if expected else math.inf
        return [f"{where}: expected {expected!r}, got {actual!r} (rel {rel:.3g})"]
    if expected != actual:
        return [f"{where}: expected {expected!r}, got {actual!r}"]
    return []


def expected_path(name: str) -> Path:
    return CASES_DIR / f"{name}.json"


def dump(result: dict[str, Any]) -> str:
    """The expected file's text: stable, indented, floats as Python repr."""
    return json.dumps(result, indent=2, allow_nan=False) + "\n"
