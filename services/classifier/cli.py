"""`hotline classify`: JSON lines in (`{"id", "text", "channel"?, "reach"?, "reach_per_hour"?, "repeat_count"?,
"township"?, "is_accusation"?}`), JSON lines out with the topic, subtopic, severity (and why), urgency
(紧急诉求: why, which lines), confidence, place, and the routing decision (unit, co_units, matter, reason,
candidates) the router would make. `--bench FILE` measures classification speed against bare jieba
instead, `--bench-rules` the rule passes'."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from hotline.services.classifier.classify import ClassifierParts, Request, classify_and_dispatch, dispatch_view
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import load_severity_rules
from hotline.services.classifier.urgency import load_urgency_rules
from hotline.shared.catalogue import Catalogue, packaged
from hotline.shared.clock import ScaledClock

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


def request_of(item: dict[str, Any]) -> Request:
    township = item.get("township")
    accused = item.get("accused_unit")
    reach = item.get("reach")
    return Request(
        text=item["text"],
        channel=str(item.get("channel") or "hotline"),
        reach=reach if isinstance(reach, int) else None,
        township=township if isinstance(township, str) and township.strip() else None,
        is_accusation=bool(item.get("is_accusation")),
        accused_unit=accused if isinstance(accused, str) and accused.strip() else None,
        repeat_count=int(item.get("repeat_count") or 0),
        reach_per_hour=float(item["reach_per_hour"]) if item.get("reach_per_hour") is not None else None,
    )


def classify_stream(source: TextIO, sink: TextIO, model: TopicModel, catalogue: Catalogue | None = None) -> int:
    """Classify and route each line exactly as the pipeline would (classifier, then router's decision)."""
    parts = ClassifierParts(model, load_severity_rules(), catalogue or packaged(), urgency_rules=load_urgency_rules())
    clock = ScaledClock()
    count = 0
    for chunk in _chunks(source):
        results = classify_and_dispatch([request_of(item) for item in chunk], parts, clock=clock)
        for item, (case, dispatch) in zip(chunk, results, strict=True):
            out = {
                "id": item.get("id"),
                "topic": case.topic,
                "subtopic": case.subtopic,
                "severity": case.severity.value,
                "severity_reasons": case.severity_reasons,
                "urgent": case.urgent,
                "urgent_reasons": case.urgent_reasons,
                "urgent_lines": [line.value for line in case.urgent_lines],
                "confidence": case.confidence,
                "needs_review": case.needs_review,
                "place": {"township": case.township, "village": case.village},
                "model_version": model.version,
                "routing_version": parts.catalogue.version,
                **dispatch_view(dispatch),
            }
            sink.write(json.dumps(out, ensure_ascii=False) + "\n")
            count += 1
    return count


def catalogue_in(database_url: str) -> Catalogue:
    """The 派单目录 version in force in a database (what the router of that system uses)."""
    import asyncio

    from hotline.shared.catalogue import current
    from hotline.shared.db import create_engine, session_factory

    async def read() -> Catalogue:
        engine = create_engine(database_url, writes=False)
        try:
            async with session_factory(engine)() as session:
                return await current(session)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline classify", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="artefact directory (default: the packaged model)")
    parser.add_argument("--bench", type=Path, default=None, metavar="FILE", help="measure speed against jieba.lcut")
    parser.add_argument(
        "--bench-rules", action="store_true", help="time urgency + severity + place on 2,000 and 20,000-character texts"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="route with the 派单目录 version in force in this database, as the running router does "
        "(default: the catalogue shipped with the system)",
    )
    args = parser.parse_args(argv)
    if args.bench_rules:
        from hotline.services.classifier.rules_bench import main as rules_bench_main

        return rules_bench_main()
    if args.bench is not None:
        from hotline.services.classifier.bench import main as bench_main

        return bench_main([str(args.bench)] + (["--model", str(args.model)] if args.model else []))
    catalogue = catalogue_in(args.database_url) if args.database_url else None
    classify_stream(sys.stdin, sys.stdout, _load_model(args.model), catalogue)
    return 0
