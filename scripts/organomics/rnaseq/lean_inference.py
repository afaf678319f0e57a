"""PyDESeq2 inference batched over genes (IRLS, dispersions, Wald, apeGLM), same results."""

from __future__ import annotations

import logging

import numpy as np
from joblib import Parallel, delayed, parallel_backend
from pydeseq2 import utils
from pydeseq2.default_inference import DefaultInference
from scipy.linalg import solve
from scipy.special import gammaln, polygamma
from scipy.stats import norm

from organomics.rnaseq.lockstep import lbfgsb_lockstep

log = logging.getLogger(__name__)


def shrink_one_gene(**arguments) -> tuple[np.ndarray, np.ndarray, bool]:
    """apeGLM MAP fit of one gene (PyDESeq2's nbinomGLM), keeping the inverse Hessian's diagonal.

    Parameters
    ----------
    **arguments
        ``pydeseq2.utils.nbinomGLM``'s arguments.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, bool)
        The coefficients, the inverse Hessian's diagonal, and whether the fit converged.
    """
    lfc, inverse_hessian, converged = utils.nbinomGLM(**arguments)
    return lfc, np.diagonal(inverse_hessian).copy(), converged


def scalar_square(values: np.ndarray) -> np.ndarray:
    """``v ** 2`` of each value as a NumPy or Python scalar computes it (C ``pow``).

    PyDESeq2 squares scalars (``beta[shrink_index] ** 2``), which calls ``pow``; an array's
    ``** 2`` multiplies instead and differs in the last bit for ~0.1% of values, enough to send
    L-BFGS-B down another path. The batched objective squares these values one by one.
    """
    return np.fromiter((value**2 for value in values.tolist()), np.float64, len(values))


def _masks(num_vars: int, shrink_index: int) -> tuple[np.ndarray, np.ndarray]:
    shrink_mask = np.zeros(num_vars)
    shrink_mask[shrink_index] = 1
    return shrink_mask, np.ones(num_vars) - shrink_mask


def _xbeta(design_matrix: np.ndarray, beta: np.ndarray) -> np.ndarray:
    # one BLAS matrix-vector product per gene, as PyDESeq2's design_matrix @ beta
    return np.matmul(design_matrix, beta[:, :, None])[:, :, 0]


def nbinom_fn(beta, design_matrix, counts, size, offset, prior_no_shrink_scale, prior_scale, k):
    """``pydeseq2.utils.nbinomFn`` of many genes at once, bit for bit.

    Parameters
    ----------
    beta
        Coefficients, genes x p.
    design_matrix
        Samples x p.
    counts
        Genes x samples (each row is PyDESeq2's ``counts[:, i]``).
    size
        Each gene's NB size (1 / dispersion).
    offset, prior_no_shrink_scale, prior_scale, k
        As ``nbinomFn`` (`k` is its ``shrink_index``).

    Returns
    -------
    numpy.ndarray
        Each gene's negative log-likelihood plus apeGLM prior.
    """
    _, no_shrink_mask = _masks(design_matrix.shape[1], k)
    xbeta = _xbeta(design_matrix, beta)
    prior = ((beta * no_shrink_mask) ** 2 / (2 * prior_no_shrink_scale**2)).sum(axis=1) + np.log1p(
        scalar_square(beta[:, k] / prior_scale)
    )
    nll = (
        counts * xbeta
        - (counts + size[:, None]) * np.logaddexp(xbeta + offset, np.log(size)[:, None])
    ).sum(axis=1)
    return prior - nll


def nbinom_grad(beta, design_matrix, counts, size, offset, prior_no_shrink_scale, prior_scale, k):
    """Gradient of :func:`nbinom_fn` as ``pydeseq2.utils.nbinomGLM``'s ``df`` (cnst = 1), genes x p.

    Parameters
    ----------
    beta, design_matrix, counts, size, offset, prior_no_shrink_scale, prior_scale, k
        As :func:`nbinom_fn`.

    Returns
    -------
    numpy.ndarray
        Genes x p.
    """
    shrink_mask, no_shrink_mask = _masks(design_matrix.shape[1], k)
    xbeta = _xbeta(design_matrix, beta)
    d_neg_prior = beta * no_shrink_mask / prior_no_shrink_scale**2 + 2 * beta * shrink_mask / (
        prior_scale**2 + scalar_square(beta[:, k])[:, None]
    )
    residual = counts - (counts + size[:, None]) / (1 + size[:, None] * np.exp(-xbeta - offset))
    d_nll = np.matmul(residual[:, None, :], design_matrix)[:, 0, :]
    return d_neg_prior - d_nll


