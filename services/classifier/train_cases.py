"""`hotline train --from-cases`: learn from the county's own routing decisions, switch only if no worse.

The labelled examples people left in ``routing_examples`` (人工分拣 decisions, 改派, 改派 after a 退回;
the latest decision per case counts) are added to the matter model's base training texts. An example
names a unit, the model learns matters: each example is labelled with the matter of that unit (a matter
it leads, or a 属地 matter where the unit is a township) that the model in force finds likeliest for the
text. The reading of who leads is retrained too, on its base examples plus the decisions (a unit is its
label). The candidates are evaluated beside the models in force on the routing suite's development
half and on the labelled topic file (``messages_eval.csv``), and their artefacts replace the ones the
classifier loads only when neither figure gets worse (:func:`switch_decision`); the running classifier sees the new
version and switches without a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from hotline.services.classifier import artefact, matter_model, unit_model, unit_train
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.train_matters import DEFAULT_DATA, read_labelled, train
from hotline.services.classifier.unit_model import load_unit_model
from hotline.shared.catalogue import Catalogue, current
from hotline.shared.db import RoutingExampleRow, create_engine, session_factory
from hotline.shared.domain.county import TOWNSHIP, County
from hotline.shared.domain.matters import MatterCatalogue

NO_EXAMPLES = "没有可用的标注样本：routing_examples 中尚无人工分拣、改派或退回改派记录（或都未指定承办单位）"


@dataclass(frozen=True, slots=True)
class Example:
    case_id: str
    text: str
    unit_code: str | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class Figures:
    """What the switch is decided on: the dev half's right and wrong shares and the topic macro-F1."""

    right: float
    wrong: float
    person: float
    topic_f1: float


def latest_per_case(examples: Iterable[Example]) -> list[Example]:
    """The last decision on each case (a 人工分拣 later corrected by a 改派 counts as the 改派)."""
    last: dict[str, Example] = {}
    for ex in sorted(examples, key=lambda e: e.decided_at):
        last[ex.case_id] = ex
    return list(last.values())


def unit_matters(unit_code: str, matters: MatterCatalogue, county: County) -> list[str]:
    """Codes of the matters ``unit_code`` may lead: its own, and the 属地 ones where it is a township."""
    unit = county.units.get(unit_code)
    is_township = unit is not None and unit.kind == TOWNSHIP
    return [m.code for m in matters.matters if m.lead == unit_code or (is_township and m.township == "lead")]


def label_examples(
    examples: Sequence[Example],
    matters: MatterCatalogue,
    county: County,
    likelihood: Callable[[str], dict[str, float]],
) -> tuple[list[tuple[str, str]], Counter[str]]:
    """(matter code, text) rows for the examples that name a unit, and why the others were left out.

    ``likelihood`` gives the model in force's probability per matter code for a text; the example gets
    the likeliest matter its unit may lead (the first of them where the model knows none)."""
    rows: list[tuple[str, str]] = []
    skipped: Counter[str] = Counter()
    for ex in examples:
        if not ex.unit_code:
            skipped["只选了主题，未指定单位"] += 1
            continue
        if not ex.text.strip():
            skipped["无诉求内容"] += 1
            continue
        codes = unit_matters(ex.unit_code, matters, county)
        if not codes:
            skipped[f"单位 {ex.unit_code} 在事项目录中没有主办事项"] += 1
            continue
        probs = likelihood(ex.text)
        rows.append((max(codes, key=lambda c: probs.get(c, 0.0)), ex.text))
    return rows, skipped


def switch_decision(current_: Figures, candidate: Figures) -> tuple[bool, list[str]]:
    """Switch only if neither the routing dev half nor the topic macro-F1 gets worse (pure).

    Returns the decision and the reasons against it (empty when switching)."""
    against = []
    if candidate.right < current_.right:
        against.append(f"开发集派单正确率下降：{current_.right:.1%} → {candidate.right:.1%}")
    if candidate.wrong > current_.wrong:
        against.append(f"开发集派错率上升：{current_.wrong:.1%} → {candidate.wrong:.1%}")
    if candidate.topic_f1 < current_.topic_f1:
        against.append(f"主题 macro-F1 下降：{current_.topic_f1:.4f} → {candidate.topic_f1:.4f}")
    return not against, against


