"""Unit tests for adcsim.quantizers._lloydmax (codebook design) and LloydMaxQuantizer.

References used below, independent of the code under test:

* Max, J. (1960), "Quantizing for minimum distortion", IRE Trans. Inform.
  Theory IT-6, 7-12, Table I: the N-level quantizer of a unit-variance Gaussian.
* Paez, M. D. and Glisson, T. H. (1972), "Minimum mean-squared-error
  quantization in speech PCM and DPCM systems", IEEE Trans. Commun. COM-20,
  225-230: the same for a unit-variance Laplacian.
* An analytic design written here from the theory (closed-form conditional
  means of the two densities, iterated to a fixed point), which also checks
  the table values above.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.quantizers._codebook import Codebook
from adcsim.quantizers._lloydmax import (
    DEFAULT_TOL,
    LloydMaxTrainer,
    design_lloyd_max,
)
from adcsim.quantizers._lloydmax_scheme import LloydMaxQuantizer
from adcsim.quantizers._registry import SCHEMES, make_quantizer
from adcsim.quantizers._stage import QuantizeStage
from adcsim.stages._chain import Chain, StreamInfo

# --- published tables (positive half; the quantizers are odd-symmetric) -------

# Max (1960), Table I: mean squared error for 2, 4, 8, 16 levels.
MAX_1960_MSE = {1: 0.3634, 2: 0.1175, 3: 0.03454, 4: 0.009497}
# Max (1960), Table I: positive thresholds (0 is the middle one) and levels.
MAX_1960_THRESHOLDS = {
    1: [],
    2: [0.9816],
    3: [0.5006, 1.050, 1.748],
    4: [0.2582, 0.5224, 0.7996, 1.099, 1.437, 1.844, 2.401],
}
MAX_1960_LEVELS = {
    1: [0.7979],
    2: [0.4528, 1.510],
    3: [0.2451, 0.7560, 1.344, 2.152],
    4: [0.1284, 0.3881, 0.6568, 0.9424, 1.256, 1.618, 2.069, 2.733],
}
# Paez & Glisson (1972): mean squared error, unit-variance Laplacian.
PAEZ_GLISSON_MSE = {1: 0.5, 2: 0.1765, 3: 0.05448, 4: 0.01545}
PAEZ_GLISSON_THRESHOLDS = {1: [], 2: [1.1269], 3: [0.5332, 1.2527, 2.3796]}
PAEZ_GLISSON_LEVELS = {
    1: [0.7071],
    2: [0.4198, 1.8340],
    3: [0.2334, 0.8330, 1.6725, 3.0867],
}


# --- independent analytic reference ------------------------------------------


def _gaussian_cell(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple:
    """Probability and conditional mean of N(0, 1) on [a, b)."""
    from scipy.stats import norm

    p = norm.cdf(b) - norm.cdf(a)
    return p, (norm.pdf(a) - norm.pdf(b)) / p


def _laplacian_cell(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple:
    """Probability and conditional mean of the unit-variance Laplacian on [a, b).

    For 0 <= a < b, with rate lam = sqrt(2): integrating x lam e^(-lam x) gives
    E[x | a <= x < b] = ((a + 1/lam) e^(-lam a) - (b + 1/lam) e^(-lam b))
                        / (e^(-lam a) - e^(-lam b)).
    """
    lam = math.sqrt(2.0)
    ea = np.exp(-lam * a)
    eb = np.exp(-lam * b)  # exp(-inf) == 0
    tail_b = np.where(np.isinf(b), 0.0, (np.where(np.isinf(b), 0.0, b) + 1 / lam) * eb)
    return (ea - eb) / 2, ((a + 1 / lam) * ea - tail_b) / (ea - eb)


def analytic_lloyd_max(density: str, bits: int) -> tuple:
    """Positive thresholds, positive levels and MSE of the symmetric optimum.

    Iterates the two conditions on the positive half line (threshold 0 in the
    middle) until the levels stop moving.
    """
    cell = {"gauss": _gaussian_cell, "laplace": _laplacian_cell}[density]
    half = 1 << (bits - 1)
    y = np.linspace(0.1, 2.0, half)
    for _ in range(100_000):
        t = np.concatenate([[0.0], (y[:-1] + y[1:]) / 2, [np.inf]])
        p, new = cell(t[:-1], t[1:])
        if np.max(np.abs(new - y)) < 1e-13:
            break
        y = new
    mse = 1.0 - 2.0 * float(np.sum(p * y * y))  # E[x^2] - E[Q(x)^2] at optimum
    return t[1:-1], y, mse


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_analytic_reference_reproduces_max_1960(bits: int) -> None:
    t, y, mse = analytic_lloyd_max("gauss", bits)
    assert mse == pytest.approx(MAX_1960_MSE[bits], rel=1e-3)
    np.testing.assert_allclose(t, MAX_1960_THRESHOLDS[bits], atol=1e-3)
    np.testing.assert_allclose(y, MAX_1960_LEVELS[bits], atol=1e-3)


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_analytic_reference_reproduces_paez_glisson(bits: int) -> None:
    t, y, mse = analytic_lloyd_max("laplace", bits)
    assert mse == pytest.approx(PAEZ_GLISSON_MSE[bits], rel=6e-3)
    if bits in PAEZ_GLISSON_LEVELS:
        np.testing.assert_allclose(t, PAEZ_GLISSON_THRESHOLDS[bits], atol=1e-3)
        np.testing.assert_allclose(y, PAEZ_GLISSON_LEVELS[bits], atol=1e-3)


# --- designs on large seeded samples ------------------------------------------

SIGMA = 0.1  # full-scale signals: the unit-variance sources scaled into range
# 2**22 samples keep the sampling error of the 16-level MSEs near 0.5% (the
# Laplacian's outer cells hold few samples).
SAMPLES = 1 << 22


@functools.cache
def source(density: str) -> NDArray[np.float64]:
    rng = np.random.default_rng(20240601)
    if density == "gauss":
        return SIGMA * rng.standard_normal(SAMPLES)
    return SIGMA * rng.laplace(scale=1 / math.sqrt(2), size=SAMPLES)


@functools.cache
def trainer_for(density: str) -> LloydMaxTrainer:
    trainer = LloydMaxTrainer()
    trainer.update(source(density))
    return trainer


@functools.cache
def designed(density: str, bits: int, tol: float = DEFAULT_TOL) -> Codebook:
    return trainer_for(density).design(bits, tol=tol, max_iter=100_000)


def _full(
    positive_thresholds: NDArray[np.float64], positive_levels: NDArray[np.float64]
):
    t = np.concatenate([-positive_thresholds[::-1], [0.0], positive_thresholds])
    return t, np.concatenate([-positive_levels[::-1], positive_levels])


@pytest.mark.slow  # 2**22-sample designs: 15-30 s for the three groups
@pytest.mark.parametrize("bits", [1, 2, 3, 4])
@pytest.mark.parametrize(
    ("density", "table"), [("gauss", MAX_1960_MSE), ("laplace", PAEZ_GLISSON_MSE)]
)
def test_design_reproduces_the_published_mse_within_2_percent(
    density: str, table: dict[int, float], bits: int
) -> None:
    cb = designed(density, bits)
    assert cb.converged
    assert cb.design_mse / SIGMA**2 == pytest.approx(table[bits], rel=0.02)
    assert cb.design_mse / SIGMA**2 == pytest.approx(
        analytic_lloyd_max(density, bits)[2], rel=0.02
    )


@pytest.mark.slow  # 2**22-sample designs: 15-30 s for the three groups
@pytest.mark.parametrize("bits", [1, 2, 3, 4])
@pytest.mark.parametrize("density", ["gauss", "laplace"])
def test_design_levels_and_thresholds_match_the_analytic_design(
    density: str, bits: int
) -> None:
    t, y, _ = analytic_lloyd_max(density, bits)
    thresholds, levels = _full(t, y)
    cb = designed(density, bits)
    # The MSE hardly changes when the whole quantizer shifts a little (for the
    # Laplacian, whose tail conditional mean moves one for one with the
    # threshold, Lloyd's map is neutral along that shift), so a finite sample
    # fixes the shift only loosely. Compare the odd (symmetric) part of the
    # design with the analytic optimum, and bound the shift separately.
    # Sampling error grows in the sparse outer cells: allow 2% plus 0.01 sigma.
    odd_levels = (cb.levels - cb.levels[::-1]) / 2 / SIGMA
    odd_thresholds = (cb.thresholds - cb.thresholds[::-1]) / 2 / SIGMA
    np.testing.assert_allclose(odd_levels, levels, rtol=0.02, atol=0.01)
    np.testing.assert_allclose(odd_thresholds, thresholds, rtol=0.02, atol=0.01)
    shift = (cb.levels + cb.levels[::-1]) / 2 / SIGMA
    assert np.abs(shift).max() < 0.05


@pytest.mark.slow  # 2**22-sample designs: 15-30 s for the three groups
@pytest.mark.parametrize(
    ("tol", "atol"),
    # At a fixed point (tol=0) a level and its cell's sample mean differ only
    # through the samples of the bins that straddle the cell's two thresholds:
    # about one bin width (2**-19) each. At the default tolerance the MSE has
    # settled but the levels may still creep along flat directions.
    [(0.0, 2.0**-18), (DEFAULT_TOL, 5e-4 * SIGMA)],
)
@pytest.mark.parametrize("bits", [1, 2, 3, 4])
@pytest.mark.parametrize("density", ["gauss", "laplace"])
def test_design_meets_the_optimality_conditions_on_the_samples(
    density: str, bits: int, tol: float, atol: float
) -> None:
    # The design sees samples beyond full scale as +-1 (a handful here).
    x = np.clip(source(density), -1.0, 1.0)
    cb = designed(density, bits, tol)
    assert cb.converged
    # Each threshold is the midpoint of its two levels.
    np.testing.assert_array_equal(cb.thresholds, (cb.levels[:-1] + cb.levels[1:]) / 2)
    # Each level is the mean of the training samples in its cell, computed here
    # sample by sample (the design works on a histogram of 2**-19 wide bins).
    cell = np.searchsorted(cb.thresholds, x, side="right")
    count = np.bincount(cell, minlength=cb.levels.size)
    assert count.min() > 0
    means = np.bincount(cell, weights=x, minlength=cb.levels.size) / count
    np.testing.assert_allclose(means, cb.levels, rtol=0, atol=atol)
    # design_mse is the samples' MSE with this codebook.
    mse = np.mean((x - cb.levels[cell]) ** 2)
    assert cb.design_mse == pytest.approx(mse, rel=1e-6)


def test_design_beats_every_perturbed_codebook() -> None:
    # A local minimum of the MSE: moving any one level by +-1% of sigma, with
    # midpoint thresholds, never lowers the samples' MSE.
    x = source("laplace")[:50_000]
    cb = design_lloyd_max(x, bits=3)

    def mse(levels: NDArray[np.float64]) -> float:
        t = (levels[:-1] + levels[1:]) / 2
        return float(np.mean((x - levels[np.searchsorted(t, x, side="right")]) ** 2))

    best = mse(cb.levels)
    for i in range(cb.levels.size):
        for delta in (-0.01 * SIGMA, 0.01 * SIGMA):
            moved = cb.levels.copy()
            moved[i] += delta
            assert mse(moved) >= best


def test_twelve_bit_design_on_a_peaky_source_converges_and_uses_every_level() -> None:
    rng = np.random.default_rng(7)
    # Loud and quiet passages: a Laplacian whose scale spans 40 dB.
    x = rng.laplace(size=1 << 20) * 10 ** rng.uniform(-2.5, -0.5, size=1 << 20)
    cb = design_lloyd_max(np.clip(x, -1, 1), bits=12)
    assert cb.converged
    cell = np.searchsorted(cb.thresholds, x, side="right")
    assert np.unique(cell).size == 4096
    uniform_mse = (2 / 4096) ** 2 / 12  # 12-bit uniform PCM, in range
    assert cb.design_mse < uniform_mse / 4


# --- degenerate data -----------------------------------------------------------


@pytest.mark.parametrize("bits", [1, 2, 8, 16])
def test_silence_gives_an_exact_zero_level_and_zero_error(bits: int) -> None:
    cb = design_lloyd_max(np.zeros((1000, 2)), bits=bits)
    assert cb.design_mse == 0.0
    assert cb.iterations == 0
    assert cb.converged
    assert 0.0 in cb.levels
    assert np.all(np.diff(cb.levels) > 0)
    assert np.all(np.abs(cb.levels) < 1)
    q = LloydMaxQuantizer(bits=bits, codebook=cb)
    assert q.quantize(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_constant_input_is_reproduced_exactly() -> None:
    # Exact for values on the design grid of 2**-30 (PCM up to 31 bits, float32
    # above 2**-7): 24-bit PCM here.
    value = 2516582 / 2**23
    cb = design_lloyd_max(np.full(100, value), bits=3)
    q = LloydMaxQuantizer(bits=3, codebook=cb)
    assert q.quantize([value]).tolist() == [value]
    assert cb.design_mse == 0.0


def test_values_off_the_design_grid_are_reproduced_to_within_half_a_grid_step() -> None:
    cb = design_lloyd_max(np.full(10, 0.3), bits=1)
    assert LloydMaxQuantizer(bits=1, codebook=cb).quantize([0.3])[0] >= 0.3 - 2.0**-31
    assert LloydMaxQuantizer(bits=1, codebook=cb).quantize([0.3])[0] <= 0.3 + 2.0**-31


def test_spare_levels_fill_the_uniform_grid_away_from_the_data() -> None:
    # One value, 2 bits: grid centres -0.75, -0.25, 0.25, 0.75; the value 0.375
    # occupies the cell of 0.25, the three free centres are the spare levels.
    cb = design_lloyd_max([0.375, 0.375], bits=2)
    np.testing.assert_array_equal(cb.levels, [-0.75, -0.25, 0.375, 0.75])
    # Two values in one grid cell: of the three free centres, the two farthest
    # from the data are used.
    cb = design_lloyd_max([0.3125, 0.4375], bits=2)
    np.testing.assert_array_equal(cb.levels, [-0.75, -0.25, 0.3125, 0.4375])


def test_fewer_distinct_values_than_levels_are_each_a_level() -> None:
    values = np.array([-0.5, 0.25, 0.75])
    x = np.repeat(values, [5, 1, 3])
    cb = design_lloyd_max(x, bits=3)
    assert set(values) <= set(cb.levels.tolist())
    assert cb.design_mse == 0.0
    q = LloydMaxQuantizer(bits=3, codebook=cb)
    np.testing.assert_array_equal(q.quantize(x), x)


def test_exactly_as_many_distinct_values_as_levels_become_the_levels() -> None:
    values = np.array([-0.875, -0.125, 0.25, 0.625])
    cb = design_lloyd_max(np.tile(values, 5), bits=2)
    np.testing.assert_array_equal(cb.levels, values)
    np.testing.assert_array_equal(cb.thresholds, [-0.5, 0.0625, 0.4375])


def test_two_heavy_spikes_do_not_leave_levels_unused() -> None:
    # Two values hold 99% of the samples: without moving the levels of empty
    # cells, Lloyd's algorithm leaves most of them unused.
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [np.full(5000, -0.5), np.full(5000, 0.5), 0.001 * rng.standard_normal(100)]
    )
    for bits in (2, 3, 4, 5):
        cb = design_lloyd_max(x, bits=bits)
        cell = np.searchsorted(cb.thresholds, x, side="right")
        assert np.unique(cell).size == 1 << bits


def test_one_bit_splits_two_clusters_at_their_means() -> None:
    x = [-0.52, -0.5, -0.48, 0.29, 0.3, 0.31]
    cb = design_lloyd_max(x, bits=1)
    np.testing.assert_allclose(cb.levels, [-0.5, 0.3], atol=1e-9)
    np.testing.assert_allclose(cb.thresholds, [-0.1], atol=1e-9)
    assert cb.design_mse == pytest.approx((4 * 0.02**2 / 2 + 2 * 0.01**2) / 6)


def test_samples_beyond_full_scale_are_designed_as_full_scale_and_counted() -> None:
    trainer = LloydMaxTrainer()
    trainer.update([-3.0, -1.0, -1.0, 1.0, 2.0, 1.0, 0.5])
    assert trainer.clipped_samples == 2
    assert trainer.samples == 7
    cb = trainer.design(1)
    np.testing.assert_allclose(cb.levels, [-1.0, 0.875])


def test_integer_and_float32_input_design_like_float64() -> None:
    x = np.array([-0.5, -0.25, 0.0, 0.125, 0.75], dtype=np.float32)
    assert design_lloyd_max(x, bits=1) == design_lloyd_max(x.astype(np.float64), bits=1)
    ints = np.array([-1, 0, 0, 1])
    np.testing.assert_array_equal(
        design_lloyd_max(ints, bits=1).levels,
        design_lloyd_max(ints * 1.0, bits=1).levels,
    )


def test_max_iter_zero_returns_the_initial_codebook_unconverged() -> None:
    x = np.random.default_rng(1).standard_normal(1000) * 0.1
    cb = design_lloyd_max(x, bits=2, max_iter=0)
    assert cb.iterations == 0
    assert not cb.converged
    assert np.all(np.diff(cb.levels) > 0)


def test_tighter_tolerance_never_gives_a_larger_error() -> None:
    x = np.random.default_rng(2).standard_normal(20_000) * 0.1
    trainer = LloydMaxTrainer()
    trainer.update(x)
    loose = trainer.design(4, tol=1e-2)
    tight = trainer.design(4, tol=0.0)
    assert tight.design_mse <= loose.design_mse
    assert tight.iterations >= loose.iterations


# --- streaming ---------------------------------------------------------------------


def test_any_split_into_blocks_gives_exactly_the_one_block_design() -> None:
    rng = np.random.default_rng(11)
    x = 0.2 * rng.standard_t(3, size=100_000)
    whole = design_lloyd_max(x, bits=4)
    for sizes in ([1, 99_999], [50_000, 50_000], [7] * 1000 + [93_000]):
        trainer = LloydMaxTrainer()
        for block in np.split(x, np.cumsum(sizes)[:-1]):
            trainer.update(block.reshape(-1, 1))
        assert trainer.design(4) == whole


def test_streaming_past_the_internal_chunk_size_is_exact() -> None:
    # Over 2 * 2**21 samples (the internal batch size), split so that the
    # batches group the samples differently, some binned densely and some
    # sparsely (batches under 2**16 samples).
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, size=(2 << 21) + 1234)
    whole = design_lloyd_max(x, bits=2)
    for blocks in (np.array_split(x, 7), np.split(x, [1234]), np.split(x, [50, 2**21])):
        trainer = LloydMaxTrainer()
        for block in blocks:
            trainer.update(block)
        assert trainer.design(2) == whole
        assert trainer.samples == x.size


def test_one_trainer_designs_several_depths() -> None:
    x = np.random.default_rng(4).standard_normal(10_000) * 0.1
    trainer = LloydMaxTrainer()
    trainer.update(x)
    assert trainer.design(2) == design_lloyd_max(x, bits=2)
    assert trainer.design(5) == design_lloyd_max(x, bits=5)


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_training_data_is_an_error_and_changes_nothing(bad: float) -> None:
    trainer = LloydMaxTrainer()
    trainer.update([0.1, 0.2, 0.3])
    before = trainer.design(1)
    with pytest.raises(AdcsimError, match="nan or inf"):
        trainer.update([0.5, bad])
    assert trainer.samples == 3
    assert trainer.design(1) == before


def test_complex_training_data_is_an_error() -> None:
    with pytest.raises(AdcsimError, match="dtype=complex128"):
        design_lloyd_max(np.array([1j]), bits=1)


def test_design_without_data_is_an_error() -> None:
    with pytest.raises(AdcsimError, match="no training data"):
        LloydMaxTrainer().design(2)
    with pytest.raises(AdcsimError, match="no training data"):
        design_lloyd_max([], bits=2)


@pytest.mark.parametrize("bits", [0, 17, -1, 2.0, True, "8", None])
def test_bits_outside_1_to_16_is_an_error(bits: object) -> None:
    with pytest.raises(AdcsimError, match=r"bits=.* must be an integer in \[1, 16\]"):
        design_lloyd_max([0.1, 0.2], bits=bits)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tol": -1e-3}, "tol=-0.001"),
        ({"tol": math.nan}, "tol=nan"),
        ({"max_iter": -1}, "max_iter=-1"),
        ({"max_iter": 2.5}, "max_iter=2.5"),
    ],
)
def test_bad_tolerance_or_iteration_limit_is_an_error(kwargs: dict, match: str) -> None:
    with pytest.raises(AdcsimError, match=match):
        design_lloyd_max([0.1, 0.2, 0.3], bits=1, **kwargs)


# --- the Codebook object and its JSON form -------------------------------------


@pytest.fixture
def codebook() -> Codebook:
    x = np.random.default_rng(9).standard_normal(5000) * 0.1
    return design_lloyd_max(x, bits=3)


def test_codebook_is_immutable(codebook: Codebook) -> None:
    with pytest.raises(FrozenInstanceError):
        codebook.bits = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        codebook.levels[0] = 0.0


def test_codebook_dict_holds_plain_json_types_and_round_trips(
    codebook: Codebook,
) -> None:
    data = codebook.to_dict()
    assert list(data) == [
        "schema_version",
        "bits",
        "levels",
        "thresholds",
        "design_mse",
        "iterations",
        "converged",
    ]
    assert all(type(v) is float for v in data["levels"] + data["thresholds"])
    assert Codebook.from_dict(json.loads(json.dumps(data))) == codebook


def test_codebook_saves_and_loads_exactly(codebook: Codebook, tmp_path) -> None:
    path = tmp_path / "cb.json"
    codebook.save(path)
    assert Codebook.load(path) == codebook
    assert Codebook.load(str(path)) == codebook
    assert [p.name for p in tmp_path.iterdir()] == ["cb.json"]  # no temp file left


def test_codebook_save_replaces_an_existing_file(codebook: Codebook, tmp_path) -> None:
    path = tmp_path / "cb.json"
    path.write_text("old")
    codebook.save(path)
    assert Codebook.load(path) == codebook


def test_codebook_save_to_a_missing_directory_names_the_file(
    codebook: Codebook, tmp_path
) -> None:
    path = tmp_path / "nowhere" / "cb.json"
    with pytest.raises(
        AdcsimError, match=r"cannot write codebook '.*nowhere/cb\.json'"
    ):
        codebook.save(path)
    assert not (tmp_path / "nowhere").exists()


def test_loading_a_missing_file_names_it(tmp_path) -> None:
    with pytest.raises(
        AdcsimError, match=r"cannot read codebook '.*gone\.json': no such file"
    ):
        Codebook.load(tmp_path / "gone.json")


def test_loading_a_directory_is_an_error(tmp_path) -> None:
    with pytest.raises(AdcsimError, match="cannot read codebook"):
        Codebook.load(tmp_path)


def test_loading_invalid_json_names_the_file(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"bits": 2,')
    with pytest.raises(
        AdcsimError, match=r"cannot read codebook '.*bad\.json': not valid JSON"
    ):
        Codebook.load(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(AdcsimError, match="not UTF-8"):
        Codebook.load(path)


def _good() -> dict:
    return {
        "schema_version": 1,
        "bits": 1,
        "levels": [-0.5, 0.5],
        "thresholds": [0.0],
        "design_mse": 0.01,
        "iterations": 3,
        "converged": True,
    }


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"levels": [-0.5]}, "levels must hold 2 numbers"),
        ({"levels": [0.5, -0.5]}, "levels must ascend"),
        ({"levels": [-0.5, -0.5]}, "levels must ascend"),
        ({"thresholds": [-0.5]}, r"thresholds\[0\]=-0.5"),
        ({"thresholds": [0.7]}, "levels must ascend"),
        ({"thresholds": [0.0, 0.1]}, "thresholds must hold 1 numbers"),
        ({"levels": [-0.5, math.nan]}, "levels must be finite"),
        ({"levels": [-0.5, math.inf]}, "levels must be finite"),
        ({"levels": ["-0.5", "0.5"]}, "levels must be a list of numbers"),
        ({"levels": [True, False]}, "levels must be a list of numbers"),
        ({"levels": {"a": 1}}, "levels must be a list of numbers"),
        ({"bits": 0}, "bits=0"),
        ({"bits": 17}, "bits=17"),
        ({"bits": True}, "bits=True"),
        ({"bits": 2}, "levels must hold 4 numbers"),
        ({"design_mse": -1.0}, "design_mse=-1.0"),
        ({"design_mse": math.nan}, "design_mse=nan"),
        ({"design_mse": "0"}, "design_mse='0'"),
        ({"iterations": -1}, "iterations=-1"),
        ({"iterations": 1.5}, "iterations=1.5"),
        ({"converged": 1}, "converged=1"),
        ({"schema_version": 2}, "schema_version=2"),
        ({"extra": 1}, "unknown key 'extra'"),
    ],
)
def test_invalid_codebook_files_are_rejected_naming_the_file(
    tmp_path, change: dict, match: str
) -> None:
    data = _good()
    data.update(change)
    path = tmp_path / "cb.json"
    path.write_text(json.dumps(data))
    with pytest.raises(AdcsimError, match=rf"invalid codebook '.*cb\.json': .*{match}"):
        Codebook.load(path)
    with pytest.raises(AdcsimError, match=rf"^codebook: .*{match}"):
        Codebook.from_dict(data)


def test_a_codebook_file_missing_a_key_or_not_an_object_is_rejected(tmp_path) -> None:
    data = _good()
    del data["thresholds"]
    path = tmp_path / "cb.json"
    path.write_text(json.dumps(data))
    with pytest.raises(AdcsimError, match="missing key 'thresholds'"):
        Codebook.load(path)
    path.write_text("[1, 2]")
    with pytest.raises(AdcsimError, match="expected a JSON object"):
        Codebook.load(path)


def test_codebook_constructor_validates_its_fields() -> None:
    with pytest.raises(AdcsimError, match="codebook: levels must ascend"):
        Codebook(
            bits=1,
            levels=[0.1, 0.1],
            thresholds=[0.1],
            design_mse=0,
            iterations=0,
            converged=True,
        )
    cb = Codebook(
        bits=1,
        levels=(-1, 1),
        thresholds=(0,),
        design_mse=0,
        iterations=0,
        converged=True,
    )
    assert cb.levels.dtype == np.float64
    assert type(cb.design_mse) is float


# --- LloydMaxQuantizer ---------------------------------------------------------


def test_lloydmax_is_registered_and_built_by_make_quantizer(codebook: Codebook) -> None:
    assert SCHEMES["lloydmax"] is LloydMaxQuantizer
    q = make_quantizer("lloydmax", bits=3, codebook=codebook)
    assert isinstance(q, LloydMaxQuantizer)
    np.testing.assert_array_equal(q.codebook, codebook.levels)
    assert q.step is None
    assert q.name in repr(q).lower()


def test_quantizer_bits_must_match_the_codebook(codebook: Codebook) -> None:
    with pytest.raises(
        AdcsimError, match="bits=4 does not match the codebook's bits=3"
    ):
        LloydMaxQuantizer(bits=4, codebook=codebook)
    with pytest.raises(AdcsimError, match="bits=4"):
        make_quantizer("lloydmax", bits=4, codebook=codebook)


def test_quantizer_needs_a_codebook_object() -> None:
    with pytest.raises(TypeError, match="Codebook"):
        LloydMaxQuantizer(bits=1, codebook={"levels": [0, 1]})  # type: ignore[arg-type]


def test_quantizer_picks_the_nearest_level(codebook: Codebook) -> None:
    # Reference: brute-force nearest level (midpoint thresholds make the cells
    # nearest-level cells).
    x = np.random.default_rng(8).uniform(-1.2, 1.2, size=20_000)
    q = LloydMaxQuantizer(bits=3, codebook=codebook)
    nearest = np.argmin(np.abs(x[:, None] - codebook.levels[None, :]), axis=1)
    codes = q.encode(x)
    np.testing.assert_array_equal(codes, nearest - 4)
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(q.quantize(x), codebook.levels[nearest])


def test_quantizer_puts_a_sample_on_a_threshold_in_the_upper_cell(
    codebook: Codebook,
) -> None:
    q = LloydMaxQuantizer(bits=3, codebook=codebook)
    np.testing.assert_array_equal(q.encode(codebook.thresholds), np.arange(-3, 4))
    np.testing.assert_array_equal(q.encode(codebook.levels), np.arange(-4, 4))


def test_quantizer_counts_samples_beyond_full_scale_as_clipped(
    codebook: Codebook,
) -> None:
    q = LloydMaxQuantizer(bits=3, codebook=codebook)
    codes, clipped = q.encode_counting(
        np.array([[-1.5, -1.0], [0.0, 1.0], [1.0001, 7]])
    )
    assert clipped == 3
    assert codes.shape == (3, 2)
    assert codes.min() >= -4 and codes.max() <= 3


def test_quantizer_reports_the_codebook_up_to_8_bits() -> None:
    x = np.random.default_rng(6).standard_normal(20_000) * 0.1
    small = LloydMaxQuantizer(bits=8, codebook=design_lloyd_max(x, bits=8))
    params = small.params
    assert len(params["codebook"]["levels"]) == 256
    assert len(params["codebook"]["thresholds"]) == 255
    assert params["design_mse"] == small.designed.design_mse
    json.dumps(params)  # plain JSON types
    large = LloydMaxQuantizer(bits=9, codebook=design_lloyd_max(x, bits=9))
    assert "codebook" not in large.params
    assert large.params["design_mse"] > 0


def test_quantize_stage_runs_a_lloydmax_quantizer_and_counts_clipping(
    codebook: Codebook,
) -> None:
    stage = QuantizeStage(LloydMaxQuantizer(bits=3, codebook=codebook))
    chain = Chain([stage])
    assert chain.start(StreamInfo(rate=8000, channels=1)).bits == 3
    blocks = [np.array([[0.01], [1.5]]), np.array([[-2.0]])]
    out = np.concatenate(list(chain.run(blocks)))
    np.testing.assert_array_equal(
        out.ravel(),
        LloydMaxQuantizer(bits=3, codebook=codebook).encode([0.01, 1.5, -2]),
    )
    assert stage.counters == {"clipped_samples": 2}
