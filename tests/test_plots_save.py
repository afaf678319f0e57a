"""organomics.plots.save: one drawing for both files, same PNG and PDF as savefig's tight box."""

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from organomics import plots


def two_panels(outside: bool = False) -> plt.Figure:
    """A small two-panel figure; `outside` puts a text past the canvas's right edge."""
    fig, axes = plt.subplots(1, 2, figsize=(4, 2))
    rng = np.random.default_rng(0)
    for ax in axes:
        ax.scatter(rng.normal(size=20), rng.normal(size=20), s=8)
        ax.set_title("panel")
        ax.set_xlabel("x")
    fig.suptitle("two panels")
    fig.tight_layout()
    if outside:
        fig.text(1.02, 0.5, "beyond the right edge")
    return fig


def reference(tmp_path, outside: bool = False) -> tuple[np.ndarray, bytes]:
    """What the old save wrote: savefig(bbox_inches="tight") at 200 dpi and as PDF."""
    fig = two_panels(outside)
    fig.savefig(tmp_path / "ref.png", dpi=200, bbox_inches="tight")
    fig.savefig(tmp_path / "ref.pdf", bbox_inches="tight")
    plt.close(fig)
    return np.asarray(Image.open(tmp_path / "ref.png")), (tmp_path / "ref.pdf").read_bytes()


def media_box(pdf: bytes) -> np.ndarray:
    return np.array(re.search(rb"/MediaBox \[ *([^\]]+)\]", pdf).group(1).split(), dtype=float)


def test_save_writes_savefigs_tight_png_and_pdf(tmp_path):
    # the reference files come from matplotlib's own savefig(bbox_inches="tight")
    ref_png, ref_pdf = reference(tmp_path)
    fig = two_panels()
    plots.save(fig, tmp_path / "f.png", tmp_path / "f.pdf")
    assert not plt.fignum_exists(fig.number)  # closed
    png = Image.open(tmp_path / "f.png")
    assert png.format == "PNG" and round(png.info["dpi"][0]) == 200  # noqa: PLR2004
    new = np.asarray(png)
    assert new.shape == ref_png.shape
    # the crop may sit up to half a pixel from savefig's redrawn box: antialiased edges differ,
    # nothing else (a missing panel or title would change far more than 2% of the pixels)
    differ = np.abs(new.astype(int) - ref_png.astype(int)).max(axis=2) > 32  # noqa: PLR2004
    assert differ.mean() < 0.02  # noqa: PLR2004
    pdf = (tmp_path / "f.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    # the PDF's page is the same tight box, measured at 200 dpi instead of 72: text widths
    # (hinted per dpi) differ by under 1%
    np.testing.assert_allclose(media_box(pdf), media_box(ref_pdf), rtol=0.01, atol=1.0)
    assert sorted(tmp_path.iterdir()) == sorted(
        tmp_path / name for name in ("f.pdf", "f.png", "ref.pdf", "ref.png")
    )  # no temporary file left behind


def test_save_grows_the_png_to_text_past_the_canvas(tmp_path):
    ref_png, ref_pdf = reference(tmp_path, outside=True)
    fig = two_panels(outside=True)
    width = fig.get_figwidth() * 200
    plots.save(fig, tmp_path / "f.png", tmp_path / "f.pdf")
    new = np.asarray(Image.open(tmp_path / "f.png"))
    assert new.shape[1] > width  # wider than the canvas: the outside text is in
    assert new.shape == ref_png.shape
    pdf = (tmp_path / "f.pdf").read_bytes()
    np.testing.assert_allclose(media_box(pdf), media_box(ref_pdf), rtol=0.01, atol=1.0)
    assert matplotlib.get_backend().lower() == "agg"
