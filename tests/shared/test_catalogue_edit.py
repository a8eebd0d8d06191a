"""Editing one matter of the catalogue text keeps every other line, comments included."""

from __future__ import annotations

from hotline.shared.catalogue import packaged_matters_content, with_matter
from hotline.shared.domain.county import load_county
from hotline.shared.domain.matters import parse_matters

TEXT = """# 事项目录
[[matters]]
code = "a"
name = "甲"
class = "政法"
lead = "gaj"
terms = ["甲"]

# ---- 下一组 ----
[[matters]]
code = "b"
name = "乙"
class = "民政"
lead = "mzj"
terms = ["乙"]
"""


def test_a_matter_is_replaced_in_place_and_comments_stay() -> None:
    edited = with_matter(TEXT, {"code": "a", "name": "甲甲", "class": "政法", "lead": "jjdd", "terms": ["甲", "丙+丁"]})
    assert "# ---- 下一组 ----" in edited and edited.startswith("# 事项目录")
    catalogue = parse_matters(edited, load_county())
    assert [m.code for m in catalogue.matters] == ["a", "b"]
    assert catalogue.by_code["a"].lead == "jjdd" and catalogue.by_code["a"].terms[1].words == ("丙", "丁")
    assert catalogue.by_code["b"].name == "乙"


def test_a_new_matter_is_appended_and_the_packaged_catalogue_survives_a_round_trip() -> None:
    edited = with_matter(
        TEXT, {"code": "c", "name": "丙", "class": "民政", "lead": "mzj", "terms": ["丙"], "priority": 2}
    )
    assert [m.code for m in parse_matters(edited).matters] == ["a", "b", "c"]
    content = packaged_matters_content()
    first = parse_matters(content).matters[0]
    entry = {
        "code": first.code,
        "name": first.name,
        "class": first.klass,
        "lead": first.lead,
        "assist": list(first.assist),
        "township": first.township,
        "terms": [t.text for t in first.terms],
        "exclude": list(first.exclude),
        "basis": first.basis,
    }
    again = parse_matters(with_matter(content, entry))
    assert len(again) == len(parse_matters(content)) and again.by_code[first.code] == first