def format_change(current_: Figures, candidate: Figures) -> list[str]:
    def line(name: str, a: float, b: float, pct: bool = True) -> str:
        fa, fb, fd = (f"{a:.1%}", f"{b:.1%}", f"{b - a:+.1%}") if pct else (f"{a:.4f}", f"{b:.4f}", f"{b - a:+.4f}")
        return f"  {name:<14}{fa:>9} → {fb:>9}  ({fd})"

    return [
        line("开发集 派对单位", current_.right, candidate.right),
        line("开发集 派错单位", current_.wrong, candidate.wrong),
        line("开发集 转人工", current_.person, candidate.person),
        line("主题 macro-F1", current_.topic_f1, candidate.topic_f1, pct=False),
    ]


# --------------------------------------------------------------------------------------------- running


async def read_examples(database_url: str) -> tuple[list[Example], Catalogue]:
    engine = create_engine(database_url, writes=False)
    try:
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(RoutingExampleRow))).scalars().all()
            catalogue = await current(session)
    finally:
        await engine.dispose()
    examples = [Example(str(r.case_id), r.text, r.unit_code, r.decided_at) for r in rows]
    return examples, catalogue


def measure(model_dir: Path, catalogue: Catalogue, suite: Path, topics: Path) -> Figures:
    from hotline.eval_routing import load_suite, route_suite, score_routing, topic_macro_f1

    model = TopicModel.load(model_dir)
    cases = load_suite(suite)
    tally = score_routing(cases, route_suite(cases, model=model, catalogue=catalogue)).overall
    f1 = topic_macro_f1(topics, model=model, catalogue=catalogue)["classified_macro_f1"]
    return Figures(tally.share(tally.right), tally.share(tally.wrong), tally.share(tally.person), float(f1))


def model_likelihood(model_dir: Path) -> Callable[[str], dict[str, float]]:
    model = TopicModel.load(model_dir)
    if model.matters is None:
        return lambda _text: {}
    learned = model.matters

    def likelihood(text: str) -> dict[str, float]:
        probs = learned.probabilities(model.tokenize([text]))[0]
        return {code: float(probs[i]) for i, code in enumerate(learned.codes)}

    return likelihood


def train_units(
    out_dir: Path, model_dir: Path, decided: Sequence[Example], base: Sequence[unit_train.Example] | None
) -> tuple[str, str]:
    """A candidate reading of who leads in ``out_dir``: the base examples (every labelled routing suite
    and the matter texts, unless given) plus the county's decisions, with the threshold of the reading in
    force. Returns the versions in force and of the candidate."""
    in_force = load_unit_model(model_dir / unit_model.NPZ_NAME) or load_unit_model()
    county = [unit_train.Example(e.text, unit_train.as_label(e.unit_code), "county") for e in decided if e.unit_code]
    examples = [*(unit_train.gather() if base is None else base), *county]
    candidate = unit_train.fit(examples, threshold=in_force.threshold if in_force is not None else 1.0)
    meta = {"data": {"base": len(examples) - len(county), "county_decisions": len(county)}}
    unit_model.save_unit_model(out_dir / unit_model.NPZ_NAME, candidate, meta)
    return (in_force.version if in_force is not None else "（无）"), candidate.version


