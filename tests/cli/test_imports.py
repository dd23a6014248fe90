"""Start-up stays light, and every module imports on its own.

Each check runs in a fresh interpreter, so modules already imported by the test
session cannot hide a missing or heavy import.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import adcsim

HEAVY = ("numpy", "scipy", "matplotlib", "soundfile", "soxr")
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

HELP_SCRIPT = f"""
import sys
from click.testing import CliRunner
import adcsim.cli._main

runner = CliRunner()
for args in (["--help"], ["quantize", "--help"], ["schemes", "--help"], ["--version"]):
    result = runner.invoke(adcsim.cli._main.main, args)
    assert result.exit_code == 0, (args, result.output)
    assert result.output.strip(), args
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print(" ".join(heavy))
"""


def test_help_and_version_import_no_heavy_package() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", HELP_SCRIPT],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"imported at start-up: {proc.stdout}"


def test_the_adcsim_script_entry_point_help_is_light() -> None:
    script = (
        "import sys, runpy\n"
        "sys.argv = ['adcsim', 'quantize', '--help']\n"
        "try:\n"
        "    runpy.run_module('adcsim', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        f"print(' '.join(sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {HEAVY!r})), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Examples:" in proc.stdout
    assert proc.stderr.strip() == ""


def all_modules() -> list[str]:
    return sorted(
        info.name for info in pkgutil.walk_packages(adcsim.__path__, "adcsim.")
    )


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    modules = ["adcsim", *all_modules()]
    assert "adcsim.cli._main" in modules and "adcsim.run._process" in modules
    # One interpreter per module, all at once, to keep the test fast.
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", f"import {name}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for name in modules
    }
    failures = {}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failures[name] = err.strip().splitlines()[-1:]
    assert not failures


def test_import_adcsim_is_lazy() -> None:
    script = (
        "import sys, adcsim\n"
        "assert adcsim.__version__\n"
        f"print(' '.join(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_public_names_are_what_they_name_after_every_module_is_imported() -> None:
    # A submodule named like a public function (adcsim/dither.py beside
    # adcsim.dither) once shadowed it after any import of the submodule.
    modules = all_modules()
    code = (
        "import importlib, types, adcsim\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = []\n"
        "for name in adcsim.__all__:\n"
        "    value = getattr(adcsim, name)\n"
        "    if name == '__version__':\n"
        "        continue\n"
        "    if name in adcsim._SUBMODULES:\n"
        "        ok = isinstance(value, types.ModuleType)\n"
        "    else:\n"
        "        home = importlib.import_module(adcsim._EXPORTS[name])\n"
        "        ok = value is getattr(home, name) and not isinstance(\n"
        "            value, types.ModuleType)\n"
        "        owner = getattr(value, '__module__', home.__name__)\n"
        "        ok = ok and owner == home.__name__\n"
        "    if not ok:\n"
        "        bad.append(name)\n"
        "print(' '.join(bad))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_dither_is_callable_after_its_stage_is_looked_up() -> None:
    import numpy as np

    assert adcsim.DitherStage is not None
    out = adcsim.dither(np.zeros(4), bits=8, kind="tpdf", seed=1)
    assert out.shape == (4,)
