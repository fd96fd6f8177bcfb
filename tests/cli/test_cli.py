"""The command line: help for every subcommand, version, fast start-up, verbosity."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from chipsr import __version__
from chipsr.cli.main import COMMANDS, cli

from builders import EXAMPLES


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def _leaf_commands() -> list[tuple[str, ...]]:
    """Every runnable command as an argv prefix; groups (e.g. ``audio``) are expanded."""
    import click

    out = []
    for name in sorted(COMMANDS):
        command = cli.get_command(None, name)
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=name)
            out.extend((name, sub) for sub in sorted(command.list_commands(ctx)))
        else:
            out.append((name,))
    return out


def _listed(help_text: str, section: str) -> list[str]:
    """The command names a group's --help lists under ``section`` (e.g. "Commands"), in order."""
    import re

    lines = help_text.split(section + ":\n", 1)[1].splitlines()
    names = []
    for line in lines:
        if not line.strip():
            break
        match = re.match(r"  (\S+)  ", line)
        if match:
            names.append(match.group(1))
    return names


@pytest.mark.parametrize("argv", _leaf_commands(), ids=" ".join)
def test_help_for_every_subcommand(argv):
    result = CliRunner().invoke(cli, [*argv, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: cli " in result.output or "Usage:" in result.output
    assert "-o, --output" in result.output


def test_groups_list_their_commands():
    for group, expected in (("audio", {"train", "upsample", "evaluate", "tfr", "export"}),
                            ("impute", {"train", "fill", "evaluate"})):
        result = CliRunner().invoke(cli, [group, "--help"])
        assert result.exit_code == 0, result.output
        assert set(_listed(result.output, "Commands")) == expected, group


def test_group_help_lists_commands():
    """The ChIP-seq verbs flat, in the workflow's order; audio and impute apart; `chipseq` hidden but working."""
    from chipsr.cli.main import CHIPSEQ

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert _listed(result.output, "Commands") == list(CHIPSEQ)
    assert _listed(result.output, "Other tasks") == ["audio", "impute"]
    assert "chipseq" not in result.output.split("Commands:")[1]
    hidden = CliRunner().invoke(cli, ["chipseq", "--help"])
    assert hidden.exit_code == 0 and _listed(hidden.output, "Commands") == list(CHIPSEQ)


@pytest.mark.slow
def test_help_is_fast_and_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from chipsr.cli.main import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    cli(['coverage', '--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    cli(['audio', 'upsample', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'numpy', 'pysam', 'pandas', 'pyBigWig') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


@pytest.mark.slow
def test_verbose_logs_to_stderr(tmp_path):
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t10\t60\n")
    sizes = tmp_path / "g.sizes"
    sizes.write_text("chr1\t1000\n")
    out = tmp_path / "c.bw"
    result = subprocess.run(
        [sys.executable, "-m", "chipsr.cli.main", "-v", "coverage", str(bed), "--chrom-sizes", str(sizes), "-o", str(out)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "chipsr: INFO:" in result.stderr and result.stdout == ""


def test_chipseq_group_aliases_the_flat_commands():
    """`chipsr chipseq COMMAND` is `chipsr COMMAND` (every task has a group)."""
    from click.testing import CliRunner

    from chipsr.cli.main import CHIPSEQ, cli

    listed = CliRunner().invoke(cli, ["chipseq", "--help"]).output
    assert all(name in listed for name in CHIPSEQ)
    # in the workflow's order, with whole first sentences, as `chipsr --help` lists them
    rows = [line.split()[0] for line in listed.split("Commands:")[1].splitlines() if line[:3] == "  " + line[2:3]
            and line.strip() and not line.startswith("    ")]
    assert rows == list(CHIPSEQ), rows
    assert "(best weights and card," in listed
    model = str(EXAMPLES / "models" / "H3K27ac.tfilm.pt")
    grouped = CliRunner().invoke(cli, ["chipseq", "info", model])
    flat = CliRunner().invoke(cli, ["info", model])
    assert grouped.exit_code == 0 and grouped.output == flat.output


def _commands(group, prefix=()):
    import click

    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


SETTINGS = {
    ("subsample",): "chipsr.api.chipseq:SubsampleSettings",
    ("coverage",): "chipsr.api.chipseq:CoverageSettings",
    ("train",): "chipsr.api.chipseq:TrainSettings",
    ("denoise",): "chipsr.api.chipseq:DenoiseSettings",
    ("evaluate",): "chipsr.api.chipseq:EvaluateSettings",
    ("peaks",): "chipsr.api.chipseq:PeaksSettings",
    ("callpeak",): "chipsr.api.chipseq:CallpeakSettings",
    ("report",): "chipsr.api.chipseq:ReportSettings",
    ("audio", "train"): "chipsr.api.audio:TrainSettings",
    ("audio", "upsample"): "chipsr.api.audio:UpsampleSettings",
    ("audio", "evaluate"): "chipsr.api.audio:EvaluateSettings",
    ("audio", "tfr"): "chipsr.api.audio:TfrSettings",
    ("impute", "train"): "chipsr.api.impute:TrainSettings",
    ("impute", "fill"): "chipsr.api.impute:FillSettings",
    ("impute", "evaluate"): "chipsr.api.impute:EvaluateSettings",
}


@pytest.mark.parametrize("path", sorted(SETTINGS), ids=" ".join)
def test_every_setting_is_an_option_with_the_settings_default(path):
    """One source for each default: every field of a command's settings dataclass is an option of
    the command, and click's default (after its type converts it) is the field's default."""
    import dataclasses
    import importlib

    import click

    module, name = SETTINGS[path].split(":")
    settings = getattr(importlib.import_module(module), name)
    command = dict(_commands(cli))[path]
    params = {p.name: p for p in command.params}
    ctx = click.Context(command)
    skip = {"time_limit_s", "chunk_bins"}  # train: --time-limit is in minutes; chunk_bins is Python-only
    for f in dataclasses.fields(settings):
        if f.name in skip:
            continue
        assert f.name in params, f"{' '.join(path)}: setting {f.name} has no option"
        param = params[f.name]
        default = param.process_value(ctx, param.get_default(ctx))  # type and callback applied
        if isinstance(f.default, tuple):
            assert tuple(default) == f.default, f.name
        else:
            assert default == f.default, f"{' '.join(path)} --{f.name}: click {default!r}, settings {f.default!r}"


def test_threads_means_cpu_cores_everywhere():
    """-p/--threads is declared once and says 'CPU cores' in every command that has it."""
    for path, command in _commands(cli):
        for param in command.params:
            if "--threads" in getattr(param, "opts", ()):
                assert param.opts[:2] == ["-p", "--threads"], path  # coverage adds deepTools --numberOfProcessors
                assert param.help.startswith("CPU cores"), (path, param.help)


def test_subsample_reads_and_fraction_exclusive(tmp_path):
    from chipsr import api
    from chipsr.errors import ChipsrInputError

    with pytest.raises(ChipsrInputError, match="not both"):
        api.subsample("x.bed", tmp_path / "y.bed", number=5, fraction=0.5)
    result = CliRunner().invoke(cli, ["subsample", "x.bed", "-o", str(tmp_path / "y.bed"), "--number", "5",
                                      "--fraction", "0.5"])
    assert result.exit_code != 0 and "not both" in result.output


@pytest.mark.parametrize("argv, option", [
    (["train", "--marks", "a.bw", "--target", "b.bw", "-o", "m.pt", "--train-region", "chr1:30-10",
      "--valid-region", "chr2"], "--train-region"),
    (["evaluate", "--truth", "t.bw", "--tracks", "x=a.bw", "-o", "out", "--locus", "chr1:5"], "--locus"),
    (["peaks", "t.bw", "-o", "p.narrowPeak", "--region", "chr1:0-10"], "--region"),
    (["coverage", "r.bed", "-o", "c.bw", "--region", "chr1 2"], "--region"),
])
def test_a_bad_region_fails_where_it_is_parsed(tmp_path, argv, option):
    """Regions are checked by the one region parser when the options are parsed: exit 2, the option
    named, before any file is opened (the files here do not exist)."""
    argv = [str(tmp_path / a) if a.endswith((".bw", ".pt", ".bed", ".narrowPeak")) or a == "out" else a for a in argv]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, result.output
    assert option in result.output and "region" in result.output and len(result.output.strip().splitlines()) == 1


def test_former_option_names_warn_and_still_work(tmp_path):
    """A renamed option's former spelling is accepted for one release, with one warning naming the new one."""
    result = CliRunner().invoke(cli, ["subsample", "missing.bed", "-o", str(tmp_path / "y.bed"), "--reads", "5"])
    assert "--reads is now --number" in result.output
    assert "missing.bed" in result.output  # parsed as -n 5: the run got as far as the reads file
    result = CliRunner().invoke(cli, ["peaks", "missing.bw", "-o", str(tmp_path / "p.broadPeak"), "--broad"])
    assert "--broad is now --peak-type broad" in result.output and "missing.bw" in result.output
    for command in ("train", "evaluate", "peaks", "subsample"):
        help_text = CliRunner().invoke(cli, [command, "--help"]).output
        for former in ("--reads ", "--broad ", "--call-peaks", "--smooth-select-region", "--calibrate-region",
                       "--target-peaks", "--depth "):
            assert former not in help_text, (command, former)
