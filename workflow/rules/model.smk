rule train:
    """One model per target mark and architecture, on the low-depth coverage of every mark."""
    input:
        marks=lowdepth_tracks,
        target=f"{RESULTS}/coverage/{{mark}}.fulldepth.bw",
    output:
        model=f"{RESULTS}/models/{{mark}}/{{arch}}.seed{{seed}}.pt",
        epochs=f"{RESULTS}/models/{{mark}}/{{arch}}.seed{{seed}}.pt.epochs.tsv",
    wildcard_constraints:
        seed=r"\d+",
    params:
        marks=lambda wc, input: ",".join(input.marks),
        args=lambda wc: train_args(wc.arch),
    threads: MODEL["threads"]
    resources:
        mem_mb=4000,
        gpu=USES_GPU,
    log:
        f"{RESULTS}/logs/train/{{mark}}.{{arch}}.seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{mark}}.{{arch}}.seed{{seed}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v train --marks {params.marks} --target {input.target} -o {output.model} "
        "{params.args} --seed {wildcards.seed} -p {threads} 2> {log}"


rule denoise:
    """The denoised track of a mark: the mean of its seed ensemble's outputs."""
    input:
        marks=lowdepth_tracks,
        models=seed_models,
    output:
        f"{RESULTS}/denoised/{{mark}}.{{arch}}.bw",
    params:
        marks=lambda wc, input: ",".join(input.marks),
        models=lambda wc, input: " ".join(f"--model {m}" for m in input.models),
        regions=region_args("--region", config["denoise_regions"]),
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
        "chipsr -v denoise --marks {params.marks} {params.models} -o {output} {params.regions} "
        "-p {threads} 2> {log}"


rule denoise_seed:
    """One seed's model alone, on the test regions only: scored to give the spread over seeds."""
    input:
        marks=lowdepth_tracks,
        model=f"{RESULTS}/models/{{mark}}/{{arch}}.seed{{seed}}.pt",
    output:
        f"{RESULTS}/denoised/seeds/{{mark}}.{{arch}}.seed{{seed}}.bw",
    wildcard_constraints:
        seed=r"\d+",
    params:
        marks=lambda wc, input: ",".join(input.marks),
        regions=region_args("--region", config["splits"]["test"]),
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
        "chipsr -v denoise --marks {params.marks} --model {input.model} -o {output} {params.regions} "
        "-p {threads} 2> {log}"


rule evaluate:
    """Table 2 of the paper for one mark, on the held-out test regions."""
    input:
        truth=f"{RESULTS}/coverage/{{mark}}.fulldepth.bw",
        noisy=f"{RESULTS}/coverage/{{mark}}.lowdepth.bw",
        denoised=evaluate_inputs,
        depths=depth_tracks,
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
    resources:
        mem_mb=2000,
    log:
        f"{RESULTS}/logs/evaluate/{{mark}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{mark}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v evaluate --truth {input.truth} --tracks {params.tracks} -o {params.prefix} "
        "{params.regions} {params.blacklist} --bin-size {params.bin_size} "
        "--smooth-input noisy_input --smooth-select-region {params.select} {params.depths} 2> {log}"


rule report:
    """One report for all marks (the paper's Table 2 and more), a UCSC track hub and an IGV session."""
    input:
        expand(f"{RESULTS}/evaluation/{{mark}}.json", mark=MARKS),
    output:
        report=f"{RESULTS}/report.md",
        hub=f"{RESULTS}/hub/hub.txt",
        igv=f"{RESULTS}/hub/igv_session.xml",
    params:
        evaluations=lambda wc, input: " ".join(f"--evaluation {m}={p}" for m, p in zip(MARKS, input)),
        genome=config["genome"],
        hub_dir=lambda wc, output: os.path.dirname(output.hub),
    log:
        f"{RESULTS}/logs/report.log",
    benchmark:
        f"{RESULTS}/benchmarks/report.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v report {params.evaluations} -o {output.report} --hub-dir {params.hub_dir} "
        "--genome {params.genome} 2> {log}"
