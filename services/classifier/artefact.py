"""Save and load the topic model artefact: ``topic_model.npz`` (arrays) + ``topic_model.json`` (metadata).

The npz holds only plain numpy arrays (no pickle): the sorted char n-gram keys, the word list,
IDF weights, the linear weights (float16) and biases. The JSON beside it records the version,
training-data fingerprint, parameters and metrics, and the sha256 of the npz.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hotline.services.classifier.features import FeatureSpace

ARTIFACTS_DIR = Path(__file__).with_name("artifacts")
NPZ_NAME = "topic_model.npz"
META_NAME = "topic_model.json"


@dataclass(slots=True)
class LinearArtefact:
    """Everything needed to predict: features, linear weights and metadata."""

    features: FeatureSpace
    classes: list[str]
    weights: npt.NDArray[np.float32]  # (n_features, n_classes)
    bias: npt.NDArray[np.float32]  # (n_classes,)
    temperature: float
    meta: dict[str, Any]


def _pack_strings(items: list[str]) -> npt.NDArray[np.uint8]:
    return np.frombuffer("\n".join(items).encode("utf-8"), dtype=np.uint8)


def _unpack_strings(arr: npt.NDArray[np.uint8]) -> list[str]:
    text = arr.tobytes().decode("utf-8")
    return text.split("\n") if text else []


def _feature_params(fs: FeatureSpace) -> dict[str, Any]:
    return {
        "max_n": fs.max_n,
        "word_weight": fs.word_weight,
        "title_tokens": fs.title_tokens,
        "title_weight": fs.title_weight,
    }


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save(art: LinearArtefact, out_dir: Path) -> tuple[Path, Path]:
    """Write the artefact into ``out_dir``; returns (npz path, json path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    npz = out_dir / NPZ_NAME
    fs = art.features
    tmp = out_dir / (NPZ_NAME + ".tmp.npz")
    np.savez_compressed(
        tmp,
        char_keys=fs.char_keys,
        char_idf=fs.char_idf.astype(np.float16),
        words=_pack_strings(fs.words),
        word_idf=fs.word_idf.astype(np.float16),
        classes=_pack_strings(art.classes),
        weights=art.weights.astype(np.float16),
        bias=art.bias.astype(np.float32),
        params=_pack_strings([json.dumps(_feature_params(fs) | {"temperature": art.temperature})]),
    )
    tmp.replace(npz)
    meta = dict(art.meta)
    meta["npz_sha256"] = sha256_file(npz)
    meta_path = out_dir / META_NAME
    tmp_meta = out_dir / (META_NAME + ".tmp")
    tmp_meta.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp_meta.replace(meta_path)
    return npz, meta_path


def load(path: Path | None = None) -> LinearArtefact:
    """Load an artefact from a directory (or the npz / json path inside it)."""
    base = path or ARTIFACTS_DIR
    if base.is_file():
        base = base.parent
    meta = json.loads((base / META_NAME).read_text(encoding="utf-8"))
    with np.load(base / NPZ_NAME, allow_pickle=False) as z:
        params = json.loads(_unpack_strings(z["params"])[0])
        temperature = float(params.pop("temperature"))
        fs = FeatureSpace(
            char_keys=z["char_keys"].astype(np.uint64),
            char_idf=z["char_idf"].astype(np.float32),
            words=_unpack_strings(z["words"]),
            word_idf=z["word_idf"].astype(np.float32),
            max_n=int(params["max_n"]),
            word_weight=float(params["word_weight"]),
            title_tokens=int(params["title_tokens"]),
            title_weight=float(params["title_weight"]),
        )
        return LinearArtefact(
            features=fs,
            classes=_unpack_strings(z["classes"]),
            weights=z["weights"].astype(np.float32),
            bias=z["bias"].astype(np.float32),
            temperature=temperature,
            meta=meta,
        )
