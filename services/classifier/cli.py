"""`hotline classify`: JSON lines in (`{"id", "text", "channel"?, "reach"?, "repeat_count"?}`), JSON lines
out with the topic, subtopic, severity (and why), urgency (紧急诉求: why, which lines), confidence and
place. `--bench FILE` measures the topic model's speed instead, `--bench-rules` the rule passes'."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from hotline.services.classifier.classify import assess_rules
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import load_severity_rules
from hotline.services.classifier.urgency import load_urgency_rules
from hotline.shared.domain.county import load_county

CHUNK = 2000


def _load_model(path: Path | None) -> TopicModel:
    try:
        return TopicModel.load(path)
    except FileNotFoundError:
        from hotline.services.classifier.train import DEFAULT_DATA, train

        print(f"no model yet: training one from {DEFAULT_DATA}", file=sys.stderr)
        train(DEFAULT_DATA, out_dir=path)
        return TopicModel.load(path)


def _chunks(stream: TextIO) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError("need an object with a string field 'text'")
        except ValueError as exc:
            print(
                json.dumps({"line": number, "error": f"第 {number} 行无效：{exc}"}, ensure_ascii=False), file=sys.stderr
            )
            continue
        chunk.append(item)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def classify_stream(source: TextIO, sink: TextIO, model: TopicModel) -> int:
    rules, urgency_rules, county = load_severity_rules(), load_urgency_rules(), load_county()
    count = 0
    for chunk in _chunks(source):
        predictions = model.predict([item["text"] for item in chunk])
        for item, prediction in zip(chunk, predictions, strict=True):
            assessed = assess_rules(
                item["text"],
                channel=str(item.get("channel", "hotline")),
                severity_rules=rules,
                county=county,
                urgency_rules=urgency_rules,
                reach=item.get("reach"),
                reach_per_hour=item.get("reach_per_hour"),
                repeat_count=int(item.get("repeat_count", 0)),
            )
            place = assessed.place
            out = {
                "id": item.get("id"),
                "topic": prediction.topic,
                "subtopic": prediction.subtopic,
                "severity": assessed.severity.level,
                "severity_reasons": assessed.severity.reasons,
                "urgent": assessed.urgency.urgent,
                "urgent_reasons": assessed.urgency.reasons,
                "urgent_lines": [line.value for line in assessed.urgency.lines],
                "confidence": round(prediction.confidence, 4),
                "needs_review": prediction.needs_review or assessed.over_budget,
                "place": {"township": place.township, "village": place.village},
                "model_version": model.version,
            }
            sink.write(json.dumps(out, ensure_ascii=False) + "\n")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline classify", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="artefact directory (default: the packaged model)")
    parser.add_argument("--bench", type=Path, default=None, metavar="FILE", help="measure speed against jieba.lcut")
    parser.add_argument(
        "--bench-rules", action="store_true", help="time urgency + severity + place on 2,000 and 20,000-character texts"
    )
    args = parser.parse_args(argv)
    if args.bench_rules:
        from hotline.services.classifier.rules_bench import main as rules_bench_main

        return rules_bench_main()
    if args.bench is not None:
        from hotline.services.classifier.bench import main as bench_main

        return bench_main([str(args.bench)] + (["--model", str(args.model)] if args.model else []))
    classify_stream(sys.stdin, sys.stdout, _load_model(args.model))
    return 0
