"""The `hotline` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from hotline.bench_stats import Shape


def _up(args: argparse.Namespace) -> int:
    import signal

    from hotline.supervisor import Supervisor

    def request_stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM stops as cleanly as Ctrl-C, also while the system is still starting.
    signal.signal(signal.SIGTERM, request_stop)
    if args.time_scale is not None:
        os.environ["HOTLINE_TIME_SCALE"] = str(args.time_scale)
    supervisor = Supervisor(data_dir=Path(args.data_dir), http_port=args.port, metrics=True)
    try:
        supervisor.start()
        health = supervisor.wait_healthy(timeout_s=args.wait)
    except KeyboardInterrupt:
        supervisor.stop()
        return 0
    except Exception as exc:
        supervisor.stop()
        print(f"启动失败：{exc}", file=sys.stderr)
        return 1
    print(f"系统已就绪（{health.get('message')}）")
    print(f"  控制台      {supervisor.url}/")
    print(f"  API 文档    {supervisor.url}/api/docs")
    print(f"  实时事件流  {supervisor.url}/api/v1/feed")
    print(f"  日志目录    {supervisor.logs}")
    print(f"  监控指标    {supervisor.url}/metrics (intake)")
    for name, port in supervisor.metrics_ports.items():
        print(f"              http://127.0.0.1:{port}/metrics ({name}，健康检查 /health)")
    print("按 Ctrl-C 停止。", flush=True)
    supervisor.run_forever()
    return 0


def _database_url(data_dir: str, *, must_exist: bool = True) -> str:
    from hotline.shared.settings import Settings

    url = Settings(HOTLINE_DATA_DIR=data_dir).resolved_database_url()
    _, _, path = url.partition(":///")
    if must_exist and url.startswith("sqlite") and not Path(path).exists():
        raise LookupError(f"找不到系统数据库 {path}：请在运行 `hotline up` 的目录中执行，或用 --data-dir 指定数据目录")
    return url


def _demo(args: argparse.Namespace) -> int:
    from hotline.demo import run_demo
    from hotline.services.intake.accounts import ADMIN_USERNAME, token_for

    token = args.token or os.environ.get("HOTLINE_TOKEN")
    if not token:
        try:
            token = token_for(_database_url(args.data_dir), ADMIN_USERNAME)
        except Exception as exc:
            print(f"无法取得令牌：{explain(exc)}；也可用 --token 指定", file=sys.stderr)
            return 1
    return run_demo(args.url, token=token, wait_s=args.wait)


def _local_token(data_dir: str) -> str:
    from hotline.services.intake.accounts import ADMIN_USERNAME, token_for

    return os.environ.get("HOTLINE_TOKEN") or token_for(_database_url(data_dir), ADMIN_USERNAME)


def _report(args: argparse.Namespace) -> int:
    import httpx

    params = {"from": args.start, "to": args.end, "format": args.format}
    try:
        token = _local_token(args.data_dir)
    except Exception as exc:
        print(f"无法取得令牌：{explain(exc)}；也可设置 HOTLINE_TOKEN", file=sys.stderr)
        return 1
    response = httpx.get(
        f"{args.url}/api/v1/reports/period",
        params={k: v for k, v in params.items() if v},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    if response.status_code != 200:
        print(f"报告生成失败：{response.status_code} {response.text}", file=sys.stderr)
        return 1
    if args.format == "md" and not args.output:
        sys.stdout.write(response.text)
        return 0
    output = Path(args.output or f"report_{args.start or 'all'}_{args.end or 'now'}.{args.format}")
    output.write_bytes(response.content)
    print(f"已写入 {output}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from hotline.services.intake.accounts import token_for

    try:
        print(token_for(_database_url(args.data_dir), args.user))
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.mode == "http":
        from hotline.bench_http import run_http_bench

        return run_http_bench(
            rate=args.rate,
            seconds=args.seconds,
            burst=args.burst,
            db=args.db,
            stored=args.stored,
            replicas=args.replicas,
        )
    if args.mode == "stats":
        from hotline.bench_stats import run_stats_bench

        return run_stats_bench(cases=args.n, db=args.db, shape=_shape(args), repeat=args.repeat, check=args.check)
    if args.mode == "repeat":
        from hotline.bench_repeat import run_repeat_bench

        return run_repeat_bench(texts_file=args.texts, candidates=args.candidates, calls=args.n)
    if args.mode == "feed":
        from hotline.bench_feed import run_feed_bench

        return run_feed_bench(cases=args.n, db=args.db, batch=args.batch, rounds=args.rounds)
    from hotline.bench import run_bench

    return run_bench(n=args.n, replicas=args.replicas, texts_file=args.texts)


def _bench_escalation(args: argparse.Namespace) -> int:
    from hotline.bench_escalation import run_escalation_bench

    return run_escalation_bench(open_cases=args.open, due=args.due, db=args.db, database_url=args.database_url)


def _bench_stats(args: argparse.Namespace) -> int:
    from hotline.bench_stats import run_stats_bench

    return run_stats_bench(
        cases=args.cases, database_url=args.database_url, shape=_shape(args), repeat=args.repeat, check=args.check
    )


def _shape(args: argparse.Namespace) -> Shape:
    from hotline.bench_stats import Shape

    return Shape(per_day=args.per_day, recent=args.recent_open, stuck=args.stuck_open)


def _train(argv: list[str]) -> int:
    if "--from-cases" in argv:
        from hotline.services.classifier.train_cases import main as from_cases

        return from_cases(argv, database_url=_database_url)
    from hotline.services.classifier.train import main

    return main(argv)


def _classify(argv: list[str]) -> int:
    from hotline.services.classifier.cli import main

    return main(argv)


def _eval_urgency(argv: list[str]) -> int:
    from hotline.services.classifier.urgency_eval import main

    return main(argv)


def _train_urgency(argv: list[str]) -> int:
    from hotline.services.classifier.urgency_train import main

    return main(argv)


def _rollups(args: argparse.Namespace) -> int:
    from hotline.shared.recount import described, rebuild_database

    try:
        url = args.database_url or _database_url(args.data_dir)
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(described(asyncio.run(rebuild_database(url))))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from hotline.shared.migrate import upgrade

    url = _database_url(args.data_dir, must_exist=False)
    upgrade(url)
    print(f"数据库已迁移到最新版本：{url}")
    return 0


def _chaos(args: argparse.Namespace) -> int:
    from hotline.chaos import FAULTS
    from hotline.chaos import main as chaos_main

    return chaos_main(long=args.long, postgres_url=args.postgres_url, faults=tuple(args.fault or FAULTS))


def _soak(args: argparse.Namespace) -> int:
    from hotline.soak import main as soak_main

    return soak_main(
        rate=args.rate,
        minutes=args.minutes,
        warmup_minutes=args.warmup_minutes,
        postgres_url=args.postgres_url,
        sample_minutes=args.sample_minutes,
        keep=args.keep,
    )


def _init(args: argparse.Namespace) -> int:
    from hotline.provision import provision
    from hotline.shared.settings import Settings
    from hotline.supervisor import _redact

    done = provision(Settings(), admin_password=os.environ.get("HOTLINE_ADMIN_PASSWORD"))
    print(f"数据库已迁移到最新版本：{_redact(done.database_url)}")
    if done.admin_password:
        print(f"已创建管理员账号 admin，初始密码：{done.admin_password}（只显示这一次，请妥善保存）")
    print(f"JetStream 流已就绪（副本数 {done.streams_replicas}）")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"参数错误：{message}（用 `{self.prog} --help` 查看用法）\n")


def explain(exc: BaseException) -> str:
    """One Chinese line (with a hint) for a command that failed: never a traceback."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, OperationalError | ProgrammingError) and (
        "no such table" in text or "does not exist" in text or "unable to open" in text
    ):
        return "找不到系统数据库（或尚未初始化）：请在运行 `hotline up` 的目录中执行，或用 --data-dir 指定数据目录"
    if isinstance(exc, OperationalError):
        return f"数据库不可用：{text}（检查 DATABASE_URL 或 --data-dir）"
    if type(exc).__module__.startswith(("httpx", "httpcore")) or (
        isinstance(exc, ConnectionError | OSError) and not isinstance(exc, FileNotFoundError)
    ):
        return f"连接失败：{text}（系统是否已用 `hotline up` 启动？）"
    if isinstance(exc, FileNotFoundError):
        return f"找不到文件：{exc.filename or text}"
    if isinstance(exc, LookupError | ValueError):
        return f"{text}"
    return f"执行失败：{type(exc).__name__}: {text}（设置 HOTLINE_DEBUG=1 可查看详细信息）"


