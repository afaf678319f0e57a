"""LeanInference fits as PyDESeq2's DefaultInference bit for bit (batched; Hessian diagonals)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydeseq2 import utils
from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference
from pydeseq2.ds import DeseqStats
from scipy.optimize import minimize

from organomics.rnaseq import lean_inference
from organomics.rnaseq.lean_inference import DiagonalOnly, LeanInference, scalar_square
from organomics.rnaseq.lockstep import lbfgsb_lockstep


@pytest.fixture(scope="module")
def problem():
    """6 patients x 2 sites, ~ patient + site design (p = 7), 12 genes of NB counts."""
    rng = np.random.default_rng(5)
    patients = np.repeat(np.arange(6), 2)
    design = np.zeros((12, 7))
    design[:, 0] = 1.0
    for patient in range(1, 6):
        design[patients == patient, patient] = 1.0
    design[1::2, 6] = 1.0  # site
    mean = rng.uniform(20, 400, 12)
    counts = rng.negative_binomial(5, 5 / (5 + np.outer(np.ones(12), mean)))
    arguments = dict(
        design_matrix=design,
        counts=counts.astype(float),
        size=np.full(12, 5.0),
        offset=np.zeros(12),
        prior_no_shrink_scale=15.0,
        prior_scale=1.0,
        optimizer="L-BFGS-B",
        shrink_index=6,
    )
    return arguments


def test_same_lfcs_and_diagonals_as_default_inference(problem):
    lfcs, hessians, converged = DefaultInference(n_cpus=1).lfc_shrink_nbinom_glm(**problem)
    lean_lfcs, diagonals, lean_converged = LeanInference(n_cpus=1).lfc_shrink_nbinom_glm(**problem)
    np.testing.assert_array_equal(lean_lfcs, lfcs)
    np.testing.assert_array_equal(lean_converged, converged)
    assert len(diagonals) == len(hessians) == 12
    for full, kept in zip(hessians, diagonals, strict=True):
        for i in range(7):
            assert kept[i, i] == full[i, i]  # what DeseqStats.lfc_shrink reads for the SE


def test_off_diagonal_entries_are_refused():
    with pytest.raises(IndexError, match="only the diagonal"):
        DiagonalOnly(np.ones(3))[0, 1]


# --- batched IRLS, dispersions and shrinkage (issue 18) against PyDESeq2's per-gene routines,
# on real counts: the GEUVADIS subset of tests/realdata (300 genes x 12 samples, 6 pairs; its
# PROVENANCE.md), plus three of its genes with the PL samples set to 0 (all-zero in one group).
GEUVADIS = Path(__file__).parents[1] / "realdata" / "data" / "rnaseq"
ZEROED = ["ENSG00000004139", "ENSG00000004455", "ENSG00000005700"]


@pytest.fixture(scope="module")
def geuvadis():
    """PyDESeq2 (DefaultInference) fitted on the GEUVADIS counts: the per-gene inputs."""
    counts = pd.read_csv(GEUVADIS / "geuvadis_counts.tsv.gz", sep="\t", index_col=0)
    design = pd.read_csv(GEUVADIS / "geuvadis_design.tsv", sep="\t")
    counts = counts[design["sample"]]
    pl = design["sample"][design["site"] == "PL"].tolist()
    zeroed = counts.loc[ZEROED].copy()
    zeroed[pl] = 0
    zeroed.index = [f"{gene}_PL0" for gene in ZEROED]
    counts = pd.concat([counts, zeroed])
    metadata = pd.DataFrame(
        {
            "patient": pd.Categorical(design["patient"]),
            "site": pd.Categorical(design["site"], categories=["PL", "LM"]),
        },
        index=design["sample"].to_numpy(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dds = DeseqDataSet(
            counts=counts.T, metadata=metadata, design="~ patient + site", quiet=True,
            inference=DefaultInference(n_cpus=1),
        )  # fmt: skip
        dds.deseq2()
    return dds


def fit_inputs(dds):
    """The arrays PyDESeq2 hands its inference (non-zero genes), from a fitted DeseqDataSet."""
    genes = dds.non_zero_idx
    return dict(
        counts=dds.X[:, genes].astype(float),
        design_matrix=dds.obsm["design_matrix"].values,
        size_factors=dds.obs["size_factors"].to_numpy(),
        mu=dds.layers["_mu_hat"][:, genes],
        moments=dds.var["_MoM_dispersions"].to_numpy()[genes],
        fitted=dds.var["fitted_dispersions"].to_numpy()[genes],
        dispersions=dds.var["dispersions"].to_numpy()[genes],
    )


def test_lockstep_equals_scipy_minimize_per_problem():
    # bounded and unbounded Rosenbrock from 40 starts: scipy.optimize.minimize is the reference
    def rosenbrock(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    def gradient(x):
        return np.array(
            [-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)]
        )

    def batch(rows, x):
        return np.array([rosenbrock(v) for v in x]), np.array([gradient(v) for v in x])

    starts = np.random.default_rng(3).uniform(-2, 2, (40, 2))
    for bounds in (None, (-1.5, 0.8)):
        x, f, success = lbfgsb_lockstep(batch, starts, bounds=bounds, ftol=1e-10, gtol=1e-8)
        for i, start in enumerate(starts):
            res = minimize(
                rosenbrock, start, jac=gradient, method="L-BFGS-B",
                bounds=None if bounds is None else [bounds] * 2,
                options={"ftol": 1e-10, "gtol": 1e-8},
            )  # fmt: skip
            np.testing.assert_array_equal(x[i], res.x)
            assert f[i] == res.fun and success[i] == res.success
    # maxiter stops a problem as SciPy does (not converged)
    x, _, success = lbfgsb_lockstep(batch, starts[:3], maxiter=2)
    res = minimize(rosenbrock, starts[0], jac=gradient, method="L-BFGS-B", options={"maxiter": 2})
    np.testing.assert_array_equal(x[0], res.x)
    assert not success.any() and not res.success


def test_scalar_square_is_numpy_scalar_power():
    # PyDESeq2 squares NumPy scalars (C pow); x * x differs in the last bit for some values
    values = np.random.default_rng(1).normal(size=20000) * 7
    expected = np.array([value**2 for value in values])  # np.float64.__pow__, one by one
    np.testing.assert_array_equal(scalar_square(values), expected)


def test_irls_equals_pydeseq2_irls_solver(geuvadis):
    args = fit_inputs(geuvadis)
    common = dict(
        size_factors=args["size_factors"], design_matrix=args["design_matrix"],
        min_mu=0.5, beta_tol=1e-8,
    )  # fmt: skip
    beta, mu, hat, converged = LeanInference(n_cpus=1).irls(
        counts=args["counts"], disp=args["moments"], **common
    )
    for gene in range(args["counts"].shape[1]):
        reference = utils.irls_solver(
            counts=args["counts"][:, gene], disp=args["moments"][gene], **common
        )
        np.testing.assert_array_equal(beta[gene], reference[0])
        np.testing.assert_array_equal(mu[:, gene], reference[1])
        np.testing.assert_array_equal(hat[:, gene], reference[2])
        assert converged[gene] == reference[3]


def test_irls_genes_stopped_by_maxiter_go_to_pydeseq2(geuvadis, caplog):
    # maxiter=3 stops every gene's IRLS: PyDESeq2 restarts each with L-BFGS-B, and so must we
    args = fit_inputs(geuvadis)
    genes = slice(0, 12)
    common = dict(
        size_factors=args["size_factors"], design_matrix=args["design_matrix"],
        min_mu=0.5, beta_tol=1e-8, maxiter=3,
    )  # fmt: skip
    with caplog.at_level("INFO", logger="organomics.rnaseq.lean_inference"):
        beta, mu, _, converged = LeanInference(n_cpus=1).irls(
            counts=args["counts"][:, genes], disp=args["moments"][genes], **common
        )
    # 11 of these genes need more than 3 IRLS steps (one converges within 3)
    assert "IRLS: 11 of 12 gene(s) diverged or reached maxiter" in caplog.text
    for gene in range(12):
        reference = utils.irls_solver(
            counts=args["counts"][:, gene], disp=args["moments"][gene], **common
        )
        np.testing.assert_array_equal(beta[gene], reference[0])
        np.testing.assert_array_equal(mu[:, gene], reference[1])
        assert converged[gene] == reference[3]


@pytest.mark.parametrize("stage", ["genewise", "map"])
def test_dispersions_equal_pydeseq2_fit_alpha_mle(geuvadis, stage):
    args = fit_inputs(geuvadis)
    common = dict(
        design_matrix=args["design_matrix"], min_disp=1e-8, max_disp=geuvadis.max_disp,
    )  # fmt: skip
    if stage == "genewise":
        alpha_hat, extra = args["moments"], {}
    else:  # the MAP step: log-normal prior around the trend
        alpha_hat = args["fitted"]
        extra = dict(prior_disp_var=geuvadis.uns["prior_disp_var"].item(), prior_reg=True)
    dispersions, converged = LeanInference(n_cpus=1).alpha_mle(
        counts=args["counts"], mu=args["mu"], alpha_hat=alpha_hat, **common, **extra
    )
    for gene in range(args["counts"].shape[1]):
        reference = utils.fit_alpha_mle(
            counts=args["counts"][:, gene], mu=args["mu"][:, gene], alpha_hat=alpha_hat[gene],
            **common, **extra,
        )  # fmt: skip
        assert dispersions[gene] == reference[0]
        assert converged[gene] == reference[1]


def test_shrinkage_equals_pydeseq2_nbinom_glm(geuvadis):
    args = fit_inputs(geuvadis)
    common = dict(
        design_matrix=args["design_matrix"], offset=np.log(args["size_factors"]),
        prior_no_shrink_scale=15, prior_scale=0.3, optimizer="L-BFGS-B",
        shrink_index=args["design_matrix"].shape[1] - 1,
    )  # fmt: skip
    size = 1 / args["dispersions"]
    lfcs, diagonals, converged = LeanInference(n_cpus=1).lfc_shrink_nbinom_glm(
        counts=args["counts"], size=size, **common
    )
    for gene in range(args["counts"].shape[1]):
        beta, inverse_hessian, ok = utils.nbinomGLM(
            counts=args["counts"][:, gene], size=size[gene], **common
        )
        np.testing.assert_array_equal(lfcs[gene], beta)
        np.testing.assert_array_equal(diagonals[gene].values, np.diagonal(inverse_hessian))
        assert converged[gene] == ok


def test_shrinkage_fits_not_converged_go_to_pydeseq2(geuvadis, caplog, monkeypatch):
    # two L-BFGS-B iterations leave every batched fit unconverged: PyDESeq2's own call (full
    # iterations) then gives each gene's result
    args = fit_inputs(geuvadis)
    genes = slice(0, 8)
    common = dict(
        design_matrix=args["design_matrix"], offset=np.log(args["size_factors"]),
        prior_no_shrink_scale=15, prior_scale=0.3, optimizer="L-BFGS-B",
        shrink_index=args["design_matrix"].shape[1] - 1,
    )  # fmt: skip
    size = 1 / args["dispersions"][genes]
    monkeypatch.setattr(
        lean_inference,
        "lbfgsb_lockstep",
        lambda *a, **k: lbfgsb_lockstep(*a, **{**k, "maxiter": 2}),
    )
    with caplog.at_level("INFO", logger="organomics.rnaseq.lean_inference"):
        lfcs, _, converged = LeanInference(n_cpus=1).lfc_shrink_nbinom_glm(
            counts=args["counts"][:, genes], size=size, **common
        )
    assert "LFC shrinkage: 8 of 8 gene(s) did not converge" in caplog.text
    for gene in range(8):
        beta, _, ok = utils.nbinomGLM(counts=args["counts"][:, gene], size=size[gene], **common)
        np.testing.assert_array_equal(lfcs[gene], beta)
        assert converged[gene] == ok


def test_whole_fit_equals_default_inference(geuvadis):
    # DESeq2 end to end (dispersions, LFCs, Cook's refit, Wald test, apeGLM) with each inference
    def fit(inference):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dds = DeseqDataSet(
                counts=pd.DataFrame(geuvadis.X, index=geuvadis.obs_names,
                                    columns=geuvadis.var_names),
                metadata=geuvadis.obs[["patient", "site"]], design="~ patient + site",
                quiet=True, inference=inference,
            )  # fmt: skip
            dds.deseq2()
            stats = DeseqStats(dds, contrast=["site", "LM", "PL"], inference=inference, quiet=True)
            stats.summary()
            table = stats.results_df.copy()
            stats.lfc_shrink(coeff="site[T.LM]")
            table["shrunk"] = stats.results_df["log2FoldChange"]
        return dds, table

    default, default_table = fit(DefaultInference(n_cpus=1))
    lean, lean_table = fit(LeanInference(n_cpus=1))
    pd.testing.assert_frame_equal(lean_table, default_table, check_exact=True)
    for column in ["genewise_dispersions", "dispersions", "_MoM_dispersions"]:
        np.testing.assert_array_equal(lean.var[column], default.var[column])
    # the all-zero-in-PL genes are in the comparison, with their (large) LFCs
    assert (default_table.loc[[f"{gene}_PL0" for gene in ZEROED], "log2FoldChange"] > 5).all()


def test_dispersion_fits_not_converged_go_to_pydeseq2(geuvadis, caplog, monkeypatch):
    # one L-BFGS-B iteration leaves the batched fits unconverged: PyDESeq2's own call each
    args = fit_inputs(geuvadis)
    genes = slice(0, 8)
    common = dict(
        design_matrix=args["design_matrix"], min_disp=1e-8, max_disp=geuvadis.max_disp,
    )  # fmt: skip
    monkeypatch.setattr(
        lean_inference,
        "lbfgsb_lockstep",
        lambda *a, **k: lbfgsb_lockstep(*a, **{**k, "maxiter": 1}),
    )
    with caplog.at_level("INFO", logger="organomics.rnaseq.lean_inference"):
        dispersions, converged = LeanInference(n_cpus=1).alpha_mle(
            counts=args["counts"][:, genes], mu=args["mu"][:, genes],
            alpha_hat=args["moments"][genes], **common,
        )  # fmt: skip
    assert "Dispersions: 8 of 8 gene(s) did not converge" in caplog.text
    for gene in range(8):
        reference = utils.fit_alpha_mle(
            counts=args["counts"][:, gene], mu=args["mu"][:, gene],
            alpha_hat=args["moments"][gene], **common,
        )  # fmt: skip
        assert dispersions[gene] == reference[0] and converged[gene] == reference[1]


def test_gene_blocks_bound_the_temporaries():
    # 16e6 doubles / (272 x 540) = 108.9: the paper's design fits 108 genes per block
    blocks = lean_inference.gene_blocks(1000, (540, 272))
    assert [b.stop - b.start for b in blocks[:2]] == [108, 108] and blocks[-1].stop >= 1000
    assert lean_inference.gene_blocks(14000, (12, 7)) == [slice(0, 190476)]  # 16e6 // 84


def irls_arguments(args: dict) -> dict:
    """Every gene's IRLS arguments (LeanInference.irls) from fit_inputs."""
    return dict(
        counts=args["counts"], size_factors=args["size_factors"], min_mu=0.5, beta_tol=1e-8,
        design_matrix=args["design_matrix"], disp=args["moments"],
    )  # fmt: skip


