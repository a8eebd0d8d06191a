"""The learned matter model: text → the likeliest 事项 of the catalogue, as evidence beside the terms.

A multinomial logistic regression over char 1–3-gram + word TF-IDF (its own small vocabulary, on the
same normalised tokens as the topic model, so jieba runs once per text). The weights are pruned to the
strongest few hundred features per matter and stored sparse in ``matter_model.npz`` (plain arrays, no
pickle) with ``matter_model.json`` (version, data fingerprint, parameters, cross-validated metrics).
Train it with ``hotline train-matters``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hotline.services.classifier.artefact import ARTIFACTS_DIR, sha256_file
from hotline.services.classifier.features import FeatureSpace

NPZ_NAME = "matter_model.npz"
META_NAME = "matter_model.json"
TOP_K = 5  # matters put on the ``classified`` event
MIN_PROBABILITY = 0.02  # below this a matter is noise, not evidence


def _pack(items: Sequence[str]) -> npt.NDArray[np.uint8]:
    return np.frombuffer("\n".join(items).encode("utf-8"), dtype=np.uint8)


def _unpack(arr: npt.NDArray[np.uint8]) -> list[str]:
    text = arr.tobytes().decode("utf-8")
    return text.split("\n") if text else []


@dataclass(slots=True)
class MatterModel:
    features: FeatureSpace
    codes: list[str]
    weights: sp.csr_matrix  # (n_features, n_matters), pruned
    bias: npt.NDArray[np.float32]
    meta: dict[str, Any]

    column: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.column = {code: i for i, code in enumerate(self.codes)}

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "matters-unknown"))

    def probabilities(self, tokens: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
        """Matter probabilities (n_texts x n_matters) for normalised token lists."""
        x = self.features.transform(tokens)
        z = np.asarray((x @ self.weights).todense(), dtype=np.float32) + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: npt.NDArray[np.float32] = e / e.sum(axis=1, keepdims=True)
        return out


def save(model: MatterModel, out_dir: Path = ARTIFACTS_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    fs, w = model.features, model.weights.tocsr()
    npz = out_dir / NPZ_NAME
    tmp = out_dir / (NPZ_NAME + ".tmp.npz")
    np.savez_compressed(
        tmp,
        char_keys=fs.char_keys,
        char_idf=fs.char_idf.astype(np.float16),
        words=_pack(fs.words),
        word_idf=fs.word_idf.astype(np.float16),
        codes=_pack(model.codes),
        w_data=w.data.astype(np.float16),
        w_indices=w.indices.astype(np.int32),
        w_indptr=w.indptr.astype(np.int32),
        w_shape=np.array(w.shape, dtype=np.int64),
        bias=model.bias.astype(np.float32),
        params=_pack([json.dumps({"max_n": fs.max_n, "word_weight": fs.word_weight})]),
    )
    tmp.replace(npz)
    meta = dict(model.meta) | {"npz_sha256": sha256_file(npz)}
    (out_dir / META_NAME).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return npz


def load(path: Path | None = None) -> MatterModel:
    """Load the artefact from a directory (default: the packaged ``artifacts/``)."""
    base = path or ARTIFACTS_DIR
    meta = json.loads((base / META_NAME).read_text(encoding="utf-8"))
    with np.load(base / NPZ_NAME, allow_pickle=False) as z:
        params = json.loads(_unpack(z["params"])[0])
        fs = FeatureSpace(
            char_keys=z["char_keys"].astype(np.uint64),
            char_idf=z["char_idf"].astype(np.float32),
            words=_unpack(z["words"]),
            word_idf=z["word_idf"].astype(np.float32),
            max_n=int(params["max_n"]),
            word_weight=float(params["word_weight"]),
        )
        shape = tuple(int(v) for v in z["w_shape"])
        weights = sp.csr_matrix(
            (z["w_data"].astype(np.float32), z["w_indices"], z["w_indptr"]), shape=(shape[0], shape[1])
        )
        return MatterModel(fs, _unpack(z["codes"]), weights, z["bias"].astype(np.float32), meta)


def load_optional(path: Path | None = None) -> MatterModel | None:
    """The packaged model, or None where none was trained (the terms alone then decide)."""
    try:
        return load(path)
    except FileNotFoundError:
        return None
