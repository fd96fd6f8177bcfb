"""``chipsr`` entry point: the command group, logging set-up and one-line errors.

Subcommands live in their own modules and are imported only when invoked, so ``chipsr --help``
never imports torch, numpy or pysam.
"""

from __future__ import annotations

import importlib
import logging
import os

import click

from chipsr._version import __version__

#: the ChIP-seq commands (:mod:`chipsr.cli.chipseq`), listed flat and as ``chipsr chipseq ...``
CHIPSEQ = ("subsample", "coverage", "train", "denoise", "gather", "evaluate", "peaks", "callpeak", "report", "info",
           "export")
#: subcommand name -> "module:function"
COMMANDS = {
    **{name: f"chipsr.cli.chipseq:{name}" for name in CHIPSEQ},
    "audio": "chipsr.cli.audio:audio",
    "impute": "chipsr.cli.impute:impute",
    "chipseq": "chipsr.cli.main:chipseq",
}
#: commands that run but are not listed: ``chipsr chipseq COMMAND`` is ``chipsr COMMAND``
HIDDEN = ("chipseq",)


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when it is named or listed; the modules
    import click and the light :mod:`chipsr.api` modules only, so ``--help`` stays fast (torch,
    numpy and pysam are imported inside the commands). Each command's short help is the first
    sentence of its docstring.

    Bad input (:class:`chipsr.errors.ChipsrInputError`) and file-system errors become a
    one-line ``Error: ...`` message on stderr and exit code 1.
    """

    names: tuple[str, ...] | None = None  # the subcommands of COMMANDS this group lists (None: all)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.names or COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.list_commands(ctx):
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = [name for name in self.list_commands(ctx) if name not in HIDDEN]
        sections = [("Commands", [n for n in names if n in CHIPSEQ]),
                    ("Other tasks", [n for n in names if n not in CHIPSEQ])]
        for title, section in sections:
            if section:
                rows = [(name, self.get_command(ctx, name).get_short_help_str(limit=150)) for name in section]
                with formatter.section(title):
                    formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        from chipsr.errors import ChipsrInputError

        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # one line (the usage text is one --help away)
            if exc.ctx is None:
                raise
            error = click.ClickException(f"{exc.format_message()} (see '{exc.ctx.command_path} --help')")
            error.exit_code = exc.exit_code  # 2, as click gives usage errors
            raise error from None
        except ChipsrInputError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="chipsr")
@click.option("-v", "--verbose", count=True, help="More log messages on stderr (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """chipsr: turn low-depth histone ChIP-seq into deep-experiment tracks.

    ChIP-seq steps: subsample reads, build coverage tracks, train, denoise, call peaks, evaluate,
    report. The same models also super-resolve audio (`chipsr audio ...`) and impute time series
    (`chipsr impute ...`).
    Run `chipsr COMMAND --help` for a command's options.
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    fmt = "chipsr: %(levelname)s: %(message)s"
    rank = os.environ.get("RANK", "0")
    if rank not in ("", "0"):  # torchrun: the other processes say only what goes wrong, and say who they are
        level, fmt = logging.WARNING, f"chipsr[rank {rank}]: %(levelname)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, force=True)


if __name__ == "__main__":  # pragma: no cover
    cli()


class _ChipseqGroup(LazyGroup):
    names = CHIPSEQ


@click.group(cls=_ChipseqGroup, hidden=True)
def chipseq() -> None:
    """ChIP-seq commands as one group: `chipsr chipseq train` is `chipsr train`, and so on.

    The flat names (`chipsr train`, `chipsr denoise`, ...) stay; this group sits beside `chipsr audio`
    and `chipsr impute`, so every task has the same shape.
    """
