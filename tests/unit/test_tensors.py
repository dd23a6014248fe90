"""adcsim.tensors: integer schemes against theory, and the checkpoint readers.

The safetensors files here are written byte by byte from the format's
documented layout (huggingface/safetensors README: 8-byte little-endian header
length, JSON header, data), independently of the reader under test.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from adcsim.errors import AdcsimError
from adcsim.tensors import fake_quantize, quantize, read_checkpoint


def sqnr_db(x: np.ndarray, y: np.ndarray) -> float:
    return 10 * math.log10(float((x**2).sum() / ((y - x) ** 2).sum()))


def test_int8_per_tensor_sqnr_on_gaussian_follows_the_uniform_noise_formula() -> None:
    # Granular noise D**2 / 12 with D = max|x| / 127 (no clipping in minmax):
    # SQNR = 10 log10(sigma**2 / (D**2 / 12)) = 6.02 N + 4.77 - 20 log10(c/sigma)
    # with the level count of the restricted range.
    rng = np.random.default_rng(1)
    x = rng.standard_normal(200_000)
    step = np.abs(x).max() / 127
    theory = 10 * math.log10(np.mean(x**2) / (step**2 / 12))
    assert sqnr_db(x, fake_quantize(x, "int8")) == pytest.approx(theory, abs=0.05)


def test_int8_per_channel_on_gaussian_rows_of_different_scale_matches_theory() -> None:
    rng = np.random.default_rng(2)
    scales = np.geomspace(0.01, 10.0, 16)[:, None]
    w = rng.standard_normal((16, 4096)) * scales
    y = fake_quantize(w, "int8", granularity="channel")
    for row, out in zip(w, y):
        step = np.abs(row).max() / 127
        theory = 10 * math.log10(np.mean(row**2) / (step**2 / 12))
        assert sqnr_db(row, out) == pytest.approx(theory, abs=0.3)
    # Per tensor, the small rows drown in the big row's step.
    assert sqnr_db(w[0], fake_quantize(w, "int8")[0]) <= 0


def test_uniform_error_is_at_most_half_a_step_and_codes_stay_in_range() -> None:
    rng = np.random.default_rng(3)
    x = rng.laplace(size=(8, 300))
    for name, low, high in (("int4", -7, 7), ("uint4", 0, 15), ("int2", -1, 1)):
        q = quantize(x, name, granularity="group", group_size=64)
        assert q.codes.min() >= low and q.codes.max() <= high
        assert q.scales.shape == (8, 5)  # 300 = 4 groups of 64 and one of 44
        step = np.repeat(q.scales, 64, axis=1)[:, :300]
        assert np.all(np.abs(q.dequantize() - x) <= step / 2 * (1 + 1e-12))


def test_quantizing_twice_changes_nothing() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 50))
    for name in ("int8", "uint3"):
        once = fake_quantize(x, name, granularity="channel")
        twice = fake_quantize(once, name, granularity="channel")
        np.testing.assert_allclose(twice, once, rtol=0, atol=1e-12)


def test_affine_scheme_represents_zero_exactly() -> None:
    x = np.array([0.0, 0.3, 0.7, 1.9, 0.0, 2.5])
    y = fake_quantize(x, "uint3")
    assert y[0] == 0.0 and y[4] == 0.0
    q = quantize(x, "uint3")
    assert q.zero_points == 0 and q.scales == pytest.approx(2.5 / 7)


def test_channel_axis_one_is_per_tensor_on_each_column() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((30, 4)) * [1, 2, 3, 4]
    y = fake_quantize(x, "int6", granularity="channel", axis=1)
    for c in range(4):
        np.testing.assert_array_equal(y[:, c], fake_quantize(x[:, c], "int6"))


def test_percentile_clipping_is_onnx_runtimes_histogram_definition() -> None:
    # ONNX Runtime, calibrate.py HistogramCollector.compute_percentile
    # (symmetric): histogram of |x| in 2048 bins, threshold = the bin edge at
    # searchsorted(cdf, p / 100). Written here with np.histogram.
    rng = np.random.default_rng(6)
    x = rng.standard_t(3, size=50_000)
    for p in (99.0, 99.9, 99.99):
        hist, edges = np.histogram(np.abs(x), bins=2048, range=(0, np.abs(x).max()))
        cdf = np.cumsum(hist / hist.sum())
        expected = edges[np.searchsorted(cdf, p / 100)]
        q = quantize(x, "int8", calibration="percentile", percentile=p)
        assert float(q.clip_high) == pytest.approx(expected, rel=1e-12)
        assert q.clipped == np.count_nonzero(np.abs(x) > expected)


def test_mse_calibration_is_never_worse_than_minmax_and_wins_on_heavy_tails() -> None:
    rng = np.random.default_rng(7)
    x = rng.laplace(size=(16, 512))
    for name in ("int3", "uint4", "int8"):
        base = sqnr_db(x, fake_quantize(x, name, granularity="channel"))
        mse = sqnr_db(
            x, fake_quantize(x, name, granularity="channel", calibration="mse")
        )
        assert mse >= base - 1e-9
    low = sqnr_db(x, fake_quantize(x, "int3", calibration="mse"))
    assert low > sqnr_db(x, fake_quantize(x, "int3")) + 1.0


def test_straight_through_gradient_passes_only_inside_the_clipping_range() -> None:
    x = np.linspace(-3, 3, 13)
    q = quantize(x, "int8", calibration="percentile", percentile=80.0)
    inside = q.inside(x)
    assert inside.sum() == 13 - q.clipped
    assert np.all(np.abs(x[inside]) <= q.clip_high)


def test_bits_per_weight_counts_scales_and_zero_points() -> None:
    x = np.ones((4, 256))
    assert quantize(x, "int4", granularity="group").bits_per_weight() == 4 + 32 / 128
    q = quantize(x, "uint4", granularity="group", group_size=64)
    assert q.bits_per_weight() == 4 + (32 + 4) / 64


def test_all_zero_and_empty_tensors_quantize_exactly() -> None:
    assert np.all(fake_quantize(np.zeros((3, 5)), "int4", granularity="channel") == 0)
    assert fake_quantize(np.zeros((0, 4)), "uint8").shape == (0, 4)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: quantize([1.0], "int17"), "bits=17"),
        (lambda: quantize([1.0], "nf5"), "scheme='nf5'"),
        (lambda: quantize([1.0], "int8", granularity="row"), "granularity='row'"),
        (lambda: quantize([1.0], "int8", group_size=0), "group_size=0"),
        (lambda: quantize([np.nan], "int8"), "NaN"),
        (
            lambda: quantize(np.ones((2, 2)), "int8", granularity="channel", axis=2),
            "axis=2",
        ),
        (lambda: quantize([1.0], "int8", percentile=0), "percentile=0"),
    ],
)
def test_bad_schemes_and_tensors_raise_one_clear_error(call, match) -> None:
    with pytest.raises(AdcsimError, match=match):
        call()


def write_safetensors(
    path: Path, tensors: dict[str, np.ndarray], code: dict[str, str]
) -> None:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blob = b""
    for name, array in tensors.items():
        data = array.tobytes()
        header[name] = {
            "dtype": code[name],
            "shape": list(array.shape),
            "data_offsets": [len(blob), len(blob) + len(data)],
        }
        blob += data
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + blob)


def test_safetensors_of_every_float_dtype_read_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    base = rng.standard_normal((3, 5)).astype(np.float32)
    tensors = {
        "f32": base,
        "f16": base.astype(np.float16),
        "bf16": base.astype(ml_dtypes.bfloat16),
        "e4m3": base.astype(ml_dtypes.float8_e4m3fn),
        "e5m2": base.astype(ml_dtypes.float8_e5m2),
        "i8": np.arange(6, dtype=np.int8),
    }
    code = {
        "f32": "F32",
        "f16": "F16",
        "bf16": "BF16",
        "e4m3": "F8_E4M3",
        "e5m2": "F8_E5M2",
        "i8": "I8",
    }
    path = tmp_path / "m.safetensors"
    write_safetensors(path, tensors, code)
    entries = {e.name: e for e in read_checkpoint(str(path))}
    assert list(entries) == list(tensors)  # file order
    for name, array in tensors.items():
        got = entries[name].load()
        assert got.shape == array.shape and entries[name].nbytes == array.nbytes
        np.testing.assert_array_equal(got.astype(np.float64), array.astype(np.float64))
    assert entries["bf16"].dtype == "bfloat16" and entries["bf16"].is_float
    assert not entries["i8"].is_float


def hostile(tmp_path: Path, payload: bytes) -> str:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(payload)
    return str(path)


def header_bytes(header: object, data: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"\x05\x00\x00", "truncated"),
        (struct.pack("<Q", 10**12) + b"{}", "does not fit"),
        (struct.pack("<Q", 5) + b"{nope", "not valid JSON"),
        (header_bytes([1, 2]), "not a JSON object"),
        (
            header_bytes(
                {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 80]}},
                b"\0" * 8,
            ),
            "out of the 8-byte data",
        ),
        (
            header_bytes(
                {
                    "w": {
                        "dtype": "F32",
                        "shape": [2**40, 2**40],
                        "data_offsets": [0, 8],
                    }
                },
                b"\0" * 8,
            ),
            "needs",
        ),
        (
            header_bytes(
                {"w": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8
            ),
            "dtype='Q4'",
        ),
        (
            header_bytes(
                {"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}},
                b"\0" * 8,
            ),
            "shape=",
        ),
    ],
)
def test_hostile_safetensors_files_give_one_error_naming_the_file(
    tmp_path: Path, payload: bytes, match: str
) -> None:
    path = hostile(tmp_path, payload)
    with pytest.raises(AdcsimError, match=match) as info:
        read_checkpoint(path)
    assert "bad.safetensors" in str(info.value)


def test_npy_and_npz_read_tensor_by_tensor(tmp_path: Path) -> None:
    a = np.arange(12, dtype=np.float16).reshape(3, 4)
    np.save(tmp_path / "w.npy", a)
    (entry,) = read_checkpoint(str(tmp_path / "w.npy"))
    assert entry.name == "w" and entry.shape == (3, 4)
    np.testing.assert_array_equal(entry.load(), a)
    np.savez(tmp_path / "m.npz", x=a, y=np.ones(3))
    names = [
        (e.name, e.dtype, e.nbytes) for e in read_checkpoint(str(tmp_path / "m.npz"))
    ]
    assert names == [("x", "float16", 24), ("y", "float64", 24)]


def test_bad_npy_npz_and_unknown_formats_are_refused(tmp_path: Path) -> None:
    (tmp_path / "x.npy").write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "x.npz").write_bytes(b"PK not a zip")
    (tmp_path / "x.pt").write_bytes(b"pickle")
    np.save(tmp_path / "o.npy", np.array([object()]), allow_pickle=True)
    for name, match in (
        ("x.npy", "valid .npy"),
        ("x.npz", "valid .npz"),
        ("x.pt", "unknown checkpoint format"),
        ("o.npy", "o.npy"),
        ("missing.npy", "no such file"),
    ):
        with pytest.raises(AdcsimError, match=match):
            read_checkpoint(str(tmp_path / name))
