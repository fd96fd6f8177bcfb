"""Time-series imputation (chipsr impute): loaders, masks, baselines, the learned imputer, fill,
evaluate and the CLI. Small synthetic data with hand-computed expectations; two quick tests
read the real Beijing Air-Quality and ETT-small files when present (see SHARED_IMP)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from chipsr.errors import ChipsrInputError
from chipsr.tasks.impute import baselines as B
from chipsr.tasks.impute import data as D

from builders import SHARED_ROOT

# Optional real data, not shipped (the tests that need it are skipped without it), in a folder
# shared/data/imputation beside the repository:
#   beijing_air_quality/PRSA_Data_<Station>_20130301-20170228.csv.gz -- the 12 station files of the UCI
#     Beijing Multi-Site Air-Quality data (UCI ML Repository dataset 501, doi:10.24432/C5RK5G, CC BY 4.0);
#   ett_small/ETTh1.csv.gz, ETTh2.csv.gz -- ETT-small of GitHub zhouhaoyi/ETDataset (CC BY-ND 4.0), gzipped.
SHARED_IMP = SHARED_ROOT / "data" / "imputation"
nan = np.nan


# ------------------------------------------------------------------------------------ helpers


def smooth_series(T=400, F=3, seed=0, missing=0.02):
    """Smooth sines with phase shifts (hourly-like), a few real missing values."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None]
    X = np.sin(2 * np.pi * t / 48 + np.arange(F)[None] * 0.7) * (1 + np.arange(F)) + 5
    X = X + 0.02 * rng.standard_normal((T, F))
    X[rng.random((T, F)) < missing] = nan
    return X


def write_wide(path: Path, X, columns=None, index=None):
    T, F = X.shape
    columns = columns or [f"s{j}" for j in range(F)]
    index = index if index is not None else pd.date_range("2020-01-01", periods=T, freq="h").strftime("%Y-%m-%d %H:%M")
    df = pd.DataFrame(X, columns=columns, index=pd.Index(index, name="time"))
    df.to_csv(path, na_rep="")
    return path


@pytest.fixture(scope="module")
def tiny_imputer():
    """A small TFiLM imputer trained in a couple of seconds on smooth series (4 features)."""
    import torch

    from chipsr.tasks.impute.model import Imputer

    torch.set_num_threads(1)
    X = smooth_series(T=600, F=4, seed=1)
    imp = Imputer(feature_names=[f"s{j}" for j in range(4)], arch="tfilm", n_steps=16, depth=1, width=1 / 16,
                  epochs=2, windows_per_epoch=64, batch_size=16, lr=1e-3, seed=0)
    imp.fit(X[:480][None], X[480:][None])
    return imp


# ------------------------------------------------------------------------------------ baselines


def test_linear_and_locf_hand_computed():
    S = np.array([[1, nan, 3, nan, nan, 6], [nan, 2, nan, nan, nan, nan]], float)
    X = S.T[None]  # (1, 6, 2)
    lin = B.Linear().impute(X)[0].T
    assert np.allclose(lin[0], [1, 2, 3, 4, 5, 6]) and np.allclose(lin[1], [2] * 6)
    locf = B.LOCF().impute(X)[0].T
    assert np.allclose(locf[0], [1, 1, 3, 3, 3, 6]) and np.allclose(locf[1], [2] * 6)
    zero = B.ZeroFill().impute(X)[0].T
    assert np.allclose(zero[0], [1, 0, 3, 0, 0, 6])


def test_mean_uses_training_mean_and_all_missing_fallback():
    train = np.array([[[2.0, 10.0], [4.0, nan]]])  # feature means 3 and 10
    X = np.array([[[nan, nan], [1.0, nan]]])
    m = B.Mean().fit(train)
    assert np.allclose(m.impute(X), [[[3.0, 10.0], [1.0, 10.0]]])
    # an all-missing series in Linear takes the feature mean too
    assert np.allclose(B.Linear().fit(train).impute(X)[0, :, 1], [10.0, 10.0])


def test_cubic_spline_reproduces_a_cubic_and_holds_ends():
    t = np.arange(12, dtype=float)
    y = 0.1 * t**3 - t**2 + 2
    S = y.copy()
    S[[0, 4, 5, 9, 11]] = nan
    out = B.CubicSpline().impute(S[:, None])[:, 0]
    assert np.allclose(out[[4, 5, 9]], y[[4, 5, 9]])  # not-a-knot spline is exact on cubics
    assert out[0] == y[1] and out[11] == y[10]  # held constant outside the observed range
    assert np.array_equal(out[~np.isnan(S)], S[~np.isnan(S)])


