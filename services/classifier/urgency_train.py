"""`hotline train-urgency`: rebuild the learned 紧急诉求 arbiter (``artifacts/urgency_model.json``).

The arbiter is a logistic regression over a text's char 1–3-grams (TF-IDF, read as the rules read it,
figurative phrases masked). It decides every case the hard guards (categories marked ``guard = true``
in ``urgency_rules.toml``) leave open, at a lower bar where the rules found an emergency; see
:mod:`urgency_judge`. (The rules' signals can be features too, ``with_signals``; leaving writers out
they made the arbiter worse on the writers the rules were not written against, see the README.)

Training texts: every labelled suite in the repository, grouped by the writer who wrote it
(:data:`WRITERS`). The ordinary 政务留言 of ``messages_train.csv`` do not train it (as negatives they
made it worse on held-out writers); ``hotline eval-urgency --leave-one-writer-out`` measures the false
alarms on them instead.

Choices are made the way unseen text is met, by writer: leaving each writer out in turn and training
on the others, the threshold pair is the one with the fewest false alarms that still finds
``--recall-target`` of the held-out writers' emergencies (:func:`recall_first_thresholds`). How far a
rule hit lowers the bar is judged only on writers the rules were never written against
(:data:`RULES_READ`); how far a danger told only as not now raises it (:mod:`urgency_frames`) is chosen
the same way, in the same search. Deterministic: same files, same artefact.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.services.classifier.dataset import TRAIN_CORPUS
from hotline.services.classifier.urgency import UrgencyRules, assess_urgency, bounded_text, load_urgency_rules, masked
from hotline.services.classifier.urgency_frames import frame_signal_names, frame_signals, read_frames
from hotline.services.classifier.urgency_judge import arbiter_bar, is_guarded
from hotline.services.classifier.urgency_model import MODEL_PATH, NGRAM_MAX, NGRAM_MIN
from hotline.services.classifier.urgency_signals import rule_signals, signal_names

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
# Each labelled suite by the writer who wrote it (see each folder's README). All are development
# material; leaving one writer out is the closest the repository comes to a writer never seen.
WRITERS: dict[str, tuple[Path, ...]] = {
    "writer1": (DATA / "urgency" / "dev.jsonl", DATA / "urgency" / "test.jsonl"),
    "writer2": (DATA / "urgency-heldout" / "cases.jsonl",),
    "writer3": (DATA / "urgency-train" / "cases.jsonl",),
    "phrasings": (DATA / "urgency-train" / "phrasings.jsonl",),  # round one's rule author
    "writer4": (DATA / "urgency-round3" / "dev.jsonl", DATA / "urgency-round3" / "test.jsonl"),
    "writer5": (DATA / "urgency-train5" / "cases.jsonl",),
    "writer6": (DATA / "urgency-train6" / "cases.jsonl",),
    "writer7": (DATA / "urgency-train7" / "cases.jsonl",),
    # The sealed round-five and round-six suites, development material since each was measured once:
    # two writers each, told apart by their ids (WRITER_IDS).
    "round5a": (DATA / "urgency-round5" / "dev.jsonl", DATA / "urgency-round5" / "test.jsonl"),
    "round5b": (DATA / "urgency-round5" / "dev.jsonl", DATA / "urgency-round5" / "test.jsonl"),
    "round6a": (DATA / "urgency-round6" / "dev.jsonl", DATA / "urgency-round6" / "test.jsonl"),
    "round6b": (DATA / "urgency-round6" / "dev.jsonl", DATA / "urgency-round6" / "test.jsonl"),
}
# Writers who share files with another: only the rows whose id starts so are theirs.
WRITER_IDS: dict[str, str] = {"round5a": "u5a-", "round5b": "u5b-", "round6a": "u6a-", "round6b": "u6b-"}
# The writers whose texts the rules in urgency_rules.toml were written and tuned against: on them the
# rules look nearly perfect, so how far a rule hit may lower the arbiter's bar is chosen on the others.
RULES_READ = frozenset({"writer1", "writer2", "writer3", "phrasings"})
BACKGROUND = "background"
BACKGROUND_PATH = TRAIN_CORPUS
HEAD, TAIL = 4000, 1000
THRESHOLDS = [round(0.02 * i, 2) for i in range(1, 50)]  # 0.02 … 0.98
NEVER = 1.0  # a framed bar the arbiter never reaches (only a guard then makes a framed text urgent)
C_GRID = (16.0,)
RECALL_TARGET = 0.99
MAX_FEATURES = 8000
LINES = ("110", "119", "120", "122")
LINE_C = 4.0  # the line models' regularisation (fixed; their accuracy is measured leaving writers out)
LINE_MAX_FEATURES = 4000


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    urgent: bool
    source: str  # the writer (a key of WRITERS) or "background"
    lines: tuple[str, ...] = ()  # the labelled emergency lines, where the suite gives them


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the arbiter reads of each example: the masked text, the rules' signals, the guard."""

    examples: list[Example]
    texts: list[str]
    signals: list[dict[str, float]]
    guarded: list[bool]
    rule_hits: list[bool]  # did the rules find an emergency (gated as they gate)?
    names: list[str]  # the signal names, in feature order
    framed: list[bool]  # is the danger told only as not now (urgency_frames)? All False: no framed bar
    frame_bar: bool = True  # does a framed text get its own (higher) bar?


