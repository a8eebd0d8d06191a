"""A repeat is the same caller about the same matter: realistic pairs of calls from one phone."""

from __future__ import annotations

import pytest

from hotline.services.intake.similar import place_names, same_matter, strip_places
from hotline.shared.domain.county import load_county

STREET_LIGHT = "城厢镇经兜村村道旁的路灯坏了两个多月，晚上一片漆黑，老人孩子出行很不安全，请尽快维修。"
BARBECUE = "我家小区楼下的烧烤摊每天晚上营业到凌晨两点，油烟和噪音很大，影响休息，请城管处理。"
WAGES = "公司拖欠我三个月工资共两万四千元，老板一直推脱，请劳动监察帮忙追讨。"
WATER_MAIN = "村口自来水管破裂两天了，全村停水，请尽快抢修。"
HANDOVER = "反映县城某小区开发商延期交房一年多，业主多次协商无果，要求住建部门督促开发商尽快交房。"

SAME = [
    (STREET_LIGHT, "经兜村的路灯还是没修好，我上周打过电话了，晚上黑乎乎的，到底什么时候来修？"),
    (BARBECUE, "又是楼下烧烤摊的问题，半夜还在吵，油烟熏得窗户都不敢开，上次反映了没人管。"),
    (WAGES, "上次说的欠薪还没解决，老板还是不给那三个月工资，我该怎么办？"),
    (WATER_MAIN, "停水第三天了，水管还没人来修，全村人没水喝。"),
    (HANDOVER, "开发商到现在还没交房，已经拖了一年多了，住建局管不管？"),
    (STREET_LIGHT, STREET_LIGHT.replace("请尽快维修", "请尽快派人维修")),
]
DIFFERENT = [
    (STREET_LIGHT, "城厢镇经兜村村口的下水道堵了，污水漫到路上，臭气熏天，请尽快疏通。"),  # the reported case
    (BARBECUE, "我孩子今年上小学，户口在城厢镇，学校说名额满了不给报名，请教育局协调。"),
    (WAGES, "我们村的自来水这几天很浑浊，有黄色沉淀，不敢喝，请尽快检查水质。"),
    ("龙门镇新村的水泥路被大车压坏了，坑坑洼洼，下雨全是积水，请尽快修复。", "龙门镇新村的路灯不亮了，请尽快修理。"),
    ("家门口的水管坏了请维修。", "城厢镇经兜村村道旁的路灯坏了，请尽快维修。"),
    (WATER_MAIN, "隔壁养猪场臭味很大，苍蝇成群，请环保部门来查。"),
]


@pytest.mark.parametrize(("first", "again"), SAME)
def test_the_same_matter_told_differently_is_a_repeat(first: str, again: str) -> None:
    same, score = same_matter(again, first)
    assert same, score


@pytest.mark.parametrize(("first", "other"), DIFFERENT)
def test_another_matter_of_the_same_caller_is_not(first: str, other: str) -> None:
    same, score = same_matter(other, first)
    assert not same, score


def test_places_say_where_not_what() -> None:
    county = load_county()
    names = place_names(county)
    assert "城厢镇" in names
    stripped = strip_places("城厢镇经兜村的下水道堵了", names)
    assert "城厢" not in stripped and "经兜村" not in stripped and "下水道" in stripped
