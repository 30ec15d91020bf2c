"""Slash commands in comments: ``/tessera <command> ...`` at the start of a line.

``parse(body)`` returns, in order, one item per command line: a ``Command``, a ``Suggestion``
(a typo: "did you mean ``/tessera ack``?") or a ``CommandError`` (bad arguments, with the
message for the 😕 reply). Ignored: quoted lines (``> ...``), fenced and indented code blocks,
HTML comments, and anything not at the start of a line (so inline code such as
```/tessera ack``` never counts). Inside a command line, an inline code span is one opaque
word: it can be part of a reason but never an option. The command word is case-insensitive.

    /tessera ack [--as TEAM]
    /tessera ack migrating [--until YYYY-MM-DD] [--as TEAM]
    /tessera ack cancel [--as TEAM]
    /tessera block REASON... [--as TEAM]
    /tessera hold [REASON...] [--as TEAM]
    /tessera unhold [--as TEAM]
    /tessera recheck | status | help
    /tessera version VERSION [--contract ID]                (the contract's owner team)
    /tessera force-publish REASON...                        (admin)
    /tessera waive TEAM --until YYYY-MM-DD --reason REASON  (admin)

Who may do what is not decided here: authority comes from GitHub team membership (``acks``).
Nor is time: a date is parsed here, and ``acks`` refuses a migration date whose day is over.
A version is checked here to be a semantic version (``tessera_engine.semver``); whether the
author may give it is ``versions``' to decide.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date

from tessera_engine.errors import UsageError
from tessera_engine.semver import parse as parse_version

PREFIX = "/tessera"
VERBS = (
    "ack",
    "block",
    "hold",
    "unhold",
    "recheck",
    "status",
    "help",
    "force-publish",
    "waive",
    "version",
)
FORMS = (
    "ack",
    "ack migrating",
    "ack cancel",
    "block",
    "hold",
    "unhold",
    "recheck",
    "status",
    "help",
    "force-publish",
    "waive",
    "version",
)
"""Every command form (the ``kind`` of a ``Command``), as typed after ``/tessera``."""

ADMIN_FORMS = frozenset({"force-publish", "waive"})
TAKES_AS = frozenset({"ack", "ack migrating", "ack cancel", "block", "hold", "unhold"})

HELP: tuple[tuple[str, str], ...] = (
    ("/tessera ack [--as TEAM]", "acknowledge the breaking change for your team"),
    (
        "/tessera ack migrating [--until YYYY-MM-DD] [--as TEAM]",
        "acknowledge: your team is migrating (by that date)",
    ),
    ("/tessera ack cancel [--as TEAM]", "withdraw your team's acknowledgement or block"),
    ("/tessera block REASON [--as TEAM]", "block the change for your team, with a reason"),
    ("/tessera hold [REASON] [--as TEAM]", "hold the publication until you unhold it"),
    ("/tessera unhold [--as TEAM]", "lift your team's hold"),
    ("/tessera recheck", "diff the pull request again"),
    ("/tessera status", "show who has acknowledged and who is pending"),
    ("/tessera help", "show this list"),
    ("/tessera force-publish REASON", "admin: publish without the missing acknowledgements"),
    (
        "/tessera waive TEAM --until YYYY-MM-DD --reason REASON",
        "the team's maintainers or an admin: waive its acknowledgement until a date",
    ),
    (
        "/tessera version VERSION [--contract ID]",
        "producer: the version of this change (a member of the contract's owner team)",
    ),
)
"""(usage, what it does) for ``/tessera help``."""

_CONTRACT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TEAM = re.compile(r"^@?[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTE = re.compile(r"^ {0,3}>")
_TOKEN = re.compile(r"(`+)(?:(?!\1).)+?\1|\S+")  # an inline code span, or a word
_PREFIX_WORD = re.compile(r"^ {0,3}/([A-Za-z][\w-]*)")
MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class Command:
    kind: str  # one of FORMS
    line: int  # 1-based line of the comment
    source: str  # the command line as written
    as_team: str | None = None
    reason: str | None = None
    until: date | None = None
    team: str | None = None  # waive: the team waived
    version: str | None = None  # version: the semantic version given (normalized)
    contract: str | None = None  # version: the contract it is for (``--contract``)

    @property
    def admin(self) -> bool:
        return self.kind in ADMIN_FORMS


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An unknown command close to a known one."""

    line: int
    source: str
    typed: str
    suggestion: str  # e.g. "/tessera ack"

    @property
    def message(self) -> str:
        return f"did you mean `{self.suggestion}`?"


