"""Command-line help (``koken -h``, ``koken report -h``) in the chosen language, from the one catalogue.

The help texts are written once, in English, where click reads them (command docstrings, ``help=`` of each
option); their Japanese translations are in ``koken.po`` beside every other message (``tools/messages``
extracts them from the command tree with :func:`help_texts`). Nothing is translated when the commands are
defined: the command and group classes here translate each text when the help is formatted, in the language
of that moment, with click's own fixed texts (``Usage:``, ``Options``, ``[default: …]``, ``[required]``,
the help option's ``Show this message and exit.``).

Click shows the help as soon as it meets ``--help``, before the options after it are read: the language is
therefore taken from the command line before click parses it (:func:`language_in`), so that
``koken report --help --lang ja`` is in Japanese as ``koken report --lang ja --help`` is.

Japanese text has no spaces between words and each character takes two columns of a terminal: in Japanese,
the help is wrapped by terminal columns (rich's cell widths), between any two characters but before a
closing mark (。、）) or after an opening one (（「), as Japanese is set (JIS X 4051's simplest rules).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import click
from rich.cells import cell_len

from koken.base.i18n import LANGUAGES, N_, _, current_language

CLICK_TEXTS = (N_("Options"), N_("Commands"), N_("Positional arguments"), N_("Show this message and exit."),
               N_("Show the version and exit."), N_("required"))
"""Click's own texts in the help: section headings and its options' help, translated when shown (``Usage:``
and ``default: {default}`` are translated where they are written, below)."""


def english(text: str) -> str:
    """A help text as click shows it (indentation of a docstring removed, cut at a form feed): the catalogue's key."""
    return inspect.cleandoc(text).partition("\f")[0]


def translated(text: str | None) -> str:
    """A help text of the command tree in the current language (``""`` for none)."""
    return _(english(text)) if text else ""


def help_texts(command: click.Command, path: str = "koken") -> Iterator[tuple[str, str]]:
    """Every help text of ``command`` and the commands under it, as (English text, where it is: ``koken report
    --decimals``), for the catalogue (``tools/messages``) and its test: the commands' help and short help,
    their options' and arguments' help."""
    for text in (command.help, command.short_help):
        if text:
            yield english(text), path
    for param in command.params:
        if getattr(param, "help", None):
            yield english(param.help), f"{path} {param.opts[0] if param.opts else param.name}"
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from help_texts(sub, f"{path} {name}")


def language_in(args: list[str]) -> str | None:
    """The language ``--lang ja`` or ``--lang=ja`` asks for anywhere on the command line (the last one, as click
    takes it; none after ``--``), or None: ``--help`` may come before it, and click shows the help at once."""
    chosen = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        else:
            continue
        if value.lower() in LANGUAGES:
            chosen = value.lower()
    return chosen


_CLOSING = "。、，．・：；！？）」』】〕’”ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ…"
_OPENING = "（「『【〔‘“"
_TOKENS = re.compile(rf"[{_OPENING}]*(?:[万千億]?[\x21-\x7e]+|[^\s\x21-\x7e])[{_CLOSING}]*\s*|\s+")
"""What a Japanese line is not broken inside: a word of ASCII characters (with the 万 of 万t-CO2e), or one other
character, each with the opening marks before it and the closing marks and small kana after it, and the spaces
that follow."""


def wrap(text: str, width: int) -> list[str]:
    """``text`` as lines of at most ``width`` terminal columns (a wide character takes two), broken between
    characters of Japanese and between words of English, never before a closing mark or after an opening one;
    a word longer than the line is left whole."""
    lines, line = [], ""
    for token in _TOKENS.findall(" ".join(text.split())):
        if line and cell_len(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return [*lines, line.rstrip()] if line.strip() else lines


class Formatter(click.HelpFormatter):
    """Click's help formatter with its headings in the current language and, in Japanese, lines measured in
    terminal columns."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _("Usage:") + " " if prefix is None else prefix)

    def section(self, name: str):
        return super().section(_(name))

    def write_text(self, text: str) -> None:
        if current_language() == "en":
            return super().write_text(text)
        indent = " " * self.current_indent
        paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
        for i, paragraph in enumerate(paragraphs):
            if i:
                self.write("\n")
            for line in wrap(paragraph, max(self.width - self.current_indent, 11)):
                self.write(f"{indent}{line}\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        if current_language() == "en":
            return super().write_dl(rows, col_max, col_spacing)
        rows = list(rows)
        first_col = min(max((cell_len(first) for first, _second in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if cell_len(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cell_len(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(second, max(self.width - first_col - self.current_indent - 2, 10)) or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class Context(click.Context):
    formatter_class = Formatter


def _option_row(param: click.Parameter, ctx: click.Context) -> tuple[str, str] | None:
    """An option's line of the help: its names, and its help with click's notes (default, range, required)
    in the current language."""
    row = param.get_help_record(ctx)
    if row is None or not isinstance(param, click.Option) or not hasattr(param, "get_help_extra"):
        return row  # click before 8.2 gives no notes apart: the help stays as click made it
    extra = param.get_help_extra(ctx)
    notes = []
    if "envvars" in extra:
        notes.append(_("environment variable: {name}").format(name=", ".join(extra["envvars"])))
    if "default" in extra:
        notes.append(_("default: {default}").format(default=extra["default"]))
    if "range" in extra:
        notes.append(extra["range"])
    if "required" in extra:
        notes.append(_("required"))
    text = translated(param.help)
    if notes:
        text = f"{text}  [{'; '.join(notes)}]" if text else f"[{'; '.join(notes)}]"
    return row[0], text


class Translated(click.Command):
    """A command whose help is in the current language: its description, short description, options and
    click's own texts, looked up in the catalogue when the help is shown."""

    context_class = Context

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text = translated(self.help)
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def get_short_help_str(self, limit: int = 45) -> str:
        if current_language() == "en":
            return super().get_short_help_str(limit)
        text = translated(self.short_help) or translated(self.help)
        # the first sentence, without its （asides） and its 。 (click drops the "." of an English one)
        first = re.sub(r"（[^（）]*）", "", text.split("。")[0]).strip()
        if cell_len(first) <= limit:
            return first
        while first and cell_len(first + "…") > limit:
            first = first[:-1]
        return first + "…"

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [row for param in self.get_params(ctx) if not isinstance(param, click.Argument)
                if (row := _option_row(param, ctx)) is not None]
        if rows:
            with formatter.section(N_("Options")):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class TranslatedGroup(Translated, click.Group):
    """A group of commands whose help, and its commands' help, is in the current language."""

    command_class = Translated
