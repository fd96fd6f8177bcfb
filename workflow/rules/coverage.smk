rule subsample:
    """Low-depth reads: exactly N templates of each mark (the paper's 1M-read subsample); depth
    xK: K x N templates, the raw tracks of the depth-equivalence series."""
    input:
        reads_of,  # every replicate of the mark, pooled (as the full-depth track merges them)
    output:
        f"{RESULTS}/reads/{{mark}}.{{depth}}.{{ext}}",
    wildcard_constraints:
        ext="bam|bed.gz",
        depth=r"lowdepth|x\d+(\.\d+)?",
    params:
        reads=lambda wc: subsample_reads(wc.depth),
        seed=config["subsample"]["seed"],
    threads: 1
    log:
        f"{RESULTS}/logs/subsample/{{mark}}.{{depth}}.{{ext}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/subsample/{{mark}}.{{depth}}.{{ext}}.tsv"
    conda:
        "../envs/chipsr.yaml"
    shell:
        "chipsr -v subsample {input} -o {output} --number {params.reads} --seed {params.seed} 2> {log}"


rule coverage_lowdepth:
    input:
        lambda wc: f"{RESULTS}/reads/{wc.mark}.{wc.depth}.{reads_suffix(wc.mark)}",
    output:
        f"{RESULTS}/coverage/{{mark}}.{{depth}}.bw",
    wildcard_constraints:
        depth=r"lowdepth|x\d+(\.\d+)?",
    params:
        args=coverage_args(),
    threads: config["coverage"]["threads"]
    log:
        f"{RESULTS}/logs/coverage/{{mark}}.{{depth}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/coverage/{{mark}}.{{depth}}.tsv"
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
