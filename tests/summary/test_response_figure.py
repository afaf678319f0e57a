"""summary response figure: a panel per measure, a line per paired patient styled by timing."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection

from organomics.summary import response


def joined() -> pd.DataFrame:
    """Two measures; P1-P3 sampled at both sites, P4 only at PL (no line)."""
    rows = []
    change = {("P1", "PL"): -40.0, ("P1", "LM"): 10.0, ("P2", "PL"): -10.0, ("P2", "LM"): 25.0,
              ("P3", "PL"): 5.0, ("P3", "LM"): -35.0, ("P4", "PL"): 0.0}  # fmt: skip
    for m, measure in enumerate(("a fraction", "b fraction")):
        for i, (patient, site) in enumerate(change):
            rows.append({"sample": f"{patient}_{site}", "layer": "mihc", "measure": measure,
                         "value": 0.1 * (i + 1) + m, "patient": patient, "site": site,
                         "best_change_pct": change[patient, site],
                         "responder": float(change[patient, site] <= -30)})  # fmt: skip
    return pd.DataFrame(rows)


def test_one_panel_per_measure_and_one_line_per_paired_patient():
    data = joined()
    table = response.associate(data, "PL", "LM")
    # P1 within 30 days (solid), P2 31 days apart (dotted), P3 without a date (dotted)
    fig = response.figure(data, table, "mihc", "PL", "LM", {"P1": 30, "P2": -31}, 30)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in panels] == ["a fraction", "b fraction"]
    for ax, offset in zip(panels, (0.0, 1.0), strict=True):
        (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
        # one segment per patient with both sites, (value, change) at PL then LM, as sampled
        segments = lines.get_segments()
        expected = [[(0.1 + offset, -40), (0.2 + offset, 10)],
                    [(0.3 + offset, -10), (0.4 + offset, 25)],
                    [(0.5 + offset, 5), (0.6 + offset, -35)]]  # fmt: skip
        np.testing.assert_allclose(np.array(segments), np.array(expected))
        solid, dotted = lines.get_linestyles()[0], lines.get_linestyles()[1]
        assert solid[1] is None and dotted[1] is not None  # no dash pattern = solid
        assert lines.get_linestyles()[2] == dotted
        assert lines.get_zorder() > max(c.get_zorder() for c in ax.collections if c is not lines)
        points = [c for c in ax.collections if not isinstance(c, LineCollection)]
        assert [len(c.get_offsets()) for c in points] == [4, 3]  # PL and LM samples
    plt.close(fig)
