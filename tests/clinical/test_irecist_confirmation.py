"""Confirmation knobs of admiralonco's confirmed BOR (max NE, accept SD, before PD), by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from organomics.clinical import recist


def check(sequence, position=0, **knobs):
    """Whether the response at `position` of [(day, response)] is confirmed (28 days)."""
    days = [day for day, _ in sequence]
    responses = [response for _, response in sequence]
    options = recist.Options(confirmation_days=28, **knobs)
    return recist.confirmed(responses, days, position, options)


PR_SD_PR = [(42, "PR"), (56, "SD"), (84, "PR")]
PR_SD_SD_PR = [(42, "PR"), (56, "SD"), (70, "SD"), (84, "PR")]
PR_NE_PR = [(42, "PR"), (56, "NE"), (84, "PR")]
PR_NE_NE_PR = [(42, "PR"), (56, "NE"), (63, "NE"), (84, "PR")]
PR_PD_PR = [(42, "PR"), (56, "PD"), (84, "PR")]


@pytest.mark.parametrize(
    ("sequence", "knobs", "expected"),
    [
        # Defaults (None, None, True): any assessment in between except PD (the rule before the
        # knobs), so two SDs in between still confirm.
        (PR_SD_SD_PR, {}, True),
        (PR_NE_NE_PR, {}, True),
        # accept_sd True: one SD between PR and its confirmation is accepted, two are not.
        (PR_SD_PR, {"confirmation_accept_sd": True}, True),
        (PR_SD_SD_PR, {"confirmation_accept_sd": True}, False),
        # accept_sd False: no SD at all (admiralonco's default).
        (PR_SD_PR, {"confirmation_accept_sd": False}, False),
        (PR_NE_PR, {"confirmation_accept_sd": False}, True),
        # max_ne: NE assessments in between, at most this many.
        (PR_NE_PR, {"confirmation_max_ne": 1}, True),
        (PR_NE_NE_PR, {"confirmation_max_ne": 1}, False),
        (PR_NE_NE_PR, {"confirmation_max_ne": 2}, True),
        (PR_NE_PR, {"confirmation_max_ne": 0}, False),
        # before_pd True (default): PR, PD, PR is not confirmed; False lets the later PR confirm
        # in the permissive rule, but not in the strict one (PD is never allowed in between).
        (PR_PD_PR, {}, False),
        (PR_PD_PR, {"confirmation_before_pd": False}, True),
        (PR_PD_PR, {"confirmation_before_pd": False, "confirmation_accept_sd": True}, False),
        # Strict CR: only CR or NE in between (a PR in between breaks it); permissive: fine.
        ([(42, "CR"), (56, "PR"), (84, "CR")], {"confirmation_accept_sd": False}, False),
        ([(42, "CR"), (56, "PR"), (84, "CR")], {}, True),
        ([(42, "CR"), (56, "NE"), (84, "CR")], {"confirmation_accept_sd": False}, True),
        # Strict PR: no PR after a CR in the confirmation period; PR, CR, CR is fine.
        ([(42, "PR"), (56, "CR"), (84, "PR")], {"confirmation_accept_sd": False}, False),
        ([(42, "PR"), (56, "CR"), (84, "CR")], {"confirmation_accept_sd": False}, True),
        # The interval boundary: 70 - 42 = 28 days exactly confirms; 27 does not.
        ([(42, "PR"), (70, "PR")], {}, True),
        ([(42, "PR"), (69, "PR")], {}, False),
    ],
)
def test_confirmation_knobs(sequence, knobs, expected):
    assert check(sequence, **knobs) is expected


def test_admiralonco_example_patient_9():
    # admiralonco's derive_param_confirmed_bor example, patient 9: CR 2020-03-16, NE 04-01,
    # NE 04-16, CR 05-01 (46 days later), ref_confirm 28. With its default max_nr_ne = 1 the
    # CR is not confirmed (two NE in between); the example run with max_nr_ne = 2 confirms it.
    sequence = [(15, "CR"), (31, "NE"), (46, "NE"), (61, "CR")]
    assert check(sequence, confirmation_max_ne=1, confirmation_accept_sd=False) is False
    assert check(sequence, confirmation_max_ne=2, confirmation_accept_sd=True) is True


def test_admiralonco_example_patient_4():
    # Patient 4: PR 2020-01-01, SD 03-01, SD 04-01, PR 05-01: two SDs -> not confirmed even
    # with accept_sd = TRUE (one accepted).
    sequence = [(1, "PR"), (61, "SD"), (92, "SD"), (122, "PR")]
    assert check(sequence, confirmation_accept_sd=True) is False


def test_knobs_reach_the_best_response():
    # Baseline 50 mm; day 42: 34 mm (68%, PR; nadir 34); day 56: 36 mm (72%, SD; 36/34 = 106%
    # of the nadir, not PD); day 84: 34 mm (PR, 42 days after day 42). By default the SD in
    # between is accepted: the day-42 PR is confirmed on day 84 -> PR.
    rows = pd.DataFrame(
        [
            {"lesion": "T1", "role": "target", "day": day, "diameter_mm": size}
            for day, size in ((-7, 50.0), (42, 34.0), (56, 36.0), (84, 34.0))
        ]
    ).assign(patient="P1", organ="lung", nodal=False, status="")
    _, summary = recist.assess_site(rows, recist.Options(confirmation_days=28))
    assert summary["best_response"] == "PR"
    strict = recist.Options(confirmation_days=28, confirmation_accept_sd=False)
    _, summary = recist.assess_site(rows, strict)
    # The day-42 PR is not confirmed (SD in between) and becomes SD; the day-84 PR has no later
    # scan: SD too.
    assert summary["best_response"] == "SD"
