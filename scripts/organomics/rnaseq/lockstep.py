"""SciPy's L-BFGS-B run on many independent problems in lockstep, their evaluations batched."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import _lbfgsb

# scipy.optimize._lbfgsb_py's task codes (the C routine's reverse-communication protocol)
_FG, _NEW_X, _CONVERGED, _STOP = 3, 1, 4, 5
_STOP_MAXFUN, _STOP_MAXITER = 502, 504


def lbfgsb_lockstep(
    fun_and_grad: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    x0: np.ndarray,
    *,
    bounds: tuple[float, float] | None = None,
    ftol: float = 2.2204460492503131e-09,
    gtol: float = 1e-5,
    maxcor: int = 10,
    maxls: int = 20,
    maxiter: int = 15000,
    maxfun: int = 15000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``scipy.optimize.minimize(method="L-BFGS-B")`` of each row of `x0`, evaluated in batches.

    Each problem runs SciPy's own L-BFGS-B routine (``_lbfgsb.setulb``, the loop of
    ``scipy.optimize._lbfgsb_py._minimize_lbfgsb``) with its own state; only the function and
    gradient evaluations are gathered over the problems waiting for one, so a `fun_and_grad`
    that gives each problem the same bits as its per-problem objective gives the same iterates,
    optimum and convergence flag as calling ``minimize`` once per problem.

    Parameters
    ----------
    fun_and_grad
        ``fun_and_grad(rows, x)``: objectives (k,) and gradients (k x n) of problems `rows`
        (indices into `x0`'s rows) at points `x` (k x n).
    x0
        Starting points, problems x n.
    bounds
        One (lower, upper) for every coordinate of every problem, or None (unbounded).
    ftol, gtol, maxcor, maxls, maxiter, maxfun
        ``minimize``'s L-BFGS-B options, with SciPy's defaults.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        The solutions (problems x n), objectives at them, and ``OptimizeResult.success``.
    """
    x = np.array(x0, dtype=np.float64, order="C", copy=True)
    n_problems, n = x.shape
    m = maxcor
    factr = ftol / np.finfo(float).eps
    nbd = np.zeros(n, np.int32)
    low = np.zeros(n, np.float64)
    up = np.zeros(n, np.float64)
    if bounds is not None:
        lower, upper = bounds
        if np.isinf(lower) and np.isinf(upper):
            pass
        elif np.isinf(upper):
            low[:], nbd[:] = lower, 1
        elif np.isinf(lower):
            up[:], nbd[:] = upper, 3
        else:
            low[:], up[:], nbd[:] = lower, upper, 2
        x = np.clip(x, lower, upper)  # as _minimize_lbfgsb clips x0 into the bounds
    wa = np.zeros((n_problems, 2 * m * n + 5 * n + 11 * m * m + 8 * m), np.float64)
    iwa = np.zeros((n_problems, 3 * n), np.int32)
    task = np.zeros((n_problems, 2), np.int32)
    ln_task = np.zeros((n_problems, 2), np.int32)
    lsave = np.zeros((n_problems, 4), np.int32)
    isave = np.zeros((n_problems, 44), np.int32)
    dsave = np.zeros((n_problems, 29), np.float64)
    # ScalarFunction evaluates at x0 when built; it re-evaluates only at a new point (nfev)
    every = np.arange(n_problems)
    f, g = fun_and_grad(every, x.copy())
    f = np.array(f, dtype=np.float64)
    g = np.array(g, dtype=np.float64, order="C")
    last = x.copy()
    nfev = np.ones(n_problems, np.int64)
    nit = np.zeros(n_problems, np.int64)
    active = list(range(n_problems))
    while active:
        waiting, running = [], []
        for i in active:
            _lbfgsb.setulb(
                m, x[i], low, up, nbd, float(f[i]), g[i], factr, gtol,
                wa[i], iwa[i], task[i], lsave[i], isave[i], dsave[i], maxls, ln_task[i],
            )  # fmt: skip
            code = task[i, 0]
            if code == _FG:
                running.append(i)
                waiting.append(i)
            elif code == _NEW_X:
                running.append(i)
                nit[i] += 1
                if nit[i] >= maxiter:
                    task[i] = (_STOP, _STOP_MAXITER)
                elif nfev[i] > maxfun:
                    task[i] = (_STOP, _STOP_MAXFUN)
        rows = np.array(waiting, dtype=np.intp)
        # ScalarFunction re-evaluates only at a new point (its nfev); same values either way
        rows = rows[np.any(x[rows] != last[rows], axis=1)]
        if rows.size:
            values, gradients = fun_and_grad(rows, x[rows])
            f[rows] = values
            g[rows] = gradients
            last[rows] = x[rows]
            nfev[rows] += 1
        active = running
    return x, f, task[:, 0] == _CONVERGED
