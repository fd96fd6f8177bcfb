rule train:
    """One model per target mark, architecture and seed, on the coverage of every mark at every depth set
    (model.depth_sets: each training crop draws its inputs from one depth at random)."""
    input:
        marks=depth_set_tracks,
        references=reference_tracks,
        target=f"{RESULTS}/coverage/{{mark}}.fulldepth.bw",
        peaks=lambda wc: [truth_peaks(wc.mark)] if PEAKS else [],
    output:
        model=f"{RESULTS}/models/{{mark}}/{{arch}}.seed{{seed}}.pt",
        epochs=f"{RESULTS}/models/{{mark}}/{{arch}}.seed{{seed}}.pt.epochs.tsv",
        splits=f"{RESULTS}/models/{{mark}}/{{arch}}.seed{{seed}}.pt.splits.json",
    wildcard_constraints:
        seed=r"\d+",
    params:
        marks=" ".join(f"{'--marks' if i == 0 else '--depth-set'} {named_marks(k)}" for i, k in enumerate(DEPTH_SETS)),
        references=lambda wc, input: reference_args(input.references),
        args=lambda wc: train_args(wc.arch),
        launcher=TRAIN_LAUNCHER,
        peaks=lambda wc, input: f"--truth-peaks {input.peaks[0]} --peak-type {peak_type(wc.mark)}" if input.peaks else "",
    threads: MODEL["threads"]
    resources:
        mem_mb=4000,
        gpu=TRAIN_GPUS,
    log:
        f"{RESULTS}/logs/train/{{mark}}.{{arch}}.seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{mark}}.{{arch}}.seed{{seed}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "{params.launcher} -v train {params.marks} {params.references} --target {wildcards.mark}={input.target} -o {output.model} "
        "{params.args} {params.peaks} --seed {wildcards.seed} -p {threads} 2> {log}"


if DENOISE_SCATTER:

    rule denoise_shard:
        """One chromosome of a mark's denoised track (denoise_scatter: a cluster runs the chromosomes in
        parallel); the mean of its seed ensemble's outputs."""
        input:
            marks=lowdepth_tracks,
            references=reference_tracks,
            models=seed_models,
        output:
            temp(f"{RESULTS}/denoised/shards/{{mark}}.{{arch}}/{{chrom}}.bw"),
        params:
            marks=named_marks(1),
            models=lambda wc, input: " ".join(f"--model {m}" for m in input.models),
            regions=lambda wc: region_args("--region", DENOISE_CHROMS[wc.chrom]),
            references=lambda wc, input: reference_args(input.references),
        threads: MODEL["threads"]
        resources:
            mem_mb=2000,
            gpu=USES_GPU,
        log:
            f"{RESULTS}/logs/denoise/{{mark}}.{{arch}}.{{chrom}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/denoise/{{mark}}.{{arch}}.{{chrom}}.tsv"
        conda:
            "../envs/chipsr.yaml"
        shell:
            "chipsr -v denoise --marks {params.marks} {params.references} {params.models} -o {output} "
            "{params.regions} -p {threads} 2> {log}"

    rule gather_denoised:
        """A mark's denoised track gathered from its chromosome shards: byte-for-byte the unsharded one."""
        input:
            lambda wc: [f"{RESULTS}/denoised/shards/{wc.mark}.{wc.arch}/{c}.bw" for c in DENOISE_CHROMS],
        output:
            f"{RESULTS}/denoised/{{mark}}.{{arch}}.bw",
        threads: 1
        log:
            f"{RESULTS}/logs/denoise/{{mark}}.{{arch}}.gather.log",
        benchmark:
            f"{RESULTS}/benchmarks/denoise/{{mark}}.{{arch}}.gather.tsv"
        conda:
            "../envs/chipsr.yaml"
        shell:
            "chipsr -v gather {input} -o {output} 2> {log}"

