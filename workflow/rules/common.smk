import os
import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

SAMPLES = pd.read_csv(config["samples"], sep="\t", dtype=str, comment="#").set_index("mark", drop=False)
validate(SAMPLES, schema="../schemas/samples.schema.yaml")
if SAMPLES.index.duplicated().any():
    raise ValueError(f"{config['samples']}: mark listed twice: {SAMPLES.index[SAMPLES.index.duplicated()][0]}")

MARKS = list(SAMPLES.index)
RESULTS = config["results"]


#: reads per chromosome of every reads file, counted once (chipsr.api.reads_chromosomes)
READS_CACHE = os.path.join(".snakemake", "chipsr", "reads_chromosomes.json")


def _config_error(key, message):
    """Stop before the first job with one message naming the config key."""
    raise WorkflowError(f"config {key}: {message}")


def _validate_inputs_and_regions():
    """Every input file exists; regions parse, lie inside their chromosome and never overlap across
    the splits (checked when the workflow is parsed, so `snakemake -n` fails too)."""
    from chipsr.api import check_splits
    from chipsr.errors import ChipsrInputError
    from chipsr.io.genome import parse_region, read_chrom_sizes

    for key in ("chrom_sizes", "blacklist"):
        if config[key] is not None and not os.path.isfile(config[key]):
            _config_error(key, f"{config[key]} does not exist")
    for mark, reads in SAMPLES["reads"].items():
        paths = [p.strip() for p in reads.split(",")]
        for path in paths:
            if not os.path.isfile(path):
                _config_error("samples", f"{config['samples']}: reads of {mark}: {path} does not exist")
        n_bam = sum(p.endswith(".bam") for p in paths)
        if 0 < n_bam < len(paths):  # replicates are pooled (subsample, coverage): one format per mark
            _config_error("samples", f"{config['samples']}: {mark} lists BAM and BED reads together "
                                     f"({', '.join(paths)}); give replicates of one format")
    for name, path in (config.get("references") or {}).items():
        if not os.path.isfile(str(path)):
            _config_error(f"references.{name}", f"{path} does not exist")
    for sample, spec in (config.get("new_samples") or {}).items():
        for part in ("reads", "truth", "references"):
            for name, path in (spec.get(part) or {}).items():
                if not path or not os.path.isfile(str(path)):
                    _config_error(f"new_samples.{sample}.{part}.{name}", f"{path or '(empty)'} does not exist")
        missing = [m for m in MARKS if m not in spec["reads"]]
        if missing:
            _config_error(f"new_samples.{sample}.reads", f"no reads for {', '.join(missing)}: the models take "
                                                         f"every mark of {config['samples']} as input")
        want = sorted(config.get("references") or {})
        if sorted(spec.get("references") or {}) != want:
            _config_error(f"new_samples.{sample}.references",
                          f"names {', '.join(sorted(spec.get('references') or {})) or '(none)'} differ from the "
                          f"training references' ({', '.join(want) or 'none'}); the models need the same ones")
    try:
        sizes = read_chrom_sizes(config["chrom_sizes"])
    except ChipsrInputError as exc:
        _config_error("chrom_sizes", str(exc))
    parsed = {}
    for key, regions in [*((f"splits.{k}", v) for k, v in config["splits"].items()),
                         ("denoise_regions", config["denoise_regions"] or [])]:
        if key.startswith("splits.") and not regions:
            _config_error(key, "needs at least one region")
        for text in regions:
            try:
                region = parse_region(str(text))
            except ChipsrInputError as exc:
                _config_error(key, str(exc))
            if region.chrom not in sizes:
                _config_error(key, f"region {text}: chromosome {region.chrom} is not in {config['chrom_sizes']}")
            if region.end is not None and region.end > sizes[region.chrom]:
                _config_error(key, f"region {text}: ends beyond {region.chrom} ({sizes[region.chrom]} bp)")
            parsed.setdefault(key, []).append(region)
    try:  # the check chipsr train makes, before the first job
        check_splits({k: parsed[f"splits.{k}"] for k in ("train", "valid", "test") if f"splits.{k}" in parsed}, sizes)
    except ChipsrInputError as exc:
        _config_error("splits", str(exc))