def test_baselines_keep_observed_values_and_predict_api():
    X = smooth_series(T=50, F=3)[None]
    for cls in B.BASELINES.values():
        out = cls().predict({"X": X})["imputation"]
        obs = ~np.isnan(X)
        assert out.shape == X.shape and not np.isnan(out).any()
        assert np.array_equal(out[obs], X[obs])


# ------------------------------------------------------------------------------------ masks


def test_mcar_hides_exact_share_of_observed_only_and_is_seeded():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 20, 4))
    X[rng.random(X.shape) < 0.2] = nan
    Xh, ind = D.mcar(X, 0.3, seed=3)
    n_obs = int((~np.isnan(X)).sum())
    assert ind.sum() == round(0.3 * n_obs)
    assert not np.isnan(X[ind == 1]).any()  # never an already-missing entry
    assert np.isnan(Xh[ind == 1]).all() and np.array_equal(Xh[ind == 0], X[ind == 0], equal_nan=True)
    assert np.array_equal(D.mcar(X, 0.3, seed=3)[1], ind) and not np.array_equal(D.mcar(X, 0.3, seed=4)[1], ind)
    assert set(np.unique(D.missing_mask(X))) == {0.0, 1.0}


def test_block_missing_hides_contiguous_runs_of_observed_values():
    X = np.ones((2, 60, 3))
    X[0, 10:13, 1] = nan
    _Xh, ind = D.block_missing(X, 0.2, 6, seed=1)
    assert not np.isnan(X[ind == 1]).any()
    n_obs = (~np.isnan(X)).sum()
    assert round(0.2 * n_obs) <= ind.sum() < 0.3 * n_obs
    # every hidden run (per sample and feature) is made of whole 6-step blocks, possibly merged
    for s in range(2):
        for f in range(3):
            runs = np.diff(np.flatnonzero(np.diff(np.r_[0, ind[s, :, f], 0])))[::2]
            assert all(r >= 6 or s == 0 and f == 1 for r in runs)


def test_saits_split_and_windows():
    idx = pd.date_range("2013-03-01", "2017-02-28 23:00", freq="h")
    df = pd.DataFrame({"a": np.arange(len(idx), dtype=float)}, index=idx)
    tr, va, te = D.saits_split(df)
    assert (len(te), len(va), len(tr)) == (7344, 7296, 20424)
    assert te.index[-1] < va.index[0] < va.index[-1] < tr.index[0]
    w = D.to_windows(te.to_numpy(), 24)
    assert w.shape == (306, 24, 1) and w[1, 0, 0] == 24
    s = D.Standardizer.fit(np.array([[1.0, 5.0], [3.0, 5.0], [nan, 5.0]]))
    assert np.allclose(s.mean, [2, 5]) and np.allclose(s.std, [1, 1])  # constant feature: std 1
    assert np.allclose(s.inverse(s.transform([[7.0, 2.0]])), [[7.0, 2.0]])


# ------------------------------------------------------------------------------------ csv input


@pytest.mark.parametrize("case", ["text", "all_missing", "duplicate"])
def test_read_wide_csv_errors_name_file_and_column(tmp_path, case):
    X = smooth_series(T=30, F=3)
    p = write_wide(tmp_path / "in.csv", X)
    lines = p.read_text().splitlines()
    if case == "text":
        cells = lines[5].split(",")
        cells[2] = "abc"
        lines[5] = ",".join(cells)
        expect = ["in.csv", "'s1'", "row 6", "abc"]
    elif case == "all_missing":
        lines = [lines[0]] + [",".join(ln.split(",")[:3] + [""]) for ln in lines[1:]]
        expect = ["in.csv", "'s2'", "entirely missing"]
    else:
        lines[0] = lines[0].replace("s2", "s0")
        expect = ["in.csv", "'s0'", "more than once"]
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ChipsrInputError) as exc:
        D.read_wide_csv(p)
    msg = str(exc.value)
    assert "\n" not in msg and all(e in msg for e in expect), msg


# ------------------------------------------------------------------------------------ learned imputer


