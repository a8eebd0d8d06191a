"""The learned reading of who leads: char 1–3-gram TF-IDF + multinomial logistic regression over units.

The catalogue's terms and the matter model know each matter's words; what they miss is how people who
never saw the catalogue tell a complaint. This model is trained on the labelled routing suites (sixteen
independent writers: each case's first acceptable 主办 unit) and on the matter training texts (each
matter's 主办), and says, for a whole text, how likely each unit leads. "town" stands for the 属地
乡镇/街道 (the township is found in the text or chosen by the operator, never by the model).

Trained by ``hotline train-units`` (:mod:`unit_train`), shipped as ``artifacts/unit_model.npz``: the
n-grams as packed integer codes (see :mod:`char_grams`), their IDF, the weights per
unit and the threshold from which the router follows the model, chosen leaving each writer out.
Prediction needs no scikit-learn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hotline.services.classifier.artefact import load_cached
from hotline.services.classifier.char_grams import tfidf_rows

NPZ_NAME = "unit_model.npz"
MODEL_PATH = Path(__file__).with_name("artifacts") / NPZ_NAME
TOP_UNITS = 3  # how many units a classified event carries


@dataclass(frozen=True, slots=True, eq=False)
class UnitModel:
    codes: npt.NDArray[np.uint64]  # the n-grams' codes, sorted
    idf: npt.NDArray[np.float64]
    coef: npt.NDArray[np.floating[Any]]  # n-grams × units
    intercept: npt.NDArray[np.float64]  # per unit
    units: tuple[str, ...]
    threshold: float  # the probability from which the router follows the model
    version: str

    def __post_init__(self) -> None:
        # Scored against float64 TF-IDF rows, a float32 matrix was copied to float64 (10 MB) for every
        # product, 0.29 ms each, two a batch (a batch of one: 3.07 -> 2.29 ms). Widened once; same numbers.
        object.__setattr__(self, "coef", np.asarray(self.coef, dtype=np.float64))


def probabilities_of(
    texts: Sequence[str], model: UnitModel, rows: sp.csr_matrix | None = None
) -> npt.NDArray[np.float64]:
    """Each unit's probability of leading each text (rows: texts; columns: ``model.units``):
    TfidfVectorizer's char 1–3-grams with sublinear tf and l2 norm, then a softmax of the linear
    scores; all texts read in one pass (``rows``: their TF-IDF rows, when a shared
    :class:`char_grams.GramReader` read them already)."""
    tfidf = tfidf_rows(texts, model) if rows is None else rows
    scores = np.asarray(tfidf @ model.coef, dtype=np.float64)
    scores += model.intercept
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def probabilities(text: str, model: UnitModel) -> npt.NDArray[np.float64]:
    """Each unit's probability of leading ``text``, in ``model.units`` order."""
    row: npt.NDArray[np.float64] = probabilities_of([text], model)[0]
    return row


def likeliest_units_of(
    texts: Sequence[str], model: UnitModel, top: int = TOP_UNITS, rows: sp.csr_matrix | None = None
) -> list[list[tuple[str, float]]]:
    """Per text, the ``top`` likeliest leading units with their probabilities, likeliest first."""
    if not texts:
        return []
    p = probabilities_of(texts, model, rows)
    order = np.argsort(-p, axis=1, kind="stable")[:, :top]
    return [[(model.units[int(i)], round(float(row[i]), 4)) for i in best] for row, best in zip(p, order, strict=True)]


def likeliest_units(text: str, model: UnitModel, top: int = TOP_UNITS) -> list[tuple[str, float]]:
    """The ``top`` likeliest leading units of ``text`` with their probabilities, likeliest first."""
    return likeliest_units_of([text], model, top)[0]


def save_unit_model(path: Path, model: UnitModel, meta: Mapping[str, object]) -> None:
    """Write the artefact (compressed arrays, the units and the metadata as JSON text)."""
    info = {**meta, "units": list(model.units), "threshold": model.threshold, "version": model.version}
    with path.open("wb") as fh:
        np.savez_compressed(
            fh,
            codes=model.codes,
            idf=model.idf.astype(np.float32),
            coef=model.coef.astype(np.float16),
            intercept=model.intercept,
            meta=np.array(json.dumps(info, ensure_ascii=False)),
        )


def parse_unit_model(arrays: dict[str, npt.NDArray[np.generic]]) -> UnitModel:
    info = json.loads(str(arrays["meta"]))
    units = tuple(str(u) for u in info["units"])
    coef = np.asarray(arrays["coef"], dtype=np.float32)
    if coef.shape[1:] != (len(units),) or coef.shape[0] != len(arrays["codes"]):
        raise ValueError(f"unit model: weights of shape {coef.shape} for {len(units)} units")
    return UnitModel(
        codes=np.asarray(arrays["codes"], dtype=np.uint64),
        idf=np.asarray(arrays["idf"], dtype=np.float64),
        coef=coef,
        intercept=np.asarray(arrays["intercept"], dtype=np.float64),
        units=units,
        threshold=float(info["threshold"]),
        version=str(info.get("version", "")),
    )


def _read(path: Path) -> UnitModel:
    with np.load(path, allow_pickle=False) as data:
        return parse_unit_model({name: data[name] for name in data.files})


def load_unit_model(path: Path | None = None) -> UnitModel | None:
    """The shipped model (or the one at ``path``); None when there is none (terms and matters decide)."""
    return load_cached(path or MODEL_PATH, _read)
