"""Streaming training data: usable windows as runs, memory-mapped bins read lazily by
crops and DataLoader workers, and chunked streaming that trains the same model as one read."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from chipsr.io.arrays import ArrayStore
from chipsr.tasks.chipseq.data import (
    RandomCrops,
    Scaling,
    ScalingSums,
    TiledWindows,
    cache_regions,
    runs_to_starts,
    starts_to_runs,
    usable_runs,
)

from builders import make_tracks


def brute_force_starts(nonzero, black, window):
    n = len(nonzero)
    return [s for s in range(n - window + 1) if not black[s : s + window].any() and nonzero[s : s + window].any()]


def test_usable_runs_match_a_brute_force_scan():
    rng = np.random.default_rng(7)
    for case in range(300):
        n = int(rng.integers(1, 120))
        window = int(rng.integers(1, 30))
        nonzero = rng.random(n) < rng.choice([0.02, 0.2, 0.9])
        black = rng.random(n) < rng.choice([0.0, 0.02, 0.1])
        runs = usable_runs(nonzero, black, window)
        assert runs_to_starts(runs).tolist() == brute_force_starts(nonzero, black, window), case
        assert (runs[:, 1] > runs[:, 0]).all() and (runs[1:, 0] > runs[:-1, 1]).all()  # disjoint, non-empty
        np.testing.assert_array_equal(starts_to_runs(runs_to_starts(runs)), runs)


def _region(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.gamma(0.5, 1.0, (1, n)).astype(np.float32)
    x = np.vstack([y[0] + rng.normal(0, 0.1, n), rng.random(n)]).astype(np.float32)
    black = np.zeros(n, dtype=bool)
    black[1000:1400] = True
    x[:, 3000:3500] = 0
    y[:, 3000:3500] = 0
    return x, y, black


@pytest.mark.parametrize("peak_fraction", [0.0, 0.5])
def test_crops_from_runs_equal_crops_from_every_start(peak_fraction):
    x, y, black = _region()
    runs = usable_runs(np.any(x != 0, axis=0) | (y[0] != 0), black, 100)
    a = RandomCrops([x], [y], [runs_to_starts(runs)], 100, 64, seed=3, peak_fraction=peak_fraction)
    b = RandomCrops([x], [y], [runs], 100, 64, seed=3, peak_fraction=peak_fraction)
    for epoch in (1, 2):
        a.set_epoch(epoch)
        b.set_epoch(epoch)
        assert a.crops == b.crops


def test_memory_mapped_crops_read_the_same_windows_and_pickle_as_a_path(tmp_path):
    x, y, black = _region()
    scaling = Scaling.fit("arcsinh", x, y[0], ["a", "b"], "t")
    store = ArrayStore(tmp_path / "cache")
    cached = cache_regions(store, "train", [x.shape[1]], lambda i, a, b: (x[None, :, a:b], y[:, a:b], black[a:b]),
                           100, chunk_bins=777)
    assert np.array_equal(np.asarray(cached[0].x)[0], x) and np.array_equal(np.asarray(cached[0].y), y)
    memory = RandomCrops([scaling.inputs(x)], [scaling.target(y)], [cached[0].runs], 100, 40, seed=1)
    mapped = RandomCrops([cached[0].x], [cached[0].y], [cached[0].runs], 100, 40, seed=1,
                         inputs=scaling.inputs, target=scaling.target)
    for i in range(len(memory)):
        for u, v in zip(memory[i], mapped[i]):
            assert torch.equal(u, v)
    assert len(pickle.dumps(mapped)) < 20_000  # paths and crop lists, not the bins
    batches = [torch.cat([b[0].flatten() for b in DataLoader(mapped, batch_size=8, num_workers=w)]) for w in (0, 2)]
    assert torch.equal(*batches)  # worker processes open the maps themselves and read the same crops
    store.remove()
    assert not (tmp_path / "cache").exists()


def test_scaling_sums_over_chunks_equal_one_fit():
    x, y, black = _region()
    whole = Scaling.fit("log1p", x[:, ~black], y[0, ~black], ["a", "b"], "t")
    sums = ScalingSums("log1p", "scaled", 2)
    for a in range(0, x.shape[1], 1234):
        sums.add(x[:, a : a + 1234], y[:, a : a + 1234], ~black[a : a + 1234])
    chunked = sums.scaling(["a", "b"], "t")
    np.testing.assert_allclose(chunked.input_scale, whole.input_scale, rtol=1e-6)
    assert chunked.target_scale == pytest.approx(whole.target_scale, rel=1e-6)


def test_tiled_windows_stack_in_order():
    x, y, _ = _region()
    windows = TiledWindows([np.stack([x, 2 * x])], [y], [(0, 0, 0), (0, 1, 200)], 100)
    xs, ys = windows.stack(range(2))
    np.testing.assert_array_equal(xs[1], 2 * x[:, 200:300])
    np.testing.assert_array_equal(ys[0], y[:, :100])


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["tfilm", "linear"])
def test_training_streamed_in_small_chunks_gives_the_same_model(tmp_path, arch):
    """The bins streamed 700 at a time train exactly the model one read trains, and the cache
    folder is gone afterwards (also after an error raised once it exists)."""
    from chipsr.api import train

    files = make_tracks(tmp_path)
    marks = [f"K27ac={files['K27ac']}", f"K4me1={files['K4me1']}"]
    kw = dict(train_regions=["chrA:1-100000"], valid_regions=["chrA:100001-150000"],
              arch=arch, window=200, epochs=2, batch_size=8, samples_per_epoch=48, width=0.0625, unet_depth=2,
              device="cpu", seed=4)
    states = []
    for chunk in (4_000_000, 700):
        out = tmp_path / f"{arch}{chunk}" / "m.pt"
        out.parent.mkdir()
        summary = train(marks, files["target"], out, chunk_bins=chunk, **kw)
        states.append(torch.load(out, weights_only=False)["state_dict"])
        assert not any(p.name.endswith(".cache") for p in out.parent.iterdir())
    assert summary["valid_windows"] == 10  # 50 kb = 2000 bins of 25 bp = 10 windows of 200
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k
    out = tmp_path / "bad" / "m.pt"
    out.parent.mkdir()
    from chipsr.errors import ChipsrInputError

    with pytest.raises(ChipsrInputError, match="residual"):
        train(marks, files["target"], out, residual_mark="nope", **kw)
    assert list(out.parent.iterdir()) == []


def test_empty_windows_are_not_run_but_get_the_empty_window_output():
    """predict_tiled(skip_empty=True): all-zero windows (assembly gaps) take the one output of an
    all-zero window instead of a forward pass each; the track equals a full run to float rounding."""
    from chipsr.core.inference import predict_tiled
    from chipsr.tasks.chipseq.config import ModelSettings
    from chipsr.tasks.chipseq.model import build_chipseq_model

    torch.manual_seed(0)
    model = build_chipseq_model(ModelSettings(window=200, unet_depth=2), 3).eval()
    seen = []
    model.register_forward_hook(lambda mod, args, out: seen.append(len(args[0])))
    x = np.random.default_rng(0).gamma(0.5, 1, (3, 5000)).astype(np.float32)
    x[:, 1000:2600] = 0
    full = predict_tiled(model, x, 200, 20, batch_size=8, skip_empty=False)
    n_full = sum(seen)
    seen.clear()
    fast = predict_tiled(model, x, 200, 20, batch_size=8)
    torch.testing.assert_close(fast, full, rtol=0, atol=1e-6)
    assert sum(seen) == n_full - 9 + 1  # 9 windows lie inside the gap; one empty window runs once


@pytest.mark.parametrize("bin_size", [1, 7, 25])
def test_binned_reads_the_same_through_values_and_through_intervals(tmp_path, bin_size):
    """BigWigFile.binned's path for dense tracks (per-base numpy values) gives the bins of
    the interval path: gaps as 0, intervals across bin and chunk edges, the chromosome's short last
    bin; a chromosome holding NaN stays on the interval path (which names it)."""
    import pyBigWig

    from chipsr.errors import ChipsrInputError
    from chipsr.io import tracks
    from chipsr.io.tracks import BigWigFile

    size = 5_000_003
    rng = np.random.default_rng(bin_size)
    starts = np.sort(rng.choice(size - 1000, 3000, replace=False))
    ends = np.minimum(starts + rng.integers(1, 900, len(starts)), np.append(starts[1:], size))
    path = tmp_path / "irregular.bw"
    with pyBigWig.open(str(path), "w") as bw:
        bw.addHeader([("chrA", size), ("chrB", 1000)])
        bw.addEntries(["chrA"] * len(starts), starts.tolist(), ends=ends.tolist(), values=rng.random(len(starts)).tolist())
        bw.addEntries(["chrB"], [10], ends=[20], values=[float("nan")])
    f = BigWigFile(path)
    n = -(-size // bin_size)
    assert f.finite("chrA") and not f.finite("chrB")
    old = tracks._CHUNK_BP, tracks._DENSE_BP
    tracks._CHUNK_BP, tracks._DENSE_BP = 100_003, 10**9  # many chunks, edges inside intervals; all "dense"
    try:
        fast = f.binned("chrA", bin_size, 3, n)
        f._finite["chrA"] = False
        slow = f.binned("chrA", bin_size, 3, n)
        with pytest.raises(ChipsrInputError, match="non-finite"):
            f.binned("chrB", bin_size, 0, -(-1000 // bin_size))
    finally:
        tracks._CHUNK_BP, tracks._DENSE_BP = old
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_a_scratch_folder_never_replaces_what_is_not_one(tmp_path):
    """OUTPUT.cache is replaced only when an earlier run made it (marker file); a user's folder or
    file of that name is refused with one line, and kept."""
    from chipsr.errors import ChipsrInputError

    mine = tmp_path / "data"
    mine.mkdir()
    (mine / "reads.bed").write_text("chr1\t1\t2\n")
    with pytest.raises(ChipsrInputError, match="not a chipsr scratch folder"):
        ArrayStore(mine)
    assert (mine / "reads.bed").exists()
    store = ArrayStore(tmp_path / "scratch")
    store.create("a", (3,))
    again = ArrayStore(tmp_path / "scratch")  # a killed run's folder: replaced
    assert [p.name for p in again.folder.iterdir()] == [ArrayStore.MARKER]
    again.remove()
