"""The learned second opinion on 紧急诉求: char 1–3-gram TF-IDF + logistic regression.

Trained by ``hotline train-urgency`` (:mod:`urgency_train`) and shipped as a small JSON artefact
(``artifacts/urgency_model.json``: per n-gram its IDF and weight). Beside it, one model per emergency
line (110/119/120/122, the same form) says which lines a case flagged by the model alone needs. Prediction here needs no
scikit-learn: it repeats what ``TfidfVectorizer(analyzer="char", sublinear_tf=True)`` and the logistic
regression compute (``tests/classifier/test_urgency_model.py`` checks both agree), in time linear in
the text. :func:`load_urgency_model` is the only function that reads a file.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hotline.services.classifier.artefact import load_cached
from hotline.services.classifier.char_grams import GramTable, folded, reader_of

MODEL_PATH = Path(__file__).with_name("artifacts") / "urgency_model.json"
NGRAM_MIN, NGRAM_MAX = 1, 3


@dataclass(frozen=True, slots=True)
class LineModel:
    """Does an urgent text need this emergency line? (Probability ≥ 0.5: yes.)"""

    weights: dict[str, tuple[float, float]]  # n-gram -> (idf, coefficient)
    intercept: float
    table: GramTable = field(init=False, repr=False, compare=False)  # the weights as numpy reads them

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", GramTable.of(self.weights))


@dataclass(frozen=True, slots=True)
class UrgencyModel:
    weights: dict[str, tuple[float, float]]  # n-gram -> (idf, coefficient)
    intercept: float
    threshold: float  # the probability from which the arbiter calls a text urgent (chosen by writer)
    version: str
    lines: dict[str, LineModel] = field(default_factory=dict)  # per emergency line ("110", ...)
    # The arbiter's weights on the rules' signals (:mod:`urgency_signals`); empty for an n-gram model.
    signals: dict[str, float] = field(default_factory=dict)
    # The lower bar for a text in which the rules found an emergency (≤ threshold; chosen on writers
    # the rules never read). None: the same bar.
    rules_threshold: float | None = None
    # The higher bar for a text that tells its danger only as not now (past, over, drill, fiction,
    # rumour...: :mod:`urgency_frames`; ≥ threshold, chosen leaving writers out). None: the same bar.
    framed_threshold: float | None = None
    table: GramTable = field(init=False, repr=False, compare=False)  # the weights as numpy reads them

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", GramTable.of(self.weights))


def char_ngrams(text: str, low: int = NGRAM_MIN, high: int = NGRAM_MAX) -> Counter[str]:
    """The char n-grams of ``text`` as the vectorizer counts them (lowercased, runs of spaces folded)."""
    t = folded(text)
    grams: Counter[str] = Counter()
    for n in range(low, high + 1):
        grams.update(t[i : i + n] for i in range(len(t) - n + 1))
    return grams


def _contributions(
    text: str, model: UrgencyModel | LineModel, signals: Mapping[str, float] | None = None
) -> tuple[float, dict[str, float]]:
    """The decision value (n-grams and, for the arbiter, the rules' ``signals``) and each known
    n-gram's share of it."""
    values: dict[str, float] = {}
    for gram, count in char_ngrams(text).items():
        if (w := model.weights.get(gram)) is not None:
            values[gram] = (1.0 + math.log(count)) * w[0]
    norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
    shares = {g: v / norm * model.weights[g][1] for g, v in values.items()}
    weights = model.signals if isinstance(model, UrgencyModel) else {}
    from_signals = sum(weights.get(name, 0.0) * value for name, value in (signals or {}).items())
    return model.intercept + from_signals + sum(shares.values()), shares


def gram_scores(texts: Sequence[str], model: UrgencyModel | LineModel) -> list[float]:
    """The n-grams' part of each text's decision value, the texts read together in numpy
    (:mod:`char_grams`): counting them as Python strings, a text at a time, cost a seventh of jieba's
    time on every text the rules do not decide alone."""
    if not texts:
        return []
    table = model.table
    scores: list[float] = (reader_of(table).rows(texts)[0] @ table.coef).tolist()
    return scores


def urgent_probability(
    text: str, model: UrgencyModel | LineModel, signals: Mapping[str, float] | None = None, grams: float | None = None
) -> float:
    """The model's probability that ``text`` (with the rules' ``signals``, for the arbiter) is urgent
    (``grams``: the text's :func:`gram_scores`, when a batch read them already)."""
    from_grams = gram_scores([text], model)[0] if grams is None else grams
    weights = model.signals if isinstance(model, UrgencyModel) else {}
    from_signals = sum(weights.get(name, 0.0) * value for name, value in (signals or {}).items())
    score = model.intercept + from_signals + from_grams
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


def predicted_lines(text: str, model: UrgencyModel) -> list[str]:
    """The emergency lines the line models give an urgent ``text``: each at probability ≥ 0.5, or the
    likeliest one when none reaches it; [] when the artefact has no line models."""
    probs = {line: urgent_probability(text, m) for line, m in model.lines.items()}
    if not probs:
        return []
    return [line for line, p in probs.items() if p >= 0.5] or [max(probs, key=lambda line: probs[line])]


def top_ngrams(text: str, model: UrgencyModel, k: int = 3) -> list[str]:
    """The ``k`` n-grams (two letters or more, none inside a longer one listed) that pushed the text
    most towards urgent: the words a reason names."""
    _, shares = _contributions(text, model)
    chosen: list[str] = []
    for gram, share in sorted(shares.items(), key=lambda gs: (-gs[1], gs[0])):
        if share <= 0 or len(chosen) == k:
            break
        # Words only: an n-gram with punctuation, a space or a masked character ("水，") reads as noise.
        if len(gram) >= 2 and gram.isalnum() and not any(gram in c or c in gram for c in chosen):
            chosen.append(gram)
    return chosen


def _ngram_weights(raw: object) -> dict[str, tuple[float, float]]:
    if not isinstance(raw, dict):
        raise ValueError("urgency model: 'ngrams' must map n-grams to [idf, weight]")
    return {str(g): (float(v[0]), float(v[1])) for g, v in raw.items()}


def parse_urgency_model(data: dict[str, object]) -> UrgencyModel:
    lines = data.get("lines", {})
    if not isinstance(lines, dict):
        raise ValueError("urgency model: 'lines' must map emergency lines to models")
    signals = data.get("signals", {})
    if not isinstance(signals, dict):
        raise ValueError("urgency model: 'signals' must map signal names to weights")
    return UrgencyModel(
        weights=_ngram_weights(data["ngrams"]),
        intercept=float(str(data["intercept"])),
        threshold=float(str(data["threshold"])),
        version=str(data.get("version", "")),
        lines={
            str(line): LineModel(_ngram_weights(m["ngrams"]), float(str(m["intercept"]))) for line, m in lines.items()
        },
        signals={str(name): float(w) for name, w in signals.items()},
        rules_threshold=_optional_float(data.get("rules_threshold")),
        framed_threshold=_optional_float(data.get("framed_threshold")),
    )


def _optional_float(value: object) -> float | None:
    return float(str(value)) if value is not None else None


def _read(path: Path) -> UrgencyModel:
    return parse_urgency_model(json.loads(path.read_text(encoding="utf-8")))


def load_urgency_model(path: Path | None = None) -> UrgencyModel | None:
    """The shipped model (or the one at ``path``); None when there is none (the rules then judge alone)."""
    return load_cached(path or MODEL_PATH, _read)