_validate_inputs_and_regions()


def _check_genome():
    """What the reads cover, read from them (chipsr.api.reads_chromosomes; counts cached by file in
    .snakemake/): every reads file's chromosomes are in chrom_sizes (not `22` against `chr22`); every
    split and denoise region lies on a chromosome with reads; MACS3's genome size is derived from the
    chromosomes with reads outside the blacklist when peaks.genome_size is null, and refused when it
    is more than 2x from that."""
    from chipsr.api import check_chromosome_names, effective_genome_size, reads_chromosomes
    from chipsr.errors import ChipsrInputError
    from chipsr.io.genome import parse_region, read_bed_intervals, read_chrom_sizes

    sizes = read_chrom_sizes(config["chrom_sizes"])
    cache = READS_CACHE
    with_reads = {}
    try:
        for mark, reads in SAMPLES["reads"].items():
            for path in (p.strip() for p in reads.split(",")):
                chroms = reads_chromosomes([path], cache)
                check_chromosome_names(path, chroms, sizes, config["chrom_sizes"])
                for chrom, n in chroms.items():
                    with_reads[chrom] = with_reads.get(chrom, 0) + n
        for sample, spec in (config.get("new_samples") or {}).items():
            for part in ("reads", "truth", "references"):
                for path in (spec.get(part) or {}).values():
                    check_chromosome_names(path, reads_chromosomes([path], cache), sizes, config["chrom_sizes"])
    except ChipsrInputError as exc:
        _config_error("samples", str(exc))
    for key, regions in [*((f"splits.{k}", v) for k, v in config["splits"].items()),
                         ("denoise_regions", config["denoise_regions"] or [])]:
        for text in regions:
            chrom = parse_region(str(text)).chrom
            if chrom not in with_reads:
                _config_error(key, f"region {text}: {config['samples']} has no reads on {chrom} (reads on "
                                   f"{', '.join(list(with_reads)[:5])}{', ...' if len(with_reads) > 5 else ''})")
    if not PEAKS:
        return
    blacklist = read_bed_intervals(config["blacklist"]) if config["blacklist"] else None
    effective = effective_genome_size(sizes, with_reads, blacklist)
    given = PEAKS.get("genome_size")
    if given is None:
        PEAKS["genome_size"] = effective
    elif not effective / 2 <= float(given) <= effective * 2:
        _config_error("peaks.genome_size", f"{int(given)} bp is more than 2x from {effective} bp, the length of the "
                                           f"chromosomes with reads outside the blacklist: MACS3's background would "
                                           f"be wrong; give their mappable size, or null for {effective}")


def reads_of(wildcards):
    """The reads file(s) of a mark (comma-separated in samples.tsv)."""
    return [p.strip() for p in SAMPLES.loc[wildcards.mark, "reads"].split(",")]


def reads_suffix(mark):
    """Subsampled reads keep their input format: BAM stays BAM, BED stays (gzipped) BED."""
    first = SAMPLES.loc[mark, "reads"].split(",")[0].strip()
    return "bam" if first.endswith(".bam") else "bed.gz"


def subsample_reads(depth):
    """Templates kept for a depth wildcard: 'lowdepth' -> subsample.reads; 'xK' -> K x that (K may be
    a fraction, e.g. x0.25)."""
    n = config["subsample"]["reads"]
    return n if depth == "lowdepth" else max(1, round(float(depth[1:]) * n))


def depth_label(k):
    """The depth wildcard of K x subsample.reads: 1 -> 'lowdepth', 0.25 -> 'x0.25', 2 -> 'x2'."""
    return "lowdepth" if float(k) == 1 else f"x{float(k):g}"


