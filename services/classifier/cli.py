"""`hotline classify`: JSON lines in (`{"id", "text", "channel"?, "reach"?}`), JSON lines out with the
topic, subtopic, severity (and why), confidence and place. `--bench FILE` measures speed instead."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import assess_severity, load_severity_rules
from hotline.shared.domain.county import load_county
from hotline.shared.domain.places import extract_place

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
    rules, county = load_severity_rules(), load_county()
    count = 0
    for chunk in _chunks(source):
        predictions = model.predict([item["text"] for item in chunk])
        for item, prediction in zip(chunk, predictions, strict=True):
            severity = assess_severity(
                item["text"], channel=str(item.get("channel", "hotline")), reach=item.get("reach"), rules=rules
            )
            place = extract_place(item["text"], county)
            out = {
                "id": item.get("id"),
                "topic": prediction.topic,
                "subtopic": prediction.subtopic,
                "severity": severity.level,
                "severity_reasons": severity.reasons,
                "confidence": round(prediction.confidence, 4),
                "needs_review": prediction.needs_review,
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
    args = parser.parse_args(argv)
    if args.bench is not None:
        from hotline.services.classifier.bench import main as bench_main

        return bench_main([str(args.bench)] + (["--model", str(args.model)] if args.model else []))
    classify_stream(sys.stdin, sys.stdout, _load_model(args.model))
    return 0