def _nats_users(args: argparse.Namespace) -> int:
    from hotline.natsauth import write_cluster_files

    for path in write_cluster_files(Path(args.out), args.url):
        print(path)
    return 0


def _stats_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--per-day", type=int, default=2_700, help="stats: cases a day (spread over the years)")
    parser.add_argument("--recent-open", type=float, default=0.1, help="stats: unanswered share, last 30 days")
    parser.add_argument("--stuck-open", type=float, default=0.001, help="stats: unanswered share, older cases")
    parser.add_argument("--repeat", type=int, default=20, help="stats: timings per query (p50/p99)")
    parser.add_argument("--check", action="store_true", help="stats: also count from every case; same figures?")


def main(argv: list[str] | None = None) -> int:
    try:
        return _dispatch(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("HOTLINE_DEBUG"):
            raise
        print(explain(exc), file=sys.stderr)
        return 1


def _dispatch(argv: list[str]) -> int:
    # `train`, `classify`, `eval-urgency`, `train-urgency`, `train-misconduct`, `eval-misconduct`,
    # `train-units`, `eval-units` and `eval-routing` own their arguments.
    if argv and argv[0] == "train":
        return _train(argv[1:])
    if argv and argv[0] == "classify":
        return _classify(argv[1:])
    if argv and argv[0] == "eval-urgency":
        return _eval_urgency(argv[1:])
    if argv and argv[0] == "train-urgency":
        return _train_urgency(argv[1:])
    if argv and argv[0] in ("train-misconduct", "eval-misconduct"):
        from hotline.services.classifier import misconduct_train

        run = misconduct_train.main_train if argv[0] == "train-misconduct" else misconduct_train.main_eval
        return run(argv[1:])
    if argv and argv[0] in ("train-units", "eval-units"):
        from hotline.services.classifier import unit_train

        run = unit_train.main_train if argv[0] == "train-units" else unit_train.main_eval
        return run(argv[1:])
    if argv and argv[0] == "train-matters":
        from hotline.services.classifier.train_matters import main as train_matters

        return train_matters(argv[1:])
    if argv and argv[0] == "eval-routing":
        from hotline.eval_routing import main as eval_routing

        return eval_routing(argv[1:])
    parser = _Parser(prog="hotline", description="热线与舆情响应系统")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start nats-server, the database and every service")
    up.add_argument("--port", type=int, default=8000, help="HTTP port of the API and console (default 8000)")
    up.add_argument("--data-dir", default=".hotline", help="where the database, JetStream store and logs live")
    up.add_argument("--time-scale", type=float, default=None, help="case seconds per real second (3600: 1 s = 1 h)")
    up.add_argument("--wait", type=float, default=90, help="seconds to wait for every service to be healthy")
    up.set_defaults(run=_up)

    demo = commands.add_parser("demo", help="post a realistic mix of calls, petitions and mentions")
    demo.add_argument("--url", default="http://127.0.0.1:8000")
    demo.add_argument("--wait", type=float, default=30, help="seconds to wait for the cases to be routed")
    demo.add_argument("--token", default=None, help="bearer token (default: an admin token from --data-dir)")
    demo.add_argument("--data-dir", default=".hotline")
    demo.set_defaults(run=_demo)

    report = commands.add_parser("report", help="period report (回应社会关切) from a running system")
    report.add_argument("--from", dest="start", default=None, help="first day, YYYY-MM-DD (Beijing time)")
    report.add_argument("--to", dest="end", default=None, help="last day, YYYY-MM-DD (inclusive)")
    report.add_argument("--format", choices=("md", "xlsx", "docx"), default="md")
    report.add_argument("--url", default="http://127.0.0.1:8000")
    report.add_argument("--output", default=None, help="file to write (md goes to stdout by default)")
    report.add_argument("--data-dir", default=".hotline", help="for a local admin token when HOTLINE_TOKEN is unset")
    report.set_defaults(run=_report)

    token = commands.add_parser("token", help="print a bearer token for a user (for scripts)")
    token.add_argument("--user", required=True)
    token.add_argument("--data-dir", default=".hotline")
    token.set_defaults(run=_token)

    bench = commands.add_parser("bench", help="measure throughput against bare baselines in the same run")
    bench.add_argument("--mode", choices=("pipeline", "http", "stats", "feed", "repeat"), default="pipeline")
    bench.add_argument(
        "--n", type=int, default=2000, help="pipeline, feed: number of cases; stats: cases stored; repeat: calls"
    )
    bench.add_argument(
        "--texts", type=Path, default=None, help="pipeline, repeat: CSV or JSON lines with a text column"
    )
    bench.add_argument("--candidates", type=int, default=500, help="repeat: open cases of the township")
    bench.add_argument("--rate", type=float, default=100.0, help="http: calls per second offered (open loop)")
    bench.add_argument("--seconds", type=float, default=10.0, help="http: length of the paced load")
    bench.add_argument("--burst", type=int, default=0, help="http: then this many calls at once")
    bench.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite", help="http, stats, feed: database")
    bench.add_argument("--batch", type=int, default=100, help="feed: events projected per transaction")
    bench.add_argument("--rounds", type=int, default=2, help="feed: runs of each variant, taken in turn")
    bench.add_argument("--stored", type=int, default=0, help="http: cases stored before the measurement")
    bench.add_argument(
        "--replicas", type=int, choices=(1, 2, 3), default=1, help="processes of each pipeline service (same durables)"
    )
    _stats_options(bench)
    bench.set_defaults(run=_bench)

    bench_esc = commands.add_parser("bench-escalation", help="time one deadline scan among many open clocks")
    bench_esc.add_argument("--open", type=int, default=100_000, help="open clocks in the table")
    bench_esc.add_argument("--due", type=int, default=100, help="how many of them reach a ladder step now")
    bench_esc.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite", help="a fresh database")
    bench_esc.add_argument("--database-url", default=None, help="an empty database to use instead")
    bench_esc.set_defaults(run=_bench_escalation)

    bench_stats = commands.add_parser("bench-stats", help="time the statistics with many cases on file")
    bench_stats.add_argument("--cases", type=int, default=100_000)
    bench_stats.add_argument("--database-url", default=None, help="default: a temporary SQLite database")
    _stats_options(bench_stats)
    bench_stats.set_defaults(run=_bench_stats)

    chaos = commands.add_parser(
        "chaos", help="kill nats-server, cut the database, fill the JetStream store, forge messages; nothing lost?"
    )
    chaos.add_argument("--long", action="store_true", help="300 calls per fault instead of 60")
    chaos.add_argument("--postgres-url", help="PostgreSQL server for the db-outage fault (a scratch database)")
    chaos.add_argument(
        "--fault", action="append", choices=("nats-kill", "db-outage", "store-full", "forged"), help="default: all"
    )
    chaos.set_defaults(run=_chaos)
    soak = commands.add_parser("soak", help="steady calls for a while; RSS of every process at start and end")
    soak.add_argument("--rate", type=float, default=50.0, help="calls a second (default 50)")
    soak.add_argument("--minutes", type=float, default=60.0, help="how long (default 60)")
    soak.add_argument("--warmup-minutes", type=float, default=1.0, help="load before the start sample (default 1)")
    soak.add_argument("--postgres-url", help="PostgreSQL server (a scratch database); default SQLite")
    soak.add_argument("--sample-minutes", type=int, default=10, help="print every process's RSS this often (0: never)")
    soak.add_argument(
        "--keep", type=Path, metavar="DIR", help="run in DIR and keep its database and logs (default: a temporary one)"
    )
    soak.set_defaults(run=_soak)
    commands.add_parser("train", help="train the topic model (see `hotline train --help`)")
    commands.add_parser("classify", help="classify JSON lines from stdin (see `hotline classify --help`)")
    commands.add_parser("train-urgency", help="rebuild the learned 紧急诉求 model (see `hotline train-urgency --help`)")
    commands.add_parser("eval-urgency", help="紧急诉求 rules on the labelled suite (see `hotline eval-urgency --help`)")
    commands.add_parser("train-matters", help="train the learned matter model (see `hotline train-matters --help`)")
    commands.add_parser(
        "train-misconduct", help="rebuild the learned misconduct reading (see `hotline train-misconduct --help`)"
    )
    commands.add_parser(
        "eval-misconduct", help="the misconduct reading, leaving each writer out (`--leave-one-writer-out`)"
    )
    commands.add_parser(
        "train-units", help="rebuild the learned reading of who leads (see `hotline train-units --help`)"
    )
    commands.add_parser(
        "eval-units", help="the reading of who leads, leaving each writer out (`--leave-one-writer-out`)"
    )
    commands.add_parser("eval-routing", help="routing accuracy on the labelled suites (`--half dev|test|heldout`)")

    rollups = commands.add_parser(
        "rollups", help="the statistics' and 派单准确率's rollups (`rebuild`: recount them from the cases and tasks)"
    )
    rollups.add_argument("action", choices=("rebuild",))
    rollups.add_argument("--data-dir", default=".hotline")
    rollups.add_argument("--database-url", default=None, help="default: the system database of --data-dir")
    rollups.set_defaults(run=_rollups)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--data-dir", default=".hotline")
    migrate.set_defaults(run=_migrate)

    nats_users = commands.add_parser(
        "nats-users", help="NATS users and passwords for a cluster: nats-users.conf and nats-<user>.env files"
    )
    nats_users.add_argument("--out", default="nats-users", help="folder for the files (created; 0600)")
    nats_users.add_argument("--url", required=True, help="the cluster's NATS_URL, comma-separated nodes")
    nats_users.set_defaults(run=_nats_users)

    contract = commands.add_parser("asyncapi", help="print the AsyncAPI document of the NATS subjects and events")
    contract.set_defaults(run=_asyncapi)

    init = commands.add_parser(
        "init", help="migrate the database, create the first admin, declare the streams (multi-host set-up)"
    )
    init.set_defaults(run=_init)

    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def _asyncapi(_: argparse.Namespace) -> int:
    from hotline.shared.asyncapi import document

    print(json.dumps(document(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