def reads_total(mark):
    """Reads in the files that `subsample` pools (BED: data rows; BAM: mapped reads, an upper bound of
    the templates), from chipsr.api.reads_chromosomes (counted once per file, cached in .snakemake/)."""
    from chipsr.api import reads_chromosomes

    paths = [p.strip() for p in SAMPLES.loc[mark, "reads"].split(",")]
    return sum(reads_chromosomes(paths, READS_CACHE).values())


def depth_multiples(mark):
    """The depth series of a mark: 1 (the low-depth input) and each config multiple K whose K x reads
    stays below the mark's total (a deeper 'subsample' would be the full-depth data itself)."""
    n = config["subsample"]["reads"]
    if not config["depth_series"]:
        return [1]
    total = reads_total(mark)
    return [1] + [k for k in config["depth_series"] if k * n < total]


def depth_series_arg(wildcards):
    """--depth-series for chipsr evaluate ('' when the series is empty)."""
    ks = depth_multiples(wildcards.mark)
    if len(ks) < 2:
        return ""
    items = [f"1={RESULTS}/coverage/{wildcards.mark}.lowdepth.bw"]
    items += [f"{k}={RESULTS}/coverage/{wildcards.mark}.x{k}.bw" for k in ks[1:]]
    return "--depth-series " + ",".join(items)


def depth_tracks(wildcards):
    return [f"{RESULTS}/coverage/{wildcards.mark}.x{k}.bw" for k in depth_multiples(wildcards.mark)[1:]]


def coverage_args():
    """chipsr coverage options from the config (shared by the low- and full-depth tracks)."""
    c = config["coverage"]
    args = [f"--bin-size {c['bin_size']}", f"--normalize-using {c['normalize_using']}",
            f"--min-mapq {c['min_mapq']}", f"-p {c['threads']}", f"--chrom-sizes {config['chrom_sizes']}"]
    if c["extend_reads"] is not None:
        args.append(f"--extend-reads {c['extend_reads']}")
    if config["blacklist"]:
        args.append(f"--blacklist {config['blacklist']}")
    return " ".join(args)


def _archs():
    """config archs, each one of chipsr's architectures (chipsr.api.ARCHS), and input_depths.archs among them."""
    from chipsr.api import ARCHS as KNOWN

    for key, archs in (("archs", config["archs"]), ("input_depths.archs", config["input_depths"]["archs"])):
        unknown = [a for a in archs if a not in KNOWN]
        if unknown:
            _config_error(key, f"{unknown[0]!r} is not an architecture of chipsr train ({', '.join(KNOWN)})")
    return list(config["archs"])


ARCHS = _archs()
#: denoise_scatter: the main denoised tracks are denoised one chromosome per job, then gathered;
#: chromosome -> the denoise_regions on it (the whole chromosome when denoise_regions is null)
DENOISE_SCATTER = bool(config.get("denoise_scatter"))


def _denoise_chroms():
    from chipsr.io.genome import parse_region, read_chrom_sizes

    if not config["denoise_regions"]:
        return {c: [c] for c in read_chrom_sizes(config["chrom_sizes"])}
    chroms = {}
    for text in config["denoise_regions"]:
        chroms.setdefault(parse_region(str(text)).chrom, []).append(str(text))
    return chroms


DENOISE_CHROMS = _denoise_chroms() if DENOISE_SCATTER else {}
MODEL = config["model"]
SEEDS = [int(s) for s in MODEL["seeds"]]
if len(set(SEEDS)) != len(SEEDS):
    raise ValueError(f"model.seeds: a seed is listed twice: {SEEDS}")
USES_GPU = 1 if str(MODEL["device"] or "").startswith("cuda") else 0  # device null: CUDA if present, not reserved
#: GPUs of a training job (model.gpus): more than one runs one DDP process per GPU under torchrun
TRAIN_GPUS = int(MODEL.get("gpus") or 0) or USES_GPU
TRAIN_LAUNCHER = (f"torchrun --standalone --nproc-per-node={TRAIN_GPUS} -m chipsr" if TRAIN_GPUS > 1 else "chipsr")


