"""The learned matter model: text → the likeliest 事项 of the catalogue, as evidence beside the terms.

A multinomial logistic regression over char 1–3-gram + word TF-IDF (its own small vocabulary, on the
same normalised tokens as the topic model, so jieba runs once per text). The weights are pruned to the
strongest few hundred features per matter and stored sparse in ``matter_model.npz`` (plain arrays, no
pickle) with ``matter_model.json`` (version, data fingerprint, parameters, cross-validated metrics).
Train it with ``hotline train-matters``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hotline.services.classifier.artefact import (
    ARTIFACTS_DIR,
    feature_arrays,
    feature_space,
    pack_strings,
    read_artefact,
    unpack_strings,
    write_artefact,
)
from hotline.services.classifier.features import FeatureSpace

NPZ_NAME = "matter_model.npz"
META_NAME = "matter_model.json"
TOP_K = 5  # matters put on the ``classified`` event
MIN_PROBABILITY = 0.02  # below this a matter is noise, not evidence


@dataclass(slots=True)
class MatterModel:
    features: FeatureSpace
    codes: list[str]
    weights: sp.csr_matrix  # (n_features, n_matters), pruned
    bias: npt.NDArray[np.float32]
    meta: dict[str, Any]

    column: dict[str, int] = field(init=False, repr=False, compare=False)
    by_class: dict[str, list[int]] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.column = {code: i for i, code in enumerate(self.codes)}
        # Each first-level class's matter columns, when the artefact records the matters' classes.
        classes = self.meta.get("classes")
        self.by_class = None
        if isinstance(classes, dict):
            self.by_class = {}
            for i, code in enumerate(self.codes):
                self.by_class.setdefault(str(classes.get(code)), []).append(i)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "matters-unknown"))

    def class_mass(self, row: npt.NDArray[np.float32], klass: str) -> float | None:
        """The probability of one text's matters (``row``) summed over a first-level class; None when the
        artefact does not record its matters' classes (trained before they were stored)."""
        if self.by_class is None:
            return None
        return float(row[self.by_class.get(klass, [])].sum())

    def probabilities(self, tokens: Sequence[Sequence[str]]) -> npt.NDArray[np.float32]:
        """Matter probabilities (n_texts x n_matters) for normalised token lists."""
        x = self.features.transform(tokens)
        z = np.asarray((x @ self.weights).todense(), dtype=np.float32) + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: npt.NDArray[np.float32] = e / e.sum(axis=1, keepdims=True)
        return out


def save(model: MatterModel, out_dir: Path = ARTIFACTS_DIR) -> Path:
    fs, w = model.features, model.weights.tocsr()
    arrays = feature_arrays(fs) | {
        "codes": pack_strings(model.codes),
        "w_data": w.data.astype(np.float16),
        "w_indices": w.indices.astype(np.int32),
        "w_indptr": w.indptr.astype(np.int32),
        "w_shape": np.array(w.shape, dtype=np.int64),
        "bias": model.bias.astype(np.float32),
    }
    params = {"max_n": fs.max_n, "word_weight": fs.word_weight}
    npz, _ = write_artefact(out_dir, (NPZ_NAME, META_NAME), arrays, params, model.meta)
    return npz


def load(path: Path | None = None) -> MatterModel:
    """Load the artefact from a directory (default: the packaged ``artifacts/``)."""
    arrays, params, meta = read_artefact(path or ARTIFACTS_DIR, (NPZ_NAME, META_NAME))
    rows, columns = (int(v) for v in arrays["w_shape"])
    weights = sp.csr_matrix(
        (arrays["w_data"].astype(np.float32), arrays["w_indices"], arrays["w_indptr"]), shape=(rows, columns)
    )
    codes = unpack_strings(arrays["codes"])
    return MatterModel(feature_space(arrays, params), codes, weights, arrays["bias"].astype(np.float32), meta)


def load_optional(path: Path | None = None) -> MatterModel | None:
    """The packaged model, or None where none was trained (the terms alone then decide)."""
    try:
        return load(path)
    except FileNotFoundError:
        return None
