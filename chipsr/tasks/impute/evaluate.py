"""The imputation benchmark: hide test values (seeded), impute, score; TSV / JSON / Markdown / PNG.

Protocol (SAITS on Beijing Air-Quality; the same code runs on ETT or a wide CSV): the test table
(Beijing: the first 10 months, 7,344 h x 132 series) is truncated to a whole number of
``window``-step windows; for every setting (MCAR points at 10 / 20 / 30 % of the observed values,
contiguous blocks) and seed, the chosen entries are hidden, every method imputes, and the hidden
entries are scored. Each method runs in one or two *contexts*:

* ``window``: the test table cut into consecutive ``window``-step windows (24: SAITS), each
  imputed on its own (a model with a longer window is skipped here);
* ``series``: each test series imputed whole (a model tiles it with its own window).

Metrics (``chipsr.core.metrics``), per seed, then mean and std (ddof 0) over seeds:

* ``mae``, ``rmse``, ``mre``: masked MAE / RMSE / MRE on the hidden entries (PyPOTS), in
  standardised units (training mean / std per feature: the published numbers) and, suffixed
  ``_orig``, in original units (MRE differs between the two: it pools features of different
  scales);
* ``l2``: the TFiLM paper's "L2 distance": mean over series (features) of the per-series RMSE over
  all test steps (observed steps contribute zero error; truly missing steps, which have no
  truth, count as zero error too), standardised (``l2``) and original units (``l2_orig``).

ZeroFill fills 0 in original units (the paper's zero-out), so in standardised units it is not
the mean.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import check_output_path
from chipsr.io.tables import markdown_table
from chipsr.plots import imputation_example
from chipsr.tasks.impute import baselines as B
from chipsr.tasks.impute import data as D

log = logging.getLogger(__name__)

METRICS = ("mae", "rmse", "mre", "l2", "mae_orig", "rmse_orig", "mre_orig", "l2_orig")


def setting_label(setting: str) -> str:
    """``"0.1"`` -> ``"MCAR 10%"``, ``"block"`` -> ``"blocks"``."""
    if str(setting).startswith("block"):
        return "blocks"
    return f"MCAR {float(setting) * 100:g}%"


def l2_series(pred: np.ndarray, truth: np.ndarray) -> float:
    """The paper's L2 distance for a (T, F) table: mean over the F series of the RMSE over the T
    steps; entries where ``truth`` is NaN count as zero error."""
    from chipsr.core.metrics import l2_distance

    known = ~np.isnan(truth)
    return l2_distance(np.where(known, pred, 0.0).T, np.where(known, truth, 0.0).T)


def score(pred: np.ndarray, truth: np.ndarray, ind: np.ndarray, scaler: D.Standardizer) -> dict:
    """All :data:`METRICS` for a filled (T, F) table ``pred`` against ``truth`` on mask ``ind``."""
    from chipsr.core.metrics import masked_mae, masked_mre, masked_rmse

    out = {}
    zp, zt = scaler.transform(pred), scaler.transform(truth)
    for suffix, p, t in (("", zp, zt), ("_orig", pred, truth)):
        out["mae" + suffix] = masked_mae(p, t, ind)
        out["rmse" + suffix] = masked_rmse(p, t, ind)
        out["mre" + suffix] = masked_mre(p, t, ind)
        out["l2" + suffix] = l2_series(p, t)
    return out


def _impute(method, Xh: np.ndarray, context: str, window: int) -> np.ndarray:
    """Run ``method.impute`` on the (T, F) table in a context; returns (T, F)."""
    if context == "window":
        return method.impute(D.to_windows(Xh, window)).reshape(Xh.shape)
    return method.impute(Xh[None])[0]


def run(
    dataset: str,
    data_path: str | os.PathLike,
    models: dict | None,
    *,
    settings,
    seeds,
    window: int,
    contexts,
    baselines,
    block_len: int,
    block_rate: float,
    wind: str,
    plot_feature: str | None,
) -> dict:
    """Run the benchmark; returns a JSON-serialisable result dict (see :func:`write_results`).

    Every setting is required here; the command's defaults live in
    :class:`chipsr.api.impute.EvaluateSettings`.

    Parameters
    ----------
    dataset : {"beijing", "ett", "csv"}
    data_path : path
        As :func:`chipsr.tasks.impute.data.load_splits`.
    models : dict of str to (path or Imputer), optional
        Learned imputers to score, by display name (e.g. ``{"TFiLM": "tfilm.pt"}``); each must
        have been trained on the same features.
    settings : sequence of str
        MCAR rates (``"0.1"``) and/or ``"block"``.
    seeds : sequence of int
        One hiding per seed (the same hidden entries for every method).
    window : int
        Test windows of the ``window`` context (24 = SAITS).
    contexts : sequence of {"window", "series"}
    baselines : sequence of str
        Names in :data:`chipsr.tasks.impute.baselines.BASELINES`.
    block_len, block_rate : int, float
        The ``"block"`` setting: blocks of ``block_len`` steps, per feature, until ``block_rate``
        of the observed values are hidden.
    wind : {"drop", "sincos"}
        Beijing wind direction (see :func:`~chipsr.tasks.impute.data.load_beijing`).
    plot_feature : str, optional
        Column drawn in the PNG (default: the first).

    Returns
    -------
    dict
        ``protocol`` (what was run), ``rows`` (one per setting x method x metric: mean, std,
        per-seed values), ``example`` (the data of the PNG), ``skipped`` (notes).

    Raises
    ------
    ChipsrInputError
        Bad data, an unknown baseline, or a model whose features differ from the data's.
    """
    _check_choices(contexts, baselines)
    splits = D.load_splits(dataset, data_path, wind=wind)
    train = splits["train"]
    X, columns = _test_table(splits["test"], window, data_path)
    scaler = D.Standardizer.fit(train.to_numpy(float))
    methods = _methods(baselines, models or {}, train.to_numpy(float), columns, splits["name"])
    pf = plot_feature if plot_feature is not None else columns[0]
    if pf not in columns:
        raise ChipsrInputError(f"--plot-feature {pf!r} is not a column of {splits['name']}")
    results, timings, skipped, example = _benchmark(X, methods, settings, seeds, contexts, window, scaler,
                                                    {"block_len": block_len, "block_rate": block_rate},
                                                    (columns.index(pf), pf))
    rows = _summary_rows(results)
    protocol = {
        "dataset": splits["name"], "data_path": str(data_path), "test_steps": len(X), "features": len(columns),
        "train_steps": len(train), "window": window, "contexts": list(contexts),
        "settings": [str(s) for s in settings], "seeds": [int(s) for s in seeds], "block_len": block_len,
        "block_rate": block_rate, "observed_test_values": int((~np.isnan(X)).sum()),
        "standardised_with": "training mean / std per feature",
        "methods": list(methods), "impute_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    return {"protocol": protocol, "rows": rows, "example": example, "skipped": skipped}


def _check_choices(contexts, baselines) -> None:
    """Raise ChipsrInputError for an unknown context or baseline."""
    for c in contexts:
        if c not in ("window", "series"):
            raise ChipsrInputError(f"unknown context {c!r}: use window and/or series")
    unknown = [b for b in baselines if b not in B.BASELINES]
    if unknown:
        raise ChipsrInputError(f"unknown baseline {unknown[0]!r}; known: {', '.join(B.BASELINES)}")


def _test_table(test, window: int, data_path) -> tuple[np.ndarray, list[str]]:
    """The test table cut to a whole number of ``window``-step windows: a writable (T, F) float array
    and its column names. Raises ChipsrInputError when it is shorter than one window."""
    T = (len(test) // window) * window
    if T == 0:
        raise ChipsrInputError(f"{data_path}: the test part has {len(test)} steps, fewer than one window of {window}")
    test = test.iloc[:T]
    X = np.array(test.to_numpy(float))  # a writable copy (pandas copy-on-write gives read-only views)
    return X, [str(c) for c in test.columns]


def _benchmark(X: np.ndarray, methods: dict, settings, seeds, contexts, window: int, scaler: D.Standardizer,
               hiding: dict, plot: tuple[int, str]):
    """For every setting and seed, hide entries of ``X`` (``hiding``: block_len, block_rate), let every
    method impute them in every context and score it. ``plot`` is the (index, name) of the PNG's
    column. Returns (scores per (setting, method, context), impute seconds per method@context, notes
    of skipped runs, the PNG's example)."""
    skipped = []
    results: dict[tuple, list[dict]] = {}
    timings: dict[str, float] = {}
    example = None
    j, pf = plot
    for setting in settings:
        for seed in seeds:
            Xh, ind = D.hide(X, setting, seed, **hiding)
            for name, method in methods.items():
                for context in contexts:
                    n_steps = getattr(getattr(method, "config", None), "n_steps", 1)
                    key = (str(setting), name, context)
                    if context == "window" and n_steps > window:
                        note = f"{name}: window context skipped (model window {n_steps} > {window})"
                        if note not in skipped:
                            skipped.append(note)
                        continue
                    t0 = time.perf_counter()
                    pred = _impute(method, Xh, context, window)
                    timings[f"{name}@{context}"] = timings.get(f"{name}@{context}", 0.0) + time.perf_counter() - t0
                    seen = ~np.isnan(Xh)
                    if not np.array_equal(pred[seen], Xh[seen]) or np.isnan(pred).any():
                        raise AssertionError(f"{name} changed an observed value or left a gap")  # pragma: no cover
                    results.setdefault(key, []).append(score(pred, X, ind, scaler))
                    if example is None or (str(setting) == str(settings[0]) and seed == seeds[0]):
                        example = _example(example, X, Xh, ind, j, pf, name, context, pred, setting, seed)
            log.info("setting %s seed %s done", setting, seed)
    return results, timings, skipped, example


def _methods(baselines, models: dict, train: np.ndarray, columns: list[str], data_name: str) -> dict:
    """``{name: method}``: the baselines fitted on ``train`` (T, F), then the models (paths or
    :class:`~chipsr.tasks.impute.model.Imputer`), checked to have the data's features in order.

    Raises
    ------
    ChipsrInputError
        A model with another number of features or another feature name.
    """
    from chipsr.tasks.impute.model import Imputer

    methods: dict[str, object] = {}
    for name in baselines:
        methods[name] = B.BASELINES[name]().fit(train[None])
    for name, m in models.items():
        imp = m if isinstance(m, Imputer) else Imputer.load(m)
        if imp.n_features != len(columns):
            raise ChipsrInputError(f"{m}: model has {imp.n_features} features, {data_name} has {len(columns)}")
        if imp.feature_names is not None and imp.feature_names != columns:
            bad = next(c for c, d in zip(imp.feature_names, columns) if c != d)
            raise ChipsrInputError(f"{m}: model feature {bad!r} differs from the data's columns")
        methods[name] = imp
    return methods


def _summary_rows(results: dict) -> list[dict]:
    """One row per (setting, method, context) x metric: mean and std (ddof 0) over seeds, and the
    per-seed values."""
    rows = []
    for (setting, name, context), per_seed in results.items():
        for metric in METRICS:
            vals = [r[metric] for r in per_seed]
            rows.append({"setting": setting, "label": setting_label(setting), "method": name, "context": context,
                         "metric": metric, "mean": float(np.mean(vals)), "std": float(np.std(vals)),
                         "n_seeds": len(vals), "values": [float(v) for v in vals]})
    return rows


def _example(example, X, Xh, ind, j, feature, name, context, pred, setting, seed, span: int = 168):
    """Collect one series' truth, hidden points and imputations for the PNG (first setting/seed)."""
    if example is None:
        hid = ind[:, j]
        counts = np.convolve(hid, np.ones(span), mode="valid") if len(hid) >= span else np.array([hid.sum()])
        start = int(np.argmax(counts))
        stop = min(len(hid), start + span)
        example = {"feature": feature, "setting": str(setting), "seed": int(seed), "start": start, "stop": stop,
                   "truth": _nanlist(X[start:stop, j]), "hidden": [int(v) for v in hid[start:stop]], "imputations": {}}
    s, e = example["start"], example["stop"]
    example["imputations"][f"{name}@{context}"] = [float(v) for v in pred[s:e, j]]
    return example


def _nanlist(a) -> list:
    return [None if np.isnan(v) else float(v) for v in a]


# ---------------------------------------------------------------------------------------- writers


def _fmt(mean: float, std: float, metric: str) -> str:
    if not math.isfinite(mean):
        return "nan"
    if metric.startswith("mre"):
        return f"{100 * mean:.1f} ± {100 * std:.1f} %"
    digits = 4 if abs(mean) < 10 else 2
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


TSV_COLUMNS = ("setting", "label", "method", "context", "metric", "mean", "std", "n_seeds", "values")


def tsv_rows(result: dict) -> list[dict]:
    """Long format, one row per setting x method x context x metric: setting, label, method, context,
    metric, mean, std (6 significant digits), n_seeds, values (the per-seed values, comma-separated)."""
    return [{"setting": r["setting"], "label": r["label"], "method": r["method"], "context": r["context"],
             "metric": r["metric"], "mean": f"{r['mean']:.6g}", "std": f"{r['std']:.6g}", "n_seeds": r["n_seeds"],
             "values": ",".join(f"{v:.6g}" for v in r["values"])} for r in result["rows"]]


_METRIC_TITLES = {
    "mae": "Masked MAE (standardised)", "rmse": "Masked RMSE (standardised)", "mre": "Masked MRE",
    "l2": "L2 distance (TFiLM paper, standardised)", "mae_orig": "Masked MAE (original units)",
    "rmse_orig": "Masked RMSE (original units)", "l2_orig": "L2 distance (original units)",
}


def to_markdown(result: dict, metrics=("mae", "rmse", "mre", "l2", "mae_orig", "rmse_orig", "l2_orig")) -> str:
    """One table per metric shaped like the TFiLM paper's Table 10: rows = missingness setting,
    columns = methods (``method@context``), cells = mean ± std over seeds; best per row in bold."""
    p = result["protocol"]
    rows = result["rows"]
    methods = []
    for r in rows:
        k = f"{r['method']}@{r['context']}"
        if k not in methods:
            methods.append(k)
    settings = p["settings"]
    out = [f"# Imputation benchmark: {p['dataset']}", "",
           (f"Test: {p['test_steps']} steps x {p['features']} series ({p['observed_test_values']} observed values); "
           f"seeds {', '.join(map(str, p['seeds']))}; `window` context = consecutive {p['window']}-step windows, "
           f"`series` = each series whole; blocks = {p['block_len']}-step blocks until {p['block_rate']:.0%} "
           f"of the observed values are hidden. Mean ± std over seeds; best per row in bold."), ""]
    index = {(r["setting"], f"{r['method']}@{r['context']}", r["metric"]): r for r in rows}
    for metric in metrics:
        out += [f"## {_METRIC_TITLES.get(metric, metric)}", ""]
        table = []
        for s in settings:
            cells = [index.get((s, m, metric)) for m in methods]
            means = [c["mean"] if c else math.inf for c in cells]
            best = min(means) if means else math.inf
            txt = []
            for c in cells:
                if c is None:
                    txt.append("–")
                    continue
                t = _fmt(c["mean"], c["std"], metric)
                txt.append(f"**{t}**" if c["mean"] == best else t)
            table.append([setting_label(s), *txt])
        out += [markdown_table(["missing", *methods], table), ""]
    if result.get("skipped"):
        out += ["Notes: " + "; ".join(result["skipped"]), ""]
    return "\n".join(out)


def output_paths(output: str | os.PathLike) -> dict:
    """``results.tsv`` -> the four sibling paths (tsv, json, md, png) sharing its stem."""
    p = Path(output)
    stem = p.with_suffix("") if p.suffix.lower() in (".tsv", ".json", ".md", ".png") else p
    return {ext: Path(f"{stem}.{ext}") for ext in ("tsv", "json", "md", "png")}


def write_results(result: dict, output: str | os.PathLike) -> dict:
    """Write TSV, JSON, Markdown and PNG beside each other (atomic each); returns their paths."""
    from chipsr.io.tables import write_json, write_text, write_tsv

    paths = output_paths(output)
    for p in paths.values():
        check_output_path(p)
    write_tsv(paths["tsv"], tsv_rows(result), columns=TSV_COLUMNS)
    write_json(paths["json"], result, trailing_newline=False)
    write_text(paths["md"], to_markdown(result), encoding="utf-8")
    if result["example"] is not None:
        imputation_example(result, paths["png"], setting_label(result["example"]["setting"]))
    return paths