@pytest.mark.slow
def test_tiny_model_beats_zerofill_and_keeps_observed(tiny_imputer):
    X = smooth_series(T=600, F=4, seed=1)[480:]
    Xh, ind = D.mcar(X, 0.3, seed=5)
    from chipsr.core.metrics import masked_mae

    out = tiny_imputer.impute(Xh)
    seen = ~np.isnan(Xh)
    assert np.array_equal(out[seen], X[seen]) and not np.isnan(out).any()
    zero = B.ZeroFill().impute(Xh)
    assert masked_mae(out, X, ind) < 0.2 * masked_mae(zero, X, ind)
    # 16-step windows: a 16-step input is one window, a 15-step input is too short
    assert tiny_imputer.impute(Xh[:16]).shape == (16, 4)
    with pytest.raises(ValueError, match="fewer than one window"):
        tiny_imputer.impute(Xh[:15])


@pytest.mark.slow
def test_learning_without_linear_channel_beats_zerofill():
    """The paper's setting (no linear channel: nothing to copy) must learn from scratch."""
    import torch

    from chipsr.core.metrics import masked_mae
    from chipsr.tasks.impute.model import Imputer

    torch.set_num_threads(1)
    X = smooth_series(T=500, F=2, seed=2, missing=0.0)
    imp = Imputer(arch="conv", n_steps=16, depth=1, width=1 / 16, linear_channel=False, local_skip=False,
                  epochs=6, windows_per_epoch=128, batch_size=16, lr=3e-3, dropout=0.0, seed=0, patience=None)
    imp.fit(X[:400][None], X[400:][None])
    Xh, ind = D.mcar(X[400:], 0.2, seed=1)
    assert masked_mae(imp.impute(Xh), X[400:], ind) < 0.5 * masked_mae(B.ZeroFill().impute(Xh), X[400:], ind)
    assert imp.history[-1]["valid_loss"] < imp.history[0]["valid_loss"]


@pytest.mark.slow
def test_dnn_imputer_trains_and_masked_loss_ignores_nan(tmp_path):
    import torch

    from chipsr.tasks.impute.model import Imputer, masked_loss

    pred = torch.tensor([[[1.0, 2.0, 3.0]]])
    target = torch.tensor([[[2.0, nan, 1.0]]])
    assert float(masked_loss("l1")(pred, target)) == pytest.approx(1.5)
    assert float(masked_loss("mse")(pred, target)) == pytest.approx(2.5)
    X = smooth_series(T=200, F=2, seed=3)
    imp = Imputer(arch="dnn", n_steps=8, hidden=32, n_layers=2, epochs=1, windows_per_epoch=32, seed=0)
    out = imp.fit(X[None]).predict(X[None])["imputation"]
    assert out.shape == (1, 200, 2) and not np.isnan(out).any()
    imp.save(tmp_path / "dnn.pt")
    assert np.array_equal(Imputer.load(tmp_path / "dnn.pt").impute(X), out[0])


@pytest.mark.slow
def test_save_load_round_trip(tiny_imputer, tmp_path):
    from chipsr.tasks.impute.model import Imputer

    path = tmp_path / "m.pt"
    tiny_imputer.save(path)
    back = Imputer.load(path)
    X = smooth_series(T=100, F=4, seed=9)
    Xh, _ = D.mcar(X, 0.2, seed=0)
    assert np.array_equal(back.impute(Xh), tiny_imputer.impute(Xh))
    assert back.feature_names == ["s0", "s1", "s2", "s3"] and back.config == tiny_imputer.config
    bad = tmp_path / "x.pt"
    bad.write_text("nope")
    with pytest.raises(ChipsrInputError, match="x.pt"):
        Imputer.load(bad)


# ------------------------------------------------------------------------------------ fill + CLI


@pytest.fixture
def cli():
    """The ``chipsr`` command group (``impute`` is one of its commands)."""
    from chipsr.cli import main

    return main.cli


@pytest.fixture
def model_path(tiny_imputer, tmp_path):
    p = tmp_path / "model.pt"
    tiny_imputer.save(p)
    return p


@pytest.mark.slow
def test_fill_keeps_observed_cells_verbatim(cli, model_path, tmp_path):
    X = smooth_series(T=100, F=4, seed=4, missing=0.1)
    inp = write_wide(tmp_path / "in.csv", X)
    # odd but valid number spellings must come back unchanged
    lines = inp.read_text().splitlines()
    cells = lines[1].split(",")
    cells[1] = "5.000"
    lines[1] = ",".join(cells)
    inp.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    r = CliRunner().invoke(cli, ["impute", "fill", str(inp), "-o", str(out), "--model", str(model_path)])
    assert r.exit_code == 0, r.output
    a = pd.read_csv(inp, dtype=str, keep_default_na=False)
    b = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(a.columns) == list(b.columns) and a.iloc[:, 0].equals(b.iloc[:, 0])
    observed = a != ""
    assert (a[observed] == b[observed]).sum().sum() == observed.sum().sum()
    assert b.loc[1 - 1, "s0"] == "5.000"
    assert (b != "").all().all()
    filled = b.iloc[:, 1:].astype(float).to_numpy()
    assert np.abs(filled - np.nan_to_num(X, nan=5)).max() < 10