else:

    rule denoise:
        """The denoised track of a mark: the mean of its seed ensemble's outputs."""
        input:
            marks=lowdepth_tracks,
            references=reference_tracks,
            models=seed_models,
        output:
            f"{RESULTS}/denoised/{{mark}}.{{arch}}.bw",
        params:
            marks=named_marks(1),
            models=lambda wc, input: " ".join(f"--model {m}" for m in input.models),
            regions=region_args("--region", config["denoise_regions"]),
            references=lambda wc, input: reference_args(input.references),
        threads: MODEL["threads"]
        resources:
            mem_mb=2000,
            gpu=USES_GPU,
        log:
            f"{RESULTS}/logs/denoise/{{mark}}.{{arch}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/denoise/{{mark}}.{{arch}}.tsv"
        conda:
            "../envs/chipsr.yaml"
        shell:
            "chipsr -v denoise --marks {params.marks} {params.references} {params.models} -o {output} {params.regions} "
            "-p {threads} 2> {log}"


rule denoise_seed:
    """One seed's model alone, on the test regions only: scored to give the spread over seeds."""
    input:
        marks=lowdepth_tracks,
        references=reference_tracks,
        model=f"{RESULTS}/models/{{mark}}/{{arch}}.seed{{seed}}.pt",
    output:
        f"{RESULTS}/denoised/seeds/{{mark}}.{{arch}}.seed{{seed}}.bw",
    wildcard_constraints:
        seed=r"\d+",
    params:
        marks=named_marks(1),
        regions=region_args("--region", config["splits"]["test"]),
        references=lambda wc, input: reference_args(input.references),
    threads: MODEL["threads"]
    resources:
        mem_mb=2000,
        gpu=USES_GPU,
    log:
        f"{RESULTS}/logs/denoise/{{mark}}.{{arch}}.seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/denoise/{{mark}}.{{arch}}.seed{{seed}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v denoise --marks {params.marks} {params.references} --model {input.model} -o {output} {params.regions} "
        "-p {threads} 2> {log}"


rule denoise_depth:
    """A mark's seed ensemble applied unchanged to every mark subsampled to another depth (test regions)."""
    input:
        marks=marks_at,
        references=reference_tracks,
        models=seed_models,
    output:
        f"{RESULTS}/denoised/depths/{{mark}}.{{arch}}.{{depth}}.bw",
    wildcard_constraints:
        depth=r"x\d+(\.\d+)?",
    params:
        marks=lambda wc, input: ",".join(f"{m}={p}" for m, p in zip(MARKS, input.marks)),
        models=lambda wc, input: " ".join(f"--model {m}" for m in input.models),
        regions=region_args("--region", config["splits"]["test"]),
        references=lambda wc, input: reference_args(input.references),
    threads: MODEL["threads"]
    resources:
        mem_mb=2000,
        gpu=USES_GPU,
    log:
        f"{RESULTS}/logs/denoise/{{mark}}.{{arch}}.{{depth}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/denoise/{{mark}}.{{arch}}.{{depth}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v denoise --marks {params.marks} {params.references} {params.models} -o {output} {params.regions} "
        "-p {threads} 2> {log}"


rule evaluate_depth:
    """The input-depth table's row: the models at another input depth vs that input's best smoothing."""
    input:
        truth=f"{RESULTS}/coverage/{{mark}}.fulldepth.bw",
        noisy=f"{RESULTS}/coverage/{{mark}}.{{depth}}.bw",
        denoised=lambda wc: [f"{RESULTS}/denoised/depths/{wc.mark}.{a}.{wc.depth}.bw" for a in INPUT_DEPTH_ARCHS],
    output:
        multiext(f"{RESULTS}/evaluation/depths/{{mark}}.{{depth}}", ".tsv", ".json", ".md", ".png"),
    wildcard_constraints:
        depth=r"x\d+(\.\d+)?",
    params:
        prefix=lambda wc: f"{RESULTS}/evaluation/depths/{wc.mark}.{wc.depth}",
        tracks=lambda wc, input: ",".join([f"noisy_input={input.noisy}"]
                                          + [f"{a}={p}" for a, p in zip(INPUT_DEPTH_ARCHS, input.denoised)]),
        regions=region_args("--region", config["splits"]["test"]),
        select=config["splits"]["valid"][0],
        blacklist=f"--blacklist {config['blacklist']}" if config["blacklist"] else "",
        bin_size=config["coverage"]["bin_size"],
    resources:
        mem_mb=2000,
    threads: 1
    log:
        f"{RESULTS}/logs/evaluate/{{mark}}.{{depth}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{mark}}.{{depth}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v evaluate --truth {input.truth} --tracks {params.tracks} -o {params.prefix} "
        "{params.regions} {params.blacklist} --bin-size {params.bin_size} "
        "--smooth-input noisy_input --valid-region {params.select} 2> {log}"