def lowdepth_tracks(wildcards=None):
    """Low-depth coverage of every mark: the model inputs, in samples.tsv order."""
    return [f"{RESULTS}/coverage/{m}.lowdepth.bw" for m in MARKS]


def usable_multiples(multiples):
    """The depth multiples K whose K x subsample.reads stays below every mark's total (K <= 1 always)."""
    n = config["subsample"]["reads"]
    return [k for k in multiples if float(k) <= 1 or all(float(k) * n < reads_total(m) for m in MARKS)]


DEPTH_SETS = usable_multiples(MODEL["depth_sets"])
INPUT_DEPTHS = [k for k in usable_multiples(config["input_depths"]["depths"]) if float(k) != 1]
INPUT_DEPTH_ARCHS = [a for a in config["input_depths"]["archs"] if a in ARCHS]


def named_marks(k):
    """--marks value at K x subsample.reads: every mark NAME=path, named as in samples.tsv."""
    return ",".join(f"{m}={RESULTS}/coverage/{m}.{depth_label(k)}.bw" for m in MARKS)


def depth_set_tracks(wildcards=None):
    """Coverage of every mark at every training depth set (the train rule's inputs)."""
    return [f"{RESULTS}/coverage/{m}.{depth_label(k)}.bw" for k in DEPTH_SETS for m in MARKS]


def marks_at(wildcards):
    """Coverage of every mark at the depth wildcard (x0.25, x4, ...)."""
    return [f"{RESULTS}/coverage/{m}.{wildcards.depth}.bw" for m in MARKS]


def depth_evaluation_args(wildcards, input):
    """--depth-evaluation items of the report: every mark at every extra input depth."""
    return " ".join(f"--depth-evaluation {m}:{k:g}={RESULTS}/evaluation/depths/{m}.{depth_label(k)}.json"
                    for m in MARKS for k in INPUT_DEPTHS) if INPUT_DEPTH_ARCHS else ""


def region_args(flag, regions):
    return " ".join(f"{flag} {r}" for r in regions or [])


#: chipsr train's settings (config train:, one map for every architecture; {arch: value} for one)
_MOVED_TO_TRAIN = {"window", "blocks", "depth", "width", "dropout", "transform", "input_transform", "epochs",
                   "samples_per_epoch", "reverse", "peak_fraction", "lr_schedule", "select", "patience", "time_limit",
                   "batch_size", "lr"}


def _train_settings():
    """Each architecture's chipsr train settings from config ``train:`` (checked when the workflow is
    parsed: an unknown key stops it with one line naming the key)."""
    from chipsr.api import train_settings_from_map
    from chipsr.errors import ChipsrInputError

    moved = sorted(_MOVED_TO_TRAIN & set(config["model"]))
    if moved:
        new = "unet_depth" if moved[0] == "depth" else moved[0]
        _config_error(f"model.{moved[0]}", f"chipsr train's settings are in the train: map now (train.{new})")
    try:
        return {arch: train_settings_from_map(config.get("train"), arch) for arch in ARCHS}
    except ChipsrInputError as exc:
        raise WorkflowError(str(exc)) from None


TRAIN_SETTINGS = _train_settings()


def train_args(arch):
    """chipsr train options: the train: map's settings (only those that differ from chipsr train's
    defaults, spelled as the command spells them), the splits and the blacklist."""
    from chipsr.api import WORKFLOW_TRAIN_KEYS
    from chipsr.cli.chipseq import train as train_command
    from chipsr.cli.options import command_line

    args = [f"--arch {arch}", f"--bin-size {config['coverage']['bin_size']}",
            *command_line(train_command, TRAIN_SETTINGS[arch], skip=tuple(WORKFLOW_TRAIN_KEYS)),
            region_args("--train-region", config["splits"]["train"]),
            region_args("--valid-region", config["splits"]["valid"]),
            region_args("--test-region", config["splits"]["test"])]
    if config["blacklist"]:
        args.append(f"--blacklist {config['blacklist']}")
    if MODEL["device"]:
        args.append(f"--device {MODEL['device']}")
    return " ".join(args)


