"""The learned reading of officials' misconduct: char 1–3-gram TF-IDF + logistic regression.

The hand-written reading (:mod:`hotline.shared.domain.misconduct`: an official and a corrupt act in one
sentence) misses the phrasings of writers it was never widened for. This model reads the whole text
and says how likely it accuses a public official of 违纪违法; it also sees whether the rules fired and
whether an official is named at all. Trained by ``hotline train-misconduct`` (:mod:`misconduct_train`)
and shipped as a small JSON artefact (``artifacts/misconduct_model.json``: per n-gram its IDF and
weight). Prediction needs no scikit-learn (it repeats ``TfidfVectorizer(analyzer="char",
sublinear_tf=True)`` and the regression, see :mod:`urgency_model`).

The decision (:func:`learned_misconduct`): the rules keep firing as before; the model adds a route to
the discipline commission only when the rules found nothing and its probability reaches ``threshold``,
chosen leaving writers out so that ordinary complaints are rarely sent there.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hotline.services.classifier.urgency_model import char_ngrams
from hotline.shared.domain.misconduct import LEARNED_MISCONDUCT, OFFICIALS

MODEL_PATH = Path(__file__).with_name("artifacts") / "misconduct_model.json"


@dataclass(frozen=True, slots=True)
class MisconductModel:
    weights: dict[str, tuple[float, float]]  # n-gram -> (idf, coefficient)
    intercept: float
    features: dict[str, float]  # weights of the cheap features (see :func:`cheap_features`)
    threshold: float  # the probability from which the model alone sends a case to the 纪委监委
    version: str


def cheap_features(text: str, *, rules_fired: bool, ticked: bool) -> dict[str, float]:
    """The features beside the n-grams: the rules fired, an official is named, 检举/控告 was ticked."""
    return {
        "rules": 1.0 if rules_fired else 0.0,
        "official": 1.0 if any(who in text for who in OFFICIALS) else 0.0,
        "ticked": 1.0 if ticked else 0.0,
    }


def probability(text: str, model: MisconductModel, features: dict[str, float]) -> float:
    """The model's probability that ``text`` accuses officials of misconduct."""
    values: dict[str, float] = {}
    for gram, count in char_ngrams(text).items():
        if (w := model.weights.get(gram)) is not None:
            values[gram] = (1.0 + math.log(count)) * w[0]
    norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
    score = model.intercept + sum(v / norm * model.weights[g][1] for g, v in values.items())
    score += sum(model.features.get(name, 0.0) * value for name, value in features.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


def decide_misconduct(rules: tuple[str, ...], p: float | None, threshold: float) -> tuple[str, ...]:
    """The reading the router gets: the rules' findings when they fired; otherwise the model's, when its
    probability ``p`` reaches ``threshold``; otherwise nothing. Pure."""
    if rules:
        return rules
    if p is not None and p >= threshold:
        return (f"{LEARNED_MISCONDUCT}（p={p:.2f}）",)
    return ()


def learned_misconduct(
    text: str, rules: tuple[str, ...], *, ticked: bool, model: MisconductModel | None
) -> tuple[str, ...]:
    """:func:`decide_misconduct` with the model's probability (the rules alone when there is no model)."""
    if rules or model is None:
        return rules
    p = probability(text, model, cheap_features(text, rules_fired=False, ticked=ticked))
    return decide_misconduct(rules, p, model.threshold)


def is_learned(finding: str) -> bool:
    return finding.startswith(LEARNED_MISCONDUCT)


def parse_misconduct_model(data: dict[str, object]) -> MisconductModel:
    grams = data["ngrams"]
    features = data.get("features", {})
    if not isinstance(grams, dict) or not isinstance(features, dict):
        raise ValueError("misconduct model: 'ngrams' and 'features' must be objects")
    return MisconductModel(
        weights={str(g): (float(v[0]), float(v[1])) for g, v in grams.items()},
        intercept=float(str(data["intercept"])),
        features={str(k): float(v) for k, v in features.items()},
        threshold=float(str(data["threshold"])),
        version=str(data.get("version", "")),
    )


@lru_cache(maxsize=4)
def _load_cached(path: Path, mtime_ns: int) -> MisconductModel:
    return parse_misconduct_model(json.loads(path.read_text(encoding="utf-8")))


def load_misconduct_model(path: Path | None = None) -> MisconductModel | None:
    """The shipped model (or the one at ``path``); None when there is none (the rules then read alone)."""
    p = path or MODEL_PATH
    if not p.exists():
        return None
    return _load_cached(p, p.stat().st_mtime_ns)
