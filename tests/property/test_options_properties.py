"""Random option values never produce a traceback (hypothesis, the ``ci`` profile).

Every value a user can type goes through Click and adcsim's checks: the
command ends with exit 0, or exit 1 or 2 and exactly one ``Error:`` line; it
never raises (CliRunner returns the exception), and a failure leaves no file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adcsim.cli._main import main

#: Typed text: numbers of every size and kind, words, empty, odd bytes.
NUMBERISH = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e308", "-0", "0x10", "1_0"]),
    st.text(max_size=12),
)
SPANS = st.tuples(NUMBERISH, NUMBERISH).map(lambda p: f"{p[0]}:{p[1]}") | NUMBERISH
SETTINGS = settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _input(folder: Path) -> Path:
    path = folder / "in.wav"
    if not path.exists():
        t = np.arange(8000) / 8000
        sf.write(str(path), 0.4 * np.sin(2 * np.pi * 440 * t), 8000, "PCM_16")
    return path


def _check(folder: Path, args: list[str], keep: set[str]) -> None:
    before = set(os.listdir(folder))
    # Relative paths among the values (--report 0:0) land in the folder.
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(cwd)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (args, result.exception)
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
        assert len(errors) == 1, (args, result.stderr)
        assert set(os.listdir(folder)) == before, args
    for name in set(os.listdir(folder)) - keep:
        if (folder / name).is_dir():
            shutil.rmtree(folder / name)
        else:
            os.unlink(folder / name)


@SETTINGS
@given(
    option=st.sampled_from(
        [
            "--bits", "--scheme", "--rate", "--dither", "--seed", "--mu", "--a",
            "--blocksize", "--plot-window", "--subtype", "--error-gain", "--jobs",
            "--noise-shaping", "--report", "--summary", "--out-dir", "--codebook",
        ]
    ),
    value=SPANS,
)  # fmt: skip
def test_any_quantize_option_value_is_a_result_or_one_error(
    tmp_path_factory, option, value
):
    folder = tmp_path_factory.mktemp("q")
    src = _input(folder)
    args = ["quantize", str(src), "-o", str(folder / "out.wav"), "-q", option, value]
    if option != "--plot-window":
        args.append("--no-plot")
    _check(folder, args, {"in.wav"})


@SETTINGS
@given(
    kind=st.sampled_from(["sine", "noise", "chirp", "ramp", "multitone", "silence"]),
    option=st.sampled_from(
        ["--duration", "--rate", "--channels", "--freq", "--level-dbfs", "--bits",
         "--freqs", "--f0", "--f1", "--seed", "--subtype"]
    ),
    value=SPANS,
)  # fmt: skip
def test_any_generate_option_value_is_a_result_or_one_error(
    tmp_path_factory, kind, option, value
):
    folder = tmp_path_factory.mktemp("g")
    args = ["generate", kind, "-o", str(folder / "g.wav"), option, value]
    if option != "--duration":
        args += ["--duration", "0.05"]
    _check(folder, args, set())


@SETTINGS
@given(
    option=st.sampled_from(["--bits", "--levels", "--scheme", "--rate", "--mu"]),
    value=SPANS,
)
def test_any_sweep_option_value_is_a_result_or_one_error(
    tmp_path_factory, option, value
):
    folder = tmp_path_factory.mktemp("s")
    src = _input(folder)
    args = ["sweep", str(src), "--report", str(folder / "r.json"), option, value]
    if option != "--bits":
        args += ["--bits", "4"]
    if option != "--levels":
        args += ["--levels", "-20,-10"]
    _check(folder, args, {"in.wav"})


@SETTINGS
@given(
    option=st.sampled_from(
        ["--bits", "--scheme", "--rate", "--dither", "--excerpt", "--trials",
         "--condition", "--seed", "--subtype"]
    ),
    value=SPANS,
)  # fmt: skip
def test_any_listen_option_value_is_a_result_or_one_error(
    tmp_path_factory, option, value
):
    folder = tmp_path_factory.mktemp("l")
    src = _input(folder)
    args = ["listen", str(src), "-o", str(folder / "s"), "--design", "abx"]
    args += ["--trials", "1"] if option != "--trials" else []
    args += ["--bits", "4"] if option not in ("--bits", "--condition") else []
    _check(folder, [*args, option, value], {"in.wav"})
