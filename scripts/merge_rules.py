"""Put the credits ledger's Firestore rules into a host app's own ``firestore.rules``.

    python scripts/merge_rules.py HOST_RULES [--out FILE]      # the host's rules with the ledger's inside
    python scripts/merge_rules.py --standalone [--out FILE]    # this project's own firestore.rules

Firestore rules have no include directive, so the ledger's rules are one block,
``firestore.credits.rules`` (helper functions and ``match`` blocks, nothing else), and this
script writes it into the host's ``match /databases/{database}/documents { ... }``, between two
marker comments. Run it again on its own output and it replaces the block between the markers:
that is how a host takes a newer version of the ledger's rules. This project's own
``firestore.rules`` is the block inside the standard wrapper (``--standalone``), and a test holds
the committed file to what this script writes.

Rules are OR-ed: one host rule that allows a client something on a ledger path allows it,
whatever the ledger's own rules say. So the merge refuses (exit 2, nothing written) a host whose
rules would let a client at one of :data:`LEDGER_PATHS`, naming each such rule: a ``match`` whose
full path (nested matches joined, wildcards ``{id}``, ``{rest=**}`` and ``/{path=**}/`` included)
can match a ledger path, and that holds an ``allow`` of an operation refused there. An
``allow ...: if false`` grants nothing and passes (it is the body of Firebase's default
"locked mode" rules). Conditions are not evaluated otherwise: a rule ``match /{collection}/{id}``
that means to skip the ledger with ``if collection != ...`` is refused all the same; name the
host's collections instead. It also refuses a host that defines a function of the same name as
one of the block's, and one without a documents block.

The reader is a small hand-written parser of the rules language's statements (``service``,
``match``, ``allow``, ``function``, ``rules_version``), aware of braces, strings and comments;
conditions and function bodies are skipped whole, not understood.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK_FILE = ROOT / "firestore.credits.rules"
OWN_RULES = ROOT / "firestore.rules"

READ = frozenset({"get", "list"})
WRITE = frozenset({"create", "update", "delete"})
METHODS: dict[str, frozenset[str]] = {
    "read": READ,
    "write": WRITE,
    **{method: frozenset({method}) for method in READ | WRITE},
}
"""What each word of an ``allow`` statement allows, in the rules language's basic operations."""

DOCUMENTS = "/databases/{database}/documents"


@dataclass(frozen=True, kw_only=True)
class LedgerPath:
    """A path the ledger writes, which no host rule may open to clients."""

    path: str
    """Below ``/databases/{database}/documents``, a wildcard for each id."""
    what: str
    """What the ledger keeps there, for the refusal message."""
    refused: frozenset[str] = READ | WRITE
    """The operations a host rule may not allow there."""


LEDGER_PATHS: tuple[LedgerPath, ...] = (
    LedgerPath(path="credits_ledger/{entryId}", what="the ledger's entries"),
    LedgerPath(path="users/{uid}/balances/{doc}", what="users' balances"),
    LedgerPath(path="users/{uid}/activity/{itemId}", what="the Activity projection of each user"),
    LedgerPath(path="idempotency/{key}", what="idempotency records"),
    LedgerPath(path="invoices/{invoiceId}", what="invoices of purchases"),
    LedgerPath(path="anomalies/{id}", what="anomalies"),
    LedgerPath(path="daily_credits_summary/{day}", what="daily summaries"),
    LedgerPath(path="config/{doc}", what="the pricing configuration"),
    LedgerPath(path="stripe_payments/{paymentIntent}", what="facts of Stripe payments"),
    LedgerPath(path="credits_user_days/{day}/users/{uid}", what="the users with entries each day"),
    LedgerPath(
        path="generation_jobs/{jobId}",
        what="generation jobs, whose billing fields are the ledger's; the pipeline writes jobs with the Admin SDK",
        refused=WRITE,
    ),
    LedgerPath(path="activity_log/{itemId}", what="reserved (the epic's name for the Activity projection)"),
    LedgerPath(path="credit_alerts/{alertId}", what="low-balance and expiring-soon alerts"),
    LedgerPath(path="users/{uid}/credit_settings/{doc}", what="users' credit settings, written through the API only"),
    LedgerPath(path="auto_top_ups/{attemptId}", what="automatic top-up attempts"),
    LedgerPath(path="stripe_customers/{uid}", what="users' Stripe Customers and saved cards"),
)
"""Every path of the ledger; add a collection here when the ledger starts writing one."""

