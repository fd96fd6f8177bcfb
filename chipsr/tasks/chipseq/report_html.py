"""The report page (``chipsr report --html``): one self-contained HTML file that opens from disk.

What it holds: the Markdown report (every table: Pearson r with mean ± sd over seeds, depth
equivalence, peak F1 / AUPRC, input depths) rendered to HTML by markdown-it-py, the per-mark
figures (locus views and scatters) embedded as data URIs, and a genome browser: igv.js (MIT,
vendored in ``chipsr/assets/igv.min.js``, version in ``IGV_VERSION``) inlined in the page, with the
data it shows embedded as gzipped bedGraph / peak slices (``data:`` URIs, as igv-reports embeds
them) around a few loci:

* per mark, the 50-kb window of the test region where the denoised tracks of the methods disagree
  most (the largest summed |method - mean of methods| in fold enrichment);
* the window with the most full-depth signal of the first mark (a gene-dense region: active marks
  sit on promoters and enhancers);
* a quiet window: the lowest full-depth signal among windows without blacklisted bins.

Nothing is fetched at view time: no server, no internet (the reference is the chromosome sizes
only, so no sequence track). The page reports its state in ``#igv-status`` (``rendered N tracks``)
and any JavaScript error in ``#js-errors`` (what the browser test reads).
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import logging
import os
from importlib import resources
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError

log = logging.getLogger(__name__)

IGV_VERSION = "3.8.10"
#: width (bp) of each locus shown in the browser
LOCUS_BP = 50_000
#: colours of the browser tracks
COLORS = {"full": "rgb(0,0,0)", "low": "rgb(150,150,150)", "model": "rgb(200,30,30)", "peaks": "rgb(30,90,200)"}


def _data_uri(text: str) -> str:
    """``data:`` URI of gzipped text (igv.js decompresses it)."""
    return "data:application/gzip;base64," + base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()


def _bedgraph_slice(path: str, loci: list[tuple[str, int, int]]) -> str:
    """bedGraph lines of a bigWig over the loci (its runs, clipped; bases without data as explicit zeros)."""
    from chipsr.io.tracks import BigWigFile

    lines = []
    with BigWigFile(path, "track") as bw:
        for chrom, start, end in loci:
            ends, values = bw.runs(chrom, start, end)
            starts = np.concatenate(([0], ends[:-1]))
            keep = ends > start
            lines += [f"{chrom}\t{max(int(s), start)}\t{int(e)}\t{v:.4g}"
                      for s, e, v in zip(starts[keep], ends[keep], values[keep])]
    return "\n".join(lines) + "\n"


def _peak_slice(path: str, loci: list[tuple[str, int, int]]) -> str:
    """Lines of a peak file (BED-like) overlapping the loci."""
    from chipsr.io.genome import open_text

    out = []
    with open_text(path) as lines:
        for line in lines:
            f = line.split("\t")
            if len(f) < 3 or line.startswith(("#", "track", "browser")):
                continue
            if any(f[0] == c and int(f[1]) < e and int(f[2]) > s for c, s, e in loci):
                out.append(line.rstrip("\n"))
    return "\n".join(out) + "\n"


def _windows(path: str, chrom: str, start: int, end: int, width: int = LOCUS_BP) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and mean values of the ``width``-bp windows tiling ``[start, end)`` of a bigWig."""
    from chipsr.io.tracks import BigWigFile

    n = max(1, (end - start) // width)
    with BigWigFile(path, "track") as bw:
        means = bw.stat(chrom, start, start + n * width, "mean", bins=n)
    return start + np.arange(n) * width, means


def _chrom_sizes(path: str) -> dict[str, int]:
    """Chromosome sizes (bp) of a bigWig, in file order."""
    from chipsr.io.tracks import BigWigFile

    with BigWigFile(path, "truth bigWig") as bw:
        return bw.chroms


def choose_loci(loaded: dict[str, dict], blacklist: dict | None = None) -> list[dict]:
    """The loci the browser opens on (see the module docstring): ``{"locus", "why"}`` dicts.

    Raises
    ------
    ChipsrInputError
        An evaluation without test regions.
    """
    from chipsr.io.genome import overlaps_intervals, parse_region

    loci: list[dict] = []
    first = next(iter(loaded.values()))
    if not first.get("regions"):
        raise ChipsrInputError("the evaluations list no evaluated regions")
    region = parse_region(first["regions"][0])
    start, end = region.bounds(_chrom_sizes(first["truth"])[region.chrom])
    starts, truth_means = _windows(first["truth"], region.chrom, start, end)
    ok = np.ones(len(starts), bool)
    if blacklist and region.chrom in blacklist:
        ok = ~overlaps_intervals(starts, starts + LOCUS_BP, blacklist[region.chrom])

    def add(pos: int, why: str) -> None:
        text = f"{region.chrom}:{int(pos) + 1}-{int(pos) + LOCUS_BP}"
        if all(entry["locus"] != text for entry in loci):
            loci.append({"locus": text, "why": why})

    for mark, data in loaded.items():
        models = [n for n in data["track_order"][1:] if n in data["tracks"] and "." not in n]
        if len(models) < 2:
            continue
        per = np.stack([_windows(data["tracks"][n], region.chrom, start, end)[1] for n in models])
        per = per / np.maximum(per.mean(axis=1, keepdims=True), 1e-12)  # fold enrichment over each track's mean
        spread = np.abs(per - per.mean(axis=0)).sum(axis=0)
        spread[~ok] = -1
        add(starts[int(np.argmax(spread))], f"{mark}: the methods ({', '.join(models)}) disagree most")
    dense = np.where(ok, truth_means, -1)
    add(starts[int(np.argmax(dense))], f"the most full-depth {next(iter(loaded))} signal (gene-dense)")
    quiet = np.where(ok & (truth_means > 0), truth_means, np.inf)
    if np.isfinite(quiet).any():
        add(starts[int(np.argmin(quiet))], "a quiet region (the least full-depth signal)")
    return loci


def browser_tracks(loaded: dict[str, dict], loci: list[dict], extra_peaks: dict | None = None) -> list[dict]:
    """igv.js track configs (data embedded) for every mark: full depth, low depth, each method's
    denoised track, the truth peaks and the given peak files, sliced to the loci."""
    from chipsr.io.genome import parse_region

    spans = []
    for entry in loci:
        r = parse_region(entry["locus"])
        spans.append((r.chrom, r.start, r.end))
    tracks = []
    for mark, data in loaded.items():
        files = [(f"{mark} full depth", data["truth"], COLORS["full"])]
        names = [n for n in data["track_order"] if n in data["tracks"] and "." not in n]
        files.append((f"{mark} low depth", data["tracks"][names[0]], COLORS["low"]))
        files += [(f"{mark} {n}", data["tracks"][n], COLORS["model"]) for n in names[1:]]
        for name, path, color in files:
            tracks.append({"name": name, "type": "wig", "format": "bedgraph", "color": color, "height": 45,
                           "autoscale": True, "url": _data_uri(_bedgraph_slice(path, spans))})
        sc = data.get("peak_scores") or {}
        peak_files = [(f"{mark} full-depth peaks (MACS3)", sc.get("truth"))]
        peak_files += [(k, p) for k, p in (extra_peaks or {}).items() if k.startswith(mark + ".")]
        for name, path in peak_files:
            if path and Path(path).is_file():
                tracks.append({"name": name, "type": "annotation", "format": "bed", "color": COLORS["peaks"],
                               "height": 25, "displayMode": "COLLAPSED",
                               "url": _data_uri(_peak_slice(path, spans))})
    return tracks


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.5em; }} td {{ text-align: right; }}
td:first-child {{ text-align: left; }} img {{ max-width: 100%; }}
#loci button {{ margin: 0.2em; }} #igv-status {{ color: #666; font-size: 0.85em; }}
#js-errors {{ color: #b00; }}
</style>
<script>window.__errors = []; window.addEventListener("error", e => {{ window.__errors.push(String(e.message));
document.getElementById("js-errors").textContent = window.__errors.join("\\n"); }});</script>
<script>{igv_js}</script>
</head><body>
<h1>{title}</h1>
<h2>Genome browser</h2>
<p>igv.js {igv_version}, data embedded around these loci ({locus_kb} kb each; no sequence track: the
reference is the chromosome sizes only). Click a locus:</p>
<div id="loci">{buttons}</div>
<div id="igv-status">loading</div><pre id="js-errors"></pre>
<div id="igv"></div>
{body}
<script>
const loci = {loci_json};
// the reference is the chromosome sizes only, handed over as a blob: URL (igv.js 3.8 reads a
// chrom-sizes data: URL from the wrong field)
const sizesURL = URL.createObjectURL(new Blob([{sizes_json}], {{ type: "text/plain" }}));
const options = {{ reference: {{ id: {genome_json}, name: {genome_json}, format: "chromsizes", fastaURL: sizesURL }},
  locus: loci[0].locus, showSequence: false, tracks: {tracks_json} }};
