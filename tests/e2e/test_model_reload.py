"""A retrained model is picked up by the running classifier without a restart."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import nats

from hotline.services.classifier import matter_model
from hotline.services.classifier.artefact import ARTIFACTS_DIR, META_NAME
from hotline.shared.subjects import health_subject
from tests.e2e.conftest import SystemFactory, wait_until


def classifier_model_version(url: str, key: str = "model_version") -> str | None:
    async def ask() -> str | None:
        nc = await nats.connect(url)
        try:
            reply = await nc.request(health_subject("classifier"), b"", timeout=2)
            version = json.loads(reply.data).get(key)
            return str(version) if version else None
        except Exception:
            return None
        finally:
            await nc.close()

    return asyncio.run(ask())


def test_the_classifier_switches_to_a_new_model_version_while_running(
    start_system: SystemFactory, tmp_path: Path
) -> None:
    model_dir = tmp_path / "county-model"
    shutil.copytree(ARTIFACTS_DIR, model_dir)
    original = json.loads((model_dir / META_NAME).read_text(encoding="utf-8"))["version"]
    system = start_system(services=("classifier",), HOTLINE_MODEL_DIR=str(model_dir), HOTLINE_MODEL_CHECK="0.2")
    url = system.env["NATS_URL"]
    assert wait_until(lambda: classifier_model_version(url), what="the classifier") == original

    # What `hotline train --out DIR` leaves behind: a new version in the same directory.
    meta = json.loads((model_dir / META_NAME).read_text(encoding="utf-8"))
    meta["version"] = original + "-retrained"
    (model_dir / META_NAME).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    wait_until(lambda: classifier_model_version(url) == original + "-retrained", what="the new model version")

    # What `hotline train --from-cases` leaves behind: a new matter model beside the same topic model.
    matters = json.loads((model_dir / matter_model.META_NAME).read_text(encoding="utf-8"))
    matters["version"] += "-from-cases"
    (model_dir / matter_model.META_NAME).write_text(json.dumps(matters, ensure_ascii=False), encoding="utf-8")
    wait_until(
        lambda: classifier_model_version(url, "matter_model_version") == matters["version"],
        what="the new matter model version",
    )
