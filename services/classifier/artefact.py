"""Save and load the topic model artefact: ``topic_model.npz`` (arrays) + ``topic_model.json`` (metadata).

The npz holds only plain numpy arrays (no pickle): the sorted char n-gram keys, the word list,
IDF weights, the linear weights (float16) and biases. The JSON beside it records the version,
training-data fingerprint, parameters and metrics, and the sha256 of the npz.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

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


def pack_strings(items: Sequence[str]) -> npt.NDArray[np.uint8]:
    return np.frombuffer("\n".join(items).encode("utf-8"), dtype=np.uint8)


def unpack_strings(arr: npt.NDArray[np.uint8]) -> list[str]:
    text = arr.tobytes().decode("utf-8")
    return text.split("\n") if text else []


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------- one reader and writer for every model


def feature_arrays(fs: FeatureSpace) -> dict[str, npt.NDArray[Any]]:
    """A fitted feature space as plain arrays (float16 IDF weights: half the size, same predictions)."""
    return {
        "char_keys": fs.char_keys,
        "char_idf": fs.char_idf.astype(np.float16),
        "words": pack_strings(fs.words),
        "word_idf": fs.word_idf.astype(np.float16),
    }


def feature_space(arrays: Mapping[str, npt.NDArray[Any]], params: Mapping[str, Any]) -> FeatureSpace:
    """The feature space stored by :func:`feature_arrays` with its ``params`` (title block optional)."""
    return FeatureSpace(
        char_keys=arrays["char_keys"].astype(np.uint64),
        char_idf=arrays["char_idf"].astype(np.float32),
        words=unpack_strings(arrays["words"]),
        word_idf=arrays["word_idf"].astype(np.float32),
        max_n=int(params["max_n"]),
        word_weight=float(params["word_weight"]),
        title_tokens=int(params.get("title_tokens", 0)),
        title_weight=float(params.get("title_weight", 0.0)),
    )


def write_artefact(
    out_dir: Path,
    names: tuple[str, str],
    arrays: Mapping[str, npt.NDArray[Any]],
    params: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> tuple[Path, Path]:
    """Write ``names`` = (npz, json) into ``out_dir``, each atomically: the arrays (no pickle) with the
    params packed beside them, and the metadata with the npz's sha256. Returns both paths."""
    npz_name, meta_name = names
    out_dir.mkdir(parents=True, exist_ok=True)
    npz, tmp = out_dir / npz_name, out_dir / (npz_name + ".tmp.npz")
    payload: dict[str, Any] = {**arrays, "params": pack_strings([json.dumps(dict(params))])}
    np.savez_compressed(tmp, **payload)
    tmp.replace(npz)
    meta_path, tmp_meta = out_dir / meta_name, out_dir / (meta_name + ".tmp")
    text = json.dumps(dict(meta) | {"npz_sha256": sha256_file(npz)}, ensure_ascii=False, indent=2) + "\n"
    tmp_meta.write_text(text, encoding="utf-8")
    tmp_meta.replace(meta_path)
    return npz, meta_path


def read_artefact(
    base: Path, names: tuple[str, str]
) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any], dict[str, Any]]:
    """(arrays, params, meta) of the artefact ``names`` = (npz, json) in ``base``."""
    npz_name, meta_name = names
    meta = json.loads((base / meta_name).read_text(encoding="utf-8"))
    with np.load(base / npz_name, allow_pickle=False) as z:
        arrays = {key: z[key] for key in z.files}
    params = json.loads(unpack_strings(arrays.pop("params"))[0])
    return arrays, params, meta


# ------------------------------------------------------------------------------------ the topic model


def save(art: LinearArtefact, out_dir: Path) -> tuple[Path, Path]:
    """Write the artefact into ``out_dir``; returns (npz path, json path)."""
    fs = art.features
    arrays = feature_arrays(fs) | {
        "classes": pack_strings(art.classes),
        "weights": art.weights.astype(np.float16),
        "bias": art.bias.astype(np.float32),
    }
    params = {
        "max_n": fs.max_n,
        "word_weight": fs.word_weight,
        "title_tokens": fs.title_tokens,
        "title_weight": fs.title_weight,
        "temperature": art.temperature,
    }
    return write_artefact(out_dir, (NPZ_NAME, META_NAME), arrays, params, art.meta)


def load(path: Path | None = None) -> LinearArtefact:
    """Load an artefact from a directory (or the npz / json path inside it)."""
    base = path or ARTIFACTS_DIR
    if base.is_file():
        base = base.parent
    arrays, params, meta = read_artefact(base, (NPZ_NAME, META_NAME))
    return LinearArtefact(
        features=feature_space(arrays, params),
        classes=unpack_strings(arrays["classes"]),
        weights=arrays["weights"].astype(np.float32),
        bias=arrays["bias"].astype(np.float32),
        temperature=float(params["temperature"]),
        meta=meta,
    )


Loaded = TypeVar("Loaded")


@lru_cache(maxsize=16)
def _read_once(path: Path, mtime_ns: int, read: Callable[[Path], Any]) -> Any:
    return read(path)


def load_cached(path: Path, read: Callable[[Path], Loaded]) -> Loaded | None:
    """The artefact at ``path`` as ``read`` parses it, read once per version of the file (its mtime:
    a retrained artefact written in place is read anew); None when there is none."""
    if not path.exists():
        return None
    return cast(Loaded, _read_once(path, path.stat().st_mtime_ns, read))