def nbinom_hessian(
    beta, design_matrix, counts, size, offset, prior_no_shrink_scale, prior_scale, k
):
    """``nbinomGLM``'s ``ddf(beta, 1)`` of many genes (genes x p x p), bit for bit.

    Parameters
    ----------
    beta, design_matrix, counts, size, offset, prior_no_shrink_scale, prior_scale, k
        As :func:`nbinom_fn`.

    Returns
    -------
    numpy.ndarray
        Genes x p x p.
    """
    shrink_mask, no_shrink_mask = _masks(design_matrix.shape[1], k)
    exp_xbeta_off = np.exp(_xbeta(design_matrix, beta) + offset)
    frac = (
        (counts + size[:, None])
        * size[:, None]
        * exp_xbeta_off
        / (size[:, None] + exp_xbeta_off) ** 2
    )
    h11 = 1 / prior_no_shrink_scale**2
    square = scalar_square(beta[:, k])
    h22 = 2 * (prior_scale**2 - square) / scalar_square(prior_scale**2 + square)
    # PyDESeq2 adds np.diag(np.diag(v)) == v to every row (not only the diagonal): kept as is
    added = no_shrink_mask * h11 + shrink_mask * h22[:, None]
    return (
        1 / 1 * (np.matmul(design_matrix.T * frac[:, None, :], design_matrix) + added[:, None, :])
    )


