import pandas as pd
from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

SAMPLES = pd.read_csv(config["samples"], sep="\t", dtype=str, comment="#").set_index("mark", drop=False)
validate(SAMPLES, schema="../schemas/samples.schema.yaml")
if SAMPLES.index.duplicated().any():
    raise ValueError(f"{config['samples']}: mark listed twice: {SAMPLES.index[SAMPLES.index.duplicated()][0]}")

MARKS = list(SAMPLES.index)
RESULTS = config["results"]


def reads_of(wildcards):
    """The reads file(s) of a mark (comma-separated in samples.tsv)."""
    return [p.strip() for p in SAMPLES.loc[wildcards.mark, "reads"].split(",")]


def reads_suffix(mark):
    """Subsampled reads keep their input format: BAM stays BAM, BED stays (gzipped) BED."""
    first = SAMPLES.loc[mark, "reads"].split(",")[0].strip()
    return "bam" if first.endswith(".bam") else "bed.gz"


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
