"""One sample's cells as AnnData (obsm["spatial"] in µm, phenotypes in obs) for squidpy/scimap."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import anndata as ad

CATEGORIES = ("region", "class", "compartment")
# AnnData's on-disk element encodings (anndata's "encoding-type"/"encoding-version" attributes)
ARRAY = {"encoding-type": "array", "encoding-version": "0.2.0"}
STRING_ARRAY = {"encoding-type": "string-array", "encoding-version": "0.2.0"}
DICT = {"encoding-type": "dict", "encoding-version": "0.1.0"}


def cell_table(
    cells: pd.DataFrame | None, record: Mapping, phenotypes: list[str]
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The obs table, the spatial coordinates and the uns block of one sample's AnnData.

    Parameters
    ----------
    cells
        `organomics.mihc.sample.SampleSummary.cells`: x_um, y_um, region, field, one boolean
        column per phenotype, class, compartment, border_distance_um; None (no coordinates)
        gives a table without cells.
    record
        The sample's ``sample``, ``patient`` and ``site``.
    phenotypes
        The phenotype columns of `cells`.

    Returns
    -------
    tuple
        obs (index cell0..; sample, patient, site, region, field, class, compartment,
        border_distance_um, a boolean column per phenotype), spatial (cells x 2: x, y in µm)
        and uns["mihc"] (the sample's ids and the unit).
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
    spatial = cells[["x_um", "y_um"]].to_numpy(dtype=float)
    uns = {**{k: str(record[k]) for k in ("sample", "patient", "site")}, "unit": "um"}
    return obs, spatial, uns


def to_anndata(cells: pd.DataFrame | None, record: Mapping, phenotypes: list[str]) -> ad.AnnData:
    """The cells of one sample as an AnnData without expression (X has no columns).

    Parameters
    ----------
    cells, record, phenotypes
        As `cell_table`.

    Returns
    -------
    anndata.AnnData
        obs from `cell_table` (class is the exclusive composition class, usable as squidpy's
        ``cluster_key``); obsm["spatial"]: x, y in µm; uns["mihc"]: the sample's ids and the unit.
    """
    import anndata as ad

    obs, spatial, uns = cell_table(cells, record, phenotypes)
    adata = ad.AnnData(X=np.zeros((len(obs), 0), dtype=np.float32), obs=obs)
    adata.obsm["spatial"] = spatial
    adata.uns["mihc"] = uns
    return adata


def write_h5ad(
    cells: pd.DataFrame | None, record: Mapping, phenotypes: list[str], path: str | PathLike
) -> None:
    """Write `to_anndata`'s AnnData as .h5ad with h5py, without importing anndata.

    The file has the groups, datasets and encoding attributes anndata's own `write_h5ad` gives
    (anndata 0.12; tests/mihc/test_spatial_cohort.py compares the two). anndata's import costs a
    sample job ~0.3 s CPU, ~17 s over the demo's 55 mIHC samples.

    Parameters
    ----------
    cells, record, phenotypes
        As `cell_table`.
    path
        The .h5ad to write.
    """
    import h5py

    obs, spatial, uns = cell_table(cells, record, phenotypes)
    strings = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as h5:
        h5.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
        h5.create_dataset("X", data=np.zeros((len(obs), 0), dtype=np.float32)).attrs.update(ARRAY)
        _write_frame(h5, "obs", obs, strings)
        _write_frame(h5, "var", pd.DataFrame(index=pd.Index([], dtype=object)), strings)
        for name in ("layers", "obsm", "obsp", "uns", "varm", "varp"):
            h5.create_group(name).attrs.update(DICT)
        h5["obsm"].create_dataset("spatial", data=spatial).attrs.update(ARRAY)
        block = h5["uns"].create_group("mihc")
        block.attrs.update(DICT)
        for key, value in uns.items():
            item = block.create_dataset(key, data=value, dtype=strings)
            item.attrs.update({"encoding-type": "string", "encoding-version": "0.2.0"})


def _write_frame(h5, name: str, frame: pd.DataFrame, strings) -> None:
    """A data frame in AnnData's 'dataframe' encoding: categoricals, strings, numbers, bools."""
    group = h5.create_group(name)
    order = np.array(list(frame.columns), dtype=object) if len(frame.columns) else np.array([])
    group.attrs.update(
        {"_index": "_index", "column-order": order, "encoding-type": "dataframe"}
        | {"encoding-version": "0.2.0"}
    )
    index = np.array(frame.index.astype(str), dtype=object)
    group.create_dataset("_index", data=index, dtype=strings).attrs.update(STRING_ARRAY)
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            sub = group.create_group(column)
            sub.attrs.update({"encoding-type": "categorical", "encoding-version": "0.2.0"})
            sub.attrs["ordered"] = bool(values.cat.ordered)
            categories = np.array(values.cat.categories.astype(str), dtype=object)
            sub.create_dataset("categories", data=categories, dtype=strings).attrs.update(
                STRING_ARRAY
            )
            sub.create_dataset("codes", data=values.cat.codes.to_numpy()).attrs.update(ARRAY)
        elif values.dtype == object:
            data = np.array(values.astype(str), dtype=object)
            group.create_dataset(column, data=data, dtype=strings).attrs.update(STRING_ARRAY)
        else:
            group.create_dataset(column, data=values.to_numpy()).attrs.update(ARRAY)