def shrink_genes(
    design_matrix: np.ndarray,
    counts: np.ndarray,
    size: np.ndarray,
    offset: np.ndarray,
    prior_no_shrink_scale: float,
    prior_scale: float,
    shrink_index: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pydeseq2.utils.nbinomGLM`` (L-BFGS-B) of every gene at once, with the same results.

    SciPy's own L-BFGS-B runs per gene (:func:`~organomics.rnaseq.lockstep.lbfgsb_lockstep`)
    on an objective and gradient computed for all waiting genes together with the same
    floating-point operations as PyDESeq2's, so the iterates, and where the tolerance stops
    them, are PyDESeq2's. Genes whose fit did not converge are left to the caller (PyDESeq2
    then tries a grid search when p == 2).

    Parameters
    ----------
    design_matrix, counts, size, offset, prior_no_shrink_scale, prior_scale, shrink_index
        As ``DefaultInference.lfc_shrink_nbinom_glm`` (counts samples x genes).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Coefficients (genes x p), inverse-Hessian diagonals (genes x p), converged flags.
    """
    counts_by_gene = np.ascontiguousarray(counts.T)
    num_genes, num_vars = counts_by_gene.shape[0], design_matrix.shape[1]
    fixed = (offset, prior_no_shrink_scale, prior_scale, shrink_index)
    scale = np.maximum(
        nbinom_fn(np.zeros((num_genes, num_vars)), design_matrix, counts_by_gene, size, *fixed),
        1,
    )

    def fun_and_grad(rows, beta):
        of_rows = (design_matrix, counts_by_gene[rows], size[rows], *fixed)
        return (
            nbinom_fn(beta, *of_rows) / scale[rows],
            nbinom_grad(beta, *of_rows) / scale[rows][:, None],
        )

    beta_init = np.ones(num_vars) * 0.1 * (-1) ** (np.arange(num_vars))
    beta, _, converged = lbfgsb_lockstep(
        fun_and_grad, np.tile(beta_init, (num_genes, 1)), ftol=1e-8, gtol=1e-8
    )
    hessian = nbinom_hessian(beta, design_matrix, counts_by_gene, size, *fixed)
    diagonals = np.diagonal(np.linalg.inv(hessian), axis1=1, axis2=2).copy()
    return beta, diagonals, converged


def nb_nll_genes(counts: np.ndarray, mu: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """``pydeseq2.utils.nb_nll`` with each gene's scalar dispersion, for many genes, bit for bit.

    Parameters
    ----------
    counts, mu
        Genes x samples.
    disp
        Each gene's dispersion.

    Returns
    -------
    numpy.ndarray
        Each gene's negative log-likelihood.
    """
    n = counts.shape[1]
    alpha_neg1 = 1 / disp
    column = alpha_neg1[:, None]
    logbinom = gammaln(counts + column) - gammaln(counts + 1) - gammaln(column)
    return n * alpha_neg1 * np.log(disp) + (
        -logbinom + (counts + column) * np.log(column + mu) - counts * np.log(mu)
    ).sum(axis=1)


def irls_genes(
    counts: np.ndarray,
    size_factors: np.ndarray,
    design_matrix: np.ndarray,
    disp: np.ndarray,
    min_mu: float,
    beta_tol: float,
    max_beta: float = 30,
    maxiter: int = 250,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``pydeseq2.utils.irls_solver``'s IRLS of every gene at once, with the same results.

    Each gene iterates until its own deviance ratio is below `beta_tol`, with PyDESeq2's
    floating-point operations (one BLAS product and one ``scipy.linalg.solve`` per gene), so
    its coefficients are PyDESeq2's bit for bit (``scipy.linalg.solve`` of a stack of matrices
    runs the per-matrix LAPACK call on each). A gene whose IRLS diverges (a coefficient
    beyond `max_beta`) or reaches `maxiter` is flagged: PyDESeq2 then restarts it with
    L-BFGS-B, which the caller does with PyDESeq2's own per-gene call.

    Parameters
    ----------
    counts
        Samples x genes.
    size_factors, design_matrix, min_mu, beta_tol, max_beta, maxiter
        As ``irls_solver`` (a full-rank design).
    disp
        Each gene's dispersion.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Coefficients (genes x p), mu and hat diagonals (samples x genes), and the flags of the
        genes left to PyDESeq2 (their other values are meaningless).
    """
    X = design_matrix
    by_gene = np.ascontiguousarray(counts.T)
    num_genes, num_vars = by_gene.shape[0], X.shape[1]
    Q, R = np.linalg.qr(X)
    start = np.matmul(Q.T, np.log(by_gene / size_factors + 0.1)[:, :, None])[:, :, 0]
    # scipy.linalg.solve loops over a batch in C with the per-matrix LAPACK call: same bits
    beta = solve(np.broadcast_to(R, (num_genes, *R.shape)), start[:, :, None])[:, :, 0]
    dev = np.full(num_genes, 1000.0)
    ridge_factor = np.diag(np.repeat(1e-6, num_vars))
    mu = np.maximum(size_factors * np.exp(_xbeta(X, beta)), min_mu)
    left = np.zeros(num_genes, dtype=bool)
    active = np.arange(num_genes)  # dev_ratio starts at 1.0 > beta_tol
    iteration = 0
    while active.size:
        mu_a = mu[active]
        W = mu_a / (1.0 + mu_a * disp[active, None])
        z = np.log(mu_a / size_factors) + (by_gene[active] - mu_a) / mu_a
        H = np.matmul(X.T * W[:, None, :], X) + ridge_factor
        right = np.matmul(X.T, (W * z)[:, :, None])[:, :, 0]
        beta_hat = solve(H, right[:, :, None], assume_a="pos")[:, :, 0]
        iteration += 1
        diverged = (np.abs(beta_hat) > max_beta).sum(axis=1) > 0
        if iteration >= maxiter:
            diverged[:] = True
        left[active[diverged]] = True
        going = active[~diverged]
        beta[going] = beta_hat[~diverged]
        mu[going] = np.maximum(size_factors * np.exp(_xbeta(X, beta[going])), min_mu)
        old_dev = dev[going]
        dev[going] = -2 * nb_nll_genes(by_gene[going], mu[going], disp[going])
        dev_ratio = np.abs(dev[going] - old_dev) / (np.abs(dev[going]) + 0.1)
        active = going[dev_ratio > beta_tol]
    W = mu / (1.0 + mu * disp[:, None])
    inverse = np.linalg.inv(np.matmul(X.T * W[:, None, :], X) + ridge_factor)
    # PyDESeq2's own einsum per gene: a batched one may sum in another order
    hat = np.array([np.einsum("ij,jk,ki->i", X, inverse[g], X.T) for g in range(num_genes)])
    W_sq = np.sqrt(W)
    hat = (W_sq * hat.reshape(W.shape) * W_sq).T
    mu = (size_factors * np.exp(_xbeta(X, beta))).T
    return beta, mu, hat, left