rule evaluate:
    """Table 2 of the paper for one mark, on the held-out test regions."""
    input:
        truth=f"{RESULTS}/coverage/{{mark}}.fulldepth.bw",
        noisy=f"{RESULTS}/coverage/{{mark}}.lowdepth.bw",
        denoised=evaluate_inputs,
        depths=depth_tracks,
        truth_peaks=lambda wc: [truth_peaks(wc.mark)] if PEAKS else [],
        lowdepth_peaks=lambda wc: lowdepth_peaks(wc.mark) if PEAKS else [],
    output:
        multiext(f"{RESULTS}/evaluation/{{mark}}", ".tsv", ".json", ".md", ".png"),
    params:
        prefix=lambda wc: f"{RESULTS}/evaluation/{wc.mark}",
        tracks=evaluate_tracks,
        regions=region_args("--region", config["splits"]["test"]),
        select=config["splits"]["valid"][0],
        blacklist=f"--blacklist {config['blacklist']}" if config["blacklist"] else "",
        bin_size=config["coverage"]["bin_size"],
        depths=depth_series_arg,
        peaks=peak_evaluation_args,
    resources:
        mem_mb=2000,
    threads: 1
    log:
        f"{RESULTS}/logs/evaluate/{{mark}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{mark}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v evaluate --truth {input.truth} --tracks {params.tracks} -o {params.prefix} "
        "{params.regions} {params.blacklist} --bin-size {params.bin_size} "
        "--smooth-input noisy_input --valid-region {params.select} {params.depths} {params.peaks} 2> {log}"


rule report:
    """One report for all marks (the paper's Table 2 and more), a UCSC track hub and an IGV session."""
    input:
        evaluations=expand(f"{RESULTS}/evaluation/{{mark}}.json", mark=MARKS),
        depths=[f"{RESULTS}/evaluation/depths/{m}.{depth_label(k)}.json" for m in MARKS for k in INPUT_DEPTHS]
        if INPUT_DEPTH_ARCHS else [],
        peaks=[f"{RESULTS}/peaks/{m}.{a}.{peak_ext(m)}" for m in MARKS for a in ARCHS] if PEAKS else [],
        logs=[f"{RESULTS}/models/{m}/{a}.seed{s}.pt.epochs.tsv" for m in MARKS for a in ARCHS for s in SEEDS],
    output:
        report=f"{RESULTS}/report.md",
        html=f"{RESULTS}/report.html",
        hub=f"{RESULTS}/hub/hub.txt",
        igv=f"{RESULTS}/hub/igv_session.xml",
    params:
        evaluations=lambda wc, input: " ".join(f"--evaluation {m}={p}" for m, p in zip(MARKS, input.evaluations)),
        depths=depth_evaluation_args,
        genome=config["genome"],
        hub_dir=lambda wc, output: os.path.dirname(output.hub),
        peaks=lambda wc, input: " ".join(f"--peak-file '{os.path.basename(p).rsplit('.', 1)[0]} peaks={p}'"
                                         for p in input.peaks),
        logs=lambda wc, input: " ".join(
            f"--training-log {m}.{a}.seed{s}={RESULTS}/models/{m}/{a}.seed{s}.pt.epochs.tsv"
            for m in MARKS for a in ARCHS for s in SEEDS),
    threads: 1
    log:
        f"{RESULTS}/logs/report.log",
    benchmark:
        f"{RESULTS}/benchmarks/report.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v report {params.evaluations} {params.depths} -o {output.report} --hub-dir {params.hub_dir} "
        "--genome {params.genome} {params.peaks} {params.logs} --html {output.html} 2> {log}"
