"""Classification metrics and their text table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Per-class precision/recall/F1/support, macro-F1, accuracy and the confusion matrix.

    Predictions outside ``labels`` (e.g. a rule-based class) count as errors and get their own
    confusion-matrix column.
    """
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    extra = sorted({p for p in y_pred if p not in labels})
    cols = [*labels, *extra]
    ci = {c: i for i, c in enumerate(cols)}
    cm = [[0] * len(cols) for _ in labels]
    li = {c: i for i, c in enumerate(labels)}
    for true, pred in zip(y_true, y_pred, strict=True):
        if true in li:
            cm[li[true]][ci[pred]] += 1
    per_class: dict[str, dict[str, float]] = {}
    for i, c in enumerate(labels):
        tp = cm[i][i]
        support = sum(cm[i])
        predicted = sum(row[i] for row in cm)
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per_class[c] = {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "support": support,
        }
    n = sum(sum(row) for row in cm)
    correct = sum(cm[i][i] for i in range(len(labels)))
    macro = sum(v["f1"] for v in per_class.values()) / len(labels) if labels else 0.0
    return {
        "macro_f1": round(macro, 4),
        "accuracy": round(correct / n, 4) if n else 0.0,
        "n": n,
        "per_class": per_class,
        "confusion": {"labels": list(labels), "columns": cols, "matrix": cm},
    }


def _w(s: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def _pad(s: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _w(s))
    return fill + s if right else s + fill


def format_metrics(m: dict[str, Any], title: str = "") -> str:
    """Render :func:`classification_metrics` output as a plain-text table."""
    lines = [title] if title else []
    labels: list[str] = m["confusion"]["labels"]
    cols: list[str] = m["confusion"]["columns"]
    w = max(12, *(_w(c) for c in cols)) + 2
    lines.append(_pad("class", w) + "precision  recall      f1  support")
    for c in labels:
        v = m["per_class"][c]
        lines.append(_pad(c, w) + f"{v['precision']:>9.4f}  {v['recall']:>6.4f}  {v['f1']:>6.4f}  {v['support']:>7d}")
    lines.append(f"macro-F1 {m['macro_f1']:.4f}   accuracy {m['accuracy']:.4f}   n {m['n']}")
    lines.append("")
    lines.append("confusion matrix (rows: true class, columns: predicted)")
    short = [c[:4] for c in cols]
    lines.append(_pad("", w) + "".join(_pad(s, 10, right=True) for s in short))
    for c, row in zip(labels, m["confusion"]["matrix"], strict=True):
        lines.append(_pad(c, w) + "".join(_pad(str(v), 10, right=True) for v in row))
    return "\n".join(lines)
