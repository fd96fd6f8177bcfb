# Peaks: the full-depth truth and the low-depth baseline from `macs3 callpeak` on reads;
# peaks of each denoised track from `chipsr peaks` (MACS3's track caller, cutoff calibrated on the
# validation split against the truth). `chipsr evaluate` scores them all on the test split.


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
        name=lambda wc: f"{wc.mark}.{wc.depth}.{wc.cutoff}",
    threads: 1
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
        peak_type=lambda wc: peak_type(wc.mark),
        select=config["splits"]["valid"][0],
        regions=region_args("--region", config["denoise_regions"]),
        blacklist=f"--blacklist {config['blacklist']}" if config["blacklist"] else "",
    threads: 1
    log:
        f"{RESULTS}/logs/peaks/{{mark}}.{{arch}}.{{ext}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/peaks/{{mark}}.{{arch}}.{{ext}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v peaks {input.track} -o {output} --peak-type {params.peak_type} --truth-peaks {input.truth} "
        "--valid-region {params.select} {params.regions} {params.blacklist} 2> {log}"
