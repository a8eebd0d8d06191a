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
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import scipy.sparse as sp

from hotline.services.classifier.artefact import load_cached
from hotline.services.classifier.char_grams import GramTable, tfidf_rows
from hotline.services.classifier.rules import trie_regex
from hotline.shared.domain.misconduct import LEARNED_MISCONDUCT, OFFICIALS

MODEL_PATH = Path(__file__).with_name("artifacts") / "misconduct_model.json"
# Whether an official is named: one scan of a trie regex, five times faster than a search per title.
_OFFICIAL = re.compile(trie_regex(OFFICIALS))


@dataclass(frozen=True, slots=True)
class MisconductModel:
    weights: dict[str, tuple[float, float]]  # n-gram -> (idf, coefficient)
    intercept: float
    features: dict[str, float]  # weights of the cheap features (see :func:`cheap_features`)
    threshold: float  # the probability from which the model alone sends a case to the 纪委监委
    version: str
    table: GramTable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", GramTable.of(self.weights))


def cheap_features(text: str, *, rules_fired: bool, ticked: bool) -> dict[str, float]:
    """The features beside the n-grams: the rules fired, an official is named, 检举/控告 was ticked."""
    return {
        "rules": 1.0 if rules_fired else 0.0,
        "official": 1.0 if _OFFICIAL.search(text) else 0.0,
        "ticked": 1.0 if ticked else 0.0,
    }


def probabilities(
    texts: Sequence[str],
    model: MisconductModel,
    features: Sequence[dict[str, float]],
    rows: sp.csr_matrix | None = None,
) -> list[float]:
    """The model's probability that each text accuses officials of misconduct (``features``: each
    text's cheap features, see :func:`cheap_features`; ``rows``: the texts' TF-IDF rows against the
    model's vocabulary, when a shared :class:`char_grams.GramReader` read them already)."""
    table = model.table
    scores = model.intercept + (tfidf_rows(texts, table) if rows is None else rows) @ table.coef
    out = []
    for score, extra in zip(scores, features, strict=True):
        score += sum(model.features.get(name, 0.0) * value for name, value in extra.items())
        out.append(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, float(score))))))
    return out


def probability(text: str, model: MisconductModel, features: dict[str, float]) -> float:
    """The model's probability that ``text`` accuses officials of misconduct."""
    return probabilities([text], model, [features])[0]


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


def learned_misconduct_batch(
    texts: Sequence[str],
    rules: Sequence[tuple[str, ...]],
    *,
    ticked: Sequence[bool],
    model: MisconductModel | None,
    rows: sp.csr_matrix | None = None,
) -> list[tuple[str, ...]]:
    """:func:`learned_misconduct` for many texts, their probabilities read in one pass (``rows``: all
    the texts' TF-IDF rows against the model's vocabulary, when already read)."""
    out = list(rules)
    unread = [i for i, found in enumerate(rules) if not found]  # the rules' findings stand as they are
    if model is None or not unread:
        return out
    features = [cheap_features(texts[i], rules_fired=False, ticked=ticked[i]) for i in unread]
    unread_rows = rows[unread] if rows is not None else None
    unread_texts = [texts[i] for i in unread]
    for i, p in zip(unread, probabilities(unread_texts, model, features, unread_rows), strict=True):
        out[i] = decide_misconduct((), p, model.threshold)
    return out


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


def _read(path: Path) -> MisconductModel:
    return parse_misconduct_model(json.loads(path.read_text(encoding="utf-8")))


def load_misconduct_model(path: Path | None = None) -> MisconductModel | None:
    """The shipped model (or the one at ``path``); None when there is none (the rules then read alone)."""
    return load_cached(path or MODEL_PATH, _read)
