"""`hotline eval-urgency --leave-one-writer-out`: the figure that predicts unseen writers.

Every labelled suite in the repository is one writer's work (:data:`urgency_train.WRITERS`). For each
writer in turn the arbiter is trained on all the others (its C and threshold chosen, leaving writers
out again, among those others only) and judged on the held-out writer's texts through the same
:func:`urgency_judge.judge_urgency` the service runs. A last row measures false alarms on the ordinary
messages of ``messages_train.csv`` (which never train the arbiter), judged by the arbiter trained on
every writer.

Caveat printed with the table: the rules in ``urgency_rules.toml`` were written against writers 1–3
and the phrasings; the rules' figures are therefore flattering on those writers, and honest only on
writers the rules never read (writers 4 to 7).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hotline.services.classifier.urgency import UrgencyRules
from hotline.services.classifier.urgency_eval import Tally, evaluate, read_suite
from hotline.services.classifier.urgency_judge import judge_urgency
from hotline.services.classifier.urgency_model import parse_urgency_model
from hotline.services.classifier.urgency_train import WRITER_IDS, WRITERS, Example, Prepared, train


@dataclass(frozen=True, slots=True)
class HeldOut:
    writer: str
    arbiter: Tally  # the guards and the arbiter trained without this writer
    rules: Tally  # the rules alone (as shipped)
    threshold: float
    rules_threshold: float
    framed_threshold: float | None
    c: float


def held_out_writer(data: Prepared, rules: UrgencyRules, writer: str, *, target: float) -> HeldOut:
    train_idx = [i for i, e in enumerate(data.examples) if e.source != writer]
    artefact = train(data, train_idx, target=target)
    own = WRITER_IDS.get(writer, "")
    cases = [c for p in WRITERS[writer] if p.exists() for c in read_suite(p) if c.id.startswith(own)]
    model = parse_urgency_model(artefact)
    return HeldOut(
        writer,
        evaluate(cases, rules, model).overall,
        evaluate(cases, rules, None).overall,
        float(artefact["threshold"]),
        float(artefact["rules_threshold"]),
        artefact["framed_threshold"],
        float(artefact["params"]["C"]),
    )


def background_false_alarms(
    data: Prepared, rules: UrgencyRules, background: Sequence[Example], *, target: float
) -> tuple[int, int, int]:
    """(texts, false alarms of guards + arbiter, false alarms of the rules alone) on ordinary
    messages, judged by the arbiter trained on every writer (the background never trains it)."""
    model = parse_urgency_model(train(data, target=target))
    flagged = sum(judge_urgency(e.text, rules, model).urgent for e in background)
    by_rules = sum(judge_urgency(e.text, rules, None).urgent for e in background)
    return len(background), flagged, by_rules


def _choice(row: HeldOut) -> str:
    framed = "—" if row.framed_threshold is None else f"{row.framed_threshold:.2f}"
    return f"{row.c:g} / {row.threshold:.2f} / {row.rules_threshold:.2f} / {framed}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def table(rows: Sequence[HeldOut], background: tuple[int, int, int] | None) -> list[str]:
    """A Markdown table (the README's), one row per held-out writer, pooled, and the background."""
    out = [
        "| held-out writer | emergencies | recall | non-emergencies | false alarms | lines exactly right "
        "| lines include the right ones | rules alone: recall / false alarms | C / t / t rule hit / t framed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    pooled, pooled_rules = Tally(), Tally()
    for row in rows:
        for total, part in ((pooled, row.arbiter), (pooled_rules, row.rules)):
            for name in ("urgent", "found", "calm", "false_alarms", "lines_exact", "lines_cover", "lines_labelled"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
    for name, t, r, choice in [
        *((row.writer, row.arbiter, row.rules, _choice(row)) for row in rows),
        ("all writers, pooled", pooled, pooled_rules, ""),
    ]:
        f, fr = t.figures(), r.figures()
        out.append(
            f"| {name} | {t.urgent} | {_pct(f['recall'])} | {t.calm} | {_pct(f['false_alarm_rate'])} "
            f"| {_pct(f['line_accuracy'])} | {_pct(f['lines_cover'])} "
            f"| {_pct(fr['recall'])} / {_pct(fr['false_alarm_rate'])} | {choice} |"
        )
    if background is not None:
        n, flagged, by_rules = background
        out.append(
            f"| ordinary messages (never trained on) | — | — | {n} | {_pct(flagged / n if n else None)} "
            f"| — | — | — / {_pct(by_rules / n if n else None)} | |"
        )
    return out


def leave_one_writer_out(
    data: Prepared, rules: UrgencyRules, background: Sequence[Example] = (), *, target: float
) -> dict[str, Any]:
    writers = [w for w in WRITERS if any(e.source == w for e in data.examples)]
    rows = [held_out_writer(data, rules, w, target=target) for w in writers]
    ordinary = background_false_alarms(data, rules, background, target=target) if background else None
    return {
        "rows": rows,
        "background": ordinary,
        "json": {
            row.writer: {
                "arbiter": row.arbiter.figures(),
                "rules": row.rules.figures(),
                "threshold": row.threshold,
                "rules_threshold": row.rules_threshold,
                "framed_threshold": row.framed_threshold,
            }
            for row in rows
        },
    }


def report(result: dict[str, Any]) -> str:
    lines = table(result["rows"], result["background"])
    lines.append(
        "\n规则（urgency_rules.toml）是对着 writer1–3 和 phrasings 写的：这几行的规则信号偏乐观；"
        "只有规则没读过的 writer4 及以后的写作者才算真正没见过的文本。"
    )
    return "\n".join(lines) + "\n" + json.dumps(result["json"], ensure_ascii=False)
