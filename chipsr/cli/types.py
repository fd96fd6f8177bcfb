"""Click parameter types and the command class shared by every ``chipsr`` subcommand.

The **output guard** lives here, where options are parsed: every command is a
:class:`GuardedCommand`, and every output option has the :class:`OutputPath` (or
:class:`OutputDir`) type, which declares the files the command will write (the output itself,
its side files such as ``.bai`` or ``.epochs.tsv``, or a prefix's ``.tsv/.json/...``). Before
the command runs, the guard

- refuses any output file that is one of the command's input files (same path, symlink or hard
  link, :func:`os.path.samefile`), or one of their index files (``.bai``, ``.csi``, ``.fai``,
  ``.tbi``, ``.gzi``), and
- checks that each output's directory exists and is writable, and that the output is not a
  directory,

so a mistyped ``-o`` never destroys an input and never fails after an hour of work. Input
files are found from the other parameters' values: any existing file named directly, in a
comma-separated list or as ``NAME=path``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

#: index / sidecar files that belong to an input file (``x.bam`` -> ``x.bam.bai`` and ``x.bai``)
INPUT_SIDECARS = (".bai", ".csi", ".fai", ".tbi", ".gzi", ".crai")


class OutputPath(click.Path):
    """An output file (or, with ``prefix=True``, an output prefix) and the files written with it.

    Parameters
    ----------
    suffixes : tuple of str
        Side files written as ``OUTPUT + suffix`` (e.g. ``(".bai",)``, ``(".epochs.tsv",)``). With
        ``prefix=True`` these are the only files written (``PREFIX.tsv``, ...).
    siblings : tuple of str
        Files written beside the output under a fixed name (e.g. ``("splits.json",)``).
    prefix : bool
        The value is a prefix, not a file: only ``PREFIX + suffix`` files are written.
    strip_suffix : bool
        With ``prefix=True``: a value ending in one of ``suffixes`` (``results.tsv``) names the
        prefix without it (``results``).
    """

    name = "output"

    def __init__(self, suffixes: tuple[str, ...] = (), siblings: tuple[str, ...] = (), prefix: bool = False,
                 strip_suffix: bool = False):
        super().__init__()  # a directory is refused by the guard, in one line
        self.suffixes = tuple(suffixes)
        self.siblings = tuple(siblings)
        self.prefix = prefix
        self.strip_suffix = strip_suffix

    def files(self, value: str, params: dict) -> list[Path]:
        """The paths this command writes for the option value ``value``."""
        base = Path(value)
        if self.strip_suffix and base.suffix.lower() in self.suffixes:
            base = base.with_suffix("")
        out = [] if self.prefix else [base]
        out += [Path(str(base) + s) for s in self.suffixes]
        out += [base.parent / s for s in self.siblings]
        return out


class OutputDir(click.Path):
    """An output folder and the files written into it.

    Parameters
    ----------
    files : tuple of str
        Relative paths written inside the folder; ``{name}`` fields are filled from the command's
        other parameters (e.g. ``"{genome}/trackDb.txt"``). A path that would leave the folder
        (``--genome ../../x``) is refused.
    """

    name = "output_dir"

    def __init__(self, files: tuple[str, ...] = ()):
        super().__init__(file_okay=False)
        self.rel_files = tuple(files)

    def files(self, value: str, params: dict) -> list[Path]:
        """The paths this command writes inside the folder ``value``."""
        root = Path(value)
        out = []
        for rel in self.rel_files:
            path = root / rel.format(**params)
            if not _inside(path, root):
                fields = ", ".join(f"{k}={params.get(k)!r}" for k in _fields(rel))
                raise ValueError(f"{fields} would write {path}, outside the output folder {root}")
            out.append(path)
        return out


def _fields(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _inside(path: Path, root: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
    except ValueError:
        return False
    return True


def _candidate_paths(value) -> Iterator[str]:
    """Strings in a parameter value that may name a file: the value, its comma items, NAME=path."""
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _candidate_paths(item)
        return
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        return
    yield value
    for item in value.split(","):
        item = item.strip()
        if item:
            yield item
            if "=" in item:
                yield item.split("=", 1)[1]


def input_files(params: dict, skip: Iterable[str] = ()) -> dict[Path, tuple[str, str]]:
    """Existing files named by the command's parameters, with their index files.

    Parameters
    ----------
    params : dict
        The parsed parameters (``ctx.params``).
    skip : iterable of str
        Parameter names not to look at (the outputs).

    Returns
    -------
    dict
        ``path -> (parameter name, what)`` for every existing regular file named by a parameter
        (directly, in a comma list, or as ``NAME=path``; what = ``"an input"``) and every index file
        of one (``x.bam.bai``, ``x.bai``; what = ``"the index of input x.bam"``).
    """
    skip = set(skip)
    found: dict[Path, tuple[str, str]] = {}
    for name, value in params.items():
        if name in skip:
            continue
        for cand in _candidate_paths(value):
            try:
                path = Path(cand)
                if not path.is_file():
                    continue
            except (OSError, ValueError):
                continue
            found[path] = (name, "an input")
            for side in INPUT_SIDECARS:
                for idx in (Path(cand + side), path.with_suffix(side)):
                    if idx != path and idx.is_file():
                        found.setdefault(idx, (name, f"the index of input {path}"))
    return found


def guard_outputs(ctx: click.Context) -> None:
    """Refuse outputs that would overwrite an input; check output folders before any work.

    Raises
    ------
    click.ClickException
        One line naming the option and path: the output is an input (or an input's index), two
        output options name one file, its folder does not exist or is not writable, or it is a
        directory.
    """
    outputs: list[tuple[click.Parameter, Path]] = []
    out_names = set()
    for param in ctx.command.params:
        if isinstance(param.type, (OutputPath, OutputDir)):
            out_names.add(param.name)
            value = ctx.params.get(param.name)
            if value is None:
                continue
            if isinstance(param.type, OutputDir):
                root = Path(value)
                if root.exists() and not root.is_dir():
                    raise click.ClickException(f"{_opt(param)} {value}: exists and is not a folder")
            try:
                outputs += [(param, p) for p in param.type.files(value, ctx.params)]
            except ValueError as exc:
                raise click.ClickException(f"{_opt(param)} {value}: {exc}") from None
    if not outputs:
        return
    from chipsr.api import same_file

    seen: dict[str, click.Parameter] = {}
    for param, out in outputs:  # two outputs on one file: the second would silently replace the first
        key = os.path.abspath(out)
        if key in seen and seen[key] is not param:
            raise click.ClickException(f"{_opt(seen[key])} and {_opt(param)} both name {out}; give each output "
                                       f"its own path")
        seen.setdefault(key, param)
    inputs = input_files(ctx.params, skip=out_names)
    for param, out in outputs:
        if out.exists():
            for src, (src_param, what) in inputs.items():
                if same_file(out, src):
                    raise click.ClickException(
                        f"{_opt(param)} {ctx.params[param.name]}: would overwrite {src}, {what} "
                        f"(given as {_opt_name(ctx, src_param)}); choose another output path")
            if out.is_dir():
                raise click.ClickException(f"{_opt(param)} {out}: is a directory")
        parent = out.parent
        while isinstance(param.type, OutputDir) and not parent.exists() and parent != parent.parent:
            parent = parent.parent  # the folder is created: its nearest existing ancestor must be writable
        if not parent.is_dir():
            raise click.ClickException(f"{_opt(param)} {out}: output folder {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise click.ClickException(f"{_opt(param)} {out}: output folder {parent} is not writable")


def _opt(param: click.Parameter) -> str:
    return "/".join(param.opts) if param.opts else param.name.upper()


def _opt_name(ctx: click.Context, name: str) -> str:
    for param in ctx.command.params:
        if param.name == name:
            return _opt(param) if isinstance(param, click.Option) else param.human_readable_name
    return name


class NamedPath(click.ParamType):
    """A click type for ``NAME=PATH`` items, parsed by the one parser (:func:`chipsr.specs.split_item`):
    the value becomes ``(name, path)``, or with ``commas`` a list of them (``A=x,B=y``).

    Parameters
    ----------
    form : str
        How the item is written, for help and errors (e.g. ``"MARK=EVAL.json"``).
    key : callable or None
        Converts (and checks) the name: ``key(name) -> value``, a ValueError meaning a bad name
        (e.g. ``float`` for ``K=PATH``).
    commas : bool
        The value holds several comma-separated items.
    """

    name = "NAME=PATH"

    def __init__(self, form: str = "NAME=PATH", key=None, commas: bool = False):
        self.form, self.key, self.commas = form, key, commas
        self.name = form

    def _item(self, item: str, param):
        from chipsr.api.common import split_item
        from chipsr.errors import ChipsrInputError

        option = param.opts[0] if param is not None and param.opts else "value"
        try:
            name, path = split_item(item, option, form=self.form)
            return (self.key(name) if self.key else name), path
        except (ChipsrInputError, ValueError):
            raise ValueError(f"expected {self.form}, got {item!r}") from None

    def convert(self, value, param, ctx):
        if isinstance(value, (tuple, list)):
            return value
        try:
            if self.commas:
                return [self._item(i, param) for i in str(value).split(",") if i.strip()]
            return self._item(value, param)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class CommaList(click.ParamType):
    """A click type for ``a,b,c``: a tuple of ``cast`` values (blank items dropped); a value that
    ``cast`` rejects fails with the option's name and ``expected``.

    Parameters
    ----------
    cast : callable
        Converts one item (``str``, ``int``, ``float``...); a ValueError means a bad item.
    expected : str
        What the value should look like, for the error.
    """

    name = "LIST"

    def __init__(self, cast=str, expected: str = "comma-separated values"):
        self.cast, self.expected = cast, expected

    def convert(self, value, param, ctx):
        if isinstance(value, (tuple, list)):
            return tuple(value)
        try:
            return tuple(self.cast(v.strip()) for v in str(value).split(",") if v.strip())
        except ValueError:
            self.fail(f"expected {self.expected}, got {value!r}", param, ctx)


class RegionText(click.ParamType):
    """A click type for ``CHR`` or ``CHR:START-END`` (1-based inclusive): checked where it is parsed
    (:func:`chipsr.specs.region_bounds`, the one region parser), so a mistyped region fails at once,
    naming its option; the value stays the text the API takes."""

    name = "CHR[:START-END]"

    def convert(self, value, param, ctx):
        from chipsr.api.common import region_bounds
        from chipsr.errors import ChipsrInputError

        try:
            region_bounds(str(value))
        except ChipsrInputError as exc:
            self.fail(str(exc), param, ctx)
        return str(value).strip()


class GuardedCommand(click.Command):
    """A click command that runs :func:`guard_outputs` after parsing and before its callback.

    ``renamed`` (set with :func:`renamed_options`) maps an option's former spelling to its name now:
    ``{"--depth": "--unet-depth"}``, or to the option and value a former flag stands for
    (``{"--broad": ("--peak-type", "broad")}``). A former spelling still works for one release,
    hidden from ``--help``, with one warning on stderr naming the new one.
    """

    renamed: dict[str, str | tuple[str, str]] = {}

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if self.renamed:
            args = self._rename(list(args))
        return super().parse_args(ctx, args)

    def _rename(self, args: list[str]) -> list[str]:
        out: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--":
                return out + args[i:]
            old, eq, value = arg.partition("=")
            new = self.renamed.get(old)
            if new is None:
                out.append(arg)
                continue
            if isinstance(new, tuple):  # a former flag: option + value
                click.echo(f"Warning: {old} is now {' '.join(new)}; {old} goes in the next release.", err=True)
                out += list(new)
            else:
                click.echo(f"Warning: {old} is now {new}; {old} goes in the next release.", err=True)
                out.append(f"{new}{eq}{value}" if eq else new)
        return out

    def invoke(self, ctx: click.Context):
        guard_outputs(ctx)
        return super().invoke(ctx)


def renamed_options(renamed: dict[str, str | tuple[str, str]]):
    """Decorator over a :class:`GuardedCommand`: accept the former spellings in ``renamed`` (see
    :attr:`GuardedCommand.renamed`) with a warning."""

    def apply(command: GuardedCommand) -> GuardedCommand:
        command.renamed = dict(renamed)
        return command

    return apply


class GuardedGroup(click.Group):
    """A click group whose subcommands are :class:`GuardedCommand` s."""

    command_class = GuardedCommand
