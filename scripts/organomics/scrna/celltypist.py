"""A local CellTypist model (.pkl) applied to the cohort; its labels beside the marker ones."""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.scrna import store

log = logging.getLogger(__name__)

CLIP = 10.0  # CellTypist clips scaled values above 10 before the decision function
# A model file is a pickle: only the classes a CellTypist model holds may be built from it
# (scikit-learn estimators, numpy arrays), so a foreign pickle cannot run code when read.
ALLOWED_MODULES = ("sklearn.", "numpy", "_codecs", "copyreg", "collections")
CELL_COLUMNS = ["cell", "sample", "patient", "site", "cell_type", "celltypist_label",
                "decision_score"]  # fmt: skip


@dataclass(frozen=True)
class Model:
    """What a CellTypist model predicts with: features, scaler, coefficients, labels."""

    features: np.ndarray  # gene symbols, model order
    mean: np.ndarray  # scaler means (zeros when the scaler has with_mean=False)
    scale: np.ndarray
    coef: np.ndarray  # classes x features (one row for a two-class model)
    intercept: np.ndarray
    classes: np.ndarray
    description: dict


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module.startswith(ALLOWED_MODULES) or module == "builtins" and name in {
            "dict", "list", "tuple", "set", "frozenset", "slice", "complex", "bytearray", "object",
        }:  # fmt: skip
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a CellTypist model")


def load_model(path: str | Path) -> Model:
    """Read a CellTypist model pickle (``{"Model": LogisticRegression, "Scaler_":
    StandardScaler, "description": ...}``, as celltypist.models.Model.load reads it).

    Parameters
    ----------
    path
        The .pkl file on disk (config scrna.celltypist_model); it is never downloaded.

    Returns
    -------
    Model
        The arrays the prediction needs.

    Raises
    ------
    InputError
        For a missing file, a pickle holding anything but a CellTypist model's classes, or a
        model without features, coefficients or classes.
    """
    try:
        with open(path, "rb") as handle:
            data = _Unpickler(handle).load()
    except FileNotFoundError:
        raise InputError(path, "CellTypist model not found (it is never downloaded)") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        raise InputError(path, f"not a CellTypist model pickle ({error})") from None
    if not isinstance(data, dict) or not {"Model", "Scaler_"} <= set(data):
        raise InputError(path, "not a CellTypist model: expected keys 'Model' and 'Scaler_'")
    clf, scaler = data["Model"], data["Scaler_"]
    for owner, attribute in ((clf, "features"), (clf, "coef_"), (clf, "intercept_"),
                             (clf, "classes_"), (scaler, "scale_")):  # fmt: skip
        if not hasattr(owner, attribute):
            raise InputError(path, f"CellTypist model without {attribute}")
    features = np.asarray(clf.features).astype(str)
    coef = np.asarray(clf.coef_, dtype=float)
    if coef.shape[1] != len(features):
        raise InputError(path, f"{coef.shape[1]} coefficients per class for {len(features)} "
                         "features")  # fmt: skip
    with_mean = getattr(scaler, "with_mean", True) and getattr(scaler, "mean_", None) is not None
    mean = np.asarray(scaler.mean_, dtype=float) if with_mean else np.zeros(len(features))
    return Model(features, mean, np.asarray(scaler.scale_, dtype=float), coef,
                 np.asarray(clf.intercept_, dtype=float), np.asarray(clf.classes_).astype(str),
                 dict(data.get("description") or {}))  # fmt: skip


def predict(x, genes: pd.Index, model: Model) -> tuple[np.ndarray, np.ndarray, int]:
    """CellTypist's best-match prediction on log1p counts-per-10,000 values.

    Only the model's features measured in the data are used (CellTypist subsets coefficients,
    means and scales the same way); values are scaled, clipped at 10 and passed through the
    linear decision function; each cell takes the class of the highest decision score.

    Parameters
    ----------
    x
        Cells x `genes`, log1p of counts per 10,000 (dense or sparse).
    genes
        The columns' gene symbols.
    model
        The model (`load_model`).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, int)
        Each cell's label, its decision score, and the number of features used.

    Raises
    ------
    InputError
        When no model feature is measured.
    """
    position = pd.Series(np.arange(len(model.features)), index=model.features)
    measured = [g for g in genes if g in position.index]
    if not measured:
        raise InputError(None, "no gene of the CellTypist model is measured (symbols expected)")
    columns = genes.get_indexer(measured)
    idx = position[measured].to_numpy()
    values = x[:, columns]
    values = values.toarray() if hasattr(values, "toarray") else np.asarray(values)
    scaled = np.minimum((values - model.mean[idx]) / model.scale[idx], CLIP)
    decision = scaled @ model.coef[:, idx].T + model.intercept
    if decision.shape[1] == 1:  # a two-class model: one score, positive for classes[1]
        decision = np.hstack([-decision, decision])
    best = decision.argmax(axis=1)
    return model.classes[best], decision[np.arange(len(best)), best], len(measured)


def agreement(marker: pd.Series, reference: pd.Series) -> dict:
    """Agreement of two labelings of the same cells.

    Parameters
    ----------
    marker, reference
        The marker-based and the CellTypist labels.

    Returns
    -------
    dict
        n_cells, adjusted Rand index (label names need not match), Cohen's kappa over the cells
        (meaningful when the model's labels are spelled like the marker compartments; NaN when
        the two share no label) and the fraction of cells with the same label.
    """
    from sklearn.metrics import adjusted_rand_score, cohen_kappa_score

    marker, reference = marker.astype(str).to_numpy(), reference.astype(str).to_numpy()
    shared = set(marker) & set(reference)
    return {
        "n_cells": len(marker),
        "adjusted_rand_index": adjusted_rand_score(marker, reference),
        "cohen_kappa": cohen_kappa_score(marker, reference) if shared else np.nan,
        "fraction_same_label": float(np.mean(marker == reference)),
        "n_shared_labels": len(shared),
    }


def run(adata_path: str | Path, model_path: str | Path) -> dict[str, pd.DataFrame]:
    """Label the cohort with the model and compare with the marker labels.

    Parameters
    ----------
    adata_path
        The cohort h5ad (X log1p counts per 10,000 on every gene, obs cell_type).
    model_path
        The CellTypist .pkl.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``cells`` (`CELL_COLUMNS`), ``agreement`` (one row: model, n_features_used and the
        `agreement` measures) and ``crosstab`` (marker cell_type x CellTypist label cells).
    """
    model = load_model(model_path)
    obs, var = store.read_obs(adata_path)
    measured = [g for g in model.features if g in var.index]
    if not measured:
        raise InputError(model_path, "no gene of the model is in the cohort (symbols expected)")
    subset = store.read_genes(adata_path, measured)
    labels, scores, n_used = predict(subset.X, subset.var_names, model)
    log.info("CellTypist: %d of %d model features measured", n_used, len(model.features))
    cells = obs[["sample", "patient", "site", "cell_type"]].astype(str).copy()
    cells.insert(0, "cell", cells.index.astype(str))
    cells["celltypist_label"], cells["decision_score"] = labels, scores
    summary = {"model": Path(model_path).name, "n_features_used": n_used,
               "n_features_model": len(model.features),
               **agreement(cells["cell_type"], cells["celltypist_label"])}  # fmt: skip
    crosstab = pd.crosstab(cells["cell_type"], cells["celltypist_label"]).reset_index()
    return {"cells": cells[CELL_COLUMNS].reset_index(drop=True),
            "agreement": pd.DataFrame([summary]), "crosstab": crosstab}  # fmt: skip
