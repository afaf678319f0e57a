"""CD8 and NK state programmes: per-cell scores, a state per cell, fractions, ratio and tests."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from organomics.errors import InputError
from organomics.scrna import scores, store
from organomics.scrna.annotate import gene_list, load_yaml
from organomics.stats import paired_site_comparison, tie_tolerance

# anndata only for type hints: the Snakefile imports this module at parse time, in every run
# and cluster job (tests/test_parse_time.py)
if TYPE_CHECKING:
    import anndata as ad

log = logging.getLogger(__name__)

UNASSIGNED = "unassigned"
PSEUDOCOUNT = 0.5  # Haldane-Anscombe: the ratio of a sample without one of the two states is finite
CELL_COLUMNS = ["cell", "sample", "patient", "site", "cell_type", "state", "max_z"]
FRACTION_COLUMNS = [*scores.SAMPLE_COLUMNS, "cell_type", "state", "n_cells", "n_compartment",
                    "fraction"]  # fmt: skip
RATIO_COLUMNS = [*scores.SAMPLE_COLUMNS, "cell_type", "numerator", "denominator", "n_numerator",
                 "n_denominator", "n_compartment", "ratio", "log2_ratio"]  # fmt: skip


@dataclass(frozen=True)
class Ratio:
    """The state ratio reported per sample: numerator / denominator cells of one compartment."""

    cell_type: str
    numerator: str
    denominator: str


@dataclass(frozen=True)
class StateProgrammes:
    """A state file: per compartment, named states with their genes; the cut-off; the ratio."""

    programmes: dict[str, dict[str, list[str]]]
    cut_off: float = 0.0
    ratio: Ratio | None = None

    @property
    def signatures(self) -> list[scores.Signature]:
        """Every state as a signature (state names are unique across compartments)."""
        return [
            scores.Signature(name=state, genes=genes, cell_types=[cell_type])
            for cell_type, states in self.programmes.items()
            for state, genes in states.items()
        ]

    def states_of(self, cell_type: str) -> list[str]:
        """The states of one compartment in file order, then UNASSIGNED."""
        return [*self.programmes[cell_type], UNASSIGNED]


def load_states(path: str | Path) -> StateProgrammes:
    """Read and check a state-programme YAML (format: resources/scrna/states.yaml).

    Parameters
    ----------
    path
        The file (config scrna.states).

    Returns
    -------
    StateProgrammes
        Programmes in file order, the cut-off (0 when the file sets none) and the ratio.

    Raises
    ------
    InputError
        For a missing or malformed file, a state named twice or a ratio naming unknown states.
    """
    data = load_yaml(path)
    unknown = set(data) - {"programmes", "cut_off", "ratio", "sources"}
    if unknown:
        raise InputError(path, f"unknown keys {sorted(unknown)}")
    raw = data.get("programmes")
    if not isinstance(raw, dict) or not raw:
        raise InputError(path, "programmes: expected compartment -> {state: [genes]}")
    programmes: dict[str, dict[str, list[str]]] = {}
    seen: set[str] = set()
    for cell_type, states in raw.items():
        if not isinstance(states, dict) or not states:
            raise InputError(path, f"programmes.{cell_type}: expected state -> [genes]")
        programmes[str(cell_type)] = {}
        for state, genes in states.items():
            if state in seen or state == UNASSIGNED:
                raise InputError(
                    path, f"programmes.{cell_type}.{state}: name used twice or reserved"
                )
            seen.add(state)
            where = f"programmes.{cell_type}.{state}"
            programmes[str(cell_type)][str(state)] = gene_list(genes, path, where)
    cut_off = data.get("cut_off", 0.0)
    if isinstance(cut_off, bool) or not isinstance(cut_off, int | float):
        raise InputError(path, f"cut_off: expected a number, got {cut_off!r}")
    ratio = None
    if data.get("ratio") is not None:
        spec = data["ratio"]
        if not isinstance(spec, dict) or set(spec) != {"cell_type", "numerator", "denominator"}:
            raise InputError(path, "ratio: expected cell_type, numerator and denominator")
        ratio = Ratio(*(str(spec[k]) for k in ("cell_type", "numerator", "denominator")))
        known = programmes.get(ratio.cell_type, {})
        for key in ("numerator", "denominator"):
            if getattr(ratio, key) not in known:
                raise InputError(path, f"ratio.{key}: {getattr(ratio, key)!r} is not a state of "
                                 f"programmes.{ratio.cell_type}")  # fmt: skip
    return StateProgrammes(programmes, float(cut_off), ratio)


def gene_means(path: str | Path) -> pd.Series:
    """Every gene's mean log-normalised expression over the cohort's cells (score_genes' pool).

    Parameters
    ----------
    path
        The cohort h5ad (X log-normalised on every gene), read a block of cells at a time.

    Returns
    -------
    pandas.Series
        One mean per gene, summed in float64.
    """
    _, var = store.read_obs(path)
    sums = np.zeros(len(var))
    n = 0
    for _, block in store.iter_rows(path, "X"):
        sums += np.asarray(block.sum(axis=0, dtype=np.float64)).ravel()
        n += block.shape[0]
    return pd.Series(sums / max(n, 1), index=var.index)


def score_cells(
    path: str | Path, states: StateProgrammes, seed: int = 0
) -> tuple[pd.DataFrame, ad.AnnData]:
    """score_genes scores of every state programme on the cells of its compartment.

    The control genes are drawn as the cohort job draws them (`scores.score_controls` on every
    gene's mean, seeded); only the programme and control genes are read.

    Parameters
    ----------
    path
        The cohort h5ad.
    states
        The state programmes.
    seed
        config scrna.seed.

    Returns
    -------
    (pandas.DataFrame, anndata.AnnData)
        The scores (cells of the compartments x states; NaN outside a state's compartment), and
        those cells' programme genes (log-normalised) with obs, for the dot plot.
    """
    signatures = states.signatures
    controls = scores.score_controls(signatures, gene_means(path), seed)
    wanted = list(dict.fromkeys(g for genes, ctrl in controls.values() for g in [*genes, *ctrl]))
    subset = store.read_genes(path, wanted)
    subset = subset[subset.obs["cell_type"].astype(str).isin(list(states.programmes))].copy()
    scores.score_signatures(subset, signatures, seed, controls)
    table = pd.DataFrame(index=subset.obs_names)
    cell_type = subset.obs["cell_type"].astype(str)
    for signature in signatures:
        values = subset.obs.get(signature.name)
        if values is None:
            table[signature.name] = np.nan
            continue
        table[signature.name] = values.where(cell_type.isin(signature.cell_types))
    programme_genes = [g for s in signatures for g in s.genes if g in subset.var_names]
    return table, subset[:, list(dict.fromkeys(programme_genes))].copy()


def assign(
    score_table: pd.DataFrame, cell_types: pd.Series, states: StateProgrammes
) -> pd.DataFrame:
    """A state per cell: the programme with the highest z-scored score in its compartment.

    Each programme's score is z-scored over the compartment's cells of the whole cohort
    (population standard deviation; a constant score gives z = 0). A cell takes the state of
    its highest z; ties within the tolerance go to the first state in file order. A cell whose
    highest z is below ``cut_off`` is `UNASSIGNED`; z equal to the cut-off within
    `organomics.stats.tie_tolerance` of the z values counts as reaching it.

    Parameters
    ----------
    score_table
        Cells x states (`score_cells`).
    cell_types
        Each cell's compartment (indexed like `score_table`).
    states
        The state programmes.

    Returns
    -------
    pandas.DataFrame
        Indexed by cell: ``cell_type``, ``state``, ``max_z`` and ``z_<state>`` per state.
    """
    cell_types = cell_types.reindex(score_table.index).astype(str)
    parts = []
    for cell_type, programme in states.programmes.items():
        cells = cell_types.index[cell_types == cell_type]
        names = [s for s in programme if s in score_table and score_table[s].notna().any()]
        part = pd.DataFrame(index=cells)
        part["cell_type"] = cell_type
        if not names or not len(cells):
            part["state"], part["max_z"] = UNASSIGNED, np.nan
            parts.append(part)
            continue
        values = score_table.loc[cells, names].to_numpy(dtype=float)
        spread = values.std(axis=0)
        constant = spread <= tie_tolerance(values)
        z = (values - values.mean(axis=0)) / np.where(constant, 1.0, spread)
        z[:, constant] = 0.0
        tolerance = max(tie_tolerance(z, [states.cut_off]), np.finfo(float).tiny)
        best = z.max(axis=1)
        # the first state reaching the best z within the tolerance (ties: file order)
        first = np.argmax(z >= best[:, None] - tolerance, axis=1)
        assigned = best >= states.cut_off - tolerance
        part["state"] = np.where(assigned, np.asarray(names)[first], UNASSIGNED)
        part["max_z"] = best
        for i, name in enumerate(names):
            part[f"z_{name}"] = z[:, i]
        parts.append(part)
    return pd.concat(parts) if parts else pd.DataFrame(columns=["cell_type", "state", "max_z"])


def cell_table(
    obs: pd.DataFrame, assigned: pd.DataFrame, score_table: pd.DataFrame
) -> pd.DataFrame:
    """state_cells.tsv: one row per CD8/NK cell with its state, highest z and raw scores.

    Parameters
    ----------
    obs
        The cohort's obs (sample, patient, site).
    assigned
        `assign`'s output.
    score_table
        `score_cells`' scores.

    Returns
    -------
    pandas.DataFrame
        `CELL_COLUMNS`, then ``score_<state>`` per state (empty outside its compartment).
    """
    table = assigned[["cell_type", "state", "max_z"]].copy()
    for column in scores.SAMPLE_COLUMNS:
        table[column] = obs.loc[table.index, column].astype(str).to_numpy()
    table["cell"] = table.index
    scored = score_table.loc[table.index].add_prefix("score_")
    return pd.concat([table[CELL_COLUMNS], scored], axis=1).reset_index(drop=True)


def fractions(cells: pd.DataFrame, states: StateProgrammes, samples: pd.DataFrame) -> pd.DataFrame:
    """states.tsv: cells per sample, compartment and state, as a fraction of the compartment.

    Parameters
    ----------
    cells
        `cell_table`'s output (sample, cell_type, state).
    states
        The state programmes (every state is listed, zeros included, then unassigned).
    samples
        sample, patient, site of every sample with cells.

    Returns
    -------
    pandas.DataFrame
        `FRACTION_COLUMNS`; the fraction is empty for a sample without cells of the compartment.
    """
    counts = cells.groupby(["sample", "cell_type", "state"]).size()
    rows = []
    for _, s in samples[scores.SAMPLE_COLUMNS].astype(str).iterrows():
        for cell_type in states.programmes:
            n_compartment = sum(int(counts.get((s["sample"], cell_type, st), 0))
                                for st in states.states_of(cell_type))  # fmt: skip
            for state in states.states_of(cell_type):
                n = int(counts.get((s["sample"], cell_type, state), 0))
                fraction = n / n_compartment if n_compartment else np.nan
                rows.append({**s.to_dict(), "cell_type": cell_type, "state": state,
                             "n_cells": n, "n_compartment": n_compartment,
                             "fraction": fraction})  # fmt: skip
    return pd.DataFrame(rows, columns=FRACTION_COLUMNS)


def ratios(table: pd.DataFrame, ratio: Ratio | None) -> pd.DataFrame:
    """state_ratio.tsv: (numerator + 0.5) / (denominator + 0.5) cells per sample, and its log2.

    The 0.5 pseudocount (Haldane-Anscombe) keeps a sample with no cell of one state finite and
    makes the ratio symmetric (log2 of the inverse ratio is the negative). A sample without
    cells of the compartment has no ratio.

    Parameters
    ----------
    table
        states.tsv (`fractions`).
    ratio
        The file's ratio; None gives an empty table.

    Returns
    -------
    pandas.DataFrame
        `RATIO_COLUMNS`, one row per sample.
    """
    if ratio is None:
        return pd.DataFrame(columns=RATIO_COLUMNS)
    part = table[table["cell_type"] == ratio.cell_type]
    wide = part.pivot_table(index=scores.SAMPLE_COLUMNS, columns="state", values="n_cells",
                            aggfunc="sum", sort=False)  # fmt: skip
    total = part.groupby(scores.SAMPLE_COLUMNS, sort=False)["n_compartment"].first()
    out = wide[[ratio.numerator, ratio.denominator]].set_axis(
        ["n_numerator", "n_denominator"], axis=1
    )
    out["n_compartment"] = total.reindex(out.index)
    value = (out["n_numerator"] + PSEUDOCOUNT) / (out["n_denominator"] + PSEUDOCOUNT)
    out["ratio"] = value.where(out["n_compartment"] > 0)
    out["log2_ratio"] = np.log2(out["ratio"])
    out = out.reset_index()
    out["cell_type"], out["numerator"], out["denominator"] = (
        ratio.cell_type,
        ratio.numerator,
        ratio.denominator,
    )
    return out[RATIO_COLUMNS]


def tests(
    table: pd.DataFrame,
    ratio_table: pd.DataFrame,
    reference: str,
    compare: str,
    min_cells: int,
    exclusions=None,
    simultaneous: Collection[str] | None = None,
) -> pd.DataFrame:
    """state_tests.tsv: paired Wilcoxon tests of state fractions and of the log2 state ratio.

    A sample enters a compartment's tests from ``min_cells`` cells of the compartment
    (comparison.min_cells). Fractions are one Benjamini-Hochberg family (every compartment's
    states, unassigned included); the log2 ratio is its own test.

    Parameters
    ----------
    table
        states.tsv (`fractions`).
    ratio_table
        state_ratio.tsv (`ratios`).
    reference, compare
        The site labels.
    min_cells
        Cells of the compartment a sample needs.
    exclusions
        organomics.excluded.Exclusions receiving the samples left out; None records nothing.
    simultaneous
        Patients sampled at both sites within config pairs.simultaneous_days
        (`organomics.pairing.simultaneous_patients`); given, every test is repeated on them
        (first column ``subset``: the ``all`` rows, then the ``simultaneous`` ones, each subset
        its own BH families); None (no collection days) leaves the table as it was.

    Returns
    -------
    pandas.DataFrame
        cell_type, state, measure (``fraction`` or ``log2_ratio``) and
        `organomics.stats.paired_site_comparison`'s columns.
    """
    enough = table[table["n_compartment"] >= min_cells]
    if exclusions is not None:
        small = table[(table["n_compartment"] < min_cells)].drop_duplicates(["sample", "cell_type"])
        for row in small.itertuples():
            exclusions.add("sample cell type", f"{row.sample} {row.cell_type}",
                           f"{row.n_compartment} cell(s) < comparison.min_cells {min_cells}: "
                           "not in the state tests", row.patient, row.site)  # fmt: skip
    parts = []
    if not enough.empty:
        parts.append(
            paired_site_comparison(
                enough, "fraction", ["cell_type", "state"], reference, compare, simultaneous
            ).assign(measure="fraction")
        )
    ratio_enough = ratio_table[ratio_table["n_compartment"] >= min_cells].dropna(
        subset=["log2_ratio"]
    )
    if not ratio_enough.empty:
        labelled = ratio_enough.assign(
            state=ratio_enough["numerator"] + "/" + ratio_enough["denominator"]
        )
        parts.append(
            paired_site_comparison(
                labelled, "log2_ratio", ["cell_type", "state"], reference, compare, simultaneous
            ).assign(measure="log2_ratio")  # fmt: skip
        )
    if not parts:
        return pd.DataFrame(columns=["cell_type", "state", "measure", "n_pairs"])
    out = pd.concat(parts, ignore_index=True)
    first = ["cell_type", "state", "measure"]
    if simultaneous is not None:  # every subset's rows together, "all" first
        out = out.sort_values("subset", kind="stable", ignore_index=True)
        first = ["subset", *first]
    return out[first + [c for c in out.columns if c not in first]]


def run(
    path: str | Path,
    states: StateProgrammes,
    samples: Sequence[dict],
    reference: str,
    compare: str,
    min_cells: int,
    seed: int = 0,
    exclusions=None,
    simultaneous: Collection[str] | None = None,
) -> tuple[dict[str, pd.DataFrame], ad.AnnData]:
    """Score, assign and summarise the states of the cohort h5ad.

    Parameters
    ----------
    path
        The cohort h5ad.
    states
        The state programmes.
    samples
        ``{"sample", "patient", "site"}`` per sample of the sheet.
    reference, compare
        The site labels.
    min_cells
        comparison.min_cells.
    seed
        config scrna.seed.
    exclusions
        organomics.excluded.Exclusions of the step, or None.
    simultaneous
        See `tests`.

    Returns
    -------
    (dict of str to pandas.DataFrame, anndata.AnnData)
        ``cells``, ``fractions``, ``ratio`` and ``tests``; and the CD8/NK cells' programme
        genes with ``obs["state"]`` for the plots.
    """
    score_table, subset = score_cells(path, states, seed)
    assigned = assign(score_table, subset.obs["cell_type"], states)
    obs, _ = store.read_obs(path)
    cells = cell_table(obs, assigned, score_table)
    present = set(obs["sample"].astype(str))
    sheet = pd.DataFrame(list(samples), columns=scores.SAMPLE_COLUMNS).astype(str)
    sheet = sheet[sheet["sample"].isin(present)]
    table = fractions(cells, states, sheet)
    ratio_table = ratios(table, states.ratio)
    test_table = tests(table, ratio_table, reference, compare, min_cells, exclusions, simultaneous)
    subset.obs["state"] = assigned["state"].reindex(subset.obs_names).to_numpy()
    counts = cells.groupby(["cell_type", "state"]).size()
    log.info("states: %s", counts.to_dict())
    return {"cells": cells, "fractions": table, "ratio": ratio_table, "tests": test_table}, subset
