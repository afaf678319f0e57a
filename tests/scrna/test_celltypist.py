"""CellTypist model reader: a tiny model built here in CellTypist's format, predictions checked
against scikit-learn's own predict, agreement by hand, foreign pickles refused."""

from __future__ import annotations

import os
import pickle

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from organomics.errors import InputError
from organomics.scrna import celltypist


def _model(tmp_path, n_classes=3, with_mean=True):
    """A CellTypist-format pickle: {"Model": LogisticRegression with .features, "Scaler_": ...}
    (celltypist.train stores exactly these keys)."""
    rng = np.random.default_rng(0)
    features = np.array([f"G{i}" for i in range(6)])
    labels = np.array(["T_CD8", "NK", "B"][:n_classes])
    y = np.repeat(labels, 20)
    x = rng.poisson(1.0, size=(len(y), 6)).astype(float)
    for k in range(n_classes):
        x[y == labels[k], k] += 4
    x = np.log1p(x)
    scaler = StandardScaler(with_mean=with_mean).fit(x)
    clf = LogisticRegression(max_iter=1000).fit(scaler.transform(x), y)
    clf.features = features
    path = tmp_path / "model.pkl"
    with open(path, "wb") as handle:
        pickle.dump({"Model": clf, "Scaler_": scaler, "description": {"date": "test"}}, handle)
    return path, clf, scaler, x, features


@pytest.mark.parametrize(("n_classes", "with_mean"), [(3, True), (2, True), (3, False)])
def test_predictions_equal_sklearn_predict(tmp_path, n_classes, with_mean):
    path, clf, scaler, x, features = _model(tmp_path, n_classes, with_mean)
    model = celltypist.load_model(path)
    # the data's genes in another order, plus a gene the model does not know
    genes = pd.Index([*features[::-1], "OTHER"])
    data = np.hstack([x[:, ::-1], np.ones((len(x), 1))])
    labels, scores, n_used = celltypist.predict(sp.csr_matrix(data), genes, model)
    assert n_used == 6
    scaled = np.minimum(scaler.transform(x), 10.0)  # CellTypist clips at 10
    assert labels.tolist() == clf.predict(scaled).tolist()
    decision = clf.decision_function(scaled)
    expected = decision.max(axis=1) if decision.ndim == 2 else np.abs(decision)
    assert np.allclose(scores, expected)


def test_agreement_by_hand():
    marker = pd.Series(["a", "a", "b", "b"])
    model = pd.Series(["a", "b", "b", "b"])
    got = celltypist.agreement(marker, model)
    # observed agreement 3/4; chance (2/4 * 1/4) + (2/4 * 3/4) = 1/2; kappa = (3/4 - 1/2) / (1/2)
    assert got["cohen_kappa"] == pytest.approx(0.5)
    assert got["fraction_same_label"] == 0.75
    renamed = celltypist.agreement(marker, marker.map({"a": "x", "b": "y"}))
    assert renamed["adjusted_rand_index"] == 1.0  # the same partition under other names
    assert np.isnan(renamed["cohen_kappa"])  # no shared label: kappa not defined


class _Exploit:
    def __reduce__(self):
        return (os.system, ("true",))


def test_foreign_pickles_are_refused(tmp_path):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps({"Model": _Exploit(), "Scaler_": None}))
    with pytest.raises(InputError, match="not part of a CellTypist model"):
        celltypist.load_model(path)
    path.write_bytes(pickle.dumps({"clf": 1}))
    with pytest.raises(InputError, match="expected keys"):
        celltypist.load_model(path)
    with pytest.raises(InputError, match="never downloaded"):
        celltypist.load_model(tmp_path / "missing.pkl")


def test_run_on_a_cohort_h5ad(tmp_path):
    path, clf, scaler, x, features = _model(tmp_path)
    obs = pd.DataFrame({"sample": "A_PL", "patient": "A", "site": "PL",
                        "cell_type": np.repeat(["T_CD8", "NK", "B"], 20)},
                       index=[f"c{i}" for i in range(60)])  # fmt: skip
    adata = ad.AnnData(X=sp.csr_matrix(x.astype(np.float32)), obs=obs,
                       var=pd.DataFrame(index=features))  # fmt: skip
    adata.write_h5ad(tmp_path / "adata.h5ad")
    tables = celltypist.run(tmp_path / "adata.h5ad", path)
    cells = tables["cells"]
    assert list(cells.columns) == celltypist.CELL_COLUMNS
    expected = clf.predict(np.minimum(scaler.transform(x.astype(np.float32)), 10))
    assert cells["celltypist_label"].tolist() == expected.tolist()
    summary = tables["agreement"].iloc[0]
    assert summary["n_features_used"] == 6
    assert summary["fraction_same_label"] == pytest.approx(np.mean(expected == obs["cell_type"]))
    crosstab = tables["crosstab"].set_index("cell_type")
    assert crosstab.to_numpy().sum() == 60
