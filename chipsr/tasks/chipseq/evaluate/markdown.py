"""The text of ``PREFIX.md``: what was scored, the Pearson table (the paper's Table 2 shape), and the
depth-equivalence, differential-r and peak tables where the evaluation has them.
"""

from __future__ import annotations

import math
from pathlib import Path

from chipsr.io.tables import markdown_table
from chipsr.tasks.chipseq.evaluate.depth import format_depth
from chipsr.tasks.chipseq.evaluate.metrics import SUBSETS


def fmt(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or ``"n/a"`` when it is None, NaN or infinite."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


def markdown_text(result: dict) -> str:
    """``PREFIX.md``: a paragraph on what was scored, the Pearson table (the paper's Table 2 shape:
    a row per track), then the depth-equivalence, differential-r and peak tables where ``result``
    has them."""
    rows = {(r["track"], r["chrom"], r["subset"]): r for r in result["metrics"]}
    table = []
    for track in result["track_order"]:
        a, p, b = (rows[(track, "all", s)] for s in SUBSETS)
        table.append([track, fmt(a["pearson"]), fmt(p["pearson"]), fmt(b["pearson"]), fmt(a["spearman"]),
                      fmt(a["mse"], 4)])
    header = ["track", "Pearson r", "Pearson r (peaks)", "Pearson r (outside peaks)", "Spearman r", "MSE"]
    lines = [*_markdown_intro(result), "", markdown_table(header, table, "lrrrrr")]
    lines += _depth_equivalence_lines(result.get("depth_equivalence"))
    lines += _differential_lines(result.get("differential"))
    lines += peak_lines(result.get("peak_scores"))
    return "\n".join(lines) + "\n"


def _markdown_intro(result: dict) -> list[str]:
    """The title and the paragraph on the bins, the peaks and the smoothing of ``PREFIX.md``."""
    peaks = result["peaks"]
    regions = result["regions"]
    where = ", ".join(regions) if len(regions) <= 5 else f"{', '.join(regions[:5])}, ... ({len(regions)} regions)"
    text = (f"Bins of {result['bin_size']} bp over {where}: {result['n_bins']} bins "
            f"evaluated ({result['n_bins_blacklisted']} blacklisted bins excluded). "
            f"Peaks: {peaks['rule']}; {100 * peaks['fraction']:.2f} % of the bins.")
    if result["smoothing"] is not None:
        s = result["smoothing"]
        text += (f" Smoothed input: {s['input']} with a Gaussian of sigma {s['sigma']:g} bins, "
                 f"chosen on {s['select_region']}.")
    return [f"# chipsr evaluate: Pearson r against {Path(result['truth']).name}", "", text]


def _depth_equivalence_lines(eq: dict | None) -> list[str]:
    """Markdown lines of the depth-equivalence table (empty without a depth series)."""
    if not eq:
        return []
    text = ("Depth equivalence: the read depth (x the input's) at which the raw track would correlate "
            "with the truth as well as each track does (r interpolated against log2 depth over "
            + ", ".join(f"{k}x" for k in eq["series"]) + ").")
    table = [[name, format_depth(d)] for name, d in eq["by_track"].items()]
    return ["", text, "", markdown_table(["track", "depth equivalence"], table, "lr")]


def _differential_lines(diff: dict | None) -> list[str]:
    """Markdown lines of the differential-r table (empty without a differential reference)."""
    if not diff:
        return []
    text = (f"Differential r: Pearson r between (track - {diff['reference']}) and (truth - "
            f"{diff['reference']}), each in fold enrichment over its mean: how much of what is specific to "
            f"this sample a track recovers (the reference plus noise scores about 0).")
    table = [[name, fmt(r)] for name, r in diff["by_track"].items()]
    return ["", text, "", markdown_table(["track", "differential r"], table, "lr")]


def peak_lines(scores: dict | None) -> list[str]:
    """Markdown lines of an evaluation's peak scores (empty without them): per track or peak set,
    peak F1, precision, recall, bp Jaccard and count, then the bins' AUPRC and AUROC."""
    if not scores:
        return []
    table = []
    for name in dict.fromkeys([*scores["by_track"], *scores["called"]]):
        c, b = scores["called"].get(name, {}), scores["by_track"].get(name, {})
        table.append([name, fmt(c.get("f1")), fmt(c.get("precision")), fmt(c.get("recall")),
                      fmt(c.get("jaccard")), str(c.get("n_called", "")), fmt(b.get("auprc")),
                      fmt(b.get("auroc"))])
    header = ["track or peak set", "peak F1", "precision", "recall", "bp Jaccard", "peaks", "AUPRC", "AUROC"]
    text = (f"Peaks against {Path(scores['truth']).name} (overlap >= {scores['overlap']}; bins: AUPRC / AUROC "
            f"of the track's values against bins in a truth peak, every evaluated bin):")
    return ["", text, "", markdown_table(header, table, "lrrrrrrr")]
