# New samples: coverage of their own reads (optionally subsampled to keep_reads), of their
# deep truth (evaluation only) and of their references; denoised with every target's seed ensemble;
# scored against the truth beside the reference baseline and its smoothing, with the differential r.


rule coverage_reference:
    """Deep coverage of a training reference: a related sample's reads, an extra input channel."""
    input:
        lambda wc: REFERENCES[wc.name],
    output:
        f"{RESULTS}/coverage/references/{{name}}.bw",
    params:
        args=coverage_args(),
    threads: 1
    log:
        f"{RESULTS}/logs/coverage/references/{{name}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/coverage/references/{{name}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v coverage {input} -o {output} {params.args} 2> {log}"


rule subsample_sample:
    """A new sample's reads of one mark, kept to new_samples.SAMPLE.keep_reads templates."""
    input:
        lambda wc: sample_reads(wc.sample, "reads", wc.mark),
    output:
        f"{RESULTS}/samples/{{sample}}/reads/{{mark}}.{{ext}}",
    wildcard_constraints:
        ext="bam|bed.gz",
    params:
        reads=lambda wc: NEW_SAMPLES[wc.sample]["keep_reads"],
        seed=config["subsample"]["seed"],
    threads: 1
    log:
        f"{RESULTS}/logs/samples/{{sample}}/subsample.{{mark}}.{{ext}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/samples/{{sample}}/subsample.{{mark}}.{{ext}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v subsample {input} -o {output} --number {params.reads} --seed {params.seed} 2> {log}"


rule coverage_sample:
    """A new sample's coverage, per mark: the input to denoise (.bw), its deep truth (.truth.bw)."""
    input:
        lambda wc: sample_input(wc) if wc.kind == "" else sample_reads(wc.sample, "truth", wc.mark),
    output:
        f"{RESULTS}/samples/{{sample}}/coverage/{{mark}}{{kind}}.bw",
    wildcard_constraints:
        kind=r"(\.truth)?",
    params:
        args=coverage_args(),
    threads: 1
    log:
        f"{RESULTS}/logs/samples/{{sample}}/coverage.{{mark}}{{kind}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/samples/{{sample}}/coverage.{{mark}}{{kind}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v coverage {input} -o {output} {params.args} 2> {log}"


rule coverage_sample_reference:
    """A new sample's reference: the deep track of the related sample it is denoised with."""
    input:
        lambda wc: sample_reads(wc.sample, "references", wc.name),
    output:
        f"{RESULTS}/samples/{{sample}}/coverage/references/{{name}}.bw",
    params:
        args=coverage_args(),
    threads: 1
    log:
        f"{RESULTS}/logs/samples/{{sample}}/coverage.reference.{{name}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/samples/{{sample}}/coverage.reference.{{name}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v coverage {input} -o {output} {params.args} 2> {log}"


rule denoise_sample:
    """A new sample denoised with a target's seed ensemble (models trained on the training sample)."""
    input:
        marks=lambda wc: [f"{RESULTS}/samples/{wc.sample}/coverage/{m}.bw" for m in MARKS],
        references=lambda wc: sample_reference_tracks(wc.sample),
        models=seed_models,
    output:
        f"{RESULTS}/samples/{{sample}}/denoised/{{mark}}.{{arch}}.bw",
    params:
        marks=lambda wc: sample_marks_arg(wc.sample),
        references=lambda wc, input: reference_args(input.references),
        models=lambda wc, input: " ".join(f"--model {m}" for m in input.models),
        regions=region_args("--region", config["denoise_regions"]),
    threads: MODEL["threads"]
    resources:
        mem_mb=2000,
        gpu=USES_GPU,
    log:
        f"{RESULTS}/logs/samples/{{sample}}/denoise.{{mark}}.{{arch}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/samples/{{sample}}/denoise.{{mark}}.{{arch}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v denoise --marks {params.marks} {params.references} {params.models} -o {output} "
        "{params.regions} -p {threads} 2> {log}"


rule denoise_sample_seed:
    """A new sample denoised by one seed's model alone, on the test regions only: scored to give the
    spread over seeds on the new sample too."""
    input:
        marks=lambda wc: [f"{RESULTS}/samples/{wc.sample}/coverage/{m}.bw" for m in MARKS],
        references=lambda wc: sample_reference_tracks(wc.sample),
        model=f"{RESULTS}/models/{{mark}}/{{arch}}.seed{{seed}}.pt",
    output:
        f"{RESULTS}/samples/{{sample}}/denoised/seeds/{{mark}}.{{arch}}.seed{{seed}}.bw",
    wildcard_constraints:
        seed=r"\d+",
    params:
        marks=lambda wc: sample_marks_arg(wc.sample),
        references=lambda wc, input: reference_args(input.references),
        regions=region_args("--region", config["splits"]["test"]),
    threads: MODEL["threads"]
    resources:
        mem_mb=2000,
        gpu=USES_GPU,
    log:
        f"{RESULTS}/logs/samples/{{sample}}/denoise.{{mark}}.{{arch}}.seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/samples/{{sample}}/denoise.{{mark}}.{{arch}}.seed{{seed}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v denoise --marks {params.marks} {params.references} --model {input.model} -o {output} "
        "{params.regions} -p {threads} 2> {log}"