def install(candidate_dir: Path, out_dir: Path, source_dir: Path) -> None:
    """Write the candidate's artefacts where the classifier loads them (the matter model's json, which
    names the version the classifier watches, last); a new directory gets the topic model in force too."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not (out_dir / artefact.META_NAME).exists():
        for name in (artefact.NPZ_NAME, artefact.META_NAME):
            shutil.copy2(source_dir / name, out_dir / name)
    for name in (unit_model.NPZ_NAME, matter_model.NPZ_NAME, matter_model.META_NAME):
        tmp = out_dir / f".{name}.new"
        shutil.copy2(candidate_dir / name, tmp)
        tmp.replace(out_dir / name)


def run(
    database_url: str,
    *,
    model_dir: Path,
    out_dir: Path,
    base: Path,
    suite: Path,
    topics: Path,
    folds: int = 5,
    dry_run: bool = False,
    unit_base: Sequence[unit_train.Example] | None = None,
) -> tuple[bool, list[str]]:
    """Train, compare and maybe switch; returns (switched, report lines). LookupError: no examples."""
    examples, catalogue = asyncio.run(read_examples(database_url))
    if not examples:
        raise LookupError(NO_EXAMPLES)
    decided = latest_per_case(examples)
    rows, skipped = label_examples(decided, catalogue.matters, catalogue.county, model_likelihood(model_dir))
    if not rows:
        raise LookupError(NO_EXAMPLES)
    for path, what in ((suite, "派单评测集"), (topics, "主题评测文件（--topics）"), (base, "事项训练数据")):
        if not path.exists():
            raise LookupError(f"找不到{what} {path}")
    report = [
        f"标注样本 {len(examples)} 条（{len(decided)} 件诉求，每件取最后一次决定），用于训练 {len(rows)} 条",
        *(f"  未用 {n} 条：{why}" for why, n in sorted(skipped.items())),
        f"事项分布（前 10）：{'、'.join(f'{c} {n}' for c, n in Counter(c for c, _ in rows).most_common(10))}",
    ]
    old_meta = matter_model.load_optional(model_dir)
    with tempfile.TemporaryDirectory(prefix="hotline-candidate-") as tmp:
        cand_dir = Path(tmp)
        for name in (artefact.NPZ_NAME, artefact.META_NAME):
            shutil.copy2(model_dir / name, cand_dir / name)
        _, meta = train(
            base, catalogue=catalogue.matters, out_dir=cand_dir, folds=folds, labelled=read_labelled(base) + rows
        )
        units_in_force, units_candidate = train_units(cand_dir, model_dir, decided, unit_base)
        before = measure(model_dir, catalogue, suite, topics)
        after = measure(cand_dir, catalogue, suite, topics)
        switch, against = switch_decision(before, after)
        old_version = old_meta.version if old_meta is not None else "（无）"
        report += [
            f"事项模型：在用 {old_version}，候选 {meta['version']}",
            f"主办单位模型：在用 {units_in_force}，候选 {units_candidate}",
            f"对比（开发集 {suite.name}，主题 {topics.name}）：",
            *format_change(before, after),
        ]
        if not switch:
            report += ["未切换：", *(f"  {why}" for why in against)]
        elif dry_run:
            report.append("未切换（--dry-run）：各项均未变差，可去掉 --dry-run 切换")
        else:
            install(cand_dir, out_dir, model_dir)
            report.append(f"已切换到 {meta['version']}（写入 {out_dir}，运行中的分类服务将自动加载）")
    return switch and not dry_run, report


def main(argv: list[str] | None = None, *, database_url: Callable[[str], str] | None = None) -> int:
    """``database_url`` turns ``--data-dir`` into the database URL (the CLI's, honouring DATABASE_URL)."""
    from hotline.eval_routing import TOPIC_EVAL, suite_file
    from hotline.shared.settings import Settings

    parser = argparse.ArgumentParser(prog="hotline train --from-cases", description=__doc__.splitlines()[0])
    parser.add_argument("--from-cases", action="store_true", required=True)
    parser.add_argument("--data-dir", default=".hotline", help="where the database lives (as for `hotline up`)")
    parser.add_argument("--model-dir", type=Path, default=None, help="model in force (default: HOTLINE_MODEL_DIR)")
    parser.add_argument("--out", type=Path, default=None, help="where to switch (default: the model in force)")
    parser.add_argument("--base", type=Path, default=DEFAULT_DATA, help="base matter training texts")
    parser.add_argument("--suite", type=Path, default=suite_file("dev"), help="routing development half")
    parser.add_argument("--topics", type=Path, default=TOPIC_EVAL, help="labelled topic file (messages_eval.csv)")
    parser.add_argument("--dry-run", action="store_true", help="train and compare, never switch")
    args = parser.parse_args(argv)
    settings = Settings(HOTLINE_DATA_DIR=args.data_dir)
    model_dir = args.model_dir or settings.model_dir or artefact.ARTIFACTS_DIR
    try:
        url = database_url(args.data_dir) if database_url else settings.resolved_database_url()
        _, report = run(
            url,
            model_dir=model_dir,
            out_dir=args.out or model_dir,
            base=args.base,
            suite=args.suite,
            topics=args.topics,
            dry_run=args.dry_run,
        )
    except LookupError as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 1
    print("\n".join(report))
    return 0
