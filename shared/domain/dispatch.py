"""派单: the one decision of who handles a case, shared by the router, the desk suggestion and the CLI.

Inputs are evidence, not verdicts: the topic model's class and subclass with its confidence, the
matters identified in the text (:func:`hotline.shared.domain.matters.identify`), officials' misconduct
found in it, the learned reading of who leads, the township and the 检举/控告 flag. Misconduct goes to
the discipline commission; a sure reading of who leads decides among the units of the matters named; a
matter identified with confidence decides; the model's class backs a matter of the same class and
decides alone only when no matter speaks against it; otherwise the case goes to a person (人工分拣) with
the best candidates. Pure: the county and the catalogue are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hotline.shared.domain.county import County, Unit, find_township, route, shield_accused
from hotline.shared.domain.matters import TOWN, Matter, MatterCatalogue, MatterHit
from hotline.shared.domain.misconduct import LEARNED_MISCONDUCT

ACCUSATION_CLASS = "纪检监察"
MANUAL_SORTING = "人工分拣"
UNIT_MODEL = "主办单位模型"  # the reasons of decisions the learned reading of who leads made


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How sure is sure enough (tuned on the routing suite's dev half, and the learned weights also on
    3-fold cross-validation over the matter training texts)."""

    matter: float = 2.0  # a matter this strong decides on its own …
    margin: float = 1.2  # … when it beats the best matter of another unit by this factor
    agree: float = 2.0  # a matter of the model's class at least this strong decides when close to the best
    agree_bonus: float = 0.5  # the model's class adds this share (times its confidence) to a matter's score
    model: float = 0.6  # model confidence to route by class when no matter was found
    model_over_matter: float = 0.9  # … and when only matters below ``matter`` were found
    accusation: float = 2.0  # an accusation of officials found in the text decides at this score
    # With the learned matter model, terms and model are weighed per leading unit (units are what must
    # be right): the unit's share of the term evidence and the model's probability summed over its matters.
    term_weight: float = 0.6  # the terms' share of the combined belief, the model has the rest
    term_prior: float = 2.0  # a pseudo-score of "some other unit" that shrinks a lone weak term hit
    # The combined belief a unit needs to decide. 0.33 (0.3 before round five) sends about 1.6 % more of
    # writers 2 and 3 to a person, two thirds of them (1.0 %) otherwise wrong: a wrong unit costs a 退回 and
    # days, a person seconds. Chosen on all three writers' suites, so their figures are optimistic.
    combined: float = 0.33
    # The model's class alone does not route to a unit the learned model gives less than this (below it the
    # unit is not among the learned model's likeliest matters at all): on all three writers' suites such
    # routes were wrong 11 times out of 11, while every right one had at least 0.05.
    learned_doubt: float = 0.02


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Evidence:
    topic: str
    subtopic: str | None = None
    confidence: float = 0.0
    needs_review: bool = False
    matters: tuple[MatterHit, ...] = ()
    township: str | None = None
    rural: bool = False  # in a village: ``township = "village"`` matters are the township's
    is_accusation: bool = False
    accused_unit: str | None = None
    misconduct: tuple[str, ...] = ()  # officials' misconduct found in the text (see misconduct.py)
    # The learned reading of who leads: (unit code or "town", probability), likeliest first, and the
    # probability from which it decides (chosen leaving each writer out; see unit_train.py).
    units: tuple[tuple[str, float], ...] = ()
    units_threshold: float | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    unit_code: str
    unit_name: str
    matter: str | None
    score: float


@dataclass(frozen=True, slots=True)
class Dispatch:
    unit_code: str
    unit_name: str
    co_units: tuple[str, ...]
    reason: str
    topic: str  # the first-level class the decision rests on (the matter's when a matter decided)
    matter_code: str | None = None
    matter_name: str | None = None
    candidates: tuple[Candidate, ...] = ()
    to_person: bool = False


@dataclass(frozen=True, slots=True)
class _Scored:
    matter: Matter
    hit: MatterHit
    score: float  # with the model's agreement added


