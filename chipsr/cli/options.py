"""Options shared by several subcommands, defined once with deepTools-style names."""

from __future__ import annotations

import click

from chipsr.cli.types import OutputPath


def output_option(suffixes: tuple[str, ...] = (), siblings: tuple[str, ...] = (), prefix: bool = False,
                  strip_suffix: bool = False, dest: str = "output", help: str = "Output file (written atomically).",
                  metavar: str | None = None, required: bool = True):
    """``-o/--output`` with the output guard: the files it names (``-o`` plus ``suffixes`` /
    ``siblings``, see :class:`chipsr.cli.types.OutputPath`) may not be any input of the command,
    and their folder must exist and be writable (checked before the work starts)."""
    return click.option("-o", "--output", dest, required=required, metavar=metavar, help=help,
                        type=OutputPath(suffixes, siblings, prefix=prefix, strip_suffix=strip_suffix))


seed_option = click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
nan_as_zero_option = click.option(
    "--nan-as-zero", is_flag=True,
    help="Read NaN/inf values in input bigWigs as 0 (one warning per file, with the number of bins) "
         "[default: a non-finite value is an error naming the file and position].",
)
threads_option = click.option(
    "-p", "--threads", type=click.IntRange(min=1), default=1, show_default=True,
    help="Worker processes (BAM chromosomes are processed in parallel).",
)
bin_size_option = click.option(
    "--bin-size", type=click.IntRange(min=1, max=1_000_000_000), default=25, show_default=True,
    help="Bin size in bp; a bin holds the mean per-bp depth over its bases.",
)
region_option = click.option(
    "--region", metavar="CHR[:START-END]", default=None,
    help="Only this region (1-based inclusive coordinates, as samtools/IGV).",
)
blacklist_option = click.option(
    "--blacklist", type=click.Path(dir_okay=False), default=None,
    help="BED of regions to exclude (e.g. ENCODE blacklist v2); their reads are dropped.",
)
torch_threads_option = click.option(
    "-p", "--threads", type=click.IntRange(min=1), default=1, show_default=True,
    help="CPU threads for torch. 1 is the measured-safe default: on small machines shared with other "
         "jobs, 2 threads were erratic (up to 10x slower).",
)
def _check_device(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate ``--device`` once, where it is parsed: a known name, and available here."""
    if value is None:
        return None
    import re

    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", value):
        raise click.BadParameter(f"unknown device {value!r}; expected cpu, cuda, cuda:N or mps")
    if value != "cpu":
        from chipsr.core.device import pick_device

        try:
            pick_device(value)
        except (ValueError, RuntimeError) as exc:
            raise click.BadParameter(str(exc)) from None
        if value.startswith("cuda:"):
            import torch

            if int(value[5:]) >= torch.cuda.device_count():
                raise click.BadParameter(f"{value}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return value


device_option = click.option(
    "--device", default=None, callback=_check_device,
    help="cpu, cuda, cuda:N, mps [default: CUDA if present, else MPS, else CPU].",
)
