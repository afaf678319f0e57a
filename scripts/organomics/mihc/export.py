"""One sample's cells as AnnData (obsm["spatial"] in µm, phenotypes in obs) for squidpy/scimap."""

from __future__ import annotations

from collections.abc import Mapping

import anndata as ad
import numpy as np
import pandas as pd

CATEGORIES = ("region", "class", "compartment")


def to_anndata(cells: pd.DataFrame | None, record: Mapping, phenotypes: list[str]) -> ad.AnnData:
    """The cells of one sample as an AnnData without expression (X has no columns).

    Parameters
    ----------
    cells
        `organomics.mihc.sample.SampleSummary.cells`: x_um, y_um, region, field, one boolean
        column per phenotype, class, compartment, border_distance_um; None (no coordinates)
        gives an AnnData without cells.
    record
        The sample's ``sample``, ``patient`` and ``site``.
    phenotypes
        The phenotype columns of `cells`.

    Returns
    -------
    anndata.AnnData
        obs: sample, patient, site, region, field, class (exclusive composition class, usable
        as squidpy's ``cluster_key``), compartment, border_distance_um and a boolean column per
        phenotype; obsm["spatial"]: x, y in µm; uns["mihc"]: the sample's ids and the unit.
    """
    if cells is None:  # a table without coordinates: an AnnData without cells
        columns = ["x_um", "y_um", "region", "field", *phenotypes, *CATEGORIES[1:]]
        cells = pd.DataFrame(columns=[*columns, "border_distance_um"])
    obs = pd.DataFrame(index=[f"cell{i}" for i in range(len(cells))])
    for key in ("sample", "patient", "site"):
        obs[key] = pd.Categorical([str(record[key])] * len(cells))
    for column in ("region", "field", *CATEGORIES[1:]):
        values = cells[column].to_numpy()
        obs[column] = pd.Categorical(values.astype(str)) if column != "field" else values
    obs["border_distance_um"] = cells["border_distance_um"].to_numpy(dtype=float)
    for name in phenotypes:
        obs[name] = cells[name].to_numpy(dtype=bool)
    adata = ad.AnnData(X=np.zeros((len(cells), 0), dtype=np.float32), obs=obs)
    adata.obsm["spatial"] = cells[["x_um", "y_um"]].to_numpy(dtype=float)
    adata.uns["mihc"] = {**{k: str(record[k]) for k in ("sample", "patient", "site")}, "unit": "um"}
    return adata
