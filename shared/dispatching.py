"""A classified case's evidence → the 派单 decision, with the 派单目录 version in force.

The router, the classifier's desk suggestion, `hotline classify` / `hotline eval-routing` and a
person's 人工分拣 without a named unit all call :func:`dispatch_classified`, so they decide alike for
the same catalogue version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hotline.shared.catalogue import Catalogue
from hotline.shared.domain.dispatch import Dispatch, Evidence, decide
from hotline.shared.domain.matters import MatterHit, identify
from hotline.shared.domain.misconduct import misconduct
from hotline.shared.events import CaseClassified, DecidedBy, MatterEvidence

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
        rural=case.rural,
        is_accusation=case.is_accusation,
        accused_unit=case.accused_unit,
        misconduct=tuple(case.misconduct),
        units=tuple((u.code, u.probability) for u in case.units),
        units_threshold=case.units_threshold,
    )


def dispatch_classified(case: CaseClassified, catalogue: Catalogue) -> Dispatch:
    return decide(evidence_of(case), county=catalogue.county, matters=catalogue.matters)


def text_evidence(
    text: str,
    catalogue: Catalogue,
    *,
    is_accusation: bool,
    classified: Sequence[Mapping[str, Any]] = (),
) -> tuple[list[MatterEvidence], list[str]]:
    """The matters and officials' misconduct a re-classification is dispatched with: the classifier's
    own (latest ``classified`` payload in ``classified``, oldest first) when it identified them with this
    catalogue version (it has the learned model's evidence too), else the catalogue's terms read anew."""
    for payload in reversed(classified):
        if payload.get("decided_by", DecidedBy.SYSTEM.value) != DecidedBy.SYSTEM.value:
            continue
        if payload.get("catalogue_version") == catalogue.version:
            found = [MatterEvidence.model_validate(m) for m in payload.get("matters") or []]
            return found, [str(m) for m in payload.get("misconduct") or []]
        break
    hits = identify(text, catalogue.matters)
    return (
        [MatterEvidence(code=h.code, score=h.score, words=list(h.words)) for h in hits],
        list(misconduct(text, ticked=is_accusation)),
    )
