"""紧急诉求 rules on tricky texts of our own (not from the labelled suite): plain-word emergencies,
and the same trigger words in the past, as hypotheses, advice, questions, stories, negations or
figures of speech; clause and sentence scoping; rule-file validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.services.classifier.urgency import (
    assess_urgency,
    bounded_text,
    check_bounded,
    load_urgency_rules,
    masked,
    parse_urgency_rules,
    sentences,
)
from hotline.services.classifier.urgency_eval import HALVES, read_suite
from hotline.shared.events import EmergencyLine

URGENT = [
    ("我真的不想活了，药都准备好了，就是想跟你们说一声。", "轻生", {"110", "120"}),
    ("俺爹站在村口水塔上头，说不给解决就跳下来。", "轻生", {"110", "120", "119"}),
    ("你们再拖着不办，我就去县政府门口浇汽油。", "扬言轻生或伤人", {"110"}),
    ("如果今天还不给说法，我就从这楼上跳下去。", "扬言轻生或伤人", {"110"}),
    ("邻居已经报了警，可是那个男的还在砍门，说要杀了她。", "暴力或行凶", {"110"}),
    ("孩子放学到现在还没回家，电话也打不通，他才九岁。", "人员走失", {"110"}),
    ("家里闻到一股怪味，好像是煤气，老人已经头晕了。", "燃气或有毒气体泄漏", {"119", "120"}),
    ("没有人受伤，但是火还在烧，越烧越大。", "火灾", {"119"}),
    ("火已经灭了，但是三楼还有人被困在里面。", "人员被困", {"119"}),
    ("河堤在渗水，村里好多老人还没撤出来。", "洪水或溃坝", {"119", "110"}),
    ("后山的土坡在往下滑，下面就是几户人家。", "垮塌或滑坡", {"119", "110"}),
    ("路边的电线断了掉在地上，还在冒火花，学生马上放学。", "电线带电", {"110", "119"}),
    ("工地食堂中午吃完饭，二十多个工人上吐下泻。", "群体中毒", {"120"}),
    ("两辆车撞了，有人倒在路中间不动了。", "交通事故伤人", {"122", "120"}),
    ("前年这里淹死过人。今天又有个小孩掉进河里了！", "人员落水", {"119", "120"}),
    ("他说明天一早就带上一桶汽油去镇政府门口，这条命不要了。", "扬言轻生或伤人", {"110", "120", "119"}),
    ("孩子刚才吞了一颗纽扣电池，一直喊喉咙疼。", "急病或重伤", {"120"}),
    ("昨晚开始墙上的裂缝一直在变大，今早掉了一大块，楼里还住着八户人家。", "垮塌或滑坡", {"119", "110"}),
]


@pytest.mark.parametrize(("text", "category", "lines"), URGENT)
def test_emergencies_in_plain_words(text: str, category: str, lines: set[str]) -> None:
    got = assess_urgency(text)
    assert got.urgent, text
    assert any(r.startswith(f"{category}：") for r in got.reasons), got.reasons
    assert lines <= {line.value for line in got.lines}, got.lines


NOT_URGENT = [
    ("燃气报装需要什么材料？在哪里办？", "procedure"),
    ("前年这条河淹死过一个小孩，建议在岸边加装护栏。", "past + advice"),
    ("电线没断，只是挂得有点低，麻烦供电所来紧一紧。", "a negation inside a word-list hit"),
    ("唔系有人跳楼，系楼上跌咗件衫落嚟。", "a Cantonese negation"),
    ("群里都在传城东加油站爆炸了，后来证实是谣言。", "a rumour, said after"),
    ("刚才那声巨响吓我一跳，原来是隔壁放礼炮，虚惊一场。", "a false alarm, said after"),
    ("我叔叔走失十几年了，家里一直没放弃，想登记一下信息。", "a past duration"),
    ("去年今天我在大桥上差点想不开，现在都好了，谢谢那位民警。", "a year ago today, a near miss"),
    ("这网速慢得我想死，一天掉线十几回。", "figurative"),
    ("我们在工伤人员待遇上有意见，希望统一标准。", "a compound (工伤人员), not violence"),
    ("要是哪天这面墙塌了砸到人，谁来负责？", "hypothesis"),
    ("小区消防通道被占，一旦发生火灾后果不堪设想。", "hypothesis"),
    ("气死我了，物业到现在都不来修路灯。", "figurative"),
    ("这家店的烤鱼辣得要死，吃完还上火。", "figurative"),
    ("商场搞跳楼价大甩卖，其实比平时还贵，虚假宣传。", "figurative"),
    ("这次车祸没有人受伤，就是车门被刮花了，对方不肯赔。", "negation"),
    ("昨晚楼下起火，火已经灭了，想问问物业什么时候清理楼道。", "resolved"),
    ("孩子在河边玩掉进水里，幸好已经被路人救上来了。", "resolved in another clause"),
    ("今天小区搞消防演练，楼道里全是烟，老人吓了一跳。", "drill"),
    ("井盖坏了好几天了，容易有人掉下去。", "hypothesis"),
    ("我们楼的电梯经常困人，去年就困过好几次，希望更换。", "habitual"),
    ("我父亲前年在工地触电身亡，施工方至今拒绝赔偿。", "past + compensation"),
    ("工厂烟囱天天冒黑烟，闻到一股怪味，要求环保局查处。", "pollution, not gas"),
]


@pytest.mark.parametrize(("text", "why"), NOT_URGENT)
def test_same_words_that_are_not_emergencies(text: str, why: str) -> None:
    got = assess_urgency(text)
    assert not got.urgent, (why, got.reasons)
    assert got.reasons == [] and got.lines == []


def test_a_past_frame_ends_with_its_sentence() -> None:
    # "去年" frames its own sentence only: the next sentence's fire is now.
    assert not assess_urgency("去年这栋楼着过火。").urgent
    assert assess_urgency("去年这栋楼着过火。现在五楼又着火了！").urgent


def test_a_negation_covers_only_the_words_it_governs() -> None:
    got = assess_urgency("车祸没有人受伤，但是另一辆车翻了，司机卡在里面流血。")
    assert got.urgent and EmergencyLine.TRAFFIC in got.lines
    assert not assess_urgency("两车追尾，没有人受伤。").urgent


def test_cue_words_that_are_not_cues_here() -> None:
    # "没人" negates nobody's danger but its own; "过去" as a verb is no past; "不容易" is no hypothesis;
    # a disappearance starts in the past ("前天出门").
    assert assess_urgency("家里没人孩子一个人在家哭喊").urgent
    assert assess_urgency("我赶紧跑过去一看，楼道着火了").urgent
    assert assess_urgency("老人家真不容易，刚才又从楼梯上摔倒了起不来").urgent
    assert assess_urgency("我爸前天出门一直没回来").urgent
    assert not assess_urgency("去年孩子走失过一次，后来找到了。").urgent


def test_cues_of_two_frames_at_one_position_are_fine() -> None:
    # "经常" (habit) and "有过" … start together nowhere in the shipped file, but a county's may.
    rules = parse_urgency_rules(
        {
            "cues": {
                "negation_before": "没有$",
                "present": "现在",
                "frame": [
                    {"name": "a", "scope": "clause", "pattern": "以前"},
                    {"name": "b", "scope": "clause", "pattern": "以前有"},
                ],
            },
            "category": [{"name": "火", "lines": ["119"], "patterns": ["着火"]}],
        }
    )
    assert not assess_urgency("以前有着火", rules).urgent
    assert assess_urgency("以前有人说。现在着火了", rules).urgent


def test_a_later_present_word_resets_a_hypothesis() -> None:
    assert not assess_urgency("万一水库决堤，下游几个村都危险。").urgent
    assert assess_urgency("万一水库决堤怎么办，现在坝上已经在冒水了！").urgent


def test_a_resolution_cancels_only_what_came_before_it() -> None:
    assert not assess_urgency("厨房起火了，火已经扑灭了。").urgent
    assert assess_urgency("厨房的火已经扑灭了，可是隔壁仓库又起火了。").urgent


def test_reasons_quote_the_deciding_words_and_lines_are_ordered() -> None:
    got = assess_urgency("我在大桥上，不想活了。")
    assert "轻生：不想活" in got.reasons
    assert got.lines == [EmergencyLine.POLICE, EmergencyLine.FIRE, EmergencyLine.AMBULANCE]


def test_only_the_bounded_part_of_a_long_text_is_read() -> None:
    filler = "反映小区物业问题。" * 2000
    assert bounded_text(filler, 4000, 1000) != filler and len(bounded_text(filler, 4000, 1000)) == 5001
    assert assess_urgency(filler + "我现在站在楼顶上，不想活了。").urgent  # the end is read
    assert assess_urgency("我不想活了。" + filler).urgent  # and the start


@pytest.mark.parametrize("pattern", ["a+b", "(?:ab)*", "a{2,}", "a{0,50}", "(?:a{0,3}){0,3}", "(?:ab?)?"])
def test_unbounded_or_nested_repetitions_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        check_bounded(pattern, "test")


@pytest.mark.parametrize("pattern", ["[+*]{0,3}", r"\d{1,3}人", "(?:甲|乙)?丙.{0,12}?丁", "(?<![没])找到了", "a\\+b"])
def test_bounded_patterns_pass(pattern: str) -> None:
    check_bounded(pattern, "test")


def test_rule_file_errors_are_named() -> None:
    base = {"cues": {"negation_before": "没有$", "present": "现在"}}
    with pytest.raises(ValueError, match="unknown emergency line"):
        parse_urgency_rules({**base, "category": [{"name": "x", "lines": ["999"], "patterns": ["x"]}]})
    with pytest.raises(ValueError, match="bounded"):
        parse_urgency_rules({**base, "category": [{"name": "x", "lines": ["110"], "patterns": ["x.*y"]}]})
    with pytest.raises(ValueError, match="no \\[\\[category\\]\\]"):
        parse_urgency_rules(base)


def test_a_county_edits_the_rules_without_code(tmp_path: Path) -> None:
    custom = tmp_path / "urgency.toml"
    custom.write_text(
        '[cues]\nnegation_before = "没有$"\npresent = "现在"\n'
        '[[category]]\nname = "野兽"\nlines = ["110"]\npatterns = ["野猪(?:进村|伤人)"]\n',
        encoding="utf-8",
    )
    rules = load_urgency_rules(custom)
    assert assess_urgency("村里现在野猪进村了", rules).reasons == ["野兽：野猪进村"]
    assert not assess_urgency("村里没有野猪进村", rules).urgent


def test_the_shipped_rules_load() -> None:
    rules = load_urgency_rules()
    assert len(rules.categories) >= 13 and rules.head_chars + rules.tail_chars <= 5000


def test_the_one_search_over_every_category_finds_each_sentence_a_category_would() -> None:
    """The sentences the rules skip at once are exactly those no category's own matchers touch."""
    rules = load_urgency_rules()
    assert rules.any_hit is not None
    texts = [case.text for half in HALVES.values() for case in read_suite(half)]
    touched = 0
    for text in texts:
        for _, sentence in sentences(masked(text, rules)):
            by_category = any(m.search(sentence) for c in rules.categories for m in c.matchers)
            touched += by_category
            assert (rules.any_hit.search(sentence) is not None) == by_category, sentence
    assert touched > 100