@dataclass(frozen=True, slots=True)
class CommandError:
    """A command with bad arguments, or an unknown command (``message`` says what is wrong)."""

    line: int
    source: str
    message: str


Parsed = Command | Suggestion | CommandError


def parse(body: str) -> list[Parsed]:
    """Every command line of a comment body, in order."""
    results: list[Parsed] = []
    for number, line in _command_lines(body):
        parsed = _parse_line(number, line)
        if parsed is not None:
            results.append(parsed)
    return results


# --- finding the lines ------------------------------------------------------------------------


def _command_lines(body: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines that may hold a command: outside code blocks, quotes
    and HTML comments, starting (after at most 3 spaces) with ``/``."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found: list[tuple[int, str]] = []
    fence: str | None = None
    in_comment = False
    for number, raw in enumerate(lines, start=1):
        if fence is not None:
            match = _FENCE.match(raw)
            closes = match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence)
            if closes and not raw.strip().lstrip(fence[0]):
                fence = None
            continue
        text = raw
        if in_comment:
            if "-->" not in text:
                continue
            text = text.split("-->", 1)[1]
            in_comment = False
            if not text.strip():
                continue
        text = re.sub(r"<!--.*?-->", "", text)
        if "<!--" in text:
            text, in_comment = text.split("<!--", 1)[0], True
        match = _FENCE.match(text)
        if match:
            fence = match.group(1)
            continue
        if _QUOTE.match(text) or text.startswith(("    ", "\t")):
            continue
        if _PREFIX_WORD.match(text):
            found.append((number, text.strip()))
    return found


# --- one line ---------------------------------------------------------------------------------


def _parse_line(number: int, line: str) -> Parsed | None:
    tokens = [m.group(0) for m in _TOKEN.finditer(line)]
    head = tokens[0]
    if head.lower() != PREFIX:
        return _prefix_typo(number, line, head)
    words = tokens[1:]
    if not words:
        return Command("help", number, line)
    verb = words[0].lower()
    if verb not in VERBS:
        close = difflib.get_close_matches(verb, FORMS, n=1, cutoff=0.6)
        if close:
            return Suggestion(number, line, words[0], f"{PREFIX} {close[0]}")
        return CommandError(
            number, line, f"`{_shown(words[0])}` is not a command: `{PREFIX} help` lists them"
        )
    kind, rest = verb, words[1:]
    if verb == "ack" and rest and not rest[0].startswith("--"):
        sub = rest[0].lower()
        if sub in ("migrating", "cancel"):
            kind, rest = f"ack {sub}", rest[1:]
        else:
            close = difflib.get_close_matches(sub, ("migrating", "cancel"), n=1, cutoff=0.6)
            if close:
                return Suggestion(number, line, f"ack {rest[0]}", f"{PREFIX} ack {close[0]}")
            return CommandError(
                number,
                line,
                f"`ack {_shown(rest[0])}` is not a command: `ack`, `ack migrating` or "
                "`ack cancel` (to act for one of your teams: `--as TEAM`)",
            )
    try:
        return _arguments(kind, number, line, rest)
    except _BadArguments as err:
        return CommandError(number, line, str(err))


class _BadArguments(ValueError):
    pass


_OPTIONS = {"--as": "as_team", "--until": "until", "--reason": "reason", "--contract": "contract"}


def _arguments(kind: str, number: int, line: str, words: list[str]) -> Command:
    positional: list[str] = []
    options: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        flag, _, inline = word.partition("=")
        if not word.startswith("--"):
            positional.append(word)
            index += 1
            continue
        if flag.lower() not in _OPTIONS:
            raise _BadArguments(f"unknown option `{_shown(flag)}`")
        name = _OPTIONS[flag.lower()]
        if name in options:
            raise _BadArguments(f"`{flag}` is given twice")
        if name == "reason":  # the rest, up to the next option
            taken = [inline] if inline else []
            index += 1
            while index < len(words) and words[index].split("=")[0].lower() not in _OPTIONS:
                taken.append(words[index])
                index += 1
            options[name] = " ".join(taken)
            continue
        if inline:
            options[name] = inline
            index += 1
        elif index + 1 < len(words) and not words[index + 1].startswith("--"):
            options[name] = words[index + 1]
            index += 2
        else:
            raise _BadArguments(f"`{flag}` needs a value")
    return _build(kind, number, line, positional, options)