def read_jsonl(path: Path, source: str) -> list[Example]:
    """A writer's labelled texts in ``path`` (only its own rows where it shares the file)."""
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    rows = [r for r in rows if str(r.get("id", "")).startswith(WRITER_IDS.get(source, ""))]
    return [
        Example(str(r["text"]), bool(r["urgent"]), source, tuple(str(line) for line in r.get("lines", [])))
        for r in rows
    ]


def read_background(path: Path) -> list[Example]:
    """Raw ordinary messages (rows with their text; the segmented-only rows differ in form)."""
    csv.field_size_limit(10**8)
    with path.open(encoding="utf-8", newline="") as fh:
        texts = [row["text"].strip() for row in csv.DictReader(fh) if row.get("text", "").strip()]
    return [Example(bounded_text(t, HEAD, TAIL), False, BACKGROUND) for t in texts]


def gather(writers: dict[str, tuple[Path, ...]]) -> list[Example]:
    """Every writer's texts (a writer whose files are absent is skipped)."""
    return [e for name, paths in writers.items() for p in paths if p.exists() for e in read_jsonl(p, name)]


def prepare(
    examples: Sequence[Example],
    rules: UrgencyRules,
    *,
    with_signals: bool = False,
    frame_bar: bool = True,
    frame_features: bool = False,
) -> Prepared:
    """What the arbiter reads; the rules' signals only ``with_signals``, the frame as features only
    ``frame_features`` (see the module docstring); the frame's own bar unless not ``frame_bar``."""
    verdicts = [assess_urgency(e.text, rules) for e in examples]
    readings = [read_frames(e.text, rules) for e in examples]
    texts = [masked(e.text, rules) for e in examples]  # what the arbiter reads (see urgency_judge)
    signals = []
    for e, v, reading in zip(examples, verdicts, readings, strict=True):
        found = rule_signals(e.text, rules, v) if with_signals else {}
        signals.append(found | frame_signals(reading) if frame_features else found)
    return Prepared(
        examples=list(examples),
        texts=texts,
        signals=signals,
        guarded=[is_guarded(v, rules) for v in verdicts],
        rule_hits=[v.urgent for v in verdicts],
        names=list(dict.fromkeys([*signal_names(rules), *frame_signal_names(rules)])),
        framed=[frame_bar and r.framed for r in readings],
        frame_bar=frame_bar and rules.framing is not None,
    )


def fingerprint(examples: Iterable[Example]) -> str:
    digest = hashlib.sha256()
    for e in examples:
        digest.update(f"{int(e.urgent)}\t{e.source}\t{','.join(e.lines)}\t{e.text}\n".encode())
    return digest.hexdigest()[:16]


def rates(urgent: Sequence[bool], flagged: Sequence[bool]) -> tuple[float, float]:
    """Recall on the urgent and the false-alarm rate on the others."""
    pos = [f for u, f in zip(urgent, flagged, strict=True) if u]
    neg = [f for u, f in zip(urgent, flagged, strict=True) if not u]
    return (sum(pos) / len(pos) if pos else 1.0), (sum(neg) / len(neg) if neg else 0.0)


