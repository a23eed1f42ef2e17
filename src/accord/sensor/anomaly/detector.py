"""The detector: distance to the nearest normal prototype plus PCA reconstruction error.

Why this pair (docs/anomaly.md has the figures): on NSL-KDD a nearest-normal-neighbour distance is
the strongest single score, and a low-rank reconstruction error (a linear autoencoder) catches the
flows that break correlations the neighbours do not; averaged, each after being put on the scale
of held-out normal traffic, they beat either alone and every open-source peer measured. Scoring
must keep up with a busy link, so the neighbours are k-means prototypes in a PCA space that keeps
99.5 % of the variance: one float32 matrix product per batch.

The alert threshold comes from normal traffic only: a share of the training flows is held out,
scored, and the threshold is the (1 - fpr) quantile of their scores. Attack labels never enter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import MiniBatchKMeans

from accord.sensor.anomaly.errors import NotEnoughDataError
from accord.sensor.anomaly.features import Encoder
from accord.sensor.anomaly.flows import FloatArray, FlowTable, concat

F32 = NDArray[np.float32]
MIN_FLOWS = 50
_EPS = 1e-6
_BLOCK = 4096


@dataclass(frozen=True)
class DetectorConfig:
    """Choices made once per model; the defaults are the ones measured in docs/anomaly.md.

    ``clip``, ``category_weight``, ``recon_rank`` and the ``local_*`` settings were chosen
    on training data only (normal training flows and the training file's attacks, never a test
    file): ``bench/anomaly.py --validate`` reruns that comparison. ``local_scale`` 0 turns the
    per-prototype scaling of the neighbour distance off (models of format 1 and 2 score so).
    """

    fpr: float = 0.05
    clip: float = 3.0
    category_weight: float = 2.0
    prototypes: int = 1024
    variance: float = 0.995
    recon_rank: int = 3
    local_scale: float = 0.5
    local_floor: float = 0.3
    local_prior: float = 5.0
    holdout: float = 0.2
    sample_cap: int = 50_000
    seed: int = 0


@dataclass(frozen=True)
class Scores:
    """Per flow: the ensemble score, its two parts (on the held-out normal scale), the verdict."""

    score: FloatArray
    neighbour: FloatArray
    reconstruction: FloatArray
    anomalous: NDArray[np.bool_]


@dataclass(frozen=True)
class Detector:
    """A fitted model. ``baseline`` is a capped sample of the training flows, kept for ``update``."""

    config: DetectorConfig
    encoder: Encoder
    mean: F32
    basis: F32
    prototypes: F32
    local: F32
    calibration: FloatArray
    threshold: float
    baseline: FlowTable

    @classmethod
    def fit(cls, normal: FlowTable, config: DetectorConfig = DetectorConfig()) -> Detector:
        """Learn from flows believed normal: fit on most of them, set the threshold on the rest."""
        if len(normal) < MIN_FLOWS:
            raise NotEnoughDataError(f"{len(normal)} flows: at least {MIN_FLOWS} normal flows are needed")
        if not 0 < config.fpr < 1:
            raise ValueError(f"fpr must be between 0 and 1, not {config.fpr}")
        fit_idx, held_idx = holdout_split(len(normal), config.holdout, config.seed)
        fit_rows, held = normal.take(fit_idx), normal.take(held_idx)
        encoder = Encoder.fit(fit_rows)
        x = _shape(encoder.transform(fit_rows), encoder, config)
        mean = x.mean(axis=0)
        _, sv, vt = np.linalg.svd(x - mean, full_matrices=False)
        explained = np.cumsum(sv**2) / max(float((sv**2).sum()), _EPS)
        rank = int(np.searchsorted(explained, config.variance) + 1)
        basis = vt[: max(rank, config.recon_rank)].astype(np.float32)
        projected = (x - mean) @ basis.T
        prototypes, clustered = _prototypes(projected, config)
        local = np.ones(len(prototypes), dtype=np.float32)
        kept = np.sort(np.concatenate([fit_idx, held_idx])[: config.sample_cap])
        model = cls(
            config,
            encoder,
            mean.astype(np.float32),
            basis,
            prototypes,
            local,
            np.array([0.0, 1.0, 0.0, 1.0]),
            np.inf,
            normal.take(kept),
        )
        if config.local_scale and clustered:
            model = replace(model, local=_local_scale(*model.nearest(x), len(prototypes), config))
        neighbour, recon = model._raw_scores(held)
        calibration = np.array([*_centre_spread(neighbour), *_centre_spread(recon)])
        model = replace(model, calibration=calibration)
        held_scores = model.score(held).score
        return replace(model, threshold=float(np.quantile(held_scores, 1 - config.fpr)))

    def update(self, recent: FlowTable, keep: float = 0.5) -> Detector:
        """Refresh the baseline with recent normal traffic, keeping a random ``keep`` share of the old.

        The old share shrinks with every update, so the baseline follows drift without forgetting
        at once what normal looked like last week.
        """
        rng = np.random.default_rng(self.config.seed + 1)
        old = self.baseline.take(np.sort(rng.permutation(len(self.baseline))[: int(len(self.baseline) * keep)]))
        self.encoder.schema.check(recent)
        return Detector.fit(concat([old, recent.normal()]), self.config)

    def score(self, flows: FlowTable) -> Scores:
        """Score flows; larger is stranger, and ``anomalous`` is ``score > threshold``."""
        neighbour, recon = self._raw_scores(flows)
        c = self.calibration
        parts = ((np.log(neighbour + _EPS) - c[0]) / c[1], (np.log(recon + _EPS) - c[2]) / c[3])
        score = (parts[0] + parts[1]) / 2
        return Scores(score, parts[0], parts[1], score > self.threshold)

    def encode(self, flows: FlowTable) -> F32:
        """Flows as the model sees them: numeric parts clipped to +/- ``config.clip``, one-hot
        parts scaled by ``config.category_weight``."""
        return _shape(self.encoder.transform(flows), self.encoder, self.config)

    def nearest(self, x: F32) -> tuple[NDArray[np.intp], F32]:
        """Index of and squared distance to each row's nearest prototype (in the PCA space)."""
        projected = (x - self.mean) @ self.basis.T
        minus_twice = (-2 * self.prototypes).T.copy()
        norms = (self.prototypes**2).sum(axis=1)
        index = np.empty(len(x), dtype=np.intp)
        dist = np.empty(len(x), dtype=np.float32)
        for start in range(0, len(x), _BLOCK):
            block = projected[start : start + _BLOCK]
            d = block @ minus_twice
            d += norms
            index[start : start + _BLOCK] = best = d.argmin(axis=1)
            dist[start : start + _BLOCK] = d[np.arange(len(block)), best] + (block**2).sum(axis=1)
        return index, np.maximum(dist, 0)

    def residual(self, x: F32) -> F32:
        """What the top ``recon_rank`` principal components cannot reconstruct, per feature."""
        centred = x - self.mean
        top = self.basis[: self.config.recon_rank]
        return np.asarray(centred - (centred @ top.T) @ top, dtype=np.float32)

    def _raw_scores(self, flows: FlowTable) -> tuple[FloatArray, FloatArray]:
        x = self.encode(flows)
        index, dist = self.nearest(x)
        recon = (self.residual(x) ** 2).sum(axis=1)
        return (np.sqrt(dist) / self.local[index]).astype(np.float64), recon.astype(np.float64)