def alpha_arguments(args: dict, dds) -> dict:
    """Every gene's dispersion-MLE arguments (LeanInference.alpha_mle) from fit_inputs."""
    return dict(
        counts=args["counts"], design_matrix=args["design_matrix"], mu=args["mu"],
        alpha_hat=args["moments"], min_disp=1e-8, max_disp=dds.max_disp,
    )  # fmt: skip


def test_blocks_of_genes_give_the_same_fits(geuvadis, monkeypatch):
    args = fit_inputs(geuvadis)
    inference = LeanInference(n_cpus=1)
    shrink = dict(
        counts=args["counts"], size=1 / args["dispersions"], design_matrix=args["design_matrix"],
        offset=np.log(args["size_factors"]), prior_no_shrink_scale=15, prior_scale=0.3,
        optimizer="L-BFGS-B", shrink_index=args["design_matrix"].shape[1] - 1,
    )  # fmt: skip
    irls, alpha = irls_arguments(args), alpha_arguments(args, geuvadis)
    whole = (inference.lfc_shrink_nbinom_glm(**shrink), inference.irls(**irls),
             inference.alpha_mle(**alpha))  # fmt: skip
    monkeypatch.setattr(
        lean_inference, "gene_blocks", lambda n, shape: [slice(s, s + 7) for s in range(0, n, 7)]
    )
    blocked = (inference.lfc_shrink_nbinom_glm(**shrink), inference.irls(**irls),
               inference.alpha_mle(**alpha))  # fmt: skip
    np.testing.assert_array_equal(blocked[0][0], whole[0][0])
    for a, b in zip(blocked[0][1], whole[0][1], strict=True):
        np.testing.assert_array_equal(a.values, b.values)
    for part_blocked, part_whole in zip(blocked[1] + blocked[2], whole[1] + whole[2], strict=True):
        np.testing.assert_array_equal(part_blocked, part_whole)