def flag(p: float, guarded: bool, rule_hit: bool, framed: bool, t: float, t_rules: float, t_framed: float) -> bool:
    """The stated rule of :mod:`urgency_judge`: a guard, or the arbiter at its bar (``t``; ``t_rules``
    with a rule hit; ``t_framed`` where the danger is told only as not now)."""
    return guarded or p >= arbiter_bar(t, t_rules, t_framed, rule_hit=rule_hit, framed=framed)


def recall_first_thresholds(
    urgent: Sequence[bool],
    probs: Sequence[float],
    guarded: Sequence[bool],
    rule_hits: Sequence[bool],
    honest: Sequence[bool],
    target: float,
    framed: Sequence[bool] | None = None,
) -> tuple[float, float, float]:
    """``(t, t_rules, t_framed)``: among the triples that find ``target`` of the emergencies, both
    overall and on the ``honest`` examples (writers the rules never read), the one with the fewest
    false alarms on the honest examples (ties: the higher thresholds). ``t_rules ≤ t ≤ t_framed``.
    Without honest examples a rule hit earns no lower bar (``t_rules = t``): where the rules were
    tuned their hits look perfect, and that would only teach the arbiter to trust them blindly.
    Without framed examples the framed bar is ``t``.

    Exhaustive over the grid, counted with numpy: the framed and the other examples are disjoint, so
    each part's counts are taken once per pair (t, t_rules) or per t_framed and then added."""
    import numpy as np

    n = len(urgent)
    u, g, h = (np.asarray(v, dtype=bool) for v in (urgent, guarded, rule_hits))
    p = np.asarray(probs, dtype=float)
    f = np.asarray(framed if framed is not None else [False] * n, dtype=bool)
    o = np.asarray(honest, dtype=bool) if any(honest) else np.ones(n, dtype=bool)
    ts, tfs = np.asarray(THRESHOLDS), np.asarray([*THRESHOLDS, NEVER])
    a = ~f
    # Others: flagged[i, t, t_rules]; framed: flagged[i, t_framed].
    at_t = p[a, None] >= ts[None, :]
    others = g[a, None, None] | at_t[:, :, None] | (h[a, None, None] & at_t[:, None, :])
    ours = g[f, None] | (p[f, None] >= tfs[None, :])

    wanted = np.stack([u, u & o, ~u & o]).astype(np.float32)  # emergencies, honest ones, honest calm
    on_others = (wanted[:, a] @ others.reshape(len(others), -1).astype(np.float32)).reshape(3, len(ts), len(ts))
    on_ours = wanted[:, f] @ ours.astype(np.float32)
    found, found_h, fa_h = on_others[:, :, :, None] + on_ours[:, None, None, :]
    ok = (found >= target * u.sum() - 1e-9) & (found_h >= target * (u & o).sum() - 1e-9)
    t_i, r_i, f_i = np.meshgrid(np.arange(len(ts)), np.arange(len(ts)), np.arange(len(tfs)), indexing="ij")
    ok &= (ts[r_i] <= ts[t_i]) & (tfs[f_i] >= ts[t_i])
    if not any(honest):
        ok &= r_i == t_i
    if not f.any():
        ok &= tfs[f_i] == ts[t_i]
    if not ok.any():
        return THRESHOLDS[0], THRESHOLDS[0], THRESHOLDS[0]
    # Fewest honest false alarms, then the highest t, t_rules, t_framed (lexicographic).
    key = np.where(ok, fa_h, np.inf)
    best = min(zip(key[ok], -t_i[ok], -r_i[ok], -f_i[ok], strict=True))
    return float(ts[-best[1]]), float(ts[-best[2]]), float(tfs[-best[3]])


