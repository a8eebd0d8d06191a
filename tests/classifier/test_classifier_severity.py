"""Severity rules on realistic complaint texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.services.classifier.severity import (
    LEVELS,
    assess_severity,
    cn_number,
    load_severity_rules,
    parse_severity_rules,
)

CASES = [
    ("小区门口路灯坏了一个月，晚上出行不便，希望尽快修复。", "一般"),
    ("楼上装修每天早上七点就开始电钻，噪音扰民严重。", "一般"),
    ("我们小区楼下的燃气管道漏气好几天了，物业不管，随时可能爆炸。", "较大"),
    ("药店卖假药，我买的感冒药吃了没效果，包装是假的，请市场监管部门查处。", "较大"),
    ("公司拖欠我们工资半年，明天数十名工人准备到县政府门口聚集讨薪。", "较大"),
    ("我父亲因为征地补偿问题想不通，扬言要跳楼，请政府尽快处理。", "重大"),
    ("建筑工地塔吊倒塌，一名工人当场死亡，施工方至今没有说法。", "重大"),
    ("上百名业主聚集在售楼部门口拉横幅维权，要求开发商按期交房。", "重大"),
    ("网传某幼儿园老师体罚儿童，家长非常气愤。", "重大"),
    ("昨晚国道路口发生一起车祸，造成3人死亡、12人受伤，请有关部门重视路口安全。", "特别重大"),
    ("学校食堂饭菜变质，20多名学生出现上吐下泻，被送往医院，疑似食物中毒。", "特别重大"),
    ("村里的河道被工厂偷排污水，鱼都死了，村民多次反映无果。", "一般"),
]


@pytest.mark.parametrize(("text", "level"), CASES)
def test_levels_on_realistic_texts(text: str, level: str) -> None:
    assert assess_severity(text).level == level


def test_reasons_are_readable_chinese() -> None:
    a = assess_severity("煤矿发生透水事故，3名矿工遇难，数十名家属聚集在矿区门口。")
    assert a.level == "特别重大"
    assert "涉及人员伤亡: 遇难" in a.reasons
    assert "死亡人数: 3人" in a.reasons
    assert any(r.startswith("群体性事件") for r in a.reasons)


def test_minors_alone_do_not_raise_but_raise_other_signals() -> None:
    assert assess_severity("孩子所在小学的课外作业太多。").level == "一般"
    assert assess_severity("孩子在学校被同学殴打，头部受伤。").level == "重大"


def test_media_reach_thresholds_only_for_media() -> None:
    text = "某小区垃圾长期无人清运。"
    assert assess_severity(text, channel="media", reach=5_000).level == "一般"
    assert assess_severity(text, channel="media", reach=10_000).level == "较大"
    assert assess_severity(text, channel="media", reach=250_000).level == "重大"
    assert assess_severity(text, channel="media", reach=3_000_000).level == "特别重大"
    assert assess_severity(text, channel="hotline", reach=3_000_000).level == "一般"
    assert "舆情传播量: 250000" in assess_severity(text, channel="media", reach=250_000).reasons


def test_repeat_complaints() -> None:
    text = "反映楼下烧烤店油烟扰民问题。"
    assert assess_severity(text, repeat_count=1).level == "一般"
    assessed = assess_severity(text, repeat_count=2)
    assert assessed.level == "较大"
    assert assessed.reasons == ["重复投诉: 2次"]
    assert assess_severity(text, repeat_count=6).level == "重大"


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("十二", 12), ("二十三", 23), ("两百", 200), ("数十", 20), ("十几", 11), ("上百", 100)],
)
def test_chinese_numbers(text: str, value: int) -> None:
    assert cn_number(text) == value


def test_custom_rules_are_plain_data() -> None:
    rules = parse_severity_rules(
        {
            "levels": list(LEVELS),
            "signal": [{"name": "停水", "level": "较大", "terms": ["停水"]}],
            "repeat": {"thresholds": [{"min": 3, "level": "重大"}]},
        }
    )
    assert assess_severity("全小区停水三天", rules=rules).level == "较大"
    assert assess_severity("路灯坏了", repeat_count=3, rules=rules).level == "重大"
    with pytest.raises(ValueError):
        parse_severity_rules({"signal": [{"name": "x", "level": "超级", "terms": ["x"]}]})


def test_default_rule_file_loads(tmp_path: Path) -> None:
    rules = load_severity_rules()
    assert rules.levels == LEVELS
    custom = tmp_path / "rules.toml"
    custom.write_text('[[signal]]\nname = "测试"\nlevel = "重大"\nterms = ["测试词"]\n', encoding="utf-8")
    assert assess_severity("含有测试词", rules=load_severity_rules(custom)).reasons == ["测试: 测试词"]


@pytest.mark.parametrize(
    ("text", "level", "reason"),
    [
        ("昨晚国道上出了车祸，三死五伤。", "特别重大", "死亡人数: 3人"),
        ("山体滑坡，两个人被埋在下面。", "重大", "被困或被埋人数: 2人"),
        ("学校食堂十几个娃娃上吐下泻。", "重大", "中毒或身体不适人数: 11人"),
        ("化工厂爆炸，有工人受伤。", "重大", "爆炸或垮塌致人伤亡: 爆炸"),
        ("老房子垮塌了，砸伤一个路过的老人。", "重大", "爆炸或垮塌致人伤亡: 垮塌"),
    ],
)
def test_casualties_in_words_and_explosions_or_collapses_with_people_hurt(text: str, level: str, reason: str) -> None:
    assessed = assess_severity(text)
    assert assessed.level == level and any(r.startswith(reason) for r in assessed.reasons), assessed.reasons


def test_an_explosion_without_casualties_is_not_raised_by_the_combination() -> None:
    assessed = assess_severity("工地爆破作业，噪音很大。")
    assert not any(r.startswith("爆炸或垮塌致人伤亡") for r in assessed.reasons)
    assert "死亡人数: 1人" not in assess_severity("他说想一死了之。").reasons  # not a count of the dead


def test_media_velocity_and_urgency_raise_with_a_reason() -> None:
    text = "某小区垃圾长期无人清运。"
    assert assess_severity(text, channel="media", reach_per_hour=1_000).level == "一般"
    fast = assess_severity(text, channel="media", reach_per_hour=2_500)
    assert fast.level == "较大" and fast.reasons == ["舆情传播速度: 每小时2500"]
    assert assess_severity(text, channel="hotline", reach_per_hour=1e6).level == "一般"
    urgent = assess_severity(text, urgent=True)
    assert urgent.level == "较大" and urgent.reasons == ["紧急诉求: 危及生命或人身安全"]
    assert assess_severity("建筑工地塔吊倒塌，一名工人当场死亡。", urgent=True).level == "重大"