def alpha_mle_genes(
    counts: np.ndarray,
    design_matrix: np.ndarray,
    mu: np.ndarray,
    alpha_hat: np.ndarray,
    min_disp: float,
    max_disp: float,
    prior_disp_var: float | None = None,
    cr_reg: bool = True,
    prior_reg: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``pydeseq2.utils.fit_alpha_mle``'s L-BFGS-B of every gene at once, with the same results.

    The loss and gradient (NB likelihood, Cox-Reid term, optional log-normal prior) are
    PyDESeq2's, computed for the waiting genes together with the same floating-point
    operations; L-BFGS-B is SciPy's, run per gene in lockstep (:func:`lbfgsb_lockstep`).
    Genes that did not converge are left to the caller (PyDESeq2's grid search).

    Parameters
    ----------
    counts, mu
        Samples x genes.
    design_matrix, min_disp, max_disp, prior_disp_var, cr_reg, prior_reg
        As ``fit_alpha_mle``.
    alpha_hat
        Each gene's starting dispersion (and prior mean with `prior_reg`).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Dispersions and converged flags.
    """
    X = design_matrix
    by_gene, mu_by_gene = np.ascontiguousarray(counts.T), np.ascontiguousarray(mu.T)
    log_alpha_hat = np.log(alpha_hat)
    if prior_reg and prior_disp_var is None:
        raise ValueError("Sigma_prior is required for prior regularization")

    def fun_and_grad(rows, x):
        log_alpha = x[:, 0]
        alpha = np.exp(log_alpha)
        y, m = by_gene[rows], mu_by_gene[rows]
        reg = np.zeros(len(rows))
        reg_grad = np.zeros(len(rows))
        if cr_reg:
            W = m / (1 + m * alpha[:, None])
            information = np.matmul(X.T * W[:, None, :], X)
            reg = reg + 0.5 * np.linalg.slogdet(information)[1]
            d_information = np.matmul(X.T * (-(W**2))[:, None, :], X)
            # PyDESeq2 sums the p x p product as one flat array: so does the reshape
            product = (np.linalg.inv(information) * d_information).reshape(len(rows), -1)
            reg_grad = reg_grad + (0.5 * product.sum(axis=1)) * alpha
        if prior_reg:
            away = log_alpha - log_alpha_hat[rows]
            reg = reg + scalar_square(away) / (2 * prior_disp_var)
            reg_grad = reg_grad + away / prior_disp_var
        loss = nb_nll_genes(y, m, alpha) + reg
        alpha_neg1 = 1 / alpha
        column = alpha_neg1[:, None]
        ll_part = scalar_square(alpha_neg1) * (
            polygamma(0, column)
            - polygamma(0, y + column)
            + np.log(1 + m * alpha[:, None])
            + (y - m) / (m + column)
        ).sum(axis=1)
        return loss, (alpha * -ll_part + reg_grad)[:, None]

    x, _, converged = lbfgsb_lockstep(
        fun_and_grad,
        log_alpha_hat[:, None],
        bounds=(np.log(min_disp), np.log(max_disp)),
    )
    return np.exp(x[:, 0]), converged


def gene_blocks(num_genes: int, design_shape: tuple[int, int]) -> list[slice]:
    """Blocks of genes whose genes x p x samples temporaries stay under ~128 MB.

    The batched fits build one p x samples (and p x p) array per gene, and L-BFGS-B keeps a
    ~(25 p + 1200)-double workspace per gene: the demo's designs (p = 7, 12 samples) take
    every gene at once, the paper's (p = 272, 540 samples) ~100.

    Parameters
    ----------
    num_genes
        Genes to fit.
    design_shape
        The design matrix's (samples, p).

    Returns
    -------
    list of slice
        Consecutive blocks covering all genes.
    """
    samples, num_vars = design_shape
    block = max(1, 16_000_000 // (num_vars * max(samples, num_vars)))
    return [slice(start, start + block) for start in range(0, num_genes, block)]


def wald_genes(
    design_matrix, disp, lfc, mu, ridge_factor, contrast, lfc_null, alt_hypothesis=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pydeseq2.utils.wald_test`` (two-sided) of many genes, bit for bit.

    Parameters
    ----------
    design_matrix, ridge_factor, contrast, lfc_null
        As ``wald_test``.
    disp, lfc, mu
        Each gene's dispersion, coefficients (genes x p) and mu (samples x genes).
    alt_hypothesis
        None only (the caller checks).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        p-values, statistics and standard errors.
    """
    X = design_matrix
    contrast = np.asarray(contrast, dtype=np.float64)  # DeseqStats passes a Series
    W = (mu / (1 + mu * disp)).T
    M = np.matmul(X.T * W[:, None, :], X)
    Hc = np.matmul(np.linalg.inv(M + ridge_factor), contrast)
    wald_se = np.sqrt(np.matmul(np.matmul(Hc[:, None, :], M), Hc[:, :, None])[:, 0, 0])
    statistic = np.matmul(lfc - lfc_null, contrast) / wald_se
    return 2 * norm.sf(np.abs(statistic)), statistic, wald_se


class DiagonalOnly:
    """Stands in for a p x p inverse Hessian of which only the diagonal was kept."""

    __slots__ = ("values",)

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __getitem__(self, index: tuple[int, int]) -> float:
        row, column = index
        if row != column:
            raise IndexError("only the diagonal of the inverse Hessian is kept")
        return self.values[row]


class LeanInference(DefaultInference):
    """DefaultInference with batched IRLS, dispersions, Wald test and LFC shrinkage.

    All give PyDESeq2's results bit for bit (tests/rnaseq/test_lean_inference.py); shrinkage
    keeps only the Hessian diagonals.

    PyDESeq2 reads one diagonal element per gene (the shrunk coefficient's SE), but its default
    returns every gene's full p x p inverse Hessian, twice over while collecting them: genes x
    p^2 x 16 bytes, 24 GB for 20,000 genes and ~ patient + site with 270 patients (p = 272).
    """

    def _blocks(self, function, num_genes: int, design_shape: tuple[int, int], arguments):
        """`function` of each block of genes (gene_blocks), with n_cpus processes when > 1.

        `arguments(genes)` gives one block's keyword arguments. Several processes get at least
        one block each (the paper's hundreds of samples); one process runs them in turn.
        """
        blocks = gene_blocks(num_genes, design_shape)
        if self.n_cpus > 1 and len(blocks) < self.n_cpus and num_genes >= self.n_cpus:
            size = -(-num_genes // self.n_cpus)
            blocks = [slice(start, start + size) for start in range(0, num_genes, size)]
        if self.n_cpus == 1 or len(blocks) == 1:
            return [function(**arguments(genes)) for genes in blocks]
        with parallel_backend(self._backend, inner_max_num_threads=1):
            return Parallel(n_jobs=self.n_cpus, verbose=self._joblib_verbosity)(
                delayed(function)(**arguments(genes)) for genes in blocks
            )

    def irls(
        self,
        counts: np.ndarray,
        size_factors: np.ndarray,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        min_mu: float,
        beta_tol: float,
        min_beta: float = -30,
        max_beta: float = 30,
        optimizer: str = "L-BFGS-B",
        maxiter: int = 250,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """DefaultInference's IRLS of every gene, batched (:func:`irls_genes`), same results.

        Parameters
        ----------
        counts, size_factors, design_matrix, disp, min_mu, beta_tol
            As ``DefaultInference.irls``.
        min_beta, max_beta, optimizer, maxiter
            Likewise.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray)
            Coefficients (genes x p), mu and hat diagonals (samples x genes), converged flags.
        """
        arguments = dict(
            size_factors=size_factors,
            design_matrix=design_matrix,
            min_mu=min_mu,
            beta_tol=beta_tol,
            min_beta=min_beta,
            max_beta=max_beta,
            optimizer=optimizer,
            maxiter=maxiter,
        )
        if np.linalg.matrix_rank(design_matrix) < design_matrix.shape[1]:
            # PyDESeq2 starts rank-deficient designs elsewhere: its own per-gene path
            return super().irls(counts=counts, disp=disp, **arguments)
        parts = self._blocks(
            irls_genes,
            counts.shape[1],
            design_matrix.shape,
            lambda genes: dict(
                counts=counts[:, genes], size_factors=size_factors, design_matrix=design_matrix,
                disp=disp[genes], min_mu=min_mu, beta_tol=beta_tol, max_beta=max_beta,
                maxiter=maxiter,
            ),
        )  # fmt: skip
        beta, mu, hat, left = (
            np.concatenate(part, axis=axis)
            for part, axis in zip(zip(*parts, strict=True), (0, 1, 1, 0), strict=True)
        )
        converged = np.ones(counts.shape[1], dtype=bool)
        failed = np.flatnonzero(left)
        if failed.size:
            log.info(
                "IRLS: %d of %d gene(s) diverged or reached maxiter in the batched IRLS; "
                "refitted one by one with pydeseq2.utils.irls_solver (L-BFGS-B)",
                failed.size,
                counts.shape[1],
            )
            for gene in failed:
                beta[gene], mu[:, gene], hat[:, gene], converged[gene] = utils.irls_solver(
                    counts=counts[:, gene], disp=disp[gene], **arguments
                )
        return beta, mu, hat, converged

    def alpha_mle(
        self,
        counts: np.ndarray,
        design_matrix: np.ndarray,
        mu: np.ndarray,
        alpha_hat: np.ndarray,
        min_disp: float,
        max_disp: float,
        prior_disp_var: float | None = None,
        cr_reg: bool = True,
        prior_reg: bool = False,
        optimizer: str = "L-BFGS-B",
    ) -> tuple[np.ndarray, np.ndarray]:
        """DefaultInference's dispersion MLE/MAP, batched (:func:`alpha_mle_genes`), same results.

        Parameters
        ----------
        counts, design_matrix, mu, alpha_hat, min_disp, max_disp
            As ``DefaultInference.alpha_mle``.
        prior_disp_var, cr_reg, prior_reg, optimizer
            Likewise.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            Dispersions and whether each gene's L-BFGS-B converged.
        """
        arguments = dict(
            design_matrix=design_matrix,
            min_disp=min_disp,
            max_disp=max_disp,
            prior_disp_var=prior_disp_var,
            cr_reg=cr_reg,
            prior_reg=prior_reg,
        )
        if optimizer != "L-BFGS-B":
            return super().alpha_mle(
                counts=counts,
                mu=mu,
                alpha_hat=alpha_hat,
                optimizer=optimizer,
                **arguments,
            )
        parts = self._blocks(
            alpha_mle_genes,
            counts.shape[1],
            design_matrix.shape,
            lambda genes: dict(
                counts=counts[:, genes],
                mu=mu[:, genes],
                alpha_hat=alpha_hat[genes],
                **arguments,
            ),
        )
        dispersions, converged = (np.concatenate(part) for part in zip(*parts, strict=True))
        failed = np.flatnonzero(~converged)
        if failed.size:
            log.info(
                "Dispersions: %d of %d gene(s) did not converge in the batched L-BFGS-B; "
                "refitted one by one with pydeseq2.utils.fit_alpha_mle (grid search)",
                failed.size,
                counts.shape[1],
            )
            for gene in failed:
                dispersions[gene], converged[gene] = utils.fit_alpha_mle(
                    counts=counts[:, gene],
                    mu=mu[:, gene],
                    alpha_hat=alpha_hat[gene],
                    optimizer=optimizer,
                    **arguments,
                )
        return dispersions, converged

    def wald_test(
        self,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        lfc: np.ndarray,
        mu: np.ndarray,
        ridge_factor: np.ndarray,
        contrast: np.ndarray,
        lfc_null: np.ndarray,
        alt_hypothesis: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """DefaultInference's two-sided Wald test of every gene at once, same results.

        ``pydeseq2.utils.wald_test``'s operations on the stack of genes (one BLAS product and
        LAPACK inverse per gene). A contrast of at most two +-1 entries (a level against the
        reference, or two levels) sums exactly in any order; other contrasts and one-sided
        alternatives take PyDESeq2's per-gene path.

        Parameters
        ----------
        design_matrix, disp, lfc, mu, ridge_factor, contrast, lfc_null, alt_hypothesis
            As ``DefaultInference.wald_test``.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray, numpy.ndarray)
            p-values, Wald statistics and standard errors.
        """
        arguments = dict(
            design_matrix=design_matrix, disp=disp, lfc=lfc, mu=mu, ridge_factor=ridge_factor,
            contrast=contrast, lfc_null=lfc_null, alt_hypothesis=alt_hypothesis,
        )  # fmt: skip
        simple = np.isin(contrast, (-1, 0, 1)).all() and np.count_nonzero(contrast) <= 2
        if alt_hypothesis is not None or not simple:
            return super().wald_test(**arguments)
        parts = self._blocks(
            wald_genes,
            mu.shape[1],
            design_matrix.shape,
            lambda genes: dict(arguments, disp=disp[genes], lfc=lfc[genes], mu=mu[:, genes]),
        )
        return tuple(np.concatenate(part) for part in zip(*parts, strict=True))

    def lfc_shrink_nbinom_glm(
        self,
        design_matrix: np.ndarray,
        counts: np.ndarray,
        size: np.ndarray,
        offset: np.ndarray,
        prior_no_shrink_scale: float,
        prior_scale: float,
        optimizer: str,
        shrink_index: int,
    ) -> tuple[np.ndarray, list[DiagonalOnly], np.ndarray]:
        """DefaultInference's apeGLM LFC shrinkage, keeping each gene's Hessian diagonal only.

        Parameters
        ----------
        design_matrix, counts, size, offset
            As ``DefaultInference.lfc_shrink_nbinom_glm``.
        prior_no_shrink_scale, prior_scale, optimizer, shrink_index
            Likewise.

        Returns
        -------
        (numpy.ndarray, list of DiagonalOnly, numpy.ndarray)
            Coefficients (genes x p), each gene's inverse-Hessian diagonal, and whether each
            gene's fit converged.
        """
        arguments = dict(
            design_matrix=design_matrix,
            offset=offset,
            prior_no_shrink_scale=prior_no_shrink_scale,
            prior_scale=prior_scale,
            shrink_index=shrink_index,
        )
        if optimizer != "L-BFGS-B":
            return self._per_gene(counts, size, optimizer, np.arange(counts.shape[1]), arguments)
        parts = self._blocks(
            shrink_genes,
            counts.shape[1],
            design_matrix.shape,
            lambda genes: dict(counts=counts[:, genes], size=size[genes], **arguments),
        )
        lfcs, diagonals, converged = (np.concatenate(part) for part in zip(*parts, strict=True))
        failed = np.flatnonzero(~converged)
        if failed.size:
            # PyDESeq2's own call for these (its grid search when p == 2): the same L-BFGS-B
            # run, then whatever PyDESeq2 does about a fit that did not converge
            log.info(
                "LFC shrinkage: %d of %d gene(s) did not converge in the batched L-BFGS-B; "
                "refitted one by one with pydeseq2.utils.nbinomGLM",
                failed.size,
                counts.shape[1],
            )
            again, again_diagonals, again_converged = self._per_gene(
                counts, size, optimizer, failed, arguments
            )
            lfcs[failed] = again
            diagonals[failed] = np.array([kept.values for kept in again_diagonals])
            converged[failed] = again_converged
        return lfcs, [DiagonalOnly(row) for row in diagonals], converged

    def _per_gene(self, counts, size, optimizer, genes, arguments):
        """The former per-gene path (joblib over ``nbinomGLM``) for `genes`."""
        with parallel_backend(self._backend, inner_max_num_threads=1):
            fits = Parallel(
                n_jobs=self.n_cpus,
                verbose=self._joblib_verbosity,
                batch_size=self._batch_size,
            )(
                delayed(shrink_one_gene)(
                    counts=counts[:, i], size=size[i], optimizer=optimizer, **arguments
                )
                for i in genes
            )
        lfcs = np.array([fit[0] for fit in fits]).reshape(len(genes), -1)
        diagonals = [DiagonalOnly(fit[1]) for fit in fits]
        converged = np.array([fit[2] for fit in fits], dtype=bool)
        return lfcs, diagonals, converged