rule callpeak_sample:
    """`macs3 callpeak` on a new sample's reads: its deep truth (q 0.05) or its low-depth reads at one cutoff."""
    input:
        lambda wc: sample_reads(wc.sample, "truth", wc.mark) if wc.kind == "truth" else sample_input(wc),
    output:
        f"{RESULTS}/samples/{{sample}}/peaks/{{mark}}.{{kind}}.{{cutoff}}.{{ext}}",
    wildcard_constraints:
        kind="truth|lowdepth",
        cutoff=r"[qp][0-9.eE-]+",
        ext="narrowPeak|broadPeak",
    params:
        fmt=lambda wc: macs3_format(sample_reads(wc.sample, "truth" if wc.kind == "truth" else "reads", wc.mark)),
        args=callpeak_args,
        gsize=lambda wc: PEAKS["genome_size"],
        name=lambda wc: f"{wc.mark}.{wc.kind}.{wc.cutoff}",
    threads: 1
    log:
        f"{RESULTS}/logs/samples/{{sample}}/callpeak.{{mark}}.{{kind}}.{{cutoff}}.{{ext}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/samples/{{sample}}/callpeak.{{mark}}.{{kind}}.{{cutoff}}.{{ext}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        CALLPEAK


rule evaluate_sample:
    """A new sample against its deep truth: noisy and smoothed input, each model, the reference baseline
    (its deep track and best smoothing), and every track's differential r against the reference."""
    input:
        truth=f"{RESULTS}/samples/{{sample}}/coverage/{{mark}}.truth.bw",
        noisy=f"{RESULTS}/samples/{{sample}}/coverage/{{mark}}.bw",
        denoised=lambda wc: [p for _, p in model_tracks(f"{RESULTS}/samples/{wc.sample}/denoised", wc.mark)],
        references=lambda wc: sample_reference_tracks(wc.sample),
        truth_peaks=lambda wc: sample_peak_inputs(wc)["truth_peaks"],
        lowdepth_peaks=lambda wc: sample_peak_inputs(wc)["lowdepth_peaks"],
    output:
        multiext(f"{RESULTS}/samples/{{sample}}/evaluation/{{mark}}", ".tsv", ".json", ".md", ".png"),
    params:
        prefix=lambda wc: f"{RESULTS}/samples/{wc.sample}/evaluation/{wc.mark}",
        tracks=lambda wc, input: ",".join([f"noisy_input={input.noisy}"]
                                          + [f"{n}={p}" for n, p in model_tracks(
                                              f"{RESULTS}/samples/{wc.sample}/denoised", wc.mark)]
                                          + [f"reference_{n}={p}" for n, p in zip(REFERENCES, input.references)]),
        reference=(f"--smooth-reference reference_{next(iter(REFERENCES))} "
                   f"--differential-reference reference_{next(iter(REFERENCES))}") if REFERENCES else "",
        regions=region_args("--region", config["splits"]["test"]),
        select=config["splits"]["valid"][0],
        blacklist=f"--blacklist {config['blacklist']}" if config["blacklist"] else "",
        bin_size=config["coverage"]["bin_size"],
        peaks=peak_evaluation_args,
    threads: 1
    log:
        f"{RESULTS}/logs/samples/{{sample}}/evaluate.{{mark}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/samples/{{sample}}/evaluate.{{mark}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v evaluate --truth {input.truth} --tracks {params.tracks} -o {params.prefix} "
        "{params.regions} {params.blacklist} --bin-size {params.bin_size} --smooth-input noisy_input "
        "{params.reference} --valid-region {params.select} {params.peaks} 2> {log}"


rule report_sample:
    """A new sample's report, hub and IGV session (every mark with a truth)."""
    input:
        lambda wc: [f"{RESULTS}/samples/{wc.sample}/evaluation/{m}.json" for m in MARKS
                    if m in (NEW_SAMPLES[wc.sample].get("truth") or {})],
    output:
        report=f"{RESULTS}/samples/{{sample}}/report.md",
        html=f"{RESULTS}/samples/{{sample}}/report.html",
        hub=f"{RESULTS}/samples/{{sample}}/hub/hub.txt",
    params:
        evaluations=lambda wc, input: " ".join(
            f"--evaluation {m}={p}" for m, p in zip([m for m in MARKS if m in NEW_SAMPLES[wc.sample]["truth"]], input)),
        genome=config["genome"],
        hub_dir=lambda wc, output: os.path.dirname(output.hub),
    threads: 1
    log:
        f"{RESULTS}/logs/samples/{{sample}}/report.log",
    benchmark:
        f"{RESULTS}/benchmarks/samples/{{sample}}/report.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v report {params.evaluations} -o {output.report} --hub-dir {params.hub_dir} "
        "--genome {params.genome} --html {output.html} 2> {log}"
