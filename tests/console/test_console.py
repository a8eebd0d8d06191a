"""The web console in a real headless chromium against the real system: an operator logs a call, the
unit it is routed to signs and answers it from its inbox, and leadership watches the dashboard move live.
Screenshots of the three views: see SCREENSHOTS in browser.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from sqlalchemy import insert

from hotline.shared.db import DispatchRollupRow, create_engine, session_factory, transaction
from hotline.supervisor import Supervisor
from tests.console.browser import Browser, cjk_fonts, missing_tools
from tests.e2e.conftest import SystemFactory, client_for, wait_until
from tests.e2e.test_pipeline import CALL, routed_case

_missing = missing_tools()
if _missing:
    pytest.skip(
        f"!!! BROWSER TESTS SKIPPED: {', '.join(_missing)} not installed (apt-get install chromium chromium-driver "
        "fonts-noto-cjk; scripts/test does it when it may)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.e2e
SHARED_SYSTEM_DATABASES = ("sqlite",)  # one system for the tests that keep to their own cases

PASSWORD = "console-pass-2026"
CONTENT = "城厢镇经兜村村道旁的路灯坏了两个多月，晚上一片漆黑，老人孩子出行很不安全，请尽快维修。"


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert cjk_fonts(), "no CJK font installed (fc-list :lang=zh is empty): screenshots would show boxes"
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


def add_user(admin: httpx.Client, username: str, role: str, unit: str | None = None) -> None:
    response = admin.post(
        "/api/v1/users", json={"username": username, "password": PASSWORD, "role": role, "unit": unit}
    )
    assert response.status_code == 201, response.text


def assert_chinese_rendered(browser: Browser, labels: list[str]) -> None:
    """The page's rendered text holds the view's Chinese labels, and the body font resolves to a CJK one."""
    text = browser.find("body").text
    for label in labels:
        assert label in text, f"{label!r} not rendered"
    family = browser.driver.execute_script("return getComputedStyle(document.body).fontFamily")
    assert "CJK" in family or "YaHei" in family, family


def test_operator_logs_a_call_and_the_unit_signs_and_answers_it(shared_system: Supervisor, browser: Browser) -> None:
    system = shared_system
    with client_for(system) as admin:
        add_user(admin, "op-chen", "operator")

    # The operator: type the call, see the suggestion panels answer, pick 转办 by keyboard, Ctrl+Enter.
    browser.open(system.url + "/")
    browser.login("op-chen", PASSWORD)
    browser.visible("#call-form")
    browser.find("#call-phone").send_keys("13859612345")
    browser.find("#call-name").send_keys("林先生")
    Select(browser.find("#call-township")).select_by_visible_text("城厢镇")
    content = browser.find("#call-content")
    content.send_keys(CONTENT)
    browser.wait(
        lambda: (
            "输入来电内容" not in browser.text_of("#suggest-box")
            and "输入来电内容" not in browser.text_of("#similar-box")
        ),
        what="the suggestion and similar-case panels to answer",
    )
    ActionChains(browser.driver).key_down(Keys.ALT).send_keys("z").key_up(Keys.ALT).perform()
    assert browser.find("input[name=outcome][value=transfer]").is_selected()
    assert_chinese_rendered(browser, ["来电登记", "来电号码", "当场解释", "转办", "智能分类建议", "相似案件"])
    browser.screenshot("operator")
    content.send_keys(Keys.CONTROL, Keys.ENTER)
    query_code = browser.visible("#call-query-code").text
    assert len(query_code) == 8, query_code
    assert browser.find("#call-content").get_attribute("value") == ""

    with client_for(system) as admin:
        found = admin.get("/api/v1/cases", params={"query_code": query_code}).json()["items"]
        assert [c["outcome"] for c in found] == ["transfer"]
        case_id = found[0]["id"]
        case = wait_until(lambda: routed_case(admin, case_id), what="routing")
        assert case["township"] == "城厢镇"
        add_user(admin, "unit-staff", "unit", case["unit"])

    # The unit: the task arrives in the inbox (polled), its clock counts down, 签收 then 答复.
    browser.logout()
    browser.login("unit-staff", PASSWORD)
    browser.visible("#inbox-table")
    row = browser.wait(
        lambda: next(
            (r for r in browser.driver.find_elements("css selector", "#inbox-table tbody tr") if query_code in r.text),
            None,
        ),
        what="the task in the unit's inbox",
    )
    assert "待签收" in row.text
    row.click()
    browser.visible("#task-detail [data-step=sign]").click()
    browser.wait_text("#task-detail", "签收成功")
    clock = browser.visible("#task-detail .clock[data-ends]")
    first = clock.text
    assert first.startswith("剩余"), first
    browser.wait(lambda: clock.text != first, timeout_s=3, what="the clock to count down")
    assert_chinese_rendered(browser, ["任务收件箱", "办理时限", "答复", "申请延期", "挂起", "办理记录"])
    browser.screenshot("unit")

    browser.find("#task-detail [data-step=answer]").click()
    browser.visible("#task-detail textarea[name=answer]").send_keys("已安排施工队于本周内更换路灯。")
    browser.find("#task-detail textarea[name=public_answer]").send_keys("路灯已安排本周内维修。")
    browser.find("#task-detail .step-form [type=submit]").click()
    browser.wait_text("#task-detail", "答复成功")
    assert "已答复" in browser.text_of("#task-detail h3")

    with client_for(system, username="unit-staff", password=PASSWORD) as staff:
        tasks = [t for t in staff.get("/api/v1/tasks").json()["items"] if t["query_code"] == query_code]
        assert [(t["query_code"], t["state"], t["answer"]) for t in tasks] == [
            (query_code, "answered", "已安排施工队于本周内更换路灯。")
        ]


def received(browser: Browser) -> int | None:
    text = browser.text_of("#kpi-received b")
    return int(text) if text.isdigit() else None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a system of its own: it counts every case
def test_the_leadership_dashboard_moves_live_with_the_feed(start_system: SystemFactory, browser: Browser) -> None:
    system = start_system()
    with client_for(system) as admin:
        add_user(admin, "leader-wang", "leader")
        first = admin.post("/api/v1/calls", json=CALL).json()["id"]
        admin.post(
            "/api/v1/calls", json={**CALL, "outcome": "answered_on_spot", "content": "咨询社保卡补办需要带哪些材料。"}
        )
        wait_until(lambda: routed_case(admin, first), what="routing of the first call")

    browser.open(system.url + "/")
    browser.login("leader-wang", PASSWORD)
    browser.visible("#view-dashboard")
    browser.wait(lambda: received(browser) == 2, what="the received count")
    browser.wait_text("#conn", "已连接")
    browser.wait(lambda: len(browser.driver.find_elements("css selector", "#events tr")) >= 4, what="replayed events")
    assert "受理" in browser.text_of("#events")

    # A case posted while the page is open moves the figures through the feed: the page re-fetches on
    # feed events only (it never polls), so reaching 3 without a reload is the live path.
    with client_for(system) as admin:
        new_call = {
            **CALL,
            "phone": "13900000003",
            "township": "蓬莱镇",
            "content": "蓬莱镇鹤前村自来水水压低，三楼以上用不上水。",
        }
        assert admin.post("/api/v1/calls", json=new_call).status_code == 201
    browser.wait(lambda: received(browser) == 3, what="the dashboard to count the new case")
    browser.wait_text("#events", "蓬莱镇鹤前村")
    browser.wait(lambda: browser.text_of("#kpi-transferred b") == "2", what="the routed case to count as 转办")

    assert_chinese_rendered(
        browser, ["领导驾驶舱", "答复率", "按时答复率", "办结率", "满意率", "超期案件", "实时事件", "受理与答复趋势"]
    )
    trend = browser.text_of("#trend-chart")
    has_chart: Any = browser.driver.find_elements("css selector", "#trend-chart canvas")
    assert has_chart or "暂不可用" in trend, trend
    browser.driver.set_window_size(1440, 1900)  # the whole dashboard, feed included
    browser.screenshot("leader")
    assert not [e for e in browser.js_errors() if "favicon" not in e], browser.js_errors()


async def _store_card_weeks(database_url: str, *, units: int, weeks: int) -> None:
    """派单准确率 week rows as the feed keeps them: `units` units first routed cases in each of `weeks` weeks."""
    engine = create_engine(database_url)
    first_monday = date(2026, 11, 23) - timedelta(weeks=weeks - 1)
    rows = [
        {
            "span": "week",
            "day": first_monday + timedelta(weeks=week),
            "unit_code": f"unit{unit:02d}",
            "unit_name": f"县直单位{unit:02d}",
            "routed": 10,
            "returned": 1,
            "reassigned": 1,
        }
        for week in range(weeks)
        for unit in range(units)
    ]
    try:
        async with transaction(session_factory(engine)) as session:
            await session.execute(insert(DispatchRollupRow), rows)
    finally:
        await engine.dispose()


def test_the_dispatch_accuracy_card_shows_its_newest_page_and_loads_earlier_weeks_on_request(
    start_system: SystemFactory, database_url: str, browser: Browser
) -> None:
    asyncio.run(_store_card_weeks(database_url, units=25, weeks=24))  # 600 rows: more than a page of 500
    system = start_system()
    with client_for(system) as admin:
        add_user(admin, "leader-zhao", "leader")
    browser.open(system.url + "/")
    browser.login("leader-zhao", PASSWORD)
    browser.visible("#view-dashboard")
    browser.wait_text("#dash-updated", "统计范围")  # this month's figures, the default
    browser.find("#period-form [data-period=all]").click()
    browser.wait_text("#dash-updated", "统计范围：全部")
    browser.wait(lambda: "共 500 条" in browser.text_of("#accuracy-table"), what="the card's first page")
    assert "已显示最近 500 行" in browser.text_of("#accuracy-shown")
    assert "2026年11月23日" in browser.text_of("#accuracy-table")  # newest week first
    browser.find("#accuracy-more").click()
    browser.wait(lambda: "共 600 条" in browser.text_of("#accuracy-table"), what="the earlier weeks")
    assert not browser.find("#accuracy-more-row").is_displayed()  # nothing earlier left
    assert not [e for e in browser.js_errors() if "favicon" not in e], browser.js_errors()


def test_a_dispatcher_logs_a_petition_and_a_mention_and_opens_the_sorting_queue(
    shared_system: Supervisor, browser: Browser
) -> None:
    system = shared_system
    with client_for(system) as admin:
        add_user(admin, "disp-li", "dispatcher")

    browser.open(system.url + "/#petition")
    browser.login("disp-li", PASSWORD)
    form = browser.visible("#petition-form")
    Select(form.find_element("name", "form")).select_by_visible_text("来访")
    form.find_element("name", "petitioner_name").send_keys("黄某")
    form.find_element("name", "visitors").send_keys("3")
    content = form.find_element("name", "content")
    content.send_keys("反映县城某小区开发商延期交房一年多，业主多次协商无果，要求住建部门督促开发商尽快交房。")
    content.send_keys(Keys.CONTROL, Keys.ENTER)
    assert "查询码" in browser.wait_text("#petition-form [data-status]", "已保存")

    browser.find("#tabs a[data-tab=mention]").click()
    form = browser.visible("#mention-form")
    form.find_element("name", "outlet").send_keys("微博网友")
    form.find_element("name", "url").send_keys("https://weibo.example.cn/status/4990001")
    browser.driver.execute_script("arguments[0].value = '2026-11-20T09:30'", form.find_element("name", "published_at"))
    form.find_element("name", "content").send_keys("龙门镇工业区有企业夜间偷排废水，下游溪水发黑发臭。")
    form.find_element("css selector", "[type=submit]").click()
    assert "查询码" in browser.wait_text("#mention-form [data-status]", "已保存")

    # A bad phone number is refused with the API's Chinese message.
    browser.find("#tabs a[data-tab=call]").click()
    browser.visible("#call-phone").send_keys("123")
    browser.find("#call-content").send_keys("咨询社保卡补办需要带哪些材料。")
    browser.find("input[name=outcome][value=answered_on_spot]").click()
    browser.find("#call-save").click()
    assert "格式不正确" in browser.wait_text("#call-status", "电话")
    assert browser.find("#call-phone").get_attribute("aria-invalid") == "true"

    browser.find("#tabs a[data-tab=review]").click()
    browser.wait(
        lambda: "待分拣" in browser.text_of("#review-status") or "暂不可用" in browser.text_of("#review-status"),
        what="the sorting queue to load",
    )
    assert_chinese_rendered(browser, ["人工分拣", "查询码", "分拣"])