igv.createBrowser(document.getElementById("igv"), options).then(browser => {{
  window.browser = browser;
  document.querySelectorAll("#loci button").forEach(b => b.addEventListener("click",
      () => browser.search(b.dataset.locus)));
  document.getElementById("igv-status").textContent = "rendered " + browser.trackViews.length + " tracks";
}}).catch(e => {{ window.__errors.push(String(e)); document.getElementById("js-errors").textContent =
  window.__errors.join("\\n"); document.getElementById("igv-status").textContent = "failed"; }});
</script>
</body></html>
"""


def _embed_images(body: str, base: Path) -> str:
    """Replace ``<img src="relative.png">`` by data URIs of the PNG files (missing files stay as they are)."""
    import re

    def repl(m: re.Match) -> str:
        path = (base / html.unescape(m.group(2))).resolve()
        if not path.is_file():
            return m.group(0)
        return f'{m.group(1)}data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"'

    return re.sub(r'(<img src=")([^"]+\.png)"', repl, body)


def write_html(path: str | os.PathLike, markdown_text: str, loaded: dict[str, dict], genome: str,
               blacklist: dict | None = None, extra_peaks: dict | None = None,
               training_logs: dict | None = None) -> dict:
    """Write the self-contained report page atomically.

    Parameters
    ----------
    path : path
        The HTML file.
    markdown_text : str
        The Markdown report (:func:`chipsr.tasks.chipseq.report.report`); its relative image links
        are resolved against ``path``'s folder and embedded.
    loaded : dict
        Mark -> its evaluation JSON (tracks, truth, regions, peak scores).
    genome : str
        Assembly name shown in the browser.
    blacklist, extra_peaks :
        Merged blacklist intervals (loci avoid them); label -> peak file for the browser.
    training_logs : dict, optional
        ``MARK.ARCH[.seedN]`` -> ``.epochs.tsv``: the training curves figure
        (:func:`chipsr.plots.training_curves`), embedded after the tables.

    Returns
    -------
    dict
        ``loci`` (the browser's loci) and ``n_tracks``.

    Raises
    ------
    ChipsrInputError
        Unreadable evaluation tracks (named), or no evaluated region.
    """
    from markdown_it import MarkdownIt

    from chipsr.io.tables import write_text

    out = Path(path)
    loci = choose_loci(loaded, blacklist)
    tracks = browser_tracks(loaded, loci, extra_peaks)
    first = next(iter(loaded.values()))
    sizes = "".join(f"{c}\t{n}\n" for c, n in _chrom_sizes(first["truth"]).items())
    title, _, rest = markdown_text.partition("\n")
    if not title.startswith("# "):  # no heading of its own: keep every line
        title, rest = "# chipsr report", markdown_text
    body = MarkdownIt("commonmark").enable("table").render(rest)
    body = _embed_images(body, out.parent)
    if training_logs:
        from chipsr.plots import training_curves

        png = base64.b64encode(training_curves(training_logs)).decode()
        body += (f"<h2>Training curves</h2><p>Validation Pearson r per epoch of every model (the kept epoch is "
                 f"the best one).</p><img alt=\"training curves\" src=\"data:image/png;base64,{png}\">")
    igv_js = resources.files("chipsr.assets").joinpath("igv.min.js").read_text(encoding="utf-8")
    buttons = "".join(f'<button data-locus="{html.escape(e["locus"])}" title="{html.escape(e["why"])}">'
                      f'{html.escape(e["locus"])}: {html.escape(e["why"])}</button>' for e in loci)
    page = _PAGE.format(
        title=html.escape(title[2:].strip()), igv_js=igv_js.replace("</script", "<\\/script"),
        igv_version=IGV_VERSION, locus_kb=LOCUS_BP // 1000, buttons=buttons, body=body,
        loci_json=json.dumps(loci), genome_json=json.dumps(genome),
        sizes_json=json.dumps(sizes),
        tracks_json=json.dumps(tracks))
    write_text(out, page, encoding="utf-8")
    log.info("report page: %s (%d tracks, %d loci, %.1f MB)", out, len(tracks), len(loci), len(page) / 1e6)
    return {"loci": loci, "n_tracks": len(tracks)}