def seed_models(wildcards):
    """The checkpoints of one target mark and architecture, one per seed (a seed ensemble)."""
    return [f"{RESULTS}/models/{wildcards.mark}/{wildcards.arch}.seed{s}.pt" for s in SEEDS]


def evaluate_tracks(wildcards):
    """NAME=path list for chipsr evaluate: the noisy input, then each model's denoised track (and its
    seeds' tracks: :func:`model_tracks`)."""
    items = [("noisy_input", f"{RESULTS}/coverage/{wildcards.mark}.lowdepth.bw")]
    items += model_tracks(f"{RESULTS}/denoised", wildcards.mark)
    return ",".join(f"{name}={path}" for name, path in items)


def evaluate_inputs(wildcards):
    """Denoised tracks that `chipsr evaluate` reads for one mark."""
    return [path for _, path in model_tracks(f"{RESULTS}/denoised", wildcards.mark)]


def model_tracks(folder, mark):
    """(name, path) of every model track of a mark that `chipsr evaluate` scores, in table order: each
    architecture's seed ensemble (``FOLDER/MARK.ARCH.bw``) and, with several seeds, each seed's own
    model (``FOLDER/seeds/MARK.ARCH.seedN.bw``: the spread over seeds)."""
    items = []
    for arch in ARCHS:
        items.append((arch, f"{folder}/{mark}.{arch}.bw"))
        if len(SEEDS) > 1:
            items += [(f"{arch}.seed{s}", f"{folder}/seeds/{mark}.{arch}.seed{s}.bw") for s in SEEDS]
    return items


# ---- references and new samples (config/brain_h3k36me3.yaml uses both)
REFERENCES = dict(config.get("references") or {})
NEW_SAMPLES = dict(config.get("new_samples") or {})


def reference_tracks(wildcards=None):
    """Coverage of the training references (deep tracks of related samples), in config order."""
    return [f"{RESULTS}/coverage/references/{n}.bw" for n in REFERENCES]


def reference_args(paths):
    """--reference NAME=path for every reference, in the training order."""
    return " ".join(f"--reference {n}={p}" for n, p in zip(REFERENCES, paths))


def sample_reads(sample, part, name):
    """The reads file of a new sample's mark (part reads or truth) or reference (part references)."""
    return NEW_SAMPLES[sample][part][name]


def sample_marks_arg(sample):
    """--marks of a new sample: every mark NAME=its coverage."""
    return ",".join(f"{m}={RESULTS}/samples/{sample}/coverage/{m}.bw" for m in MARKS)


def sample_reference_tracks(sample):
    return [f"{RESULTS}/samples/{sample}/coverage/references/{n}.bw" for n in REFERENCES]


def sample_outputs():
    """The targets of the new samples: denoised tracks, and a report where a truth exists."""
    out = []
    for sample, spec in NEW_SAMPLES.items():
        out += [f"{RESULTS}/samples/{sample}/denoised/{m}.{a}.bw" for m in MARKS for a in ARCHS]
        if spec.get("truth"):
            out.append(f"{RESULTS}/samples/{sample}/report.md")
    return out


def sample_input(wc):
    """The reads a new sample's coverage is built from: its subsample, or its reads as they are."""
    path = sample_reads(wc.sample, "reads", wc.mark)
    if NEW_SAMPLES[wc.sample].get("keep_reads") is None:
        return path
    return f"{RESULTS}/samples/{wc.sample}/reads/{wc.mark}." + ("bam" if path.endswith(".bam") else "bed.gz")


# ---- peaks (rules in peaks.smk and samples.smk)
PEAKS = dict(config.get("peaks") or {})
_check_genome()


