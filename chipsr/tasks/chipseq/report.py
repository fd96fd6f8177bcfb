"""The aggregated accuracy report and genome-browser files of a workflow run (``chipsr report``).

Reads the ``chipsr evaluate`` JSON of every target mark and writes:

- a Markdown report with the paper's Table 2 shape (rows: marks; columns: Pearson r of the noisy
  input, the smoothed input, each model), a second table inside / outside peaks, and links to
  the per-mark figures;
- a UCSC track hub (``hub.txt``, ``genomes.txt``, ``<genome>/trackDb.txt``) and an IGV session
  (``igv_session.xml``) listing the low-depth, full-depth and denoised bigWigs of every mark, with
  paths relative to the files that reference them (so the folder can be served or moved whole).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import all_or_none
from chipsr.io.tables import markdown_table, read_json, write_text
from chipsr.tasks.chipseq.evaluate import (
    DEPTH_NAME,
    SEED_TRACK,
    equivalent_depth,
    format_depth,
)

SMOOTHED = "smoothed input"
_SEED = SEED_TRACK


def seed_summary(row: dict[str, float | None]) -> dict[str, dict]:
    """Group one mark's overall Pearson r by method, folding ``METHOD.seedN`` tracks into spreads.

    Parameters
    ----------
    row : dict of str to float or None
        Track name -> Pearson r; ``tfilm`` is a method's (ensemble) track, ``tfilm.seed1`` ...
        its single-seed models.

    Returns
    -------
    dict
        Method -> ``{"value": r of the method's own track or None, "mean": mean over seeds (or
        the value when there are no seeds), "sd": sample sd over seeds (0 for one or none),
        "n": number of seeds}``, in first-seen order.
    """
    out: dict[str, dict] = {}
    seeds: dict[str, list[float]] = {}
    for name, r in row.items():
        m = _SEED.match(name)
        if m:
            out.setdefault(m["base"], {"value": None})
            if r is not None:
                seeds.setdefault(m["base"], []).append(r)
        else:
            out.setdefault(name, {"value": None})["value"] = r
    for name, cell in out.items():
        vals = seeds.get(name, [])
        n = len(vals)
        mean = sum(vals) / n if n else cell["value"]
        sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else 0.0
        cell.update(mean=mean, sd=sd, n=n)
    return out


def _cell(c: dict) -> str:
    if c["n"] > 1:
        ens = f" (ens. {_fmt(c['value'])})" if c["value"] is not None else ""
        return f"{_fmt(c['mean'])} ± {c['sd']:.3f}{ens}"
    return _fmt(c["mean"])


def verdict(summary: dict[str, dict]) -> str:
    """One line: the best method by mean r, its margin over the runner-up, and whether that
    margin exceeds the spread over seeds (the larger sd of the two); a smaller one is not a result.
    Three decimals, four when the spread is below 0.0005 (so that "+0.001, beyond the seed sd 0.000"
    cannot be printed)."""
    ranked = sorted(((c["mean"], name, c) for name, c in summary.items() if c["mean"] is not None), reverse=True)
    if len(ranked) < 2:
        return "n/a"
    (r1, n1, c1), (r2, n2, c2) = ranked[:2]
    spread = max(c1["sd"], c2["sd"])
    margin = r1 - r2
    if spread == 0:
        return f"{n1} ahead of {n2} by {margin:+.3f} (one run each: no spread measured)"
    word = "beyond" if margin > spread else "within"
    digits = 3 if spread >= 0.0005 else 4  # an sd that rounds to 0.000 is shown, not hidden
    return f"{n1} ahead of {n2} by {margin:+.{digits}f}, {word} the seed sd {spread:.{digits}f}"


def _load(path: Path) -> dict:
    data = read_json(path, "evaluation JSON")
    if not isinstance(data, dict):
        raise ChipsrInputError(f"{path}: not a `chipsr evaluate` JSON (not an object)")
    missing = [k for k in ("metrics", "tracks", "track_order", "truth", "regions", "bin_size", "peaks")
               if k not in data]
    if missing:
        raise ChipsrInputError(f"{path}: not a `chipsr evaluate` JSON (no {', '.join(missing)})")
    for i, row in enumerate(data["metrics"]):
        if not isinstance(row, dict) or not {"track", "chrom", "subset", "pearson"} <= set(row):
            raise ChipsrInputError(f"{path}: metrics row {i + 1} lacks track/chrom/subset/pearson")
    return data


def _overall(data: dict, subset: str = "all", key: str = "pearson") -> dict[str, float | None]:
    return {r["track"]: r.get(key) for r in data["metrics"] if r["chrom"] == "all" and r["subset"] == subset}


def depth_robustness_lines(loaded: dict[str, dict], depth_loaded: dict[str, dict[str, dict]]) -> list[str]:
    """The report's input-depth table: each model applied, unchanged, to the marks
    subsampled to other depths, against the best Gaussian smoothing of that same input.

    Parameters
    ----------
    loaded : dict
        Mark -> its main (1x) evaluation JSON.
    depth_loaded : dict
        Mark -> {depth label (e.g. ``"0.25"``, a multiple of the training input's reads) ->
        evaluation JSON of that depth's input and denoised tracks}.

    Returns
    -------
    list of str
        Markdown lines (empty when there is nothing to show). Per row: Pearson r of the smoothed
        input and of each model (ensembles), each model's mean over the test region divided by
        its mean at 1x (the scale a lab reads off the track: 1.00 = independent of depth), and
        whether every model beats the smoothing.
    """
    if not depth_loaded:
        return []
    models: list[str] = []
    for per in depth_loaded.values():
        for data in per.values():
            for name in data["track_order"][1:]:
                if not _SEED.match(name) and name not in models and name != SMOOTHED:
                    models.append(name)
    table = []
    for mark, per in depth_loaded.items():
        base = _overall(loaded[mark], key="mean") if mark in loaded else {}
        rows = dict(per)
        if mark in loaded:
            rows.setdefault("1", loaded[mark])
        for label in sorted(rows, key=float):
            data = rows[label]
            r, mean = _overall(data), _overall(data, key="mean")
            smooth = r.get(SMOOTHED)
            cells = [_fmt(r.get(m)) for m in models]
            ratios = [f"{mean[m] / base[m]:.2f}" if mean.get(m) is not None and base.get(m) else "n/a" for m in models]
            wins = [m for m in models if r.get(m) is not None and smooth is not None and r[m] > smooth]
            verdict_cell = "all" if len(wins) == len(models) else (", ".join(wins) or "none")
            table.append([mark, f"{float(label):g}x", _fmt(smooth), *cells, *ratios, verdict_cell])
    header = ["mark", "input depth", "smoothed input", *models, *(f"{m} mean / 1x" for m in models), "beats smoothing"]
    text = ("Input depth: each model applied unchanged to its marks subsampled to other depths (a multiple "
            "of the training input's reads), on the test region, against the best Gaussian smoothing of the "
            "same input (width chosen on the validation region). `mean / 1x`: the model's mean output over "
            "the test region divided by its mean at 1x (1.00 = output scale independent of input depth).")
    return ["", text, "", markdown_table(header, table, "lrr" + "r" * (2 * len(models)) + "l")]


def peak_table_lines(loaded: dict[str, dict], ordered: list[str]) -> list[str]:
    """Markdown tables of peak F1 and AUPRC per mark and method, from evaluations that
    scored peaks (``chipsr evaluate --truth-peaks ... --peak-type``); empty when none did.

    Methods are the Pearson table's columns (mean ± sd over seeds where there are seeds); the
    given peak sets named ``macs3 CUTOFF`` (MACS3 on the low-depth reads) are folded into one
    column holding the best of them and its cutoff, the baseline taken at its best on the test
    region (generous to it).
    """
    scored = {m: d["peak_scores"] for m, d in loaded.items() if d.get("peak_scores")}
    if not scored:
        return []
    first = next(iter(scored.values()))
    table = []
    for mark, sc in scored.items():
        f1 = seed_summary({n: row.get("f1") for n, row in sc["called"].items() if not n.startswith("macs3 ")})
        macs = {n[len("macs3 "):]: row.get("f1") for n, row in sc["called"].items() if n.startswith("macs3 ")}
        best_macs = max(((v, k) for k, v in macs.items() if v is not None), default=None)
        primary = "tfilm" if "tfilm" in f1 else next((c for c in reversed(ordered) if c in f1), None)
        value = None if primary is None else (f1[primary]["value"] if f1[primary]["value"] is not None
                                              else f1[primary]["mean"])
        gap = f"{value - best_macs[0]:+.3f}" if value is not None and best_macs else "n/a"
        cells = [_cell(f1[c]) if c in f1 else "n/a" for c in ordered]
        macs_cell = f"{_fmt(best_macs[0])} ({best_macs[1]})" if best_macs else "n/a"
        table.append([mark, "peak F1", *cells, macs_cell, gap])
        auprc = seed_summary({n: row.get("auprc") for n, row in sc["by_track"].items()})
        table.append([mark, "AUPRC", *(_cell(auprc[c]) if c in auprc else "n/a" for c in ordered), "n/a", None])
    text = (f"Peaks: each method's peaks against `macs3 callpeak` on the full-depth reads "
            f"(`{Path(first['truth']).name}`, ...), on the test region, overlap >= {first['overlap']}. A "
            f"track's peaks come from MACS3's track caller with the cutoff that matched the truth best on "
            f"the validation region; `MACS3 low-depth` is `macs3 callpeak` on the low-depth reads at its best "
            f"cutoff here (in brackets), what a lab runs today. Peak F1 (mean ± sd over seeds), then the "
            f"AUPRC of the track's bins against the truth-peak bins (every bin scored). The last column: "
            f"the denoised track's F1 (tfilm's seed ensemble, the track `chipsr denoise` writes) minus "
            f"MACS3's.")
    header = ["mark", "metric", *ordered, "MACS3 low-depth", "tfilm - MACS3"]
    return ["", text, "", markdown_table(header, table, "ll" + "r" * (len(ordered) + 2))]


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _columns(loaded: dict[str, dict]) -> list[str]:
    """The report's method columns: the first evaluation's first track (the noisy input), the
    smoothed input where any evaluation has it, then every other track in first-seen order, seeds
    folded into their method and the raw depth series left out (the depth-equivalence table has
    them); a name counts only where an evaluation has metric rows for it."""
    columns: list[str] = []
    for data in loaded.values():
        depth_rows = {DEPTH_NAME.format(float(k)) for k in data.get("depth_series") or {}}
        for name in [*data["track_order"], SMOOTHED]:
            if name in depth_rows:  # deeper raw data, not a competitor: the depth-equivalence table has them
                continue
            seed = _SEED.match(name)
            name = seed["base"] if seed else name
            if name not in columns and any(r["track"] == name or r["track"].startswith(name + ".seed")
                                           for r in data["metrics"]):
                columns.append(name)
    noisy = next(iter(loaded.values()))["track_order"][0]
    return [noisy] + ([SMOOTHED] if SMOOTHED in columns else []) + [c for c in columns if c not in (noisy, SMOOTHED)]


def _pearson_table(first: dict, ordered: list[str], table: dict[str, dict]) -> list[str]:
    """The title, the paragraph on what was scored, and the Pearson r table (the paper's Table 2
    shape: a row per mark, the best mean in bold, the verdict on the lead)."""
    noisy = ordered[0]
    rows = []
    for mark, row in table.items():
        summary = seed_summary(row)
        cells_in = [summary.get(c, {"value": None, "mean": None, "sd": 0.0, "n": 0}) for c in ordered]
        best = max((c["mean"] for c in cells_in if c["mean"] is not None), default=None)
        cells = [f"**{_cell(c)}**" if c["mean"] is not None and c["mean"] == best else _cell(c) for c in cells_in]
        methods = {c: summary[c] for c in ordered if c != noisy and c in summary}
        rows.append([mark, *cells, verdict(methods)])
    text = (f"Pearson r between each track and the full-depth track, over the held-out test region(s) "
            f"({', '.join(first['regions'])}; {first['bin_size']}-bp bins, blacklisted bins excluded). "
            f"`{noisy}` is the low-depth track itself; `{SMOOTHED}` is it convolved with a Gaussian whose "
            f"width was chosen on the validation region; the other columns are trained models "
            f"(tfilm: TFiLM U-Net; conv: the same U-Net without TFiLM; coda: the Koh et al. CNN; "
            f"linear: a multi-mark linear filter). A model trained with several seeds shows the mean ± sd "
            f"of its single-seed models and, in brackets, the r of their ensemble (the mean of their "
            f"outputs: the track in `denoised/`). Best mean per row in bold; the last column says "
            f"whether the best method's lead exceeds the spread over seeds.")
    return ["# chipsr report: denoised low-depth ChIP-seq vs full depth", "", text, "",
            markdown_table(["mark", *ordered, "verdict"], rows, "l" + "r" * len(ordered) + "l")]


def _peak_split_table(loaded: dict[str, dict], ordered: list[str]) -> list[str]:
    """Markdown lines of the Pearson r inside / outside peaks table (means over seeds)."""
    rows = []
    for mark, data in loaded.items():
        peaks, background = seed_summary(_overall(data, "peaks")), seed_summary(_overall(data, "background"))
        rows.append([mark, *(f"{_fmt(peaks.get(c, {}).get('mean'))} / {_fmt(background.get(c, {}).get('mean'))}"
                             for c in ordered)])
    rule = next(iter(loaded.values()))["peaks"].get("rule", "see the per-mark reports")
    header = ["mark", *(f"{c} (peaks / outside)" for c in ordered)]
    return ["", f"Inside / outside peaks (peaks: {rule}):", "", markdown_table(header, rows, "l" + "r" * len(ordered))]


def _differential_table(loaded: dict[str, dict], ordered: list[str]) -> list[str]:
    """Markdown lines of the differential-r table (empty when no evaluation has a reference)."""
    if not any(d.get("differential") for d in loaded.values()):
        return []
    refs = sorted({d["differential"]["reference"] for d in loaded.values() if d.get("differential")})
    rows = []
    for mark, data in loaded.items():
        summary = seed_summary((data.get("differential") or {}).get("by_track", {}))
        rows.append([mark, *(_cell(summary[c]) if c in summary else "n/a" for c in ordered)])
    text = (f"Differential r: Pearson r between (track - reference) and (truth - reference), each in fold "
            f"enrichment over its mean (reference: {', '.join(refs)}, a related sample's deep track). It "
            f"asks whether a method recovers what is specific to this sample rather than copying the "
            f"reference (the reference plus noise scores about 0; the reference itself n/a).")
    return ["", text, "", markdown_table(["mark", *ordered], rows, "l" + "r" * len(ordered))]


def _depth_equivalence_table(loaded: dict[str, dict], ordered: list[str]) -> list[str]:
    """Markdown lines of the depth-equivalence table: each method's mean r (over seeds) placed on
    the raw depth series of its mark (:func:`equivalent_depth`); empty without a depth series."""
    if not any(d.get("depth_equivalence") for d in loaded.values()):
        return []
    methods = ordered[1:]  # every column but the noisy input
    rows = []
    for mark, data in loaded.items():
        eq = data.get("depth_equivalence")
        if not eq:
            continue
        summary = seed_summary(_overall(data))
        mult = [float(k) for k in eq["series"]]
        cells = []
        for c in methods:
            mean = summary.get(c, {}).get("mean")
            if mean is None:
                cells.append("n/a")
                continue
            m, bound = equivalent_depth(mult, list(eq["series"].values()), mean)
            cells.append(format_depth({"multiple": m, "bound": bound}))
        rows.append([mark, ", ".join(f"{k}x {_fmt(v)}" for k, v in eq["series"].items()), *cells])
    text = ("Depth equivalence: the read depth, as a multiple of the input's reads, at which the raw "
            "(undenoised) track would correlate with the full-depth track as well as each method does "
            "(Pearson r interpolated against log2 depth over raw tracks subsampled at the depths "
            "listed; `>` = beyond the deepest). Seeds: the mean over single-seed models' r.")
    header = ["mark", "raw track r at each depth", *methods]
    return ["", text, "", markdown_table(header, rows, "ll" + "r" * len(methods))]


def _links(evaluations: dict[str, str | os.PathLike], out: Path, hub_dir: str | os.PathLike | None) -> list[str]:
    """Markdown lines linking each mark's evaluation table and figure (relative to the report), and
    naming the genome-browser files when they are written."""
    lines = ["", "Per-mark tables (Spearman r, MSE, per chromosome) and figures:", ""]
    for mark, path in evaluations.items():
        md = Path(path).with_suffix(".md")
        png = Path(path).with_suffix(".png")
        lines.append(f"- {mark}: [{md.name}]({os.path.relpath(md, out.parent)}), "
                     f"![{mark}]({os.path.relpath(png, out.parent)})")
    if hub_dir is not None:
        lines += ["", (f"Genome browsers: UCSC track hub `{Path(hub_dir) / 'hub.txt'}`, IGV session "
                       f"`{Path(hub_dir) / 'igv_session.xml'}`.")]
    return lines


def report(evaluations: dict[str, str | os.PathLike], output: str | os.PathLike,
           hub_dir: str | os.PathLike | None = None, *, genome: str,
           depth_evaluations: dict[str, dict[str, str | os.PathLike]] | None = None,
           peak_files: dict[str, str | os.PathLike] | None = None,
           html: str | os.PathLike | None = None, training_logs: dict | None = None) -> dict:
    """Write the aggregated report (and optionally the hub and IGV session).

    Parameters
    ----------
    evaluations : dict of str to path
        Target mark name -> its ``chipsr evaluate`` JSON (the noisy input track must be the
        first track; the others are the models, in column order).
    output : path
        The Markdown report (atomic).
    hub_dir : path or None
        Where to write the UCSC hub and IGV session (created if missing).
    depth_evaluations : dict or None
        Mark -> {input depth multiple -> evaluation JSON}: the input-depth table
        (:func:`depth_robustness_lines`).
    genome : str
        UCSC assembly name for the hub and IGV (e.g. ``hg19``, ``hg38``, ``mm10``).
    peak_files : dict or None
        Label -> peak file (e.g. ``chipsr peaks`` of each denoised track) added to the IGV session.
    training_logs : dict or None
        ``MARK.ARCH[.seedN]`` -> ``.epochs.tsv``: training curves on the report page.
    html : path or None
        Also write the self-contained report page here
        (:func:`chipsr.tasks.chipseq.report_html.write_html`: tables, figures, an embedded igv.js).

    Returns
    -------
    dict
        ``{mark: {track: Pearson r}}``.

    Raises
    ------
    ChipsrInputError
        A missing or malformed evaluation JSON.
    """
    out = Path(output)
    loaded = {mark: _load(Path(p)) for mark, p in evaluations.items()}
    ordered = _columns(loaded)
    first = next(iter(loaded.values()))
    table = {mark: _overall(d) for mark, d in loaded.items()}
    lines = [*_pearson_table(first, ordered, table), *_peak_split_table(loaded, ordered),
             *_differential_table(loaded, ordered), *_depth_equivalence_table(loaded, ordered),
             *peak_table_lines(loaded, ordered)]
    depth_loaded = {mark: {label: _load(Path(p)) for label, p in per.items()}
                    for mark, per in (depth_evaluations or {}).items()}
    lines += depth_robustness_lines(loaded, depth_loaded)
    lines += _links(evaluations, out, hub_dir)
    text = "\n".join(lines) + "\n"
    hub_files = [] if hub_dir is None else [Path(hub_dir) / name for name in
                                            ("hub.txt", "genomes.txt", f"{genome}/trackDb.txt", "igv_session.xml")]
    with all_or_none(out, html, *hub_files):  # a failed page or hub leaves no report behind
        write_text(out, text)
        if html is not None:
            from chipsr.io.genome import read_bed_intervals
            from chipsr.tasks.chipseq.report_html import write_html

            black = first.get("blacklist")
            write_html(html, text, loaded, genome,
                       read_bed_intervals(black) if black and Path(black).is_file() else None, peak_files,
                       training_logs)
        if hub_dir is not None:
            write_browser_files(loaded, Path(hub_dir), genome, peak_files)
    return table


def write_browser_files(loaded: dict[str, dict], hub_dir: Path, genome: str,
                        extra_peaks: dict[str, str | os.PathLike] | None = None) -> None:
    """UCSC hub (hub.txt, genomes.txt, <genome>/trackDb.txt) for the bigWigs, and an IGV session for
    the bigWigs and the peak files (the evaluations' truth and given sets, plus ``extra_peaks``:
    label -> narrowPeak/broadPeak path)."""
    hub_dir.mkdir(parents=True, exist_ok=True)
    tracks = []  # (name, label, path, color)
    palette = {"noisy": "150,150,150", "truth": "0,0,0"}
    for mark, data in loaded.items():
        names = [n for n in data["track_order"]  # files only (not the smoothed copy), ensembles only
                 if n in data["tracks"] and not _SEED.match(n)]
        tracks.append((f"{mark}_fulldepth", f"{mark} full depth", data["truth"], palette["truth"]))
        tracks.append((f"{mark}_lowdepth", f"{mark} low depth", data["tracks"][names[0]], palette["noisy"]))
        for name in names[1:]:
            tracks.append((f"{mark}_{name}", f"{mark} denoised ({name})", data["tracks"][name], "200,30,30"))
    write_text(hub_dir / "hub.txt", "hub chipsr\nshortLabel chipsr\nlongLabel chipsr: low-depth, full-depth and "
                "denoised ChIP-seq\ngenomesFile genomes.txt\nemail none\n")
    write_text(hub_dir / "genomes.txt", f"genome {genome}\ntrackDb {genome}/trackDb.txt\n")
    stanzas = []
    for name, label, path, color in tracks:
        if name is None:  # peak files: IGV reads narrowPeak / broadPeak; a UCSC hub needs bigBed (not written)
            continue
        rel = os.path.relpath(Path(path).resolve(), (hub_dir / genome).resolve())
        stanzas.append(f"track {name}\nbigDataUrl {rel}\nshortLabel {label[:17]}\nlongLabel {label}\n"
                       f"type bigWig\nvisibility full\nautoScale on\nmaxHeightPixels 64:40:11\ncolor {color}\n")
    (hub_dir / genome).mkdir(exist_ok=True)
    write_text(hub_dir / genome / "trackDb.txt", "\n".join(stanzas))
    peak_files = []  # (label, path): the truth and MACS3 sets from the evaluations, then the extra ones
    for mark, data in loaded.items():
        sc = data.get("peak_scores") or {}
        if sc.get("truth"):
            peak_files.append((f"{mark} full-depth peaks (MACS3)", sc["truth"]))
        for name, row in (sc.get("called") or {}).items():
            if Path(str(row.get("source", ""))).is_file():
                peak_files.append((f"{mark} {name}", row["source"]))
    peak_files += list((extra_peaks or {}).items())
    tracks += [(None, label, path, "30,90,200") for label, path in peak_files]
    resources = "\n".join(
        f"        <Resource name={quoteattr(label)} path={quoteattr(os.path.relpath(Path(path).resolve(), hub_dir.resolve()))}/>"
        for _, label, path, _ in tracks)
    panel = "\n".join(
        f"        <Track attributeKey={quoteattr(os.path.relpath(Path(path).resolve(), hub_dir.resolve()))} "
        f"autoScale=\"true\" color={quoteattr(color)} id={quoteattr(os.path.relpath(Path(path).resolve(), hub_dir.resolve()))} "
        f"name={quoteattr(label)}/>"
        for _, label, path, color in tracks)
    locus = next(iter(loaded.values())).get("locus") or "All"
    write_text(hub_dir / "igv_session.xml",
                f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
                f'<Session genome="{genome}" locus="{locus}" relativePath="true" version="8">\n'
                f"    <Resources>\n{resources}\n    </Resources>\n"
                f'    <Panel name="DataPanel">\n{panel}\n    </Panel>\n</Session>\n')