@pytest.mark.slow
@pytest.mark.parametrize("case", ["text", "all_missing", "short", "columns", "reordered"])
def test_fill_bad_input_one_line_error_no_output(cli, model_path, tmp_path, case):
    X = smooth_series(T=40, F=4, seed=5, missing=0.1)
    cols = ["s0", "s1", "s2", "s3"]
    if case == "short":
        X = X[:10]
    if case == "columns":
        cols = ["s0", "s1", "s2", "other"]
    if case == "reordered":
        cols = ["s3", "s1", "s2", "s0"]
    inp = write_wide(tmp_path / "in.csv", X, columns=cols)
    if case == "text":
        inp.write_text(inp.read_text().replace("\n2020-01-01 03:00,", "\n2020-01-01 03:00,x", 1))
    if case == "all_missing":
        lines = inp.read_text().splitlines()
        inp.write_text("\n".join([lines[0]] + [ln[: ln.rfind(",") + 1] for ln in lines[1:]]) + "\n")
    out = tmp_path / "out.csv"
    r = CliRunner().invoke(cli, ["impute", "fill", str(inp), "-o", str(out), "--model", str(model_path)])
    if case == "reordered":  # same set of columns in another order is fine
        assert r.exit_code == 0, r.output
        assert pd.read_csv(out, nrows=0).columns.tolist()[1:] == cols
        return
    assert r.exit_code == 1, r.output
    err = r.output.strip()
    assert err.startswith("Error:") and "\n" not in err and "in.csv" in err, err
    want = {"text": "'s0'", "all_missing": "'s3'", "short": "fewer than one window", "columns": "'other'"}[case]
    assert want in err, err
    assert not out.exists() and list(tmp_path.glob(".out.csv*")) == []


def test_every_subcommand_help_shows_output_option():
    from chipsr.cli.impute import impute

    for sub in ("train", "fill", "evaluate"):
        r = CliRunner().invoke(impute, [sub, "--help"])
        assert r.exit_code == 0 and "-o, --output" in r.output, r.output


@pytest.mark.slow
def test_train_and_evaluate_cli_on_a_csv(cli, tmp_path):
    X = smooth_series(T=300, F=3, seed=6)
    data = write_wide(tmp_path / "d.csv", X)
    model = tmp_path / "m.pt"
    r = CliRunner().invoke(cli, ["impute", "train", "--data", str(data), "--dataset", "csv", "-o", str(model),
                                 "--arch", "conv", "--window", "16", "--unet-depth", "1", "--width", "0.0625",
                                 "--epochs", "1", "--windows-per-epoch", "16", "--valid-fraction", "0.2"])
    assert r.exit_code == 0, r.output
    header = (tmp_path / "m.pt.epochs.tsv").read_text().splitlines()[0].split("\t")
    assert model.exists() and header[0] == "epoch" and "stage" in header and "valid_loss" in header
    splits = json.loads((tmp_path / "m.pt.splits.json").read_text())
    assert splits["train"]["steps"] == 240 and splits["valid"]["steps"] == 60 and splits["test"]["steps"] == 300
    res = tmp_path / "res.tsv"
    r = CliRunner().invoke(cli, ["impute", "evaluate", "--data", str(data), "--dataset", "csv", "-o", str(res),
                                 "--model", f"Conv={model}", "--rates", "0.1,0.3", "--seeds", "2", "--window", "16",
                                 "--block-len", "4"])
    assert r.exit_code == 0, r.output
    tsv = pd.read_csv(res, sep="\t")
    assert set(tsv["method"]) == {"ZeroFill", "Mean", "LOCF", "Linear", "CubicSpline", "Conv"}
    assert set(tsv["setting"].astype(str)) == {"0.1", "0.3", "block"} and (tsv["n_seeds"] == 2).all()
    lin = tsv[(tsv.method == "Linear") & (tsv.metric == "mae") & (tsv.context == "series")]
    zero = tsv[(tsv.method == "ZeroFill") & (tsv.metric == "mae") & (tsv.context == "series")]
    assert (lin["mean"].to_numpy() < zero["mean"].to_numpy()).all()
    md = (tmp_path / "res.md").read_text()
    assert "| MCAR 10% |" in md and "| blocks |" in md and "Conv@window" in md
    js = json.loads((tmp_path / "res.json").read_text())
    assert js["protocol"]["seeds"] == [0, 1] and (tmp_path / "res.png").stat().st_size > 1000


