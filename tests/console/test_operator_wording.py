"""A newcomer's first hour at the console: the township found in the text fills the form (and never
overrides the operator's pick), the suggestion panel speaks operator language, dates read 2026年11月01日."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.support.ui import Select

from hotline.supervisor import Supervisor
from tests.console.browser import Browser
from tests.console.test_console import PASSWORD, add_user  # skips this module loudly without chromium
from tests.e2e.conftest import client_for

pytestmark = pytest.mark.e2e
SHARED_SYSTEM_DATABASES = ("sqlite",)  # one system for the module (only users of its own)

TEXT = "城厢镇经兜村村道旁的路灯坏了两个多月，晚上一片漆黑，老人孩子出行很不安全，请尽快维修。"
OTHER = "蓬莱镇鹤前村自来水水压低，三楼以上用不上水，已经一个星期了，请尽快处理。"
# Words of the router, the model and the code that an operator must never read.
INTERNAL = ("子类未配置", "按一级分类", "按子类匹配", "模型版本", "模型判断", "匹配：", "→", "主题 ", "派单依据")


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


def suggestion_text(browser: Browser) -> str:
    def answered() -> str:
        text = browser.text_of("#suggest-box")
        return text if "输入来电内容" not in text and "建议承办" in text else ""

    found: str = browser.wait(answered, what="the suggestion panel to answer")
    return found


def assert_operator_language(text: str, *, keys: bool = False) -> None:
    """No English or code words (key caps such as Alt+J or Ctrl+Enter only where `keys`), no internals."""
    shown = re.sub(r"(Alt|Ctrl)\+[A-Za-z0-9.]+|Enter", "", text) if keys else text
    assert not re.search(r"[A-Za-z]", shown), f"English or code words shown to an operator: {text!r}"
    for word in INTERNAL:
        assert word not in text, f"internal wording {word!r} shown to an operator: {text!r}"


def township(browser: Browser) -> tuple[str, bool]:
    """The call form's township and whether it is marked 自动识别."""
    select = browser.find("#call-township")
    tag = browser.find("#call-form [data-auto-township]")
    return Select(select).first_selected_option.get_attribute("value") or "", tag.is_displayed()


def retype(browser: Browser, text: str) -> None:
    content = browser.find("#call-content")
    content.clear()
    content.send_keys(text)


def test_the_township_in_the_text_fills_the_form_and_the_panel_speaks_operator_language(
    shared_system: Supervisor, browser: Browser
) -> None:
    system = shared_system
    with client_for(system) as admin:
        add_user(admin, "op-new", "operator")
    browser.open(system.url + "/")
    browser.login("op-new", PASSWORD)
    browser.visible("#call-form")
    assert township(browser) == ("", False)

    retype(browser, TEXT)
    browser.wait(lambda: township(browser) == ("城厢镇", True), what="城厢镇 filled in and marked 自动识别")
    assert "自动识别" in browser.text_of("#call-form")
    panel = suggestion_text(browser)
    assert "属地" in panel and "城厢镇" in panel, panel
    assert_operator_language(panel)
    assert_operator_language(browser.text_of("#call-form"), keys=True)

    # Another text moves an automatic township along with it ...
    retype(browser, OTHER)
    browser.wait(lambda: township(browser) == ("蓬莱镇", True), what="the automatic township to follow the text")
    assert_operator_language(suggestion_text(browser))

    # ... but the operator's own pick stays, whatever the text says.
    Select(browser.find("#call-township")).select_by_visible_text("龙门镇")
    assert township(browser) == ("龙门镇", False)
    retype(browser, TEXT + "再补充一句。")
    browser.wait(lambda: "城厢镇" in browser.text_of("#suggest-box"), what="the suggestion for the new text")
    assert township(browser) == ("龙门镇", False)

    # 清空 forgets the pick: the next call's township is found again.
    browser.find("#call-form [type=reset]").click()
    assert township(browser) == ("", False)
    retype(browser, TEXT)
    browser.wait(lambda: township(browser) == ("城厢镇", True), what="autofill after 清空")


