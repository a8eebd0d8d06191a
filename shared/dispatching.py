"""A classified case's evidence → the 派单 decision, with the 派单目录 version in force.

The router, the classifier's desk suggestion and `hotline classify` / `hotline eval-routing` all call
:func:`dispatch_classified`, so they decide alike for the same catalogue version.
"""

from __future__ import annotations

from hotline.shared.catalogue import Catalogue
from hotline.shared.domain.dispatch import Dispatch, Evidence, decide
from hotline.shared.domain.matters import MatterHit
from hotline.shared.events import CaseClassified


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
