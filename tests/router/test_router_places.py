"""Place extraction from raw citizen texts."""

from __future__ import annotations

import pytest

from hotline.shared.domain.county import County, load_county
from hotline.shared.domain.places import Place, extract_place, in_village


@pytest.fixture(scope="module")
def county() -> County:
    return load_county()


@pytest.mark.parametrize(
    ("text", "township", "village"),
    [
        ("我是城厢镇砖文村村民，去年征地的补偿款到现在还没发放，请领导帮忙。", "城厢镇", "砖文村"),
        ("郭埔村村口的路灯坏了三个多月，晚上老人小孩出行很不安全。", "湖头镇", "郭埔村"),  # village only
        ("湖头一带的石材加工厂晚上偷排污水，溪水都变白了。", "湖头镇", None),  # short form + context
        ("反映凤城镇凤山社区某小区物业乱收停车费的问题。", "凤城镇", "凤山社区"),
        ("溪南街道新华社区夜市烧烤油烟扰民，投诉多次无果。", "溪南街道", "新华社区"),
        ("长坑乡青洋村通往乡里的公路塌方，车辆无法通行", "长坑乡", "青洋村"),
        ("感德镇东岭村茶园被人强行推平建房。", "感德镇", "东岭村"),  # shared name, township named
        ("西坪镇有人在东岭村违建。", "西坪镇", "东岭村"),
        ("东岭村的低保评定不公平。", None, "东岭村"),  # shared name, no township: left open
        ("我家在蓬莱镇，孩子在城厢镇上学，蓬莱镇温泉村没有校车。", "蓬莱镇", "温泉村"),
        ("清溪县龙门镇人民政府门口的道路积水严重。", "龙门镇", None),
        ("在县城买的湖头米粉有异物，要求市场监管部门查处。", None, None),  # "湖头" without place context
        ("12345您好，我要咨询医保异地报销怎么办理。", None, None),
        ("", None, None),
    ],
)
def test_extract_place(county: County, text: str, township: str | None, village: str | None) -> None:
    assert extract_place(text, county) == Place(township, village)


def test_village_named_with_another_township_prefers_its_own(county: County) -> None:
    # The text names a township first and a village of a different township afterwards:
    # the village is the more specific and its township wins.
    assert extract_place("原来住城厢镇，现在搬到善坛村了", county) == Place("官桥镇", "善坛村")


def test_extraction_of_a_long_text_finds_its_place(county: County) -> None:
    text = "反映祥华乡美寨村至白玉村的村道长期失修，雨天泥泞，村民出行困难。" * 200
    assert extract_place(text, county) == Place("祥华乡", "美寨村")


@pytest.mark.parametrize(
    ("text", "rural"),
    [
        ("砖文村那座小桥的栏杆断了。", True),  # a village named
        ("我们村的篮球场堆满了砖头。", True),  # no name, but 我们村
        ("村口的垃圾池满了一个礼拜。", True),
        ("凤山社区的公厕锁门了。", False),  # an urban 社区 is not a village
        ("县城人民公园的健身器材坏了。", False),
    ],
)
def test_in_village(county: County, text: str, rural: bool) -> None:
    assert in_village(text, extract_place(text, county)) is rural
