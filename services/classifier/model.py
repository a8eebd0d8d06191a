"""Topic model: linear classifier over TF-IDF features + taxonomy rules for untrained classes.

Usage::

    model = TopicModel.load()
    preds = model.predict(["A3区某小区物业乱收停车费", ...])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hotline.services.classifier import artefact
from hotline.services.classifier import matter_model as matter_artefact
from hotline.services.classifier.features import TokenBatch
from hotline.services.classifier.rules import (
    UNTRAINED,
    TopicRules,
    best_subtopic,
    best_untrained,
    load_topic_rules,
    should_override,
    term_starts,
)
from hotline.services.classifier.text import jieba_cut, load_stopwords, tokens_from_raw
from hotline.services.classifier.unit_model import NPZ_NAME as UNIT_NPZ_NAME
from hotline.services.classifier.unit_model import UnitModel, load_unit_model

MANUAL = "人工分拣"
DEFAULT_THRESHOLD = 0.35


@dataclass(frozen=True, slots=True)
class TopicPrediction:
    """The topic of one text.

    ``topic`` is one of the 7 trained first-level classes, one of the 8 rule-based ones, or
    ``"人工分拣"`` when nothing fits (e.g. an empty text). ``needs_review`` is True when the
    confidence is below the model's threshold or nothing fits: the case goes to the 人工分拣 queue
    with ``topic`` as the suggestion.
    """

    topic: str
    subtopic: str | None
    confidence: float
    needs_review: bool


def softmax(scores: npt.NDArray[np.float32], temperature: float) -> npt.NDArray[np.float32]:
    """Row-wise softmax of ``scores * temperature``."""
    z = scores * np.float32(temperature)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: npt.NDArray[np.float32] = e / e.sum(axis=1, keepdims=True)
    return out


class TopicModel:
    """A loaded topic classifier. Thread-safe for concurrent ``predict`` calls."""

    version: str
    metrics: dict[str, Any]

    def __init__(
        self,
        art: artefact.LinearArtefact,
        *,
        rules: TopicRules | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        matters: matter_artefact.MatterModel | None = None,
        units: UnitModel | None = None,
    ) -> None:
        self._art = art
        # The learned matter model rides along: same tokens, one more sparse product per batch.
        self.matters = matters
        # A county's own reading of who leads (`hotline train --from-cases`) rides along too; None: the
        # packaged one is read (see classify.py).
        self.units = units
        base = rules if rules is not None else load_topic_rules()
        # A county model trained on, say, 政法 cases makes that class a trained one.
        self.rules = base.with_untrained(base.untrained_topics - set(art.classes))
        self.threshold = threshold
        self.version = str(art.meta.get("version", "topic-unknown"))
        self.metrics = dict(art.meta.get("metrics", {}))
        self.meta = art.meta
        self.classes = list(art.classes)
        self._stopwords = load_stopwords()

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        *,
        rules: TopicRules | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> TopicModel:
        """Load an artefact directory (default: the packaged ``artifacts/``) and initialise jieba."""
        directory = path if path is None or path.is_dir() else path.parent
        model = cls(
            artefact.load(path),
            rules=rules,
            threshold=threshold,
            matters=matter_artefact.load_optional(directory),
            units=load_unit_model(directory / UNIT_NPZ_NAME) if directory is not None else None,
        )
        jieba_cut()
        return model

    def tokenize(self, texts: Sequence[str]) -> TokenBatch:
        """Normalised tokens of raw texts (jieba, no punctuation or stop words)."""
        # The topic and the matter model read the same tokens: their features are read together.
        spaces = (self._art.features,) + ((self.matters.features,) if self.matters is not None else ())
        return TokenBatch([tokens_from_raw(t, self._stopwords) for t in texts], spaces)

    def scores(self, tokens: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
        """Raw linear scores (n_texts x n_classes) for already normalised token lists."""
        x = self._art.features.transform(tokens)
        s: npt.NDArray[np.float32] = np.asarray(x @ self._art.weights, dtype=np.float32) + self._art.bias
        return s

    def probabilities(self, tokens: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
        """Calibrated class probabilities over the trained classes."""
        return softmax(self.scores(tokens), self._art.temperature)

    def predict_trained(self, texts: Sequence[str]) -> list[str]:
        """Model-only prediction among the trained classes (no rules): for evaluation."""
        probs = self.probabilities(self.tokenize(texts))
        return [self.classes[i] for i in probs.argmax(axis=1)]

    def predict(
        self,
        texts: Sequence[str],
        tokens: Sequence[Sequence[str]] | None = None,
        learned: npt.NDArray[np.float32] | None = None,
    ) -> list[TopicPrediction]:
        """Classify a batch of raw texts (``tokens``: their :meth:`tokenize`, when already done;
        ``learned``: the matter model's probabilities for them, when already computed)."""
        if not texts:
            return []
        tokens = self.tokenize(texts) if tokens is None else tokens
        if learned is None and self.matters is not None:
            learned = self.matters.probabilities(tokens)
        probs = self.probabilities(tokens)
        best = probs.argmax(axis=1)
        trained = [self.classes[int(bi)] for bi in best]
        # Where the rules' terms can begin, found for the whole batch at once (see rule_starts).
        untrained_starts = term_starts(texts, self.rules, [UNTRAINED] * len(texts))
        subtopic_starts = term_starts(texts, self.rules, trained)
        out: list[TopicPrediction] = []
        for i, (text, toks, row, bi) in enumerate(zip(texts, tokens, probs, best, strict=True)):
            matters = learned[i] if learned is not None and toks else None
            starts = (untrained_starts[i], subtopic_starts[i])
            out.append(self._decide(text, bool(toks), trained[i], float(row[bi]), matters, starts))
        return out

    def _backed(self, rule_class: str, trained_class: str, matters: npt.NDArray[np.float32] | None) -> bool:
        """Whether the learned matter model (when it ran) finds a rule's untrained class at least as likely
        as the trained model's class. It arbitrates: on the training messages (all labelled with trained
        classes) this halves the rules' overrides (45 → 24), and the routing suites' topics stay as right."""
        if self.matters is None or matters is None:
            return True
        rule, trained = self.matters.class_mass(matters, rule_class), self.matters.class_mass(matters, trained_class)
        return rule is None or trained is None or rule >= trained

    def _decide(
        self,
        text: str,
        has_tokens: bool,
        topic: str,
        conf: float,
        matters: npt.NDArray[np.float32] | None = None,
        starts: tuple[list[int] | None, list[int] | None] = (None, None),
    ) -> TopicPrediction:
        hit = best_untrained(text, self.rules, starts[0])
        if (
            hit is not None
            and (not has_tokens or should_override(hit, conf, self.rules))
            and self._backed(hit.topic, topic, matters)
        ):
            # Rule confidence grows with the evidence: min_score -> 0.6, twice that -> 0.9.
            rconf = min(0.95, 0.3 + 0.3 * hit.score / self.rules.min_score)
            return TopicPrediction(hit.topic, hit.subtopic, round(rconf, 4), rconf < self.threshold)
        if not has_tokens:
            return TopicPrediction(MANUAL, None, 0.0, True)
        sub = best_subtopic(text, topic, self.rules, starts[1])
        return TopicPrediction(topic, sub, round(conf, 4), conf < self.threshold)