def holdout_split(n: int, holdout: float, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows to fit on and rows to set the threshold on: a seeded shuffle, so peers can share it."""
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(n * (1 - holdout)))
    return order[:cut], order[cut:]


def _shape(x: F32, encoder: Encoder, config: DetectorConfig) -> F32:
    """Bound numeric z-scores: one absurd byte count must not outweigh every other feature. Then
    weight the one-hot columns: against up to 41 clipped z-scores a service or flag the baseline
    rarely pairs with such numbers is otherwise a small term in a distance (a changed category moves
    a flow by sqrt(2) * weight)."""
    width = len(encoder.schema.numeric)
    np.clip(x[:, :width], -config.clip, config.clip, out=x[:, :width])
    if config.category_weight != 1.0:
        x[:, width:] *= config.category_weight
    return x


def _prototypes(projected: F32, config: DetectorConfig) -> tuple[F32, bool]:
    """The prototypes, and whether they are cluster centres (False: the distinct flows themselves,
    which have no neighbourhood to measure a spread over, so the local scale stays 1)."""
    unique = np.unique(projected, axis=0)
    if len(unique) <= config.prototypes:
        return unique.astype(np.float32), False
    km = MiniBatchKMeans(config.prototypes, random_state=config.seed, n_init=1, batch_size=4096)
    return np.asarray(km.fit(projected).cluster_centers_, dtype=np.float32), True


def _local_scale(index: NDArray[np.intp], dist: F32, count: int, config: DetectorConfig) -> F32:
    """Per prototype, the divisor of the distance to it: (spread + ``local_floor`` x the median
    distance over all flows) ** ``local_scale``, where the spread is the median distance of the
    training flows the prototype stands for, shrunk towards the overall median as if
    ``local_prior`` more flows had that distance.

    Normal traffic is tight in some places (one web service's requests) and loose in others (file
    transfers of any size). One distance cannot be "far" for both: measured against the spread of
    its own neighbourhood, a flow a little off a tight cluster counts as much as one well off a
    loose cluster (as in the local outlier factor). The floor keeps prototypes that stand for one
    flow, with no spread of their own, from magnifying every gap, and the shrinking keeps a spread
    measured on two or three flows from swinging the score (on a small baseline, where most
    prototypes stand for one to six flows, unshrunk spreads halved the detection of a synthetic
    flood: tests/anomaly/test_detector.py). The exponent below 1 keeps the global distance in the
    score too.
    """
    radius = np.sqrt(dist.astype(np.float64))
    order = np.argsort(index, kind="stable")
    groups = np.split(radius[order], np.searchsorted(index[order], np.arange(1, count)))
    medians = np.array([np.median(g) if len(g) else 0.0 for g in groups])
    sizes = np.array([len(g) for g in groups])
    overall = float(np.median(radius))
    shrunk = (sizes * medians + config.local_prior * overall) / np.maximum(sizes + config.local_prior, 1)
    floor = config.local_floor * overall
    return np.asarray((shrunk + max(floor, _EPS)) ** config.local_scale, dtype=np.float32)


def _centre_spread(raw: FloatArray) -> tuple[float, float]:
    """Median and interquartile range of log scores, so both parts share one scale."""
    logs = np.log(raw + _EPS)
    q75, q50, q25 = np.percentile(logs, [75, 50, 25])
    return float(q50), float(max(q75 - q25, 1e-3))
