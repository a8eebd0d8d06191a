"""`hotline classify --bench-rules`: time urgency + severity + place on long, hostile texts.

The texts are those that once made a counting regex superlinear (a 20,000-digit 网上信访 took 76 s):
digits, one character repeated, random Chinese, and a real complaint repeated. Each is timed at 2,000
and 20,000 characters; linear (or, with the cap on what the rules read, flat) time shows as a ratio of
at most ~10.
"""

from __future__ import annotations

import json
import random
import time

from hotline.services.classifier.classify import assess_rules
from hotline.services.classifier.severity import load_severity_rules
from hotline.services.classifier.urgency import load_urgency_rules
from hotline.shared.domain.county import load_county

_COMPLAINT = "城厢镇经兜村3名村民反映，楼道里闻到一股怪味，十几个人头晕，去年也出过事，没有人受伤，建议加装报警器。"


def stress_texts(length: int, seed: int = 7) -> dict[str, str]:
    """Texts of ``length`` characters that stress the rule passes (deterministic for a seed)."""
    rng = random.Random(seed)
    return {
        "digits": "".join(rng.choice("0123456789") for _ in range(length)),
        "repeated": "着" * length,
        "random_chinese": "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(length)),
        "complaint": (_COMPLAINT * (length // len(_COMPLAINT) + 1))[:length],
        "numerals": ("一二三四五六七八九十百千万两" * (length // 14 + 1))[:length],
    }


def time_rules(texts: dict[str, str], repeat: int = 5) -> dict[str, float]:
    """Best-of-``repeat`` CPU milliseconds (process time: other processes on a busy machine do not count)
    of urgency + severity + place for each text."""
    severity, urgency, county = load_severity_rules(), load_urgency_rules(), load_county()
    out: dict[str, float] = {}
    for name, text in texts.items():
        best = float("inf")
        for _ in range(repeat):
            started = time.process_time()
            assess_rules(text, channel="petition", severity_rules=severity, county=county, urgency_rules=urgency)
            best = min(best, time.process_time() - started)
        out[name] = round(best * 1000, 2)
    return out


def main() -> int:
    short, long = time_rules(stress_texts(2_000)), time_rules(stress_texts(20_000))
    for name in short:
        ratio = long[name] / short[name] if short[name] else 0.0
        line = {"text": name, "ms_2k": short[name], "ms_20k": long[name], "ratio_20k_2k": round(ratio, 2)}
        print(json.dumps(line, ensure_ascii=False))
    print(json.dumps({"max_ms_20k": max(long.values()), "budget_ms": 50}))
    return 0
