"""The classifier warms up before it takes work, so the first suggestion an operator waits for does
not pay for what is built on first use (it took 775 ms before): jieba is loaded with the model, but the
severity counting patterns are compiled on their first call (140 ms at idle, 9 ms afterwards)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
from hotline.services.classifier import severity, text
from hotline.services.classifier.app import warm_up
from hotline.services.classifier.classify import ClassifierParts
from hotline.services.classifier.model import TopicModel
from hotline.services.classifier.severity import load_severity_rules
from hotline.services.classifier.urgency import load_urgency_rules
from hotline.services.classifier.urgency_model import load_urgency_model
from hotline.shared.catalogue import packaged

urgency = {"urgency_rules": load_urgency_rules(), "urgency_model": load_urgency_model()}
parts = ClassifierParts(TopicModel.load(), load_severity_rules(), packaged(), **urgency)
assert text._cut is not None, "jieba is loaded with the model"
assert severity._count_patterns.cache_info().currsize == 0, "compiled before the warm-up: this proves nothing"
warm_up(parts)
assert severity._count_patterns.cache_info().currsize > 0, "the warm-up left the counting patterns uncompiled"
print("warm")
"""


def test_warm_up_builds_what_the_first_request_would() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=root, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0 and "warm" in done.stdout, done.stderr[-2000:]