BEGIN = "// BEGIN credits ledger rules"
END = "// END credits ledger rules"
BEGIN_LINE = f"{BEGIN} (written by scripts/merge_rules.py; edit firestore.credits.rules)"

STANDALONE_HOST = f"""rules_version = '2';

// The credits ledger's rules on their own: this project's firestore.rules, written by
// `python scripts/merge_rules.py --standalone --out firestore.rules` from the block in
// firestore.credits.rules (edit that, then run the command). Anything the block does not
// name is denied.
service cloud.firestore {{
  match {DOCUMENTS} {{
  }}
}}
"""


class MergeRefused(Exception):
    """The merge would weaken the ledger's rules or break the host's: nothing is written."""


class RulesSyntaxError(MergeRefused):
    """The file is not rules this parser can read."""


class NoDocumentsBlock(MergeRefused):
    """The host has no ``match /databases/{database}/documents`` to put the block in."""


class FunctionNameTaken(MergeRefused):
    """The host defines a function of the same name as one of the block's."""


class OpensLedger(MergeRefused):
    """Host rules that would let clients at the ledger's paths."""

    def __init__(self, openings: list[Opening]) -> None:
        self.openings = openings
        lines = ["these rules would give clients access to the credits ledger's collections:"]
        lines += [f"  {opening}" for opening in openings]
        lines.append(
            "Rules are OR-ed, so each of these overrides the ledger's own rules. Narrow the match to the "
            "app's own collections, or make the rule `if false` (docs/security.md)."
        )
        super().__init__("\n".join(lines))


# -- the parse tree ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Allow:
    """One ``allow`` statement."""

    methods: tuple[str, ...]
    """As written: ``read``, ``write``, ``get``, ``list``, ``create``, ``update``, ``delete``."""
    condition: str | None
    """The expression after ``if``, whitespace collapsed; None for an unconditional allow."""
    line: int
    text: str
    """The statement, whitespace collapsed to single spaces."""

    @property
    def operations(self) -> frozenset[str]:
        """The basic operations it may allow: nothing when its condition is literally ``false``."""
        if self.condition == "false":
            return frozenset()
        return frozenset().union(*(METHODS[method] for method in self.methods))


@dataclass(kw_only=True)
class Match:
    """One ``match`` block."""

    path: tuple[str, ...]
    """Its full path from the service's root: the segments of every enclosing match, then its own."""
    line: int
    start: int
    """Offset of the ``match`` keyword."""
    close: int = -1
    """Offset of the block's closing brace."""
    allows: list[Allow] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)

    @property
    def full_path(self) -> str:
        return "/" + "/".join(self.path)


@dataclass(frozen=True, kw_only=True)
class Function:
    name: str
    line: int
    start: int


@dataclass(kw_only=True)
class Rules:
    """What a rules file (or a block) declares."""

    text: str
    matches: list[Match] = field(default_factory=list)
    """The outermost matches, each holding its nested ones."""
    functions: list[Function] = field(default_factory=list)
    """Every function, at any depth."""

    def all_matches(self) -> Iterator[Match]:
        stack = list(reversed(self.matches))
        while stack:
            match = stack.pop()
            yield match
            stack.extend(reversed(match.matches))


# -- the reader --------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEGMENT = re.compile(r"[^/{}\s]+|\{[A-Za-z_][A-Za-z0-9_]*(=\*\*)?\}")
_STATEMENT_WORDS = frozenset({"allow", "match", "function"})
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