def test_a_petition_fills_its_township_too(shared_system: Supervisor, browser: Browser) -> None:
    system = shared_system
    with client_for(system) as admin:
        add_user(admin, "op-xin", "operator")
    browser.open(system.url + "/#petition")
    browser.login("op-xin", PASSWORD)
    form = browser.visible("#petition-form")
    form.find_element("name", "content").send_keys(TEXT)
    select = form.find_element("name", "township")
    browser.wait(
        lambda: Select(select).first_selected_option.get_attribute("value") == "城厢镇",
        what="the petition's township from its text",
    )
    assert form.find_element("css selector", "[data-auto-township]").is_displayed()


ROUTER_REASONS: list[tuple[dict[str, Any], str, list[str]]] = [
    (
        {"unit": {"name": "县公安局"}, "reason": "事项：噪声扰民 → 县公安局（治安管理处罚法 第五十八条）；匹配：噪音"},
        "县公安局（依据 治安管理处罚法 第五十八条）",
        [],
    ),
    (
        {
            "unit": {"name": "城厢镇人民政府"},
            "reason": "事项：路灯 → 属地 城厢镇 主办（城市道路管理条例）；县住建局、县城管局 协办；匹配：路灯",
        },
        "城厢镇人民政府（属地主办，依据 城市道路管理条例）",
        ["协办：县住建局、县城管局"],
    ),
    (
        {
            "unit": {"name": "县住建局"},
            "reason": "主题 城乡建设/物业（子类未配置，按一级分类） → 县住建局；属地 城厢镇 协办",
        },
        "县住建局",
        ["协办：城厢镇"],
    ),
    (
        {"unit": {"name": "县信访局"}, "to_person": True, "reason": "事项和主题都不明确 → 县信访局 人工分拣；候选：无"},
        "待派单员确定（人工分拣）",
        [],
    ),
]


def test_router_reasons_and_dates_in_operator_words(shared_system: Supervisor, browser: Browser) -> None:
    system = shared_system
    with client_for(system) as admin:
        add_user(admin, "disp-date", "dispatcher")
    browser.open(system.url + "/#dashboard")
    browser.login("disp-date", PASSWORD)

    # The pure wording functions, as the page loads them.
    got = browser.driver.execute_async_script(
        """const [cases, done] = arguments;
        Promise.all([import("/static/wording.js"), import("/static/dom.js")]).then(([w, d]) => done({
          routing: cases.map((c) => w.operatorRouting(c)),
          candidates: w.candidatesText([
            {unit_name: "县公安局", matter: "噪声扰民"}, {unit_name: "县住建局", matter: "主题 城乡建设"}]),
          reasons: w.plainReasons(["涉及人员伤亡: 死亡", "模型判断（87%）：不想活"]),
          dates: [d.fmtDate("2026-11-01"), d.fmtDate("2026-11-30T20:00:00Z")],
        }));""",
        [case for case, _, _ in ROUTER_REASONS],
    )
    assert [(r["unit"], r["notes"]) for r in got["routing"]] == [(unit, notes) for _, unit, notes in ROUTER_REASONS]
    assert got["candidates"] == "可能是：县公安局（噪声扰民）、县住建局"
    assert got["reasons"] == ["涉及人员伤亡：死亡", "不想活"]
    assert got["dates"] == ["2026年11月01日", "2026年12月01日"]  # 20:00 UTC is the next day in Beijing

    # The date fields render by the page's and the browser's zh-CN locale (2026/11/01, not 11/01/2026),
    # and the period is written out in Chinese.
    browser.visible("#period-form")
    locale = browser.driver.execute_script("return Intl.DateTimeFormat().resolvedOptions().locale")
    assert locale == "zh-CN", f"chromium runs as {locale}: is chromium-l10n installed? (scripts/_browser.sh)"
    for field in browser.driver.find_elements("css selector", "input[type=date], input[type=datetime-local]"):
        assert field.get_attribute("lang") == "zh-CN"
    scope = browser.wait_text("#dash-updated", "统计范围")
    assert re.search(r"\d{4}年\d{2}月\d{2}日 至 \d{4}年\d{2}月\d{2}日", scope), scope
