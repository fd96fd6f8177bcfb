rule subsample:
    """Low-depth reads: exactly N templates of each mark (the paper's 1M-read subsample)."""
    input:
        lambda wc: reads_of(wc)[0],
    output:
        f"{RESULTS}/reads/{{mark}}.lowdepth.{{ext}}",
    wildcard_constraints:
        ext="bam|bed.gz",
    params:
        reads=config["subsample"]["reads"],
        seed=config["subsample"]["seed"],
    log:
        f"{RESULTS}/logs/subsample/{{mark}}.{{ext}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/subsample/{{mark}}.{{ext}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v subsample {input} -o {output} --reads {params.reads} --seed {params.seed} 2> {log}"


rule coverage_lowdepth:
    input:
        lambda wc: f"{RESULTS}/reads/{wc.mark}.lowdepth.{reads_suffix(wc.mark)}",
    output:
        f"{RESULTS}/coverage/{{mark}}.lowdepth.bw",
    params:
        args=coverage_args(),
    threads: config["coverage"]["threads"]
    log:
        f"{RESULTS}/logs/coverage/{{mark}}.lowdepth.log",
    benchmark:
        f"{RESULTS}/benchmarks/coverage/{{mark}}.lowdepth.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v coverage {input} -o {output} {params.args} 2> {log}"


rule coverage_fulldepth:
    input:
        reads_of,
    output:
        f"{RESULTS}/coverage/{{mark}}.fulldepth.bw",
    params:
        args=coverage_args(),
    threads: config["coverage"]["threads"]
    log:
        f"{RESULTS}/logs/coverage/{{mark}}.fulldepth.log",
    benchmark:
        f"{RESULTS}/benchmarks/coverage/{{mark}}.fulldepth.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v coverage {input} -o {output} {params.args} 2> {log}"
