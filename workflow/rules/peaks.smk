# Peaks (issue 14): the full-depth truth and the low-depth baseline from `macs3 callpeak` on reads;
# peaks of each denoised track from `chipsr peaks` (MACS3's track caller, cutoff calibrated on the
# validation split against the truth). `chipsr evaluate` scores them all on the test split.


PEAKS = config.get("peaks") or {}


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
    """MACS3 -f for a reads file: config peaks.format, or (AUTO) BAMPE / BAM / BEDPE (3-column fragment
    BED, as `chipsr coverage` reads it) / BED (reads with strand)."""
    fmt = PEAKS["format"]
    if fmt != "AUTO":
        return fmt
    from chipsr.io.reads import is_header_line, open_binary, sniff_reads_format

    if sniff_reads_format(path) == "bam":
        import pysam

        with pysam.AlignmentFile(path) as bam:
            first = next((r for r in bam.fetch(until_eof=True) if not r.is_unmapped), None)
        return "BAMPE" if first is not None and first.is_paired else "BAM"
    with open_binary(path) as fh:
        for line in fh:
            if line.strip() and not is_header_line(line):
                return "BED" if len(line.split()) >= 6 else "BEDPE"
    return "BEDPE"


def callpeak_reads(wildcards):
    """The reads MACS3 reads: every replicate at full depth, the subsample at low depth."""
    if wildcards.depth == "fulldepth":
        return reads_of(wildcards)
    return f"{RESULTS}/reads/{wildcards.mark}.lowdepth.{reads_suffix(wildcards.mark)}"


def callpeak_args(wildcards):
    """Cutoff (-q or -p) and, for broad marks, --broad with the config's broad cutoff."""
    cut = wildcards.cutoff
    args = f"-{cut[0]} {cut[1:]}"
    if peak_type(wildcards.mark) == "broad":
        args += f" --broad --broad-cutoff {PEAKS['broad_cutoff']}"
    return args


#: the shell of every `macs3 callpeak` rule. --keep-dup all: the coverage tracks keep duplicates too;
#: MACS3's other outputs stay in a temporary folder, removed once the peak file is moved into place
CALLPEAK = ("rm -rf {params.outdir} && macs3 callpeak -t {input} -f {params.fmt} -g {params.gsize} -n {params.name} "
            "--outdir {params.outdir} --keep-dup all {params.args} 2> {log} && "
            "mv {params.outdir}/{params.name}_peaks.{wildcards.ext} {output} && rm -rf {params.outdir}")


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
    return f"--peaks {input.truth_peaks} --call-peaks {peak_type(wildcards.mark)} --called '{called}'"


rule callpeak:
    """`macs3 callpeak` on reads: the full-depth truth (q 0.05) or the low-depth baseline at one cutoff."""
    input:
        callpeak_reads,
    output:
        f"{RESULTS}/peaks/{{mark}}.{{depth}}.{{cutoff}}.{{ext}}",
    wildcard_constraints:
        depth="fulldepth|lowdepth",
        cutoff=r"[qp][0-9.eE-]+",
        ext="narrowPeak|broadPeak",
    params:
        fmt=lambda wc: macs3_format(reads_of(wc)[0]),  # the source reads: a subsample keeps their format
        args=callpeak_args,
        gsize=lambda wc: PEAKS["genome_size"],
        outdir=lambda wc, output: f"{output[0]}.macs3",
        name=lambda wc: f"{wc.mark}.{wc.depth}.{wc.cutoff}",
    log:
        f"{RESULTS}/logs/peaks/{{mark}}.{{depth}}.{{cutoff}}.{{ext}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/peaks/{{mark}}.{{depth}}.{{cutoff}}.{{ext}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        CALLPEAK


rule peaks_denoised:
    """Peaks of a denoised track: MACS3's track caller, fold calibrated on the validation split."""
    input:
        track=f"{RESULTS}/denoised/{{mark}}.{{arch}}.bw",
        truth=lambda wc: truth_peaks(wc.mark),
    output:
        f"{RESULTS}/peaks/{{mark}}.{{arch}}.{{ext}}",
    wildcard_constraints:
        arch="|".join(ARCHS),
        ext="narrowPeak|broadPeak",
    params:
        broad=lambda wc: "--broad" if peak_type(wc.mark) == "broad" else "",
        select=config["splits"]["valid"][0],
        regions=region_args("--region", config["denoise_regions"]),
        blacklist=f"--blacklist {config['blacklist']}" if config["blacklist"] else "",
    log:
        f"{RESULTS}/logs/peaks/{{mark}}.{{arch}}.{{ext}}.log",
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v peaks {input.track} -o {output} {params.broad} --truth-peaks {input.truth} "
        "--calibrate-region {params.select} {params.regions} {params.blacklist} 2> {log}"
