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

import json
import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import atomic_output

SMOOTHED = "smoothed input"


def _load(path: Path) -> dict:
    if not path.is_file():
        raise ChipsrInputError(f"{path}: evaluation JSON does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ChipsrInputError(f"{path}: not a JSON file ({exc})") from None
    if "metrics" not in data or "tracks" not in data:
        raise ChipsrInputError(f"{path}: not a `chipsr evaluate` JSON (no metrics/tracks)")
    return data


def _overall(data: dict, subset: str = "all") -> dict[str, float | None]:
    return {r["track"]: r["pearson"] for r in data["metrics"] if r["chrom"] == "all" and r["subset"] == subset}


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _write_text(path: Path, text: str) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def report(evaluations: dict[str, str | os.PathLike], output: str | os.PathLike,
           hub_dir: str | os.PathLike | None = None, genome: str = "hg19") -> dict:
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
    genome : str
        UCSC assembly name for the hub and IGV (e.g. ``hg19``, ``hg38``, ``mm10``).

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
    columns: list[str] = []
    for data in loaded.values():
        for name in [*data["track_order"], SMOOTHED]:
            if name not in columns and any(r["track"] == name for r in data["metrics"]):
                columns.append(name)
    first = next(iter(loaded.values()))
    noisy = first["track_order"][0]
    ordered = [noisy] + ([SMOOTHED] if SMOOTHED in columns else []) + [c for c in columns if c not in (noisy, SMOOTHED)]
    table = {mark: _overall(d) for mark, d in loaded.items()}
    lines = [
        "# chipsr report: denoised low-depth ChIP-seq vs full depth",
        "",
        f"Pearson r between each track and the full-depth track, over the held-out test region(s) "
        f"({', '.join(first['regions'])}; {first['bin_size']}-bp bins, blacklisted bins excluded). "
        f"`{noisy}` is the low-depth track itself; `{SMOOTHED}` is it convolved with a Gaussian whose "
        f"width was chosen on the validation region; the other columns are trained models "
        f"(tfilm: TFiLM U-Net; conv: the same U-Net without TFiLM; coda: the Koh et al. CNN; "
        f"linear: a multi-mark linear filter). Best per row in bold.",
        "",
        "| mark | " + " | ".join(ordered) + " |",
        "|---|" + "---:|" * len(ordered),
    ]
    for mark, row in table.items():
        vals = [row.get(c) for c in ordered]
        best = max((v for v in vals if v is not None), default=None)
        cells = [f"**{_fmt(v)}**" if v is not None and v == best else _fmt(v) for v in vals]
        lines.append(f"| {mark} | " + " | ".join(cells) + " |")
    lines += ["", "Inside / outside peaks (peaks: " + first["peaks"].get("rule", "see the per-mark reports") + "):", "",
              "| mark | " + " | ".join(f"{c} (peaks / outside)" for c in ordered) + " |",
              "|---|" + "---:|" * len(ordered)]
    for mark, data in loaded.items():
        peaks, background = _overall(data, "peaks"), _overall(data, "background")
        lines.append(f"| {mark} | " + " | ".join(f"{_fmt(peaks.get(c))} / {_fmt(background.get(c))}" for c in ordered)
                     + " |")
    lines += ["", "Per-mark tables (Spearman r, MSE, per chromosome) and figures:", ""]
    for mark, path in evaluations.items():
        md = Path(path).with_suffix(".md")
        png = Path(path).with_suffix(".png")
        lines.append(f"- {mark}: [{md.name}]({os.path.relpath(md, out.parent)}), "
                     f"![{mark}]({os.path.relpath(png, out.parent)})")
    if hub_dir is not None:
        lines += ["", f"Genome browsers: UCSC track hub `{Path(hub_dir) / 'hub.txt'}`, IGV session "
                      f"`{Path(hub_dir) / 'igv_session.xml'}`."]
    _write_text(out, "\n".join(lines) + "\n")
    if hub_dir is not None:
        write_browser_files(loaded, Path(hub_dir), genome)
    return table


def write_browser_files(loaded: dict[str, dict], hub_dir: Path, genome: str) -> None:
    """UCSC hub (hub.txt, genomes.txt, <genome>/trackDb.txt) and an IGV session for all tracks."""
    hub_dir.mkdir(parents=True, exist_ok=True)
    tracks = []  # (name, label, path, color)
    palette = {"noisy": "150,150,150", "truth": "0,0,0"}
    for mark, data in loaded.items():
        names = [n for n in data["track_order"] if n in data["tracks"]]  # files only (not the smoothed copy)
        tracks.append((f"{mark}_fulldepth", f"{mark} full depth", data["truth"], palette["truth"]))
        tracks.append((f"{mark}_lowdepth", f"{mark} low depth", data["tracks"][names[0]], palette["noisy"]))
        for name in names[1:]:
            tracks.append((f"{mark}_{name}", f"{mark} denoised ({name})", data["tracks"][name], "200,30,30"))
    _write_text(hub_dir / "hub.txt", "hub chipsr\nshortLabel chipsr\nlongLabel chipsr: low-depth, full-depth and "
                "denoised ChIP-seq\ngenomesFile genomes.txt\nemail none\n")
    _write_text(hub_dir / "genomes.txt", f"genome {genome}\ntrackDb {genome}/trackDb.txt\n")
    stanzas = []
    for name, label, path, color in tracks:
        rel = os.path.relpath(Path(path).resolve(), (hub_dir / genome).resolve())
        stanzas.append(f"track {name}\nbigDataUrl {rel}\nshortLabel {label[:17]}\nlongLabel {label}\n"
                       f"type bigWig\nvisibility full\nautoScale on\nmaxHeightPixels 64:40:11\ncolor {color}\n")
    (hub_dir / genome).mkdir(exist_ok=True)
    _write_text(hub_dir / genome / "trackDb.txt", "\n".join(stanzas))
    resources = "\n".join(
        f"        <Resource name={quoteattr(label)} path={quoteattr(os.path.relpath(Path(path).resolve(), hub_dir.resolve()))}/>"
        for _, label, path, _ in tracks)
    panel = "\n".join(
        f"        <Track attributeKey={quoteattr(os.path.relpath(Path(path).resolve(), hub_dir.resolve()))} "
        f"autoScale=\"true\" color={quoteattr(color)} id={quoteattr(os.path.relpath(Path(path).resolve(), hub_dir.resolve()))} "
        f"name={quoteattr(label)}/>"
        for _, label, path, color in tracks)
    locus = next(iter(loaded.values())).get("locus") or "All"
    _write_text(hub_dir / "igv_session.xml",
                f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
                f'<Session genome="{genome}" locus="{locus}" relativePath="true" version="8">\n'
                f"    <Resources>\n{resources}\n    </Resources>\n"
                f'    <Panel name="DataPanel">\n{panel}\n    </Panel>\n</Session>\n')