def _build(
    kind: str, number: int, line: str, positional: list[str], options: dict[str, str]
) -> Command:
    allowed = {"as_team"} if kind in TAKES_AS else set()
    if kind == "ack migrating":
        allowed.add("until")
    if kind == "waive":
        allowed |= {"until", "reason"}
    if kind == "version":
        allowed.add("contract")
    extra = sorted(set(options) - allowed)
    if extra:
        flag = next(f for f, n in _OPTIONS.items() if n == extra[0])
        raise _BadArguments(f"`{PREFIX} {kind}` takes no `{flag}` option")
    as_team = _team(options["as_team"], "--as") if "as_team" in options else None
    until = _date(options["until"]) if "until" in options else None
    text = " ".join(positional).strip()
    if kind in ("block", "force-publish"):
        if not text:
            raise _BadArguments(f"`{PREFIX} {kind}` needs a reason: `{PREFIX} {kind} REASON`")
        return Command(kind, number, line, as_team=as_team, reason=_reason(text))
    if kind == "hold":
        return Command(kind, number, line, as_team=as_team, reason=_reason(text) or None)
    if kind == "waive":
        usage = f"`{PREFIX} waive TEAM --until YYYY-MM-DD --reason REASON`"
        if len(positional) != 1:
            raise _BadArguments(f"`{PREFIX} waive` needs exactly one team: {usage}")
        if until is None:
            raise _BadArguments(f"`{PREFIX} waive` needs `--until YYYY-MM-DD`: {usage}")
        reason = (options.get("reason") or "").strip()
        if not reason:
            raise _BadArguments(f"`{PREFIX} waive` needs `--reason REASON`: {usage}")
        return Command(
            kind,
            number,
            line,
            reason=_reason(reason),
            until=until,
            team=_team(positional[0], "the team"),
        )
    if kind == "version":
        return _version_command(number, line, positional, options.get("contract"))
    if positional:
        hint = " (to act for one of your teams: `--as TEAM`)" if kind in TAKES_AS else ""
        raise _BadArguments(f"`{PREFIX} {kind}` takes no text, got `{_shown(text)}`{hint}")
    return Command(kind, number, line, as_team=as_team, until=until)


def _version_command(
    number: int, line: str, positional: list[str], contract: str | None
) -> Command:
    usage = f"`{PREFIX} version VERSION [--contract ID]`, e.g. `{PREFIX} version 3.0.0-rc.1`"
    if len(positional) != 1:
        raise _BadArguments(f"`{PREFIX} version` needs exactly one version: {usage}")
    try:
        version = str(parse_version(positional[0]))
    except UsageError:
        raise _BadArguments(
            f"`{_shown(positional[0])}` is not a semantic version: MAJOR.MINOR.PATCH with an "
            "optional pre-release, e.g. `3.0.0` or `3.0.0-rc.1`"
        ) from None
    if contract is not None and not _CONTRACT.match(contract):
        raise _BadArguments(f"--contract: `{_shown(contract)}` is not a contract id")
    return Command("version", number, line, version=version, contract=contract)


def _team(value: str, what: str) -> str:
    if not _TEAM.match(value):
        raise _BadArguments(f"{what}: `{_shown(value)}` is not a team name")
    return value.removeprefix("@").lower()


def _date(value: str) -> date:
    if not _DATE.match(value):
        raise _BadArguments(f"`{_shown(value)}` is not a date: use YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _BadArguments(f"`{_shown(value)}` is not a date: use YYYY-MM-DD") from None


def _reason(text: str) -> str:
    if len(text) > MAX_REASON:
        raise _BadArguments(
            f"the reason is too long ({len(text)} characters, at most {MAX_REASON})"
        )
    return text


def _shown(text: str) -> str:
    """User text quoted in a message: short, and without backticks that would end the span."""
    text = text.replace("`", "'")
    return text if len(text) <= 40 else text[:39] + "…"


def _prefix_typo(number: int, line: str, head: str) -> Suggestion | None:
    """``/tesera ack``: a slash word close to the prefix gets a suggestion (with the rest of
    the line corrected too when it is itself a typo); another bot's command is not ours."""
    if difflib.SequenceMatcher(None, head.lower(), PREFIX).ratio() < 0.8:
        return None
    corrected = f"{PREFIX} {line[len(head) :].strip()}".strip()
    again = _parse_line(number, corrected)
    suggestion = again.suggestion if isinstance(again, Suggestion) else corrected
    return Suggestion(number, line, head, suggestion)