class _Reader:
    """A cursor over rules text that steps over strings, comments and bracketed groups."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self._newlines = [offset for offset, char in enumerate(text) if char == "\n"]

    def line(self, offset: int | None = None) -> int:
        return bisect.bisect_left(self._newlines, self.pos if offset is None else offset) + 1

    def error(self, message: str, offset: int | None = None) -> RulesSyntaxError:
        return RulesSyntaxError(f"line {self.line(offset)}: {message}")

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_trivia(self) -> None:
        """Whitespace and comments."""
        while self.pos < len(self.text):
            if self.peek().isspace():
                self.pos += 1
            elif self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("a comment without its closing */")
                self.pos = end + 2
            else:
                return

    def word(self) -> str:
        self.skip_trivia()
        found = _WORD.match(self.text, self.pos)
        if found is None:
            raise self.error(f"expected a word, found {self.peek() or 'the end'!r}")
        self.pos = found.end()
        return found.group()

    def expect(self, char: str) -> None:
        self.skip_trivia()
        if self.peek() != char:
            raise self.error(f"expected {char!r}, found {self.peek() or 'the end'!r}")
        self.pos += 1

    def skip_string(self) -> None:
        quote, start = self.peek(), self.pos
        self.pos += 1
        while self.pos < len(self.text) and self.peek() != "\n":
            char = self.peek()
            self.pos += 2 if char == "\\" else 1
            if char == quote:
                return
        raise self.error("a string without its closing quote", start)

    def skip_group(self, opening: str) -> None:
        """From ``opening`` (``(``, ``[`` or ``{``) to just after the bracket that closes it."""
        self.skip_trivia()
        if self.peek() != opening:
            raise self.error(f"expected {opening!r}, found {self.peek() or 'the end'!r}")
        closers: list[str] = []
        while True:
            self.skip_trivia()
            char = self.peek()
            if not char:
                raise self.error(f"missing {closers[-1]!r} at the end of the file")
            if char in "'\"":
                self.skip_string()
                continue
            self.pos += 1
            if char in _CLOSERS:
                closers.append(_CLOSERS[char])
            elif char in ")]}":
                if char != closers.pop():
                    raise self.error(f"unexpected {char!r}", self.pos - 1)
                if not closers:
                    return

    def statement(self) -> str:
        """The rest of a statement, comments dropped and whitespace collapsed: up to its ``;``
        (consumed), or, when the ``;`` is left out, up to the block's ``}`` or the next statement."""
        pieces: list[str] = []
        while True:
            before = self.pos
            self.skip_trivia()
            pieces.append(" " if self.pos > before else "")
            char, start = self.peek(), self.pos
            word = _WORD.match(self.text, self.pos)
            ends = word is not None and word.group() in _STATEMENT_WORDS and self.text[self.pos - 1] != "."
            if char in ("", ";", "}") or ends:
                self.pos += char == ";"
                return " ".join("".join(pieces).split())
            if char in _CLOSERS:
                self.skip_group(char)
            elif char in "'\"":
                self.skip_string()
            else:
                self.pos = word.end() if word is not None else self.pos + 1
            pieces.append(self.text[start : self.pos])

    def head(self) -> str:
        """The words up to the next ``{``, such as a service's name."""
        start = self.pos
        while (char := self.peek()) and char != "{":
            self.pos += 1
        return " ".join(self.text[start : self.pos].split())

    def match_path(self) -> tuple[str, ...]:
        """``/a/{b}/{c=**}``: its segments as written."""
        self.skip_trivia()
        segments: list[str] = []
        while self.peek() == "/":
            self.pos += 1
            end = self.text.find("}", self.pos) + 1 if self.peek() == "{" else self.pos
            found = _SEGMENT.match(self.text, self.pos)
            if found is None or found.end() < end:
                raise self.error(f"not a path segment: {self.text[self.pos : self.pos + 20]!r}")
            segments.append(found.group())
            self.pos = found.end()
        if not segments:
            raise self.error("expected a path after `match`")
        return tuple(segments)


def parse(text: str) -> Rules:
    """Read a whole rules file."""
    reader = _Reader(text)
    rules = Rules(text=text)
    _read_statements(reader, rules, (), rules.matches, None, level="file")
    return rules


def parse_block(text: str) -> Rules:
    """Read a block meant for the inside of ``match /databases/{database}/documents``."""
    reader = _Reader(text)
    rules = Rules(text=text)
    _read_statements(reader, rules, segments(DOCUMENTS), rules.matches, None, level="block")
    return rules


def _read_statements(
    reader: _Reader,
    rules: Rules,
    prefix: tuple[str, ...],
    matches: list[Match],
    allows: list[Allow] | None,
    *,
    level: str,
) -> None:
    """The statements of a ``file``, a ``block``, a ``service`` or a ``match``, up to its end or ``}``."""
    outermost = level in ("file", "block")
    while True:
        reader.skip_trivia()
        if not reader.peek():
            if outermost:
                return
            raise reader.error("missing '}' at the end of the file")
        if reader.peek() == "}":
            if outermost:
                raise reader.error("unexpected '}'")
            return
        start, line = reader.pos, reader.line()
        word = reader.word()
        if word == "match":
            match = Match(path=prefix + reader.match_path(), line=line, start=start)
            reader.expect("{")
            _read_statements(reader, rules, match.path, match.matches, match.allows, level="match")
            match.close = reader.pos
            reader.pos += 1
            matches.append(match)
        elif word == "allow" and allows is not None:
            allows.append(_allow(reader, reader.statement(), start))
        elif word == "function":
            rules.functions.append(Function(name=reader.word(), line=line, start=start))
            reader.skip_group("(")
            reader.skip_group("{")
        elif word == "service" and level == "file":
            name = reader.head()
            if name != "cloud.firestore":
                raise reader.error(f"`service {name}` is not Firestore's", start)
            reader.expect("{")
            _read_statements(reader, rules, prefix, matches, None, level="service")
            reader.pos += 1
        elif word == "rules_version" and level == "file":
            reader.statement()
        else:
            raise reader.error(f"unexpected {word!r} here", start)


def _allow(reader: _Reader, text: str, start: int) -> Allow:
    """The ``allow`` statement at offset ``start``, whose text after the keyword is ``text``."""
    methods_text, colon, condition_text = text.partition(":")
    methods = tuple(method.strip() for method in methods_text.split(","))
    for method in methods:
        if method not in METHODS:
            raise reader.error(f"`allow {text}`: {method!r} is not an operation", start)
    condition: str | None = None
    if colon:
        head = _WORD.match(condition_text.strip())
        if head is None or head.group() != "if":
            raise reader.error(f"`allow {text}`: expected `if` after ':'", start)
        condition = condition_text.strip()[head.end() :].strip()
    return Allow(methods=methods, condition=condition, line=reader.line(start), text=f"allow {text};")


# -- which paths a rule can match --------------------------------------------------------------

_ONE, _ANY = "{}", "{**}"


def segments(path: str) -> tuple[str, ...]:
    return tuple(segment for segment in path.split("/") if segment)


def _kind(segment: str) -> str:
    """A segment as the matcher sees it: any number of ids, one id, or a literal id."""
    if segment.startswith("{"):
        return _ANY if segment.endswith("=**}") else _ONE
    return segment


def overlaps(first: Iterable[str], second: Iterable[str]) -> bool:
    """Whether some path matches both match paths (each a sequence of segments as written).

    A recursive wildcard ``{x=**}`` is taken as any number of segments, none included: that is
    rules version 2, and for version 1 (one or more) it errs on the side of refusing.
    """
    a, b = tuple(map(_kind, first)), tuple(map(_kind, second))

    @functools.cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == _ANY and (meet(i + 1, j) or (j < len(b) and meet(i, j + 1))):
            return True
        if j < len(b) and b[j] == _ANY and (meet(i, j + 1) or (i < len(a) and meet(i + 1, j))):
            return True
        if i == len(a) or j == len(b) or _ANY in (a[i], b[j]):
            return False
        return (_ONE in (a[i], b[j]) or a[i] == b[j]) and meet(i + 1, j + 1)

    return meet(0, 0)


def ledger_pattern(ledger_path: LedgerPath) -> tuple[str, ...]:
    """The full match path of a ledger path."""
    return segments(DOCUMENTS) + segments(ledger_path.path)


_ORDER = ("get", "list", "create", "update", "delete")


def describe(operations: frozenset[str]) -> str:
    """``read and write``, ``create``, ``list and update``..."""
    words = []
    for group, name in ((READ, "read"), (WRITE, "write")):
        if group <= operations:
            words.append(name)
        else:
            words += [operation for operation in _ORDER if operation in group & operations]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


@dataclass(frozen=True)
class Opening:
    """A host rule that would let clients at one or more of the ledger's paths."""

    match: Match
    allow: Allow
    opens: tuple[tuple[LedgerPath, frozenset[str]], ...]

    def __str__(self) -> str:
        head = f"line {self.allow.line}: `{self.allow.text}` in `match {self.match.full_path}` (line {self.match.line})"
        opened = "".join(f"\n    {describe(ops)} {path.path} ({path.what})" for path, ops in self.opens)
        return f"{head} would let clients{opened}"


def openings(rules: Rules, *, skip: range = range(0)) -> list[Opening]:
    """Every allow of ``rules`` that would open a ledger path, in the file's order; matches that
    start at an offset in ``skip`` (an earlier merge of the ledger's block) are not the host's."""
    found: list[Opening] = []
    for match in rules.all_matches():
        if match.start in skip:
            continue
        reachable = [path for path in LEDGER_PATHS if overlaps(match.path, ledger_pattern(path))]
        for allow in match.allows:
            opens = tuple((path, allow.operations & path.refused) for path in reachable)
            opens = tuple((path, ops) for path, ops in opens if ops)
            if opens:
                found.append(Opening(match, allow, opens))
    return sorted(found, key=lambda opening: opening.allow.line)


# -- the merge ---------------------------------------------------------------------------------


def merge(host: str, block: str) -> str:
    """The host's rules with the ledger's block inside its documents match.

    An earlier merge of the block (between the markers) is replaced where it stands.
    Raises a :class:`MergeRefused` when the result would open the ledger or not compile.
    """
    rules = parse(host)
    ours = parse_block(block)
    earlier = _earlier_merge(host)

    names = {function.name for function in ours.functions}
    taken = [f for f in rules.functions if f.name in names and f.start not in earlier]
    if taken:
        listed = ", ".join(f"`{f.name}` (line {f.line})" for f in taken)
        raise FunctionNameTaken(
            f"defines {listed}, a name the ledger's rules use: rename the host's function "
            "(or, if it belongs to a copy of the ledger's rules pasted in by hand, remove that copy)"
        )

    found = openings(rules, skip=earlier)
    if found:
        raise OpensLedger(found)

    if earlier:
        indent = re.match(r"[ \t]*", host[earlier.start :])
        return host[: earlier.start] + _marked(block, indent.group() if indent else "") + host[earlier.stop :]
    documents = _documents(rules)
    inside = [m.start for m in documents.matches]
    inside += [f.start for f in rules.functions if documents.start < f.start < documents.close]
    return _insert(host, documents, min(inside, default=None), block)


def standalone(block: str) -> str:
    """This project's own firestore.rules: the block in the standard wrapper."""
    return merge(STANDALONE_HOST, block)


def _documents(rules: Rules) -> Match:
    for match in rules.matches:
        if len(match.path) == 3 and match.path[0] == "databases" and match.path[2] == "documents":
            return match
    raise NoDocumentsBlock(f"no `match {DOCUMENTS} {{ ... }}` block to put the ledger's rules in")


def _earlier_merge(text: str) -> range:
    """The lines of an earlier merge, from the begin marker to the end marker (an empty range if none)."""
    begin = re.search(rf"^[ \t]*{re.escape(BEGIN)}\b.*$", text, re.MULTILINE)
    end = re.search(rf"^[ \t]*{re.escape(END)}\b.*(\n|$)", text, re.MULTILINE)
    if begin is None and end is None:
        return range(0)
    if begin is None or end is None or end.start() < begin.start():
        raise MergeRefused(f"holds one of the markers `{BEGIN}` and `{END}` without the other")
    return range(begin.start(), end.end())


def _marked(block: str, indent: str) -> str:
    lines = [BEGIN_LINE, *block.strip("\n").splitlines(), END]
    return "".join(f"{indent}{line}\n" if line.strip() else "\n" for line in lines)


def _line_indent(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    found = re.match(r"[ \t]*", text[start:])
    return found.group() if found else ""


def _insert(host: str, documents: Match, first: int | None, block: str) -> str:
    """The block at the end of the documents match, indented as the host's own statements there
    (the first of which starts at offset ``first``)."""
    outer = _line_indent(host, documents.start)
    inner = _line_indent(host, first) if first is not None else outer + "  "
    line_start = host.rfind("\n", 0, documents.close) + 1
    if host[line_start : documents.close].strip():
        # The closing brace shares its line with something: give it a line of its own.
        return host[: documents.close].rstrip() + "\n" + _marked(block, inner) + outer + host[documents.close :]
    before = host[:line_start]
    gap = "" if before.endswith("\n\n") or before.rstrip().endswith("{") else "\n"
    return before + gap + _marked(block, inner) + host[line_start:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Merge the credits ledger's Firestore rules into a host's.")
    parser.add_argument("host", nargs="?", type=Path, metavar="HOST_RULES", help="the host app's firestore.rules")
    parser.add_argument("--standalone", action="store_true", help="the ledger's rules alone (this project's own)")
    parser.add_argument("--out", type=Path, help="write here (default: standard output)")
    args = parser.parse_args(argv)
    if (args.host is None) == (not args.standalone):
        parser.error("give either HOST_RULES or --standalone")

    block = BLOCK_FILE.read_text()
    name = "--standalone" if args.standalone else str(args.host)
    try:
        merged = standalone(block) if args.standalone else merge(args.host.read_text(), block)
    except MergeRefused as refused:
        print(f"{name}: refused, nothing written: {refused}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(merged)
    else:
        args.out.write_text(merged)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