def peak_outputs():
    """Peak files the workflow ends with: truth, MACS3 on the low-depth reads, each denoised track."""
    if not PEAKS:
        return []
    return [p for m in MARKS for p in [truth_peaks(m), *lowdepth_peaks(m),
                                       *(f"{RESULTS}/peaks/{m}.{a}.{peak_ext(m)}" for a in ARCHS)]]


def peak_type(mark):
    """narrow or broad, from the `peaks` column of samples.tsv (default narrow)."""
    value = SAMPLES.loc[mark].get("peaks") if "peaks" in SAMPLES.columns else None
    return "broad" if isinstance(value, str) and value.strip() == "broad" else "narrow"


def peak_ext(mark):
    """File extension of a mark's peaks: narrowPeak or broadPeak."""
    return "broadPeak" if peak_type(mark) == "broad" else "narrowPeak"


def macs3_format(path):
    """MACS3 -f for a reads file: config peaks.format, or (AUTO) what chipsr.api.macs3_format reads
    from the file (BAMPE / BAM / BEDPE for 3-column fragment BED / BED for reads with a strand)."""
    from chipsr.api import macs3_format as read_format

    return PEAKS["format"] if PEAKS["format"] != "AUTO" else read_format(path)


def callpeak_reads(wildcards):
    """The reads MACS3 reads: every replicate at full depth, the subsample at low depth."""
    if wildcards.depth == "fulldepth":
        return reads_of(wildcards)
    return f"{RESULTS}/reads/{wildcards.mark}.lowdepth.{reads_suffix(wildcards.mark)}"


def callpeak_args(wildcards):
    """chipsr callpeak's cutoff and peak type (with the config's broad cutoff for broad marks)."""
    args = f"--cutoff {wildcards.cutoff} --peak-type {peak_type(wildcards.mark)}"
    if peak_type(wildcards.mark) == "broad":
        args += f" --broad-cutoff {PEAKS['broad_cutoff']}"
    return args


#: the shell of every `macs3 callpeak` rule: chipsr callpeak (replicates pooled, BED handed over
#: tab-separated, duplicates kept as the coverage tracks keep them, only the peak file kept)
CALLPEAK = ("chipsr -v callpeak {input} -o {output} -f {params.fmt} -g {params.gsize} -n {params.name} "
            "{params.args} 2> {log}")


def truth_peaks(mark):
    """The full-depth MACS3 peaks of a mark (the truth of every peak score)."""
    return f"{RESULTS}/peaks/{mark}.fulldepth.q0.05.{peak_ext(mark)}"


def lowdepth_peaks(mark):
    """MACS3 on the low-depth reads, one file per cutoff of config peaks.lowdepth_cutoffs."""
    return [f"{RESULTS}/peaks/{mark}.lowdepth.{c}.{peak_ext(mark)}" for c in PEAKS["lowdepth_cutoffs"]]


def peak_evaluation_args(wildcards, input):
    """chipsr evaluate options: the truth peaks, peaks on every track, MACS3's low-depth sets."""
    if not PEAKS:
        return ""
    called = ",".join(f"macs3 {c}={p}" for c, p in zip(PEAKS["lowdepth_cutoffs"], input.lowdepth_peaks))
    return f"--truth-peaks {input.truth_peaks} --peak-type {peak_type(wildcards.mark)} --called '{called}'"


def sample_peak_inputs(wc):
    """Truth and low-depth MACS3 peaks of a new sample's mark (none without config peaks)."""
    if not PEAKS:
        return {"truth_peaks": [], "lowdepth_peaks": []}
    base, ext = f"{RESULTS}/samples/{wc.sample}/peaks/{wc.mark}", peak_ext(wc.mark)
    return {"truth_peaks": [f"{base}.truth.q0.05.{ext}"],
            "lowdepth_peaks": [f"{base}.lowdepth.{c}.{ext}" for c in PEAKS["lowdepth_cutoffs"]]}
