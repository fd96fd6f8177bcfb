#!/usr/bin/env bash
# Extra seeds of one architecture on the example (an experiment, not a timed benchmark): trains seeds
# beyond config's model.seeds with the workflow's own train and denoise_seed rules, then scores every
# seed's test-region track in one `chipsr evaluate`, so the spread over seeds rests on more draws.
#
#   bash benchmarks/extra_seeds.sh [RESULTS] [ARCH] [SEEDS...]
#   bash benchmarks/extra_seeds.sh results tfilm 4 5 6      # what the README's six-seed numbers used
#
# Needs a finished `snakemake --cores 8` in RESULTS (its seeds 1-3 and coverage) and the venv's bin
# (chipsr, snakemake, python) on PATH. Writes
# RESULTS/extra_seeds/MARK.ARCH.{tsv,json,md,png}; the overall Pearson r of each seed is in the .md.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-results}; arch=${2:-tfilm}
extra=("${@:3}"); [ ${#extra[@]} -gt 0 ] || extra=(4 5 6)
marks=(H3K27ac H3K4me1)
targets=()
for mark in "${marks[@]}"; do
    for seed in "${extra[@]}"; do
        targets+=("$results/denoised/seeds/$mark.$arch.seed$seed.bw")
    done
done
snakemake --cores 2 --config results="$results" -- "${targets[@]}"
mkdir -p "$results/extra_seeds"
test_region=$(python -c "import yaml; print(yaml.safe_load(open('config/config.yaml'))['splits']['test'][0])")
for mark in "${marks[@]}"; do
    tracks="noisy_input=$results/coverage/$mark.lowdepth.bw"
    for seed in 1 2 3 "${extra[@]}"; do
        tracks+=",$arch.seed$seed=$results/denoised/seeds/$mark.$arch.seed$seed.bw"
    done
    chipsr evaluate --truth "$results/coverage/$mark.fulldepth.bw" --tracks "$tracks" \
        -o "$results/extra_seeds/$mark.$arch" --region "$test_region" \
        --blacklist examples/data/hg19-blacklist.v2.bed.gz --bin-size 25
done
