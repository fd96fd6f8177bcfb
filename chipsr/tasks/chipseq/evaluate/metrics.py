"""Per-track metric rows of ``chipsr evaluate`` (Pearson r, Spearman r, MSE and the mean, per
chromosome and overall, for all bins, in-peak bins and background bins) and the differential r
against a reference track.

Pearson r is the metric of the TFiLM paper (Birnbaum et al. 2019, Section 4.2, Table 2) and of Coda
(Koh et al. 2017); the split into in-peak and outside-peak bins is AtacWorks' (Lal et al. 2021).
"""

from __future__ import annotations

import math

import numpy as np

from chipsr.tasks.chipseq.evaluate.regions import Chrom


#: Metric subsets, in output order.
SUBSETS = ("all", "peaks", "background")


def nan_to_none(value: float | None) -> float | None:
    """``value`` as a float, or None (JSON null) when it is None, NaN or infinite."""
    return None if value is None or not math.isfinite(value) else float(value)


def track_metrics(track: str, chrom: str, x: np.ndarray, y: np.ndarray, subsets: dict[str, np.ndarray],
                  scale: tuple[float, float] = (1.0, 1.0)) -> list[dict]:
    """Rows of one track on one chromosome; MSE is taken between x / scale[0] and y / scale[1]
    (each track's fold enrichment over its mean on all evaluated bins: comparable across units)."""
    from chipsr.core.metrics import mse, pearson_r, spearman_r

    sx, sy = (s if s > 0 else 1.0 for s in scale)

    rows = []
    for subset in SUBSETS:
        m = subsets[subset]
        xs, ys = x[m], y[m]
        n = int(m.sum())
        if n == 0:
            r = rho = err = mean = math.nan
        else:
            r, rho, err, mean = pearson_r(xs, ys), spearman_r(xs, ys), mse(xs / sx, ys / sy), float(np.mean(xs))
        rows.append({"track": track, "chrom": chrom, "subset": subset, "n_bins": n,
                     "pearson": float(r), "spearman": float(rho), "mse": float(err), "mean": float(mean)})
    return rows


def metric_rows(chroms, order: list[str], all_truth: np.ndarray, all_valid: np.ndarray) -> list[dict]:
    """Every track's metric rows (:func:`track_metrics`), per chromosome and over all of them ("all"), for
    all bins, in-peak bins and background bins."""
    rows: list[dict] = []
    all_peaks = np.concatenate([c.peaks for c in chroms])
    truth_mean = float(all_truth[all_valid].mean()) if all_valid.any() else 1.0
    for name in order:
        x = np.concatenate([c.tracks[name] for c in chroms])
        scale = (float(x[all_valid].mean()) if all_valid.any() else 1.0, truth_mean)
        for c in chroms:
            rows += track_metrics(name, c.name, c.tracks[name], c.truth,
                                  {"all": c.valid, "peaks": c.peaks, "background": c.valid & ~c.peaks}, scale)
        if len(chroms) == 1:  # "all" is that chromosome: copy its rows
            rows += [{**r, "chrom": "all"} for r in rows[-len(SUBSETS):]]
            continue
        rows += track_metrics(name, "all", x, all_truth,
                              {"all": all_valid, "peaks": all_peaks, "background": all_valid & ~all_peaks}, scale)
    return rows


def differential_r(track: np.ndarray, truth: np.ndarray, reference: np.ndarray) -> float:
    """Pearson r between (track - reference) and (truth - reference), each in fold enrichment
    over its own mean on the given bins: does a method recover what is specific to
    the new sample, rather than copy the related sample's deep track? The reference itself
    scores NaN (its difference is zero); the reference plus independent noise scores about 0.

    Parameters
    ----------
    track, truth, reference : ndarray, shape (n,)
        The same n evaluated bins.
    """
    from chipsr.core.metrics import pearson_r

    def fe(v):
        m = float(np.mean(v))
        return v / m if m > 0 else v

    ref = fe(reference.astype(np.float64))
    return float(pearson_r(fe(track.astype(np.float64)) - ref, fe(truth.astype(np.float64)) - ref))


def differential_entry(chroms: list[Chrom], reference: str | None, order: list[str], all_truth: np.ndarray,
                       all_valid: np.ndarray) -> dict | None:
    """The result's ``differential`` entry: each track's :func:`differential_r` against ``reference``
    over the evaluated, non-blacklisted bins (None without a reference)."""
    if reference is None:
        return None
    ref_all = np.concatenate([c.tracks[reference] for c in chroms])[all_valid]
    truth_valid = all_truth[all_valid]
    return {"reference": reference, "by_track": {
        name: nan_to_none(differential_r(np.concatenate([c.tracks[name] for c in chroms])[all_valid],
                                         truth_valid, ref_all)) for name in order}}