def test_evaluate_scores_hand_checkable():
    from chipsr.tasks.impute.evaluate import l2_series, score

    truth = np.array([[1.0, 2.0], [3.0, nan], [5.0, 6.0]])
    pred = np.array([[1.0, 2.0], [4.0, 0.0], [5.0, 8.0]])
    ind = np.array([[0, 0], [1, 0], [0, 1]], np.float32)
    s = score(pred, truth, ind, D.Standardizer(np.zeros(2), np.ones(2)))
    assert s["mae"] == pytest.approx(1.5) and s["rmse"] == pytest.approx(math.sqrt(2.5))
    assert s["mre"] == pytest.approx(3 / 9)
    # L2: series 0 sqrt(1/3), series 1 sqrt(4/3) (the truly missing step counts as zero error)
    assert l2_series(pred, truth) == pytest.approx((math.sqrt(1 / 3) + math.sqrt(4 / 3)) / 2)


# ------------------------------------------------------------------------------------ loaders


def test_favorita_loader_on_a_tiny_train_csv(tmp_path):
    rows = ["id,date,store_nbr,item_nbr,unit_sales,onpromotion"]
    i = 0
    for item, n_dates in ((101, 5), (102, 4), (103, 2)):
        for d in range(n_dates):
            for store, sales in ((1, 2.0 * d), (2, 4.0 * d + item)):
                rows.append(f"{i},2016-01-{10 - d:02d},{store},{item},{sales},False")  # dates out of order
                i += 1
    p = tmp_path / "train.csv"
    p.write_text("\n".join(rows) + "\n")
    out = D.load_favorita(p, n_steps=4, test_fraction=0.5, seed=0, chunksize=7)
    items = np.r_[out["train_items"], out["test_items"]]
    assert sorted(items) == [101, 102]  # 103 has only 2 dates
    X = np.r_[out["train"], out["test"]]
    k = int(np.flatnonzero(items == 102)[0])
    # dates 2016-01-07..10 in order; the mean over stores of (2 d, 4 d + 102) with d = 10 - day
    days = np.array([7, 8, 9, 10])
    d = 10 - days
    assert np.allclose(X[k, :, 0], (2.0 * d + 4.0 * d + 102) / 2)
    assert X.shape == (2, 4, 1) and len(out["test_items"]) == 1
    with pytest.raises(ChipsrInputError, match="train.csv"):
        D.load_favorita(p, n_steps=50)


@pytest.mark.skipif(not SHARED_IMP.is_dir(), reason="the Beijing / ETT data (see SHARED_IMP) is not available")
def test_real_beijing_loader():
    df = D.load_beijing(SHARED_IMP / "beijing_air_quality")
    assert df.shape == (35064, 132) and df.columns[0] == "Aotizhongxin.PM2.5"
    assert 0.015 < np.isnan(df.to_numpy()).mean() < 0.016
    assert df.index[0] == pd.Timestamp("2013-03-01") and df.index[-1] == pd.Timestamp("2017-02-28 23:00")
    # Linear interpolation on the SAITS test split, 10 % MCAR, seed 0 (documented numbers)
    tr, _, te = D.saits_split(df)
    sc = D.Standardizer.fit(tr.to_numpy())
    Z = sc.transform(te.to_numpy())
    Zh, ind = D.mcar(Z, 0.1, seed=0)
    from chipsr.core.metrics import masked_mae

    assert masked_mae(B.Linear().impute(Zh), Z, ind) == pytest.approx(0.1249, abs=1e-3)


@pytest.mark.skipif(not SHARED_IMP.is_dir(), reason="the Beijing / ETT data (see SHARED_IMP) is not available")
def test_real_ett_loader_and_splits():
    df = D.load_ett(SHARED_IMP / "ett_small", "ETTh1")
    assert df.shape == (17420, 7) and not df.isna().any().any()
    tr, va, te = D.ett_split(df)
    assert (len(tr), len(va), len(te)) == (8640, 2880, 2880)
    s = D.load_splits("ett", SHARED_IMP / "ett_small" / "ETTh2.csv.gz")
    assert s["name"] == "ETTh2" and len(s["train"]) == 8640
