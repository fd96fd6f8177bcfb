"""Data for imputation: loaders, splits, standardisation, windows and artificial missingness.

Layouts
-------
* A *table* is a ``pandas.DataFrame`` with one row per time step (index: the time stamps, in
  order) and one column per series (feature); NaN = missing. Loaders return tables.
* An *array* is ``(n_samples, n_steps, n_features)`` float (PyPOTS), NaN = missing; a table
  is the array ``df.to_numpy()[None]`` (one sample).
* Masks are float32 0/1 arrays of the array's shape (PyPOTS): ``missing_mask`` 1 = observed,
  ``indicating_mask`` 1 = hidden on purpose (the entries that are scored).

Sources: SAITS (Du et al. 2023) and BRITS for the Beijing protocol; Informer for the ETT split;
the TFiLM paper (Birnbaum et al. 2019, "Temporal FiLM: Capturing Long-Range Sequence Dependencies
with Feature-Wise Modulations", doi:10.48550/arXiv.1909.06628, appendix H) for Favorita. Files are
read through :mod:`chipsr.io.series`.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from chipsr.errors import ChipsrInputError
from chipsr.io.series import read_csv_cells, read_csv_chunks, read_csv_table

log = logging.getLogger(__name__)

#: the 11 numeric variables of every Beijing station, in file order (``wd`` is categorical)
BEIJING_VARS = ("PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "RAIN", "WSPM")
#: 16-point compass of the Beijing ``wd`` column -> degrees clockwise from north
WIND_DEGREES = {d: 22.5 * i for i, d in enumerate(
    ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"])}
ETT_VARS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
#: the data sets :func:`load_splits` loads by name (Favorita is an array loader: :func:`load_favorita`)
DATASETS = ("beijing", "ett", "csv")


# ------------------------------------------------------------------------------------ loaders


def load_beijing(path: str | os.PathLike, wind: str = "drop") -> pd.DataFrame:
    """The UCI Beijing Multi-Site Air-Quality data as one table of 132 hourly series.

    Reads the 12 station files ``PRSA_Data_<Station>_20130301-20170228.csv[.gz]`` of ``path``
    (stations in alphabetical order) and keeps the 11 numeric variables of each
    (:data:`BEIJING_VARS`), named ``"<Station>.<var>"``: 12 x 11 = **132 columns x 35,064 hourly
    rows** (2013-03-01 00:00 to 2017-02-28 23:00), the "Air-Quality" set of BRITS / SAITS /
    PyPOTS. ``NA`` cells become NaN (1.56 % of the values).

    Parameters
    ----------
    path : str or PathLike
        The directory with the station files (the UCI Machine Learning Repository data set "Beijing
        Multi-Site Air Quality", unpacked).
    wind : {"drop", "sincos"}
        The categorical wind direction ``wd``: ``"drop"`` (default, the 132-feature benchmark)
        or ``"sincos"``: two more columns per station, ``<Station>.wd_sin`` / ``wd_cos``, the sine
        and cosine of the 16-point compass direction (NaN where ``wd`` is ``NA``): 156 columns.

    Returns
    -------
    pandas.DataFrame
        Index: ``DatetimeIndex`` named ``time``; float64 columns.

    Raises
    ------
    ChipsrInputError
        If the directory or its station files are missing, a file lacks a column, or the
        stations' time stamps differ.
    """
    if wind not in ("drop", "sincos"):
        raise ChipsrInputError(f"wind must be 'drop' or 'sincos'; got {wind!r}")
    root = Path(path)
    if not root.is_dir():
        raise ChipsrInputError(f"{root}: Beijing Air-Quality directory does not exist")
    files = sorted(p for p in root.iterdir() if p.name.startswith("PRSA_Data_") and ".csv" in p.name)
    if not files:
        raise ChipsrInputError(f"{root}: no PRSA_Data_<Station>_*.csv[.gz] files")
    frames, index = [], None
    for f in files:
        station = f.name[len("PRSA_Data_"):].split("_")[0]
        df = read_csv_table(f, na_values=["NA"], keep_default_na=False)
        need = ["year", "month", "day", "hour", *BEIJING_VARS, "wd"]
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise ChipsrInputError(f"{f}: column {missing[0]!r} is missing")
        t = pd.to_datetime(df[["year", "month", "day", "hour"]])
        if index is None:
            index = pd.DatetimeIndex(t, name="time")
        elif not index.equals(pd.DatetimeIndex(t)):
            raise ChipsrInputError(f"{f}: time stamps differ from those of {files[0].name}")
        cols = {f"{station}.{v}": pd.to_numeric(df[v], errors="coerce").to_numpy(float) for v in BEIJING_VARS}
        if wind == "sincos":
            deg = df["wd"].map(WIND_DEGREES).to_numpy(float)
            cols[f"{station}.wd_sin"] = np.sin(np.deg2rad(deg))
            cols[f"{station}.wd_cos"] = np.cos(np.deg2rad(deg))
        frames.append(pd.DataFrame(cols))
    out = pd.concat(frames, axis=1)
    out.index = index
    return out


def load_ett(path: str | os.PathLike, name: str = "ETTh1") -> pd.DataFrame:
    """One ETT-small table (7 hourly series, 17,420 rows), derived at load time.

    The ETT licence (CC BY-ND 4.0) forbids shipping modified copies: this reads the verbatim
    (gzipped) file and derives the table in memory only.

    Parameters
    ----------
    path : str or PathLike
        A directory holding ``<name>.csv`` or ``<name>.csv.gz``, or the file itself.
    name : str
        ``"ETTh1"`` or ``"ETTh2"`` (any ``ETT*`` file name stem).

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (DatetimeIndex), columns :data:`ETT_VARS` (float64).

    Raises
    ------
    ChipsrInputError
        If the file is missing or lacks a column.
    """
    p = Path(path)
    if p.is_dir():
        cands = [p / f"{name}.csv.gz", p / f"{name}.csv"]
        p = next((c for c in cands if c.is_file()), cands[0])
    if not p.is_file():
        raise ChipsrInputError(f"{p}: ETT file does not exist")
    df = read_csv_table(p)
    missing = [c for c in ("date", *ETT_VARS) if c not in df.columns]
    if missing:
        raise ChipsrInputError(f"{p}: column {missing[0]!r} is missing")
    out = df[list(ETT_VARS)].astype(float)
    out.index = pd.DatetimeIndex(pd.to_datetime(df["date"]), name="date")
    return out


def read_wide_csv(path: str | os.PathLike, return_raw: bool = False):
    """Read a wide CSV: first column the time index, one row per step, one column per series.

    Empty cells and ``NaN`` / ``NA`` / ``nan`` are missing values. Every other cell must be a
    number.

    Parameters
    ----------
    path : str or PathLike

    return_raw : bool
        Also return the cells as read (strings), for writing observed values back verbatim.

    Returns
    -------
    pandas.DataFrame, or (pandas.DataFrame, pandas.DataFrame, list of str)
        float64 columns in file order; the index is the first column as read (strings are kept
        as they are, so that ``fill`` writes them back unchanged). With ``return_raw``: also the
        string cells and the header row (time column name first).

    Raises
    ------
    ChipsrInputError
        One-line messages naming the file (and column, row, value): missing or empty file, no
        series column, duplicate column names, a non-numeric or infinite cell, a column that is
        entirely missing.
    """
    p = Path(path)
    raw, header = read_csv_cells(p)
    if raw.shape[1] == 0:
        raise ChipsrInputError(f"{p}: no series columns (need a time column and at least one series)")
    seen = set()
    for name in header:
        if name in seen:
            raise ChipsrInputError(f"{p}: column {name!r} appears more than once")
        seen.add(name)
    values = {}
    for col in raw.columns:
        s = raw[col].str.strip()
        missing = s.isin(["", "NaN", "nan", "NA", "N/A", "na", "null", "NULL", "None"])
        num = pd.to_numeric(s.where(~missing), errors="coerce")
        bad = num.isna() & ~missing
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ChipsrInputError(
                f"{p}: column {col!r}, row {i + 2} (time {raw.index[i]}): non-numeric value {raw[col].iloc[i]!r}"
            )
        values[col] = num.to_numpy(float)
    out = pd.DataFrame(values, index=raw.index)
    if len(out) == 0:
        raise ChipsrInputError(f"{p}: no data rows")
    empty = [c for c in out.columns if out[c].isna().all()]
    if empty:
        raise ChipsrInputError(f"{p}: column {empty[0]!r} is entirely missing (nothing to learn or fill it from)")
    inf = [c for c in out.columns if np.isinf(out[c].to_numpy()).any()]
    if inf:
        raise ChipsrInputError(f"{p}: column {inf[0]!r} holds an infinite value")
    if return_raw:
        return out, raw, [raw.index.name or "", *header]
    return out


def load_favorita(
    train_csv: str | os.PathLike,
    n_steps: int = 1024,
    test_fraction: float = 0.2,
    seed: int = 0,
    chunksize: int = 5_000_000,
) -> dict:
    """The TFiLM paper's grocery-sales imputation data from a user's Kaggle Favorita ``train.csv``.

    The Kaggle "Corporacion Favorita Grocery Sales Forecasting" data may not be redistributed:
    chipsr never ships it; pass your own ``train.csv`` (about 125 M rows, 4.7 GB; read in chunks,
    columns ``date``, ``item_nbr``, ``unit_sales``). Preparation (TFiLM paper, appendix H:
    "sales figures for 1452 items on 1024 days", 80 / 20 split):

    1. mean ``unit_sales`` over the stores that report the item on a date, per (item, date);
    2. keep items with at least ``n_steps`` such dates; each item's series is its first
       ``n_steps`` dates **in date order** (chronological; dates on which an item has no
       record are skipped, not filled);
    3. split the items 80 / 20 into train / test with a seeded permutation.

    The paper does not say which 1024 dates it kept; "first ``n_steps`` dates" is our choice.

    Parameters
    ----------
    train_csv : str or PathLike
        Kaggle's ``train.csv`` (optionally ``.gz``).
    n_steps : int
        Dates per item (1024 in the paper).
    test_fraction : float
        Share of the items in the test set.
    seed : int
        Seed of the item split.
    chunksize : int
        Rows per chunk while reading.

    Returns
    -------
    dict
        ``train``, ``test``: float64 arrays ``(n_items, n_steps, 1)``; ``train_items``,
        ``test_items``: the item numbers (int64); ``dates``: ``(n_items, n_steps)`` datetime64
        arrays per split under ``train_dates`` / ``test_dates``.

    Raises
    ------
    ChipsrInputError
        If the file is missing, lacks a column, or has no item with ``n_steps`` dates.
    """
    p = Path(train_csv)
    if not p.is_file():
        raise ChipsrInputError(f"{p}: Favorita train.csv does not exist")
    head = read_csv_table(p, nrows=0)
    for c in ("date", "item_nbr", "unit_sales"):
        if c not in head.columns:
            raise ChipsrInputError(f"{p}: column {c!r} is missing (expected Kaggle Favorita train.csv)")
    sums: list[pd.DataFrame] = []
    for chunk in read_csv_chunks(p, chunksize, usecols=["date", "item_nbr", "unit_sales"],
                                 dtype={"item_nbr": np.int64, "unit_sales": np.float64}, parse_dates=["date"]):
        g = chunk.groupby(["item_nbr", "date"], sort=False)["unit_sales"].agg(["sum", "count"])
        sums.append(g)
    agg = pd.concat(sums).groupby(level=[0, 1]).sum()
    mean = (agg["sum"] / agg["count"]).sort_index()
    counts = mean.groupby(level=0).size()
    items = counts.index[counts >= n_steps].to_numpy()
    if len(items) == 0:
        raise ChipsrInputError(f"{p}: no item has sales on {n_steps} or more dates")
    series, dates = [], []
    for item in items:
        s = mean.loc[item].iloc[:n_steps]
        series.append(s.to_numpy(float))
        dates.append(s.index.to_numpy())
    X = np.stack(series)[:, :, None]
    D = np.stack(dates)
    perm = np.random.default_rng(seed).permutation(len(items))
    n_test = round(test_fraction * len(items))
    te, tr = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    log.info("Favorita: %d items x %d dates (%d train, %d test)", len(items), n_steps, len(tr), len(te))
    return {"train": X[tr], "test": X[te], "train_items": items[tr], "test_items": items[te],
            "train_dates": D[tr], "test_dates": D[te]}


# ------------------------------------------------------------------------------------- splits


def saits_split(df: pd.DataFrame, test_months: int = 10, valid_months: int = 10):
    """The SAITS split of Beijing Air-Quality: test = first 10 months, validation = next 10,
    train = the rest (28 months), by calendar month from the first time stamp.

    Parameters
    ----------
    df : pandas.DataFrame
        A table with a DatetimeIndex (e.g. :func:`load_beijing`).
    test_months, valid_months : int

    Returns
    -------
    (train, valid, test) : three pandas.DataFrame
        For Beijing: 20,424 / 7,296 / 7,344 hourly rows (2014-11-01.., 2014-01-01.., 2013-03-01..).
    """
    t0 = df.index[0].normalize().replace(day=1)
    t_test = t0 + pd.DateOffset(months=test_months)
    t_valid = t_test + pd.DateOffset(months=valid_months)
    test = df[df.index < t_test]
    valid = df[(df.index >= t_test) & (df.index < t_valid)]
    train = df[df.index >= t_valid]
    return train, valid, test


def ett_split(df: pd.DataFrame):
    """The Informer split of ETT-hourly: train = first 12 x 30 x 24 rows, validation = next 4 x 30
    x 24, test = next 4 x 30 x 24 (8,640 / 2,880 / 2,880 rows)."""
    a, b = 12 * 30 * 24, 16 * 30 * 24
    return df.iloc[:a], df.iloc[a:b], df.iloc[b:b + 4 * 30 * 24]


def chronological_split(df: pd.DataFrame, valid_fraction: float = 0.1):
    """Train = the first ``1 - valid_fraction`` of the rows, validation = the rest (no shuffling)."""
    if not 0 < valid_fraction < 1:
        raise ChipsrInputError(f"valid fraction must be in (0, 1); got {valid_fraction}")
    cut = round(len(df) * (1 - valid_fraction))
    return df.iloc[:cut], df.iloc[cut:]


# ----------------------------------------------------------------------------- standardising


@dataclass
class Standardizer:
    """Per-feature standardisation ``(x - mean) / std`` with statistics of the training data.

    Attributes
    ----------
    mean, std : numpy.ndarray, shape (n_features,)
        NaN-aware mean and standard deviation (ddof 0, as scikit-learn's StandardScaler used by
        SAITS / BenchPOTS); a zero or undefined std is stored as 1.
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardizer:
        """Statistics of ``X`` (..., n_features) over all but the last axis, ignoring NaN.

        Raises
        ------
        ValueError
            If a feature has no observed value.
        """
        flat = np.asarray(X, float).reshape(-1, np.shape(X)[-1])
        n = (~np.isnan(flat)).sum(0)
        if (n == 0).any():
            raise ValueError(f"feature {int(np.flatnonzero(n == 0)[0])} has no observed value to standardise with")
        mean = np.nanmean(flat, axis=0)
        std = np.nanstd(flat, axis=0)
        std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        return cls(mean, std)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``(X - mean) / std``, broadcast over the last axis; NaN stays NaN."""
        return (np.asarray(X, float) - self.mean) / self.std

    def inverse(self, Z: np.ndarray) -> np.ndarray:
        """``Z * std + mean``."""
        return np.asarray(Z, float) * self.std + self.mean

    def to_dict(self) -> dict:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_dict(cls, d: dict) -> Standardizer:
        return cls(np.asarray(d["mean"], float), np.asarray(d["std"], float))


# ------------------------------------------------------------------------------------ windows


def to_windows(X: np.ndarray, n_steps: int, stride: int | None = None) -> np.ndarray:
    """Cut a ``(T, n_features)`` series into windows ``(n_windows, n_steps, n_features)``.

    Windows start at ``0, stride, 2 stride, ...`` (default ``stride = n_steps``: consecutive,
    non-overlapping, the SAITS ``window_truncate``); a tail shorter than a window is dropped.

    Raises
    ------
    ValueError
        If ``T < n_steps``.
    """
    X = np.asarray(X)
    stride = stride or n_steps
    if X.shape[0] < n_steps:
        raise ValueError(f"{X.shape[0]} steps is fewer than one window of {n_steps}")
    starts = np.arange(0, X.shape[0] - n_steps + 1, stride)
    return np.stack([X[s:s + n_steps] for s in starts])


def as_3d(X) -> np.ndarray:
    """``(n_steps, n_features)`` -> ``(1, n_steps, n_features)``; a 3-D array is returned as float64.

    Raises
    ------
    ValueError
        For other numbers of dimensions.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3:
        raise ValueError(f"expected an array (n_samples, n_steps, n_features); got shape {X.shape}")
    return X


# ----------------------------------------------------------------------------------- missingness


def missing_mask(X: np.ndarray) -> np.ndarray:
    """1 where ``X`` is observed (not NaN), 0 where it is missing; float32, ``X``'s shape."""
    return (~np.isnan(X)).astype(np.float32)


def mcar(X: np.ndarray, rate: float, seed: int | np.random.Generator = 0):
    """Hide exactly ``round(rate * n_observed)`` observed values, chosen uniformly (MCAR points).

    Already-missing entries are never chosen, so every hidden entry has a ground truth (the
    pycorruptor ``mcar`` used by SAITS draws the same way).

    Parameters
    ----------
    X : numpy.ndarray, any shape
        Values with NaN for missing.
    rate : float
        Share of the **observed** values to hide, in [0, 1).
    seed : int or numpy.random.Generator

    Returns
    -------
    (X_hidden, indicating_mask)
        A copy of ``X`` with the chosen entries set to NaN, and the float32 0/1 mask of them.

    Raises
    ------
    ValueError
        If ``rate`` is not in [0, 1).
    """
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1); got {rate}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    X = np.asarray(X, float)
    obs = np.flatnonzero(~np.isnan(X))
    k = round(rate * len(obs))
    chosen = rng.choice(obs, size=k, replace=False) if k else np.array([], dtype=np.int64)
    ind = np.zeros(X.size, np.float32)
    ind[chosen] = 1
    ind = ind.reshape(X.shape)
    Xh = X.copy()
    Xh[ind == 1] = np.nan
    return Xh, ind