def _vectorizer(max_features: int) -> Any:
    """The char n-gram TF-IDF that :func:`urgency_model.char_ngrams` repeats without scikit-learn."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char", ngram_range=(NGRAM_MIN, NGRAM_MAX), sublinear_tf=True, min_df=2, max_features=max_features
    )


def _ngram_table(vectorizer: Any, coef: Any) -> dict[str, list[float]]:
    """Per n-gram its IDF and weight, as the artefact stores them."""
    return {
        gram: [round(float(vectorizer.idf_[i]), 5), round(float(coef[i]), 5)]
        for gram, i in sorted(vectorizer.vocabulary_.items())
    }


class Arbiter:
    """Fits the arbiter on some of the prepared examples (scikit-learn; training only)."""

    def __init__(self, data: Prepared) -> None:
        self.data = data
        self._column = {name: i for i, name in enumerate(data.names)}

    def _signal_matrix(self, idx: Sequence[int]) -> Any:
        from scipy.sparse import csr_matrix

        rows, cols, values = [], [], []
        for r, i in enumerate(idx):
            for name, value in self.data.signals[i].items():
                if (c := self._column.get(name)) is not None:
                    rows.append(r)
                    cols.append(c)
                    values.append(value)
        return csr_matrix((values, (rows, cols)), shape=(len(idx), len(self.data.names)))

    def fit(self, idx: Sequence[int], c: float) -> Fitted:
        from scipy.sparse import hstack
        from sklearn.linear_model import LogisticRegression

        vectorizer = _vectorizer(MAX_FEATURES)
        x = hstack([vectorizer.fit_transform([self.data.texts[i] for i in idx]), self._signal_matrix(idx)]).tocsr()
        y = [self.data.examples[i].urgent for i in idx]
        regression = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(x, y)
        return Fitted(self, vectorizer, regression)


@dataclass(frozen=True, slots=True)
class Fitted:
    arbiter: Arbiter
    vectorizer: Any
    regression: Any

    def probabilities(self, idx: Sequence[int]) -> list[float]:
        from scipy.sparse import hstack

        texts = [self.arbiter.data.texts[i] for i in idx]
        x = hstack([self.vectorizer.transform(texts), self.arbiter._signal_matrix(idx)]).tocsr()
        return [float(p) for p in self.regression.predict_proba(x)[:, 1]]

    def weights(self, threshold: float) -> dict[str, Any]:
        """As the artefact stores it: per n-gram its IDF and weight, per signal its weight."""
        coef = self.regression.coef_[0]
        n = len(self.vectorizer.vocabulary_)
        ngrams = _ngram_table(self.vectorizer, coef)
        signals = {name: round(float(coef[n + j]), 5) for j, name in enumerate(self.arbiter.data.names)}
        return {
            "threshold": threshold,
            "intercept": round(float(self.regression.intercept_[0]), 5),
            "ngrams": ngrams,
            "signals": {name: w for name, w in signals.items() if w != 0.0},
        }


def writers_out_of_fold(data: Prepared, idx: Sequence[int], c: float) -> dict[int, float]:
    """Each example's probability from an arbiter trained without its writer."""
    writers = sorted({data.examples[i].source for i in idx})
    arbiter = Arbiter(data)
    probs: dict[int, float] = {}
    for w in writers:
        held = [i for i in idx if data.examples[i].source == w]
        rest = [i for i in idx if data.examples[i].source != w]
        probs.update(zip(held, arbiter.fit(rest, c).probabilities(held), strict=True))
    return probs


def choose(data: Prepared, idx: Sequence[int], c_grid: Sequence[float], target: float) -> dict[str, Any]:
    """C and the thresholds, chosen leaving each writer of ``idx`` out in turn (see the module doc)."""
    grid: dict[str, Any] = {}
    best: tuple[float, dict[str, Any]] | None = None
    for c in c_grid:
        probs = writers_out_of_fold(data, idx, c)
        held = sorted(probs)
        urgent = [data.examples[i].urgent for i in held]
        honest = [data.examples[i].source not in RULES_READ for i in held]
        p, g, h = [probs[i] for i in held], [data.guarded[i] for i in held], [data.rule_hits[i] for i in held]
        framed = [data.framed[i] for i in held]
        t, t_rules, t_framed = recall_first_thresholds(urgent, p, g, h, honest, target, framed)
        flagged = [flag(*row, t, t_rules, t_framed) for row in zip(p, g, h, framed, strict=True)]
        recall, fa = rates(urgent, flagged)
        on_honest = [(u, f) for u, f, o in zip(urgent, flagged, honest, strict=True) if o]
        figures: dict[str, Any] = {
            "C": c,
            "threshold": t,
            "rules_threshold": t_rules,
            "framed_threshold": t_framed if data.frame_bar else None,
            "framed": sum(framed),
            "recall": round(recall, 4),
            "false_alarm_rate": round(fa, 4),
            "honest_writers": sorted({data.examples[i].source for i, o in zip(held, honest, strict=True) if o}),
        }
        if on_honest:
            recall_h, fa_h = rates([u for u, _ in on_honest], [f for _, f in on_honest])
            figures |= {"honest_recall": round(recall_h, 4), "honest_false_alarm_rate": round(fa_h, 4)}
        grid[f"C={c:g}"] = figures
        score = float(figures.get("honest_false_alarm_rate", fa))
        if best is None or score < best[0]:
            best = (score, figures)
    assert best is not None
    return {**best[1], "grid": grid}


