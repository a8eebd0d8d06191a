"""`hotline demo`: posts a realistic mix of cases and shows where each one went."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

CALLS: list[dict[str, Any]] = [
    {
        "phone": "13859612345",
        "caller_name": "林先生",
        "township": "城厢镇",
        "outcome": "transfer",
        "content": "城厢镇经兜村村道旁的排水沟堵塞了两个多月，一下雨污水就漫到路面上，臭味很大，村民多次反映没人处理，请尽快疏通。",
    },
    {
        "phone": "13905951234",
        "caller_name": "陈女士",
        "outcome": "answered_on_spot",
        "content": "咨询新生儿医保参保怎么办理，需要带哪些材料，可以在网上办吗？",
    },
    {
        "phone": "0595-23281234",
        "outcome": "transfer",
        "content": "湖头镇某工地拖欠我们十几个农民工工资三个月了，包工头电话打不通，春节快到了，请劳动部门帮忙追讨。",
    },
    {
        "phone": "15060712345",
        "caller_name": "王先生",
        "outcome": "transfer",
        "content": "蓬莱镇一家小餐馆昨晚吃完饭后我们一家四口都上吐下泻，怀疑食物中毒，孩子现在还在医院，请市场监管部门调查。",
    },
    {
        "phone": "18950512345",
        "outcome": "answered_on_spot",
        "content": "问一下县城到厦门的城际公交几点有末班车，在哪里坐车。",
    },
    {
        "phone": "13600001234",
        "caller_name": "李先生",
        "outcome": "transfer",
        "content": "我家孩子落户的事情跑了三趟派出所，每次都说材料不全，也不一次性告知需要什么材料，希望能解决户口问题。",
    },
]

PETITIONS: list[dict[str, Any]] = [
    {
        "form": "visit",
        "petitioner_name": "张某某",
        "phone": "13799991234",
        "visitors": 5,
        "content": "官桥镇岭兜村征地补偿款至今没有发放到位，涉及三十多户村民，补偿标准也没有公示，村民代表要求公开补偿明细。",
    },
    {
        "form": "letter",
        "petitioner_name": "黄某",
        "content": "反映县城某小区开发商延期交房一年多，业主多次协商无果，要求住建部门督促开发商尽快交房并按合同赔偿。",
    },
    {
        "form": "web",
        "petitioner_name": "匿名群众",
        "is_accusation": True,
        "accused_unit": "县住建局",
        "content": "检举县住建局某工作人员在办理施工许可时收受好处费，刁难不送礼的企业，请纪检部门调查。",
    },
]

MENTIONS: list[dict[str, Any]] = [
    {
        "url": "https://weibo.example.cn/status/4990001",
        "platform": "weibo",
        "outlet": "微博网友@清溪生活",
        "title": "龙门镇工业区夜间偷排废水，溪里的鱼死了一片",
        "content": "龙门镇工业区有企业夜间偷排废水，下游溪水发黑发臭，死鱼漂了一河，附近村民很担心饮用水安全。",
        "reach": 56000,
    },
    {
        "url": "https://news.example.cn/2026/11/24/school-bus.html",
        "platform": "news",
        "outlet": "海峡都市报",
        "title": "多名学生反映校车超载",
        "content": "有家长反映，西坪镇中心小学接送学生的校车经常超载，一辆车挤了三十多个孩子，存在严重安全隐患。",
        "reach": 180000,
    },
    {
        "url": "https://bbs.example.cn/thread-778899",
        "platform": "forum",
        "outlet": "清溪论坛",
        "content": "县城新开的停车场收费太贵了，第一个小时就要十块，周边也没有别的停车位，希望物价部门管一管。",
        "reach": 3200,
    },
]


def _post_all(client: httpx.Client) -> list[tuple[str, str, str]]:
    now = datetime.now(UTC)
    posted = []
    batches = (("calls", "热线", CALLS), ("petitions", "信访", PETITIONS), ("mentions", "舆情", MENTIONS))
    for path, label, items in batches:
        for item in items:
            body = dict(item)
            if path == "mentions":
                body["published_at"] = (now - timedelta(hours=2)).isoformat()
            response = client.post(f"/api/v1/{path}", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"POST /api/v1/{path} → {response.status_code}: {response.text}")
            created = response.json()
            posted.append((created["id"], label, created["query_code"]))
            print(f"已登记 {label} {created['query_code']}：{item['content'][:28]}…", flush=True)
    return posted


def _settled(case: dict[str, Any]) -> bool:
    """Classified, and either closed on the spot or routed to a unit with its clocks (a petition's
    registration clock starts at receipt, so clocks alone do not mean the case has gone through)."""
    if case.get("topic") is None:
        return False
    return case["status"] == "answered" or (bool(case.get("unit_name")) and bool(case.get("deadlines")))


def run_demo(url: str, *, token: str, wait_s: float = 30.0) -> int:
    with httpx.Client(base_url=url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        try:
            posted = _post_all(client)
        except httpx.HTTPError as exc:
            print(f"无法连接 {url}：{exc}。请先运行 `hotline up`。")
            return 1
        print("\n等待分类、转办与时限……", flush=True)
        deadline = time.monotonic() + wait_s
        pending = {case_id for case_id, _, _ in posted}
        cases: dict[str, dict[str, Any]] = {}
        while pending and time.monotonic() < deadline:
            for case_id in list(pending):
                case = client.get(f"/api/v1/cases/{case_id}").json()
                cases[case_id] = case
                if _settled(case):
                    pending.discard(case_id)
            time.sleep(0.3)
    print()
    for case_id, label, code in posted:
        case = cases.get(case_id, {})
        unit = case.get("unit_name") or ("当场解释，已办结" if case.get("status") == "answered" else "—")
        due = ", ".join(f"{d['label']} 截止 {d['due_at'][:16]}" for d in case.get("deadlines", []))
        topic = "/".join(t for t in (case.get("topic"), case.get("subtopic")) if t) or "—"
        print(f"{label} {code} | {topic} | {case.get('severity') or '—'} | {unit} | {due or '无时限'}")
    if pending:
        print(f"\n{len(pending)} 件未在 {wait_s:.0f} 秒内完成流转，请查看 /api/v1/health 与日志。")
        return 1
    print(f"\n全部 {len(posted)} 件已完成流转。实时事件流：{url}/api/v1/feed  统计：{url}/api/v1/stats")
    return 0
