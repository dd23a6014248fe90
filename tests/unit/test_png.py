"""The PNG encoder, read back by an independent decoder (Pillow)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from adcsim.figures._pngenc import encode_png

Image = pytest.importorskip("PIL.Image", reason="Pillow comes with matplotlib")


def _decode(data: bytes) -> tuple[np.ndarray, str, dict[str, object]]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return np.asarray(image), image.mode, dict(image.info)


@pytest.mark.parametrize("channels", [3, 4])
def test_decoded_pixels_equal_the_encoded_ones(channels: int) -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(37, 53, channels), dtype=np.uint8)
    decoded, mode, _ = _decode(encode_png(pixels))
    assert mode == ("RGB" if channels == 3 else "RGBA")
    np.testing.assert_array_equal(decoded, pixels)


def test_an_opaque_rgba_image_is_stored_as_rgb() -> None:
    pixels = np.full((4, 5, 4), 255, dtype=np.uint8)
    pixels[1, 2, :3] = (10, 20, 30)
    decoded, mode, _ = _decode(encode_png(pixels))
    assert mode == "RGB"
    np.testing.assert_array_equal(decoded, pixels[..., :3])


def test_the_resolution_is_recorded() -> None:
    _, _, info = _decode(encode_png(np.zeros((2, 2, 3), np.uint8), dpi=100))
    dpi = info["dpi"]
    assert isinstance(dpi, tuple)
    assert dpi == pytest.approx((100, 100), abs=0.01)


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((2, 2, 2), np.uint8), np.zeros((2, 2, 3), np.float64)],
)
def test_other_shapes_or_types_are_refused(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(pixels)
