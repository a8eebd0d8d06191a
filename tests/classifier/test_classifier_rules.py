"""Taxonomy rules: the untrained first-level classes reach the right unit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.services.classifier.rules import (
    UNTRAINED,
    TopicRules,
    best_subtopic,
    best_untrained,
    load_topic_rules,
    parse_topic_rules,
    score_rules,
    should_override,
    trie_regex,
)

# Realistic messages about classes without training data: (topic, subtopic, text).
UNTRAINED_CASES = [
    (
        "政法",
        "户籍证件",
        "孩子落户问题 我家孩子落户办不了，派出所说要先开证明，跑了三趟都办不了，请问到底需要什么材料？",
    ),
    ("政法", "户籍证件", "身份证补办太慢 我的身份证丢了，上个月去县公安局户政大厅补办身份证，到现在还没拿到。"),
    ("政法", "社会治安", "村口有人聚众赌博 小卖部每天晚上都有人聚众赌博，还经常打架斗殴，报警后民警来了一次就不管了。"),
    (
        "政法",
        "社会治安",
        "电动车被盗无人管 我家电动车停在楼下被盗，已经报案半个月，派出所一直没有消息，请加强治安巡逻。",
    ),
    (
        "农村农业",
        "惠农补贴",
        "种粮补贴没有发放 我家种了十几亩水稻，去年的种粮补贴和耕地地力保护补贴到现在一卡通里都没有到账。",
    ),
    (
        "农村农业",
        "扶贫开发",
        "贫困户评定不公 我们组有的人家里有小车有楼房却被评为贫困户，真正困难的人家反而没有评上，建档立卡评定不公平。",
    ),
    (
        "国土资源",
        "土地征收",
        "征地补偿款不到位 我们村的土地被征收修建工业园，补偿款至今没有发到农户手里，青苗补偿也没有，失地农民没有着落。",
    ),
    (
        "民政",
        "社会救助",
        "低保被取消 我今年七十多岁，一个人生活，没有收入，原来有低保，今年突然被取消了，请民政局帮忙核实。",
    ),
    ("民政", "社会救助", "五保户待遇 我叔叔是五保户，特困供养金已经三个月没有发放，敬老院也不接收，请问该找哪个部门？"),
    (
        "纪检监察",
        "贪污贿赂",
        "举报村支书贪污 我们村支书利用职务之便贪污集体资金，还收受红包，虚报冒领补助款，请纪委调查处理。",
    ),
    (
        "纪检监察",
        "干部作风",
        "镇干部上班时间打麻将 镇政府有几个干部上班时间打麻将，办事群众等了一上午没人理，形式主义官僚主义严重。",
    ),
    ("党务政务", "党的建设", "入党申请无人受理 三年前递交了入党申请书，党支部一直没有谈话，党组织关系也没人管。"),
    (
        "经济管理",
        "金融财税",
        "非法集资血本无归 某投资公司以高息理财为名非法集资，我投了二十万，现在老板跑路了，请求立案追回。",
    ),
    (
        "科技与信息产业",
        "电信",
        "村里手机信号差 我们村里手机信号差，经常没有信号，打电话都听不清，希望移动公司尽快建基站。",
    ),
]

TRAINED_CASES = [
    "A3区某小区物业乱收停车费 小区物业未经业主同意收取停车费，收费后车辆损坏拒不负责。",
    "学校乱收补课费 孩子所在的中学每学期强制收取补课费和资料费，家长负担很重。",
    "公交线路调整不合理 12路公交车取消了我们小区的站点，老人出行很不方便。",
]


@pytest.fixture(scope="module")
def rules() -> TopicRules:
    return load_topic_rules()


@pytest.mark.parametrize(("topic", "subtopic", "text"), UNTRAINED_CASES)
def test_untrained_classes_are_recognised(rules: TopicRules, topic: str, subtopic: str, text: str) -> None:
    hit = best_untrained(text, rules)
    assert hit is not None
    assert (hit.topic, hit.subtopic) == (topic, subtopic)
    # strong evidence overrides even a confident model
    assert should_override(hit, 0.5, rules)


@pytest.mark.parametrize("text", TRAINED_CASES)
def test_ordinary_cases_do_not_trigger(rules: TopicRules, text: str) -> None:
    assert best_untrained(text, rules) is None


def test_subtopics_of_trained_classes(rules: TopicRules) -> None:
    assert best_subtopic("小区物业乱收物业费，物业公司服务差", "城乡建设", rules) == "物业服务"
    assert best_subtopic("饭店卖过期食品，吃了拉肚子，食品安全没人管", "卫生计生", rules) == "食品药品监管"
    assert best_subtopic("路灯坏了", "教育文体", rules) is None


def test_title_counts_more(rules: TopicRules) -> None:
    body = "。" * 60
    in_title = score_rules("低保" + body, rules, UNTRAINED)[0].score
    in_body = score_rules(body + "低保", rules, UNTRAINED)[0].score
    assert in_title == 2 * in_body


def test_trie_regex_prefers_longest_match() -> None:
    pattern = re.compile(trie_regex(["户口", "户口本", "户籍", "a.b"]))
    assert pattern.findall("户口本、户籍、户口、axb、a.b") == ["户口本", "户籍", "户口", "a.b"]


def test_parse_rules_validation_and_untrained_switch(tmp_path: Path) -> None:
    data = {
        "settings": {"untrained_topics": ["政法"], "min_score": 2},
        "rule": [{"topic": "政法", "subtopic": "户籍证件", "strong": ["落户"]}],
    }
    rules = parse_topic_rules(data)
    assert best_untrained("孩子落户", rules) is not None
    # a county model trained on 政法 makes it an ordinary (trained) topic
    assert best_untrained("孩子落户", rules.with_untrained(set())) is None
    with pytest.raises(ValueError):
        parse_topic_rules({"rule": [{"topic": "政法"}]})
    with pytest.raises(ValueError):
        parse_topic_rules({"settings": {"bogus": 1}})


@pytest.mark.parametrize(
    ("text", "not_expected"),
    [
        ("我们小区门口的超市卖过期面包。", "物业服务"),  # 小区 says where, not what
        ("业主群里有人说学校要搬迁。", "物业服务"),
        ("这条路晚上没有路灯，很不安全。", "安全生产"),  # 安全 of a road is not 安全生产
    ],
)
def test_place_words_and_plain_safety_do_not_name_a_subtopic(text: str, not_expected: str) -> None:
    from hotline.services.classifier.rules import best_subtopic, load_topic_rules

    assert best_subtopic(text, "城乡建设", load_topic_rules()) != not_expected