def block_missing(X: np.ndarray, rate: float, block_len: int, seed: int | np.random.Generator = 0):
    """Hide contiguous blocks of ``block_len`` steps per feature until about ``rate`` of the
    observed values are hidden.

    Blocks are placed uniformly at random, independently per sample and feature, inside a
    sample (they never cross the sample boundary); already-missing entries inside a block stay
    missing and are not counted as hidden. Blocks are added in rounds until the hidden share
    reaches ``rate``, so the final share is ``rate`` or slightly above.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_samples, n_steps, n_features) or (n_steps, n_features)
    rate : float
        Target share of the observed values to hide, in [0, 1).
    block_len : int
        Block length in steps, 1 <= block_len <= n_steps.
    seed : int or numpy.random.Generator

    Returns
    -------
    (X_hidden, indicating_mask)
        As :func:`mcar`.

    Raises
    ------
    ValueError
        For a bad ``rate`` or ``block_len``.
    """
    X3 = as_3d(X)
    n, t, f = X3.shape
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1); got {rate}")
    if not 1 <= block_len <= t:
        raise ValueError(f"block_len must be in [1, n_steps={t}]; got {block_len}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    observed = ~np.isnan(X3)
    target = round(rate * observed.sum())
    hidden = np.zeros_like(observed)
    n_starts = t - block_len + 1
    offsets = np.arange(block_len)
    count = 0
    for _ in range(1000):
        if count >= target:
            break
        k = max(1, math.ceil((target - count) / block_len))
        s = rng.integers(0, n, k)
        st = rng.integers(0, n_starts, k)
        ft = rng.integers(0, f, k)
        hidden[s[:, None], st[:, None] + offsets, ft[:, None]] = True
        count = int((hidden & observed).sum())
    ind = (hidden & observed).astype(np.float32)
    Xh = X3.copy()
    Xh[ind == 1] = np.nan
    if np.ndim(X) == 2:
        return Xh[0], ind[0]
    return Xh, ind


def hide(X: np.ndarray, setting: str | float, seed: int | np.random.Generator = 0, block_len: int = 8,
         block_rate: float = 0.1):
    """Artificial missingness by name: a float / ``"mcar0.1"`` (MCAR points at that rate) or
    ``"block"`` (:func:`block_missing` with ``block_rate`` and ``block_len``).

    Returns
    -------
    (X_hidden, indicating_mask)
    """
    if isinstance(setting, (int, float)):
        return mcar(X, float(setting), seed)
    s = str(setting)
    if s.startswith("mcar"):
        return mcar(X, float(s[4:]), seed)
    if s.startswith("block"):
        return block_missing(X, block_rate, block_len, seed)
    try:
        return mcar(X, float(s), seed)
    except ValueError:
        raise ValueError(f"unknown missingness setting {setting!r}: use a rate, 'mcar<rate>' or 'block'") from None


def load_splits(dataset: str, path: str | os.PathLike, wind: str = "drop", valid_fraction: float = 0.1,
                ett_name: str | None = None) -> dict:
    """Train / validation / test tables of a named data set, with the field's standard splits.

    ============  ==========================================================================
    dataset       split
    ============  ==========================================================================
    ``beijing``   :func:`load_beijing` + :func:`saits_split` (test = first 10 months, valid =
                  next 10, train = last 28)
    ``ett``       :func:`load_ett` + :func:`ett_split` (Informer: 12 / 4 / 4 months); ``path``
                  a directory (``ett_name``, default ETTh1) or an ``ETT*.csv[.gz]`` file
    ``csv``       :func:`read_wide_csv` + :func:`chronological_split` (the last
                  ``valid_fraction`` of the rows validate); test = the whole file
    ============  ==========================================================================

    Returns
    -------
    dict
        ``{"train", "valid", "test"}``: tables (pandas.DataFrame), and ``"name"``: a label.

    Raises
    ------
    ChipsrInputError
        Unknown data set, or the loaders' errors.
    """
    if dataset == "beijing":
        df = load_beijing(path, wind=wind)
        train, valid, test = saits_split(df)
        name = "Beijing Air-Quality"
    elif dataset == "ett":
        p = Path(path)
        if p.is_file():
            name_ = ett_name or p.name.split(".")[0]
            df = load_ett(p, name_)
        else:
            name_ = ett_name or "ETTh1"
            df = load_ett(p, name_)
        train, valid, test = ett_split(df)
        name = name_
    elif dataset == "csv":
        df = read_wide_csv(path)
        train, valid = chronological_split(df, valid_fraction)
        test = df
        name = Path(path).name
    else:
        raise ChipsrInputError(f"unknown dataset {dataset!r}: expected one of {', '.join(DATASETS)}")
    return {"train": train, "valid": valid, "test": test, "name": name}