def decide(
    evidence: Evidence,
    *,
    county: County,
    matters: MatterCatalogue,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Dispatch:
    town = find_township(evidence.township, county) if evidence.township and evidence.township.strip() else None
    scored = _score(evidence, matters, thresholds)
    by_terms = [s for s in scored if s.hit.score > 0]
    chosen = _choose(evidence, by_terms, thresholds)
    local = Locality(town, evidence.rural)
    units = learned_units(scored, local)
    if units and not (chosen is not None and is_accusation_matter(chosen.matter)):
        chosen = _weigh_units(by_terms, units, local, thresholds)
    accusation_chosen = chosen is not None and is_accusation_matter(chosen.matter)
    if evidence.misconduct and not accusation_chosen:
        # Whatever the subject, officials' misconduct is the discipline commission's.
        dispatch = _accusation(evidence, scored, county, matters)
    elif not accusation_chosen and (learned := _learned_lead(evidence, scored, local, county, matters)):
        dispatch = learned
    elif chosen is not None:
        dispatch = _by_matter(chosen, local, county)
    elif (
        _model_decides(evidence, by_terms, thresholds)
        and not _learned_disagrees(evidence, units, county, thresholds)
        and not _unconfigured(evidence, county)
    ):
        decision = route(topic=evidence.topic, subtopic=evidence.subtopic, township=evidence.township, county=county)
        dispatch = Dispatch(decision.unit_code, decision.unit_name, decision.co_units, decision.reason, evidence.topic)
    else:
        ranked = combined_units(by_terms, units, local, thresholds) if units else []
        return _to_person(evidence, scored, county, ranked)
    return _shielded(dispatch, evidence, county)


@dataclass(frozen=True, slots=True)
class UnitBelief:
    """The learned model's probability that a unit leads, and its likeliest matter of that unit."""

    unit: str
    probability: float
    best: _Scored


@dataclass(frozen=True, slots=True)
class Locality:
    """Where a case happens: the township named or picked (if any), and whether in a village."""

    town: Unit | None = None
    rural: bool = False


def town_leads(matter: Matter, where: Locality) -> bool:
    """Whether the known township leads ``matter`` (属地): always for ``township = "lead"`` matters, in a
    village for ``township = "village"`` ones, never for an accusation."""
    if where.town is None or is_accusation_matter(matter):
        return False
    return matter.township == "lead" or (matter.township == "village" and where.rural)


def unit_of(matter: Matter, where: Locality) -> str:
    """The unit that would lead ``matter``: the township for 属地 matters when one is known."""
    return where.town.code if where.town is not None and town_leads(matter, where) else matter.lead


def learned_units(scored: list[_Scored], where: Locality) -> list[UnitBelief]:
    """The learned model's matter probabilities summed per leading unit, likeliest first."""
    total: dict[str, float] = {}
    best: dict[str, _Scored] = {}
    for s in scored:
        if s.hit.probability <= 0:
            continue
        unit = unit_of(s.matter, where)
        total[unit] = total.get(unit, 0.0) + s.hit.probability
        if unit not in best or s.hit.probability > best[unit].hit.probability:
            best[unit] = s
    beliefs = [UnitBelief(u, round(p, 4), best[u]) for u, p in total.items()]
    return sorted(beliefs, key=lambda b: (-b.probability, b.unit))


def combined_units(
    by_terms: list[_Scored], units: list[UnitBelief], where: Locality, t: Thresholds
) -> list[tuple[str, float, _Scored]]:
    """(unit, combined belief, its best matter) per unit, likeliest first: the unit's best term score
    over all units' best scores (plus ``term_prior``), weighed with the model's probability."""
    best_terms: dict[str, _Scored] = {}
    for s in by_terms:
        unit = unit_of(s.matter, where)
        if unit not in best_terms or s.score > best_terms[unit].score:
            best_terms[unit] = s
    total = sum(s.score for s in best_terms.values()) + t.term_prior
    learned = {b.unit: b for b in units}
    out = []
    for unit in best_terms.keys() | learned.keys():
        share = best_terms[unit].score / total if unit in best_terms else 0.0
        belief = learned[unit].probability if unit in learned else 0.0
        best = best_terms.get(unit) or learned[unit].best
        out.append((unit, round(t.term_weight * share + (1 - t.term_weight) * belief, 4), best))
    return sorted(out, key=lambda u: (-u[1], u[0]))


def _learned_lead(
    evidence: Evidence, scored: list[_Scored], where: Locality, county: County, matters: MatterCatalogue
) -> Dispatch | None:
    """The unit the learned reading of who leads names, when it is sure enough, with the best matter of
    that unit the evidence names; None otherwise (terms, matters and the class decide as before).
    The catalogue in force stays the county's word: where the evidence names matters, the reading may
    only choose among their units (a matter an admin gave to another unit is not taken back by a model
    trained before), and a 属地 reading needs the township known."""
    if not evidence.units or evidence.units_threshold is None:
        return None
    code, p = evidence.units[0]
    if p < evidence.units_threshold:
        return None
    unit = (where.town.code if where.town is not None else None) if code == TOWN else code
    if unit is None or unit not in county.units:
        return None
    named = {unit_of(s.matter, where) for s in scored}
    if named and unit not in named:
        return None
    note = f"{UNIT_MODEL}：{_name(unit, county)}（p={p:.2f}）"
    if unit == county.accusation_unit:
        return _accusation(replace(evidence, misconduct=(note,)), scored, county, matters)
    best = next((s for s in scored if unit_of(s.matter, where) == unit), None)
    if best is not None:
        dispatch = _by_matter(best, where, county)
        return replace(dispatch, reason=f"{dispatch.reason}；{note}")
    klass = next((m.klass for m in matters.matters if m.lead == unit), None)
    topic = evidence.topic if evidence.topic and evidence.topic != MANUAL_SORTING else klass or evidence.topic
    return Dispatch(unit_code=unit, unit_name=_name(unit, county), co_units=(), reason=note, topic=topic)


def _weigh_units(by_terms: list[_Scored], units: list[UnitBelief], where: Locality, t: Thresholds) -> _Scored | None:
    """The unit terms and model together believe in enough, with its best matter; None when unsure."""
    ranked = combined_units(by_terms, units, where, t)
    if ranked and ranked[0][1] >= t.combined:
        return ranked[0][2]
    return None


def _learned_disagrees(evidence: Evidence, units: list[UnitBelief], county: County, t: Thresholds) -> bool:
    """The model's class would route to a unit the learned model does not back: a guess, so a person."""
    if not units or _unconfigured(evidence, county):
        return False
    by_topic = route(topic=evidence.topic, subtopic=evidence.subtopic, township=evidence.township, county=county)
    mine = next((b.probability for b in units if b.unit == by_topic.unit_code), 0.0)
    return mine < t.learned_doubt


def is_accusation_matter(matter: Matter | None) -> bool:
    return matter is not None and matter.klass == ACCUSATION_CLASS


def _score(evidence: Evidence, matters: MatterCatalogue, t: Thresholds) -> list[_Scored]:
    trusted = not evidence.needs_review and evidence.topic != MANUAL_SORTING
    scored = []
    for hit in evidence.matters:
        matter = matters.by_code.get(hit.code)
        if matter is None:  # identified under an older catalogue version
            continue
        bonus = t.agree_bonus * evidence.confidence if trusted and matter.klass == evidence.topic else 0.0
        scored.append(_Scored(matter, hit, round(hit.score * (1 + bonus), 3)))
    scored.sort(key=lambda s: (-s.score, -s.matter.priority, s.matter.code))
    return scored


def _choose(evidence: Evidence, scored: list[_Scored], t: Thresholds) -> _Scored | None:
    accusations = [s for s in scored if is_accusation_matter(s.matter)]
    if accusations and (evidence.is_accusation or accusations[0].score >= t.accusation):
        return accusations[0]
    if not scored:
        return None
    strong = [s for s in scored if s.score >= t.matter]
    if strong:
        # ``priority`` breaks ties among the strong ones only.
        best = max(strong, key=lambda s: (s.matter.priority, s.score))
        rivals = [s for s in scored if s.matter.lead != best.matter.lead and s.matter.priority <= best.matter.priority]
        if not rivals or best.score >= rivals[0].score * t.margin:
            return best
    trusted = not evidence.needs_review and evidence.topic != MANUAL_SORTING
    agreeing = [s for s in scored if trusted and s.matter.klass == evidence.topic and s.score >= t.agree]
    if agreeing and (agreeing[0] is scored[0] or agreeing[0].score * t.margin >= scored[0].score):
        return agreeing[0]
    return None


def _model_decides(evidence: Evidence, scored: list[_Scored], t: Thresholds) -> bool:
    if evidence.needs_review or evidence.topic == MANUAL_SORTING or not evidence.topic:
        return False
    if not scored:
        return evidence.confidence >= t.model
    return evidence.confidence >= t.model_over_matter and scored[0].score < t.matter


def _unconfigured(evidence: Evidence, county: County) -> bool:
    return (evidence.topic, None) not in county.routes and (evidence.topic, evidence.subtopic) not in county.routes


def _by_matter(chosen: _Scored, where: Locality, county: County) -> Dispatch:
    matter, town = chosen.matter, where.town
    assist = tuple(c for c in matter.assist if c != TOWN)
    basis = f"（{matter.basis}）" if matter.basis else ""
    matched = "、".join(chosen.hit.words)
    tail = f"；匹配：{matched}"
    town_ok = town is not None and not is_accusation_matter(matter)
    if town is not None and town_leads(matter, where):
        lead, co = town.code, (matter.lead, *assist)
        in_village = "（村内）" if matter.township == "village" else ""
        head = f"事项：{matter.name} → 属地 {town.place}{in_village} 主办{basis}；{_names(co, county)} 协办"
    else:
        lead = matter.lead
        with_town = town_ok and town is not None and (matter.township == "assist" or TOWN in matter.assist)
        co = (*assist, town.code) if with_town and town is not None else assist
        head = f"事项：{matter.name} → {_name(lead, county)}{basis}"
        if co:
            head += f"；{_names(co, county)} 协办"
    return Dispatch(
        unit_code=lead,
        unit_name=_name(lead, county),
        co_units=tuple(dict.fromkeys(c for c in co if c != lead)),
        reason=head + tail,
        topic=matter.klass,
        matter_code=matter.code,
        matter_name=matter.name,
    )


def _accusation(evidence: Evidence, scored: list[_Scored], county: County, matters: MatterCatalogue) -> Dispatch:
    """Misconduct of officials told in plain words: the discipline commission, named by its matter."""
    lead = county.accusation_unit
    own = [m for m in matters.matters if is_accusation_matter(m) and m.lead == lead]
    matter = own[0] if own else None
    name = matter.name if matter else "检举控告公职人员违纪违法"
    basis = f"（{matter.basis}）" if matter and matter.basis else ""
    return Dispatch(
        unit_code=lead,
        unit_name=_name(lead, county),
        co_units=(),
        reason=f"事项：{name} → {_name(lead, county)}{basis}；{_grounds(evidence.misconduct)}",
        topic=ACCUSATION_CLASS,
        matter_code=matter.code if matter else None,
        matter_name=matter.name if matter else None,
    )


def _grounds(findings: tuple[str, ...]) -> str:
    """The words the rules matched, or the learned readings (their findings start with 模型判断 or
    主办单位模型)."""
    learned = [f for f in findings if f.startswith(LEARNED_MISCONDUCT)]
    by_unit_model = [f for f in findings if f.startswith(UNIT_MODEL)]
    words = [f for f in findings if f not in learned and f not in by_unit_model]
    parts = ([f"匹配：{'、'.join(words)}"] if words else []) + [f"检举控告：{f}" for f in learned]
    return "；".join(parts + by_unit_model)


def _shielded(dispatch: Dispatch, evidence: Evidence, county: County) -> Dispatch:
    """Keep a 检举/控告 away from the unit it accuses, ticked or found in the text."""
    accused = (evidence.accused_unit or "").strip()
    accusation = evidence.is_accusation or dispatch.topic == ACCUSATION_CLASS
    if not accusation or not accused:
        return dispatch
    lead, co, note = shield_accused(dispatch.unit_code, dispatch.co_units, accused, county)
    return Dispatch(
        unit_code=lead,
        unit_name=_name(lead, county),
        co_units=co,
        reason=f"{dispatch.reason}；{note}",
        topic=dispatch.topic,
        matter_code=dispatch.matter_code,
        matter_name=dispatch.matter_name,
    )


def _to_person(
    evidence: Evidence, scored: list[_Scored], county: County, ranked: list[tuple[str, float, _Scored]]
) -> Dispatch:
    candidates: list[Candidate] = []
    for unit, belief, best in ranked:  # terms and model weighed per unit, when the model ran
        if len(candidates) < 3 and unit in county.units:
            candidates.append(Candidate(unit, _name(unit, county), best.matter.name, belief))
    for s in [] if ranked else scored:
        if len(candidates) == 3:
            break
        if s.matter.lead not in county.units or any(c.unit_code == s.matter.lead for c in candidates):
            continue
        candidates.append(Candidate(s.matter.lead, _name(s.matter.lead, county), s.matter.name, s.score))
    for code, p in evidence.units:  # the learned reading of who leads, below its threshold
        if len(candidates) < 3 and code in county.units and all(c.unit_code != code for c in candidates):
            candidates.append(Candidate(code, _name(code, county), UNIT_MODEL, round(p, 3)))
    if (
        len(candidates) < 3
        and evidence.topic
        and evidence.topic != MANUAL_SORTING
        and not _unconfigured(evidence, county)
    ):
        by_topic = route(topic=evidence.topic, subtopic=evidence.subtopic, township=None, county=county)
        if by_topic.unit_code != county.default_unit and all(c.unit_code != by_topic.unit_code for c in candidates):
            label = f"{evidence.topic}/{evidence.subtopic}" if evidence.subtopic else evidence.topic
            candidates.append(
                Candidate(by_topic.unit_code, by_topic.unit_name, f"主题 {label}", round(evidence.confidence, 3))
            )
    lead = county.default_unit
    listed = "、".join(f"{c.unit_name}（{c.matter}）" for c in candidates) or "无"
    why = "事项和主题都不明确" if candidates else "未识别事项，主题不明确"
    return Dispatch(
        unit_code=lead,
        unit_name=_name(lead, county),
        co_units=(),
        reason=f"{why} → {_name(lead, county)} 人工分拣；候选：{listed}",
        topic=MANUAL_SORTING,
        candidates=tuple(candidates),
        to_person=True,
    )


def _name(code: str, county: County) -> str:
    unit = county.units.get(code)
    return unit.name if unit else code


def _names(codes: tuple[str, ...], county: County) -> str:
    return "、".join(_name(c, county) for c in codes)
