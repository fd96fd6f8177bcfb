"""Messages name what exists: every option an error or warning quotes is an option of some command."""

from __future__ import annotations

import re
from pathlib import Path

import click

from chipsr.cli.main import COMMANDS, cli

PACKAGE = Path(__file__).resolve().parents[2] / "chipsr"
#: what a message may quote besides chipsr's options: the options of the tools it names
#: (macs3 callpeak, samtools, bamCoverage) and click's own
OTHER_TOOLS = {"--help", "--broad-cutoff", "--keep-dup"}
#: the calls whose text a user reads
CALLS = r"(?:ChipsrInputError|BadParameter|UsageError|ClickException|log\.warning|log\.error|warnings\.warn)"


def _options() -> set[str]:
    found: set[str] = set()

    def walk(command):
        ctx = click.Context(command)
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name))
            return
        for param in command.params:
            found.update(getattr(param, "opts", ()))
            found.update(getattr(param, "secondary_opts", ()))

    for name in COMMANDS:
        walk(cli.get_command(None, name))
    return found


def _quoted_options() -> dict[str, set[str]]:
    quoted: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(CALLS + r"\((.*?)\)\s*(?:from None)?\n", text, flags=re.S):
            for option in re.findall(r"(?<![\w`-])(--[a-zA-Z][\w-]*)", call.group(1)):
                quoted.setdefault(option, set()).add(str(path.relative_to(PACKAGE.parent)))
    return quoted


def test_the_scan_sees_messages():
    quoted = _quoted_options()
    assert {"--truth-peaks", "--valid-region", "--marks", "--peak-type"} <= set(quoted)


def test_every_option_a_message_quotes_exists():
    known = _options() | OTHER_TOOLS
    missing = {option: files for option, files in _quoted_options().items() if option not in known}
    assert not missing, f"messages quote options no command has: {missing}"
