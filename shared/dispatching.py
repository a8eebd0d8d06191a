"""A classified case's evidence → the 派单 decision, with the 派单目录 version in force.

The router, the classifier's desk suggestion and `hotline classify` / `hotline eval-routing` all call
:func:`dispatch_classified`, so they decide alike for the same catalogue version.
"""

from __future__ import annotations

from hotline.shared.catalogue import Catalogue
from hotline.shared.domain.dispatch import Dispatch, Evidence, decide
from hotline.shared.domain.matters import MatterHit
from hotline.shared.events import CaseClassified

# Said in the routing's reason (case history, feed) when an urgent call saved as 当场解释 is routed
# anyway: by the router (the classifier judged it urgent) or by intake (a 转接 recorded after saving).
URGENT_ON_SPOT_NOTE = "紧急诉求：话务员虽已当场解释，仍派承办单位处置，并按紧急时限（分钟级）跟踪督办"


def evidence_of(case: CaseClassified) -> Evidence:
    return Evidence(
        topic=case.topic,
        subtopic=case.subtopic,
        confidence=case.confidence,
        needs_review=case.needs_review,
        matters=tuple(MatterHit(m.code, m.score, tuple(m.words), m.probability or 0.0) for m in case.matters),
        township=case.township,
        is_accusation=case.is_accusation,
        accused_unit=case.accused_unit,
        misconduct=tuple(case.misconduct),
    )


def dispatch_classified(case: CaseClassified, catalogue: Catalogue) -> Dispatch:
    return decide(evidence_of(case), county=catalogue.county, matters=catalogue.matters)