def line_models(data: Prepared, idx: Sequence[int]) -> dict[str, Any]:
    """One n-gram model per emergency line, on the urgent texts whose suite labels their lines."""
    from sklearn.linear_model import LogisticRegression

    with_lines = [i for i in idx if data.examples[i].urgent and data.examples[i].lines]
    texts = [data.texts[i] for i in with_lines]
    models: dict[str, Any] = {}
    for line in LINES:
        labels = [line in data.examples[i].lines for i in with_lines]
        if len(set(labels)) < 2:
            continue  # a line no text needs gets no model
        vectorizer = _vectorizer(LINE_MAX_FEATURES)
        x = vectorizer.fit_transform(texts)
        regression = LogisticRegression(C=LINE_C, class_weight="balanced", max_iter=5000).fit(x, labels)
        models[line] = {
            "intercept": round(float(regression.intercept_[0]), 5),
            "ngrams": _ngram_table(vectorizer, regression.coef_[0]),
        }
    return models


def train(
    data: Prepared,
    idx: Sequence[int] | None = None,
    *,
    c_grid: Sequence[float] = C_GRID,
    target: float = RECALL_TARGET,
) -> dict[str, Any]:
    """Choose C and the threshold leaving writers out, fit on all of ``idx``, return the artefact."""
    use = list(range(len(data.examples))) if idx is None else list(idx)
    chosen = choose(data, use, c_grid, target)
    fitted = Arbiter(data).fit(use, chosen["C"])
    examples = [data.examples[i] for i in use]
    sources = sorted({e.source for e in examples})
    return {
        "version": f"urgency-{fingerprint(examples)}",
        "kind": "arbiter: char n-grams (+ signals), bars by rule hit and frame",
        "params": {
            "C": chosen["C"],
            "ngram_range": [NGRAM_MIN, NGRAM_MAX],
            "max_features": MAX_FEATURES,
            "recall_target": target,
            "line_C": LINE_C,
            "line_max_features": LINE_MAX_FEATURES,
        },
        "data": {
            "urgent": sum(e.urgent for e in examples),
            "not_urgent": sum(not e.urgent for e in examples),
            "sources": {s: sum(e.source == s for e in examples) for s in sources},
        },
        "choice": chosen,  # leaving each writer out (figures on writers the fit never saw)
        **fitted.weights(chosen["threshold"]),
        "rules_threshold": chosen["rules_threshold"],
        "framed_threshold": chosen["framed_threshold"],
        "lines": line_models(data, use),
    }


def add_feature_options(parser: argparse.ArgumentParser) -> None:
    """What the arbiter reads and how its bar moves: shared by train-urgency and eval-urgency."""
    parser.add_argument("--with-signals", action="store_true", help="the rules' signals as features too")
    parser.add_argument("--frame-features", action="store_true", help="the not-now frame as features too")
    parser.add_argument("--no-frame-bar", action="store_true", help="no higher bar for a danger told as not now")


def feature_options(args: argparse.Namespace) -> dict[str, bool]:
    return {
        "with_signals": args.with_signals,
        "frame_features": args.frame_features,
        "frame_bar": not args.no_frame_bar,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline train-urgency", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--leave-out",
        action="append",
        default=[],
        choices=tuple(WRITERS),
        help="train without this writer (repeatable), to measure on it afterwards as unseen text",
    )
    parser.add_argument("--recall-target", type=float, default=RECALL_TARGET)
    add_feature_options(parser)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    writers = {name: paths for name, paths in WRITERS.items() if name not in args.leave_out}
    data = prepare(gather(writers), load_urgency_rules(), **feature_options(args))
    artefact = train(data, target=args.recall_target)
    args.out.write_text(json.dumps(artefact, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    keys = ("version", "threshold", "rules_threshold", "framed_threshold", "params", "data", "choice")
    summary = {k: artefact[k] for k in keys}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0
