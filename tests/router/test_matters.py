"""The matter catalogue: validation that names the entry, and sentence-level identification."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hotline.shared.domain.county import load_county
from hotline.shared.domain.matters import (
    MAX_CHARS,
    MatterCatalogue,
    identify,
    load_matters,
    parse_matters,
    sentences,
)

FIXTURE = Path(__file__).parents[1] / "data" / "matters_fixture.toml"
COUNTY = load_county()
CATALOGUE = load_matters(FIXTURE, county=COUNTY)


def codes(text: str) -> list[str]:
    return [hit.code for hit in identify(text, CATALOGUE)]


def test_fixture_and_packaged_catalogues_are_valid() -> None:
    assert len(CATALOGUE) == 9
    packaged = load_matters(county=COUNTY)
    assert len(packaged) >= 40
    assert {m.lead for m in packaged.matters} <= set(COUNTY.units)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('code = "Bad Code"\nname = "x"\nclass = "政法"\nlead = "gaj"\nterms = ["a"]', "matters[0] (Bad Code): code"),
        ('code = "a"\nname = "x"\nclass = "治安"\nlead = "gaj"\nterms = ["a"]', "matters[0] (a): class '治安'"),
        ('code = "a"\nname = "x"\nclass = "政法"\nlead = "nobody"\nterms = ["a"]', "matters[0] (a): unknown unit"),
        ('code = "a"\nname = "x"\nclass = "政法"\nlead = "town-hutou"\nterms = ["a"]', "is a township"),
        ('code = "a"\nname = "x"\nclass = "政法"\nlead = "gaj"\nterms = ["a+"]', "term 'a+' has an empty part"),
        ('code = "a"\nname = "x"\nclass = "政法"\nlead = "gaj"\ntownship = "yes"\nterms = ["a"]', "township must be"),
        ('code = "a"\nname = "x"\nclass = "政法"\nlead = "gaj"\nterms = ["a"]\nowner = 1', "unknown key(s) owner"),
        ('code = "a"\nclass = "政法"\nlead = "gaj"\nterms = ["a"]', "matters[0] (a): 'name' is required"),
    ],
)
def test_errors_name_the_offending_entry(entry: str, expected: str) -> None:
    with pytest.raises(ValueError, match="invalid matter catalogue") as raised:
        parse_matters(f"[[matters]]\n{entry}\n", COUNTY)
    assert expected in str(raised.value)


def test_every_problem_is_reported_at_once_and_duplicates_are_caught() -> None:
    one = 'code = "a"\nname = "x"\nclass = "政法"\nlead = "gaj"\nterms = ["a"]'
    content = f'[[matters]]\n{one}\n[[matters]]\n{one}\n[[matters]]\ncode = "b"\n'
    with pytest.raises(ValueError) as raised:
        parse_matters(content, COUNTY)
    message = str(raised.value)
    assert "matters[1] (a): code is used twice" in message
    assert "matters[2] (b): 'name' is required" in message


def test_a_combination_needs_both_words_in_one_sentence() -> None:
    assert codes("我家楼上每天晚上噪音很大。") == ["noise-social"]
    assert codes("我家住在楼上。外面马路的噪音很大。") == []


def test_exclude_words_rule_a_match_out_of_their_sentence_only() -> None:
    assert codes("工地施工噪音太大，楼上也有噪音。") == ["construction-noise"]
    assert codes("工地施工。楼上噪音吵得睡不着。") == ["noise-social"]


def test_matched_words_are_reported_and_longer_terms_and_combinations_weigh_more() -> None:
    [hit] = identify("小区楼下天天跳广场舞", CATALOGUE)
    assert hit.words == ("广场舞",)
    combo = identify("楼上噪音", CATALOGUE)[0].score
    single = identify("违建", CATALOGUE)[0].score
    assert combo > single > 0


def test_best_first_with_scores() -> None:
    hits = identify("物业公司乱收物业费，还拖着不给退款。", CATALOGUE)
    assert [h.code for h in hits] == ["property-service", "consumer"]
    assert hits[0].score > hits[1].score


def test_only_a_bounded_prefix_is_read() -> None:
    filler = "今天天气不错" * 20_000  # 120,000 characters
    assert codes(filler[:MAX_CHARS] + "违建") == []
    assert codes(filler[: MAX_CHARS - 2] + "违建") == ["illegal-building"]


def matched_by_definition(text: str, catalogue: MatterCatalogue) -> dict[str, set[str]]:
    """The module docstring's rule, read literally: a term matches in a sentence holding all its words
    and none of its matter's exclusions."""
    found: dict[str, set[str]] = {}
    for sentence in sentences(text):
        for matter in catalogue.matters:
            if any(x in sentence for x in matter.exclude):
                continue
            for term in matter.terms:
                if all(word in sentence for word in term.words):
                    found.setdefault(matter.code, set()).add(term.text)
    return found


def test_identification_finds_what_the_definition_finds_on_sentences_of_catalogue_words() -> None:
    packaged = load_matters(county=COUNTY)
    words = sorted(
        {w for m in packaged.matters for t in m.terms for w in t.words}
        | {x for m in packaged.matters for x in m.exclude}
    )
    pick = random.Random(20261130)
    filler = "的了在我们家门口附近有人说"
    for _ in range(400):
        text = "。".join(
            "".join(
                pick.choice(words) if pick.random() < 0.6 else pick.choice(filler) for _ in range(pick.randint(2, 9))
            )
            for _ in range(pick.randint(1, 3))
        )
        expected = matched_by_definition(text, packaged)
        hits = identify(text, packaged, limit=len(packaged))
        assert {h.code for h in hits} == set(expected), text
        for hit in hits:
            # A term inside a longer matched one is reported once, as the longer one.
            assert set(hit.words) <= expected[hit.code], text
