"""Options shared by several subcommands, defined once with deepTools-style names.

Every function here returns a click option decorator; ``option`` picks how it is declared: plain
``click.option``, or a group's ``.option`` from :func:`group` (click-option-group), so a long
``--help`` lists its options under headings (inputs, model, recipe, peaks, compute).
"""

from __future__ import annotations

from dataclasses import fields

import click
from click_option_group import optgroup

from chipsr.cli.types import OutputPath, RegionText

#: a grouped option: ``@group("Inputs")`` then ``@grouped("--x", ...)`` (``option=grouped`` below)
group, grouped = optgroup.group, optgroup.option


def output_option(suffixes: tuple[str, ...] = (), siblings: tuple[str, ...] = (), prefix: bool = False,
                  strip_suffix: bool = False, dest: str = "output", help: str = "Output file (written atomically).",
                  metavar: str | None = None, required: bool = True, option=click.option):
    """``-o/--output`` with the output guard: the files it names (``-o`` plus ``suffixes`` /
    ``siblings``, see :class:`chipsr.cli.types.OutputPath`) may not be any input of the command,
    and their folder must exist and be writable (checked before the work starts)."""
    return option("-o", "--output", dest, required=required, metavar=metavar, help=help,
                  type=OutputPath(suffixes, siblings, prefix=prefix, strip_suffix=strip_suffix))


def nan_as_zero_option(option=click.option):
    """``--nan-as-zero``: non-finite bigWig values read as 0 instead of an error."""
    return option("--nan-as-zero", is_flag=True,
                  help="Read NaN/inf values in input bigWigs as 0 (one warning per file, with the number of bins) "
                       "[default: a non-finite value is an error naming the file and position].")


def region_option(option=click.option):
    """``--region``: one region, checked where it is parsed."""
    return option("--region", type=RegionText(), default=None,
                  help="Only this region (1-based inclusive coordinates, as samtools/IGV).")


def blacklist_option(*decls: str, option=click.option,
                     help: str = "BED of regions to exclude (e.g. ENCODE blacklist v2); their reads are dropped."):
    """``--blacklist`` (``decls`` add other spellings, e.g. deepTools' ``--blackListFileName``)."""
    return option("--blacklist", *decls, "blacklist", type=click.Path(dir_okay=False), default=None, help=help)


def device_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate ``--device`` once, where it is parsed: a known name, and available here."""
    if value is None:
        return None
    from chipsr.api import check_device

    try:
        check_device(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def setting_option(settings: type, name: str, *decls: str, option=click.option, **kwargs):
    """An option (``click.option``, or ``option``: a group's) for field ``name`` of a settings
    dataclass: its default (a tuple shown as a comma list) and help come from the field; ``decls``
    default to ``--name-with-dashes``; ``kwargs`` (type, callback, ...) pass through."""
    f = next(f for f in fields(settings) if f.name == name)
    default = f.default
    if isinstance(default, tuple):
        default = ",".join(map(str, default))
    kwargs.setdefault("default", default)
    kwargs.setdefault("help", f.metadata.get("help"))
    kwargs.setdefault("show_default", default is not None)
    return option(*(decls or ("--" + name.replace("_", "-"),)), name, **kwargs)


def command_line(command: click.Command, settings, skip: tuple[str, ...] = ()) -> list[str]:
    """The options that give ``settings`` (a settings dataclass) to ``command``: one per field whose
    value differs from the field's default, spelled as ``command`` spells it (``--name VALUE``, a
    flag, or a ``--flag/--no-flag`` pair), in field order; fields in ``skip`` are left out. The
    workflow builds its ``chipsr train`` calls with it, so its ``train:`` map and the command line
    never drift apart.

    Raises
    ------
    ValueError
        A changed field that ``command`` has no option for.
    """
    default = type(settings)()
    options = {p.name: p for p in command.params if isinstance(p, click.Option)}
    args: list[str] = []
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name in skip or value == getattr(default, f.name):
            continue
        option = options.get(f.name)
        if option is None:
            raise ValueError(f"{command.name} has no option for setting {f.name!r}")
        if option.is_flag and option.secondary_opts:  # --flag/--no-flag
            args.append(option.opts[0] if value else option.secondary_opts[0])
        elif option.is_flag:  # a flag that stores its flag_value (True, or e.g. False for --gamma-only)
            if value != option.flag_value:
                raise ValueError(f"{command.name} {option.opts[0]} cannot set {f.name} to {value!r}")
            args.append(option.opts[0])
        else:
            if value is None:
                raise ValueError(f"{command.name} {option.opts[0]} cannot be unset (None)")
            args += [option.opts[-1], ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
    return args


# The options every command group shares, defined once. Each takes its default and help from the
# command's settings dataclass, so a command's default lives in one place (its API settings).


def seed_option(settings: type, option=click.option):
    """``--seed`` from field ``seed`` of ``settings``."""
    return setting_option(settings, "seed", type=int, option=option)


def device_option(settings: type, option=click.option):
    """``--device`` from field ``device`` of ``settings``, checked where it is parsed (:func:`device_callback`)."""
    return setting_option(settings, "device", callback=device_callback, option=option, metavar="DEVICE")


def threads_option(settings: type, *decls: str, option=click.option):
    """``-p/--threads``: the CPU cores a command may use (torch threads, or coverage's processes: the
    field's help says which), from field ``threads`` of ``settings``. Snakemake's ``threads:`` is
    passed here; ``decls`` add other spellings."""
    return setting_option(settings, "threads", "-p", "--threads", *decls, type=click.IntRange(min=1), option=option)


def bin_size_option(settings: type, *decls: str, option=click.option):
    """``--bin-size`` (bp) from field ``bin_size`` of ``settings``; ``decls`` add other spellings."""
    return setting_option(settings, "bin_size", "--bin-size", *decls, type=click.IntRange(min=1, max=1_000_000_000),
                          option=option)