def test_two_processes_give_the_same_fits(geuvadis):
    # n_cpus > 1 runs blocks of genes in loky workers (the paper's cohorts): same numbers
    args = fit_inputs(geuvadis)
    irls, alpha = irls_arguments(args), alpha_arguments(args, geuvadis)
    one, two = LeanInference(n_cpus=1), LeanInference(n_cpus=2)
    for a, b in zip(one.irls(**irls) + one.alpha_mle(**alpha),
                    two.irls(**irls) + two.alpha_mle(**alpha), strict=True):  # fmt: skip
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("alt_hypothesis", [None, "greaterAbs"])
def test_wald_test_equals_pydeseq2_wald_test(geuvadis, alt_hypothesis):
    # None: the batched path; greaterAbs (one of PyDESeq2's thresholded tests): its own path
    args = fit_inputs(geuvadis)
    num_vars = args["design_matrix"].shape[1]
    contrast = np.zeros(num_vars)
    contrast[-1] = 1  # site LM vs PL
    lfc = geuvadis.varm["LFC"].to_numpy()[geuvadis.non_zero_idx]
    common = dict(
        design_matrix=args["design_matrix"], ridge_factor=np.diag(np.repeat(1e-6, num_vars)),
        contrast=contrast, lfc_null=np.log(2) * 0.5, alt_hypothesis=alt_hypothesis,
    )  # fmt: skip
    pvalues, statistics, errors = LeanInference(n_cpus=1).wald_test(
        disp=args["dispersions"], lfc=lfc, mu=args["mu"], **common
    )
    for gene in range(lfc.shape[0]):
        reference = utils.wald_test(
            disp=args["dispersions"][gene], lfc=lfc[gene], mu=args["mu"][:, gene], **common
        )
        assert (pvalues[gene], statistics[gene], errors[gene]) == reference
