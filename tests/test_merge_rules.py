"""scripts/merge_rules.py: the ledger's rules block, put into a host's firestore.rules.

The emulator half (the merged rules answering the rules table, and the host's own rules still
working) is in tests/test_rules.py; this file holds the parser, the refusals and the command.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import merge_rules
import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HOST = FIXTURES / "host.firestore.rules"
BLOCK = merge_rules.BLOCK_FILE.read_text()


def host(body: str) -> str:
    """A host rules file whose documents block holds ``body``."""
    return (
        "rules_version = '2';\n"
        "service cloud.firestore {\n"
        "  match /databases/{database}/documents {\n"
        f"{textwrap.indent(textwrap.dedent(body).strip(), '    ')}\n"
        "  }\n"
        "}\n"
    )


def shape(path: tuple[str, ...]) -> tuple[str, ...]:
    """A match path with its wildcards' names left out."""
    return tuple("{}" if segment.startswith("{") else segment for segment in path)


def refusal(text: str) -> merge_rules.OpensLedger:
    with pytest.raises(merge_rules.OpensLedger) as refused:
        merge_rules.merge(text, BLOCK)
    return refused.value


# -- the project's own rules -------------------------------------------------------------------


def test_the_committed_firestore_rules_is_what_the_script_writes():
    assert merge_rules.OWN_RULES.read_text() == merge_rules.standalone(BLOCK), (
        "firestore.rules and firestore.credits.rules differ: run "
        "`python scripts/merge_rules.py --standalone --out firestore.rules`"
    )


def test_the_block_holds_only_prefixed_helpers_and_matches_of_the_ledgers_paths():
    block = merge_rules.parse_block(BLOCK)
    assert [f.name for f in block.functions] == ["creditsSignedIn", "creditsIsAdmin", "creditsOwns"]
    patterns = {shape(merge_rules.ledger_pattern(path)) for path in merge_rules.LEDGER_PATHS}
    for match in block.all_matches():
        assert shape(match.path) in patterns, f"{match.full_path} is not in LEDGER_PATHS"


def test_the_ledger_paths_are_the_briefs_list():
    paths = {path.path.split("/{")[0] if path.path.count("/") == 1 else path.path for path in merge_rules.LEDGER_PATHS}
    assert paths == {
        "credits_ledger",
        "users/{uid}/balances/{doc}",
        "users/{uid}/activity/{itemId}",
        "idempotency",
        "invoices",
        "anomalies",
        "daily_credits_summary",
        "config",
        "stripe_payments",
        "credits_user_days/{day}/users/{uid}",
        "generation_jobs",
        "activity_log",
        "credit_alerts",
        "users/{uid}/credit_settings/{doc}",
        "auto_top_ups",
        "stripe_customers",
    }
    (jobs,) = (path for path in merge_rules.LEDGER_PATHS if path.path.startswith("generation_jobs/"))
    assert jobs.refused == merge_rules.WRITE


# -- merging -----------------------------------------------------------------------------------


def test_a_clean_host_gets_the_block_at_the_end_of_its_documents_match():
    text = HOST.read_text()
    merged = merge_rules.merge(text, BLOCK)

    documents_close = text.rindex("  }\n}")
    assert merged.startswith(text[:documents_close])
    assert merged.endswith(text[documents_close:])
    inserted = merged[documents_close : len(merged) - len(text) + documents_close]
    assert inserted.startswith("\n    " + merge_rules.BEGIN)
    assert inserted.endswith("    " + merge_rules.END + "\n")
    assert "\n    match /credits_ledger/{entryId} {\n      allow read:" in inserted
    assert merge_rules.parse(merged).functions[-1].name == "creditsOwns"


def test_merging_again_replaces_the_block_where_it_stands():
    merged = merge_rules.merge(HOST.read_text(), BLOCK)
    assert merge_rules.merge(merged, BLOCK) == merged

    newer = BLOCK.replace("match /anomalies/{id} {", "match /anomalies/{anomalyId} {")
    remerged = merge_rules.merge(merged, newer)
    assert remerged == merged.replace("match /anomalies/{id} {", "match /anomalies/{anomalyId} {")


def test_a_marker_without_the_other_is_refused():
    merged = merge_rules.merge(HOST.read_text(), BLOCK)
    broken = merged.replace(merge_rules.END, "// the end")
    with pytest.raises(merge_rules.MergeRefused, match="without the other"):
        merge_rules.merge(broken, BLOCK)


def test_a_documents_match_on_one_line_gets_a_line_for_its_brace():
    text = "rules_version = '2';\nservice cloud.firestore {\n  match /databases/{database}/documents { }\n}\n"
    merged = merge_rules.merge(text, BLOCK)
    assert merged.startswith(
        "rules_version = '2';\nservice cloud.firestore {\n  match /databases/{database}/documents {\n"
    )
    assert merged.endswith(f"    {merge_rules.END}\n  }}\n}}\n")
    merge_rules.parse(merged)


def test_a_host_without_a_documents_match_is_refused():
    with pytest.raises(merge_rules.NoDocumentsBlock):
        merge_rules.merge("rules_version = '2';\nservice cloud.firestore {\n}\n", BLOCK)


def test_a_host_function_named_like_one_of_the_blocks_is_refused():
    text = host("function creditsIsAdmin() {\n  return false;\n}\nmatch /posts/{id} { allow read: if true; }")
    with pytest.raises(merge_rules.FunctionNameTaken, match=r"`creditsIsAdmin` \(line 4\)"):
        merge_rules.merge(text, BLOCK)


def test_the_hosts_own_helper_named_is_admin_is_fine():
    merged = merge_rules.merge(HOST.read_text(), BLOCK)
    names = [f.name for f in merge_rules.parse(merged).functions]
    assert len(names) == len(set(names))
    assert "isAdmin" in names and "creditsIsAdmin" in names


# -- what is refused ---------------------------------------------------------------------------

OPENING_HOSTS = {
    "catch-all": (
        "match /{document=**} {\n  allow read, write: if request.auth != null;\n}",
        "line 5: `allow read, write: if request.auth != null;` in "
        "`match /databases/{database}/documents/{document=**}` (line 4)",
        {
            "credits_ledger/{entryId}": "read and write",
            "users/{uid}/balances/{doc}": "read and write",
            "generation_jobs/{jobId}": "write",
            "users/{uid}/credit_settings/{doc}": "read and write",
        },
    ),
    "everything under a user": (
        "match /users/{uid}/{document=**} {\n  allow read, write: if request.auth.uid == uid;\n}",
        "line 5: `allow read, write: if request.auth.uid == uid;` in "
        "`match /databases/{database}/documents/users/{uid}/{document=**}` (line 4)",
        {"users/{uid}/balances/{doc}": "read and write", "users/{uid}/credit_settings/{doc}": "read and write"},
    ),
    "the ledger itself": (
        "match /credits_ledger/{id} { allow read: if true; }",
        "line 4: `allow read: if true;` in `match /databases/{database}/documents/credits_ledger/{id}` (line 4)",
        {"credits_ledger/{entryId}": "read"},
    ),
    "writes to jobs": (
        "match /generation_jobs/{jobId} {\n"
        "  allow read: if request.auth.uid == resource.data.uid;\n"
        "  allow create: if request.auth.uid == request.resource.data.uid;\n"
        "}",
        "line 6: `allow create: if request.auth.uid == request.resource.data.uid;` in "
        "`match /databases/{database}/documents/generation_jobs/{jobId}` (line 4)",
        {"generation_jobs/{jobId}": "create"},
    ),
    "a nested match": (
        "match /users/{uid} {\n  allow read: if request.auth.uid == uid;\n\n"
        "  match /balances/{doc} {\n    allow get: if request.auth.uid == uid;\n  }\n}",
        "line 8: `allow get: if request.auth.uid == uid;` in "
        "`match /databases/{database}/documents/users/{uid}/balances/{doc}` (line 7)",
        {"users/{uid}/balances/{doc}": "get"},
    ),
    "a collection group": (
        "match /{path=**}/balances/{doc} {\n  allow list: if request.auth != null;\n}",
        "line 5: `allow list: if request.auth != null;` in "
        "`match /databases/{database}/documents/{path=**}/balances/{doc}` (line 4)",
        {"users/{uid}/balances/{doc}": "list"},
    ),
    "any collection": (
        "match /{collection}/{id} {\n  allow read: if collection != 'credits_ledger';\n}",
        "line 5: `allow read: if collection != 'credits_ledger';` in "
        "`match /databases/{database}/documents/{collection}/{id}` (line 4)",
        {"credits_ledger/{entryId}": "read", "config/{doc}": "read", "stripe_payments/{paymentIntent}": "read"},
    ),
    "a reserved path, unconditionally": (
        "match /credit_alerts/{id} {\n  allow read\n}",
        "line 5: `allow read;` in `match /databases/{database}/documents/credit_alerts/{id}` (line 4)",
        {"credit_alerts/{alertId}": "read"},
    ),
}


@pytest.mark.parametrize("name", list(OPENING_HOSTS))
def test_a_host_rule_that_opens_the_ledger_is_refused_by_name_and_line(name: str):
    body, named, opened = OPENING_HOSTS[name]

    refused = refusal(host(body))

    (opening,) = refused.openings
    assert str(opening).startswith(named + " would let clients\n")
    described = {path.path: merge_rules.describe(ops) for path, ops in opening.opens}
    assert opened.items() <= described.items()
    assert named in str(refused)


def test_every_opening_rule_is_named_once_in_the_files_order():
    body = "\n".join(body for body, _, _ in OPENING_HOSTS.values())
    refused = refusal(host(body))
    assert [o.allow.text for o in refused.openings] == [
        "allow read, write: if request.auth != null;",
        "allow read, write: if request.auth.uid == uid;",
        "allow read: if true;",
        "allow create: if request.auth.uid == request.resource.data.uid;",
        "allow get: if request.auth.uid == uid;",
        "allow list: if request.auth != null;",
        "allow read: if collection != 'credits_ledger';",
        "allow read;",
    ]
    lines = [o.allow.line for o in refused.openings]
    assert lines == sorted(lines)


def test_a_rule_outside_the_documents_match_is_seen_too():
    text = "service cloud.firestore {\n  match /{everything=**} {\n    allow read: if true;\n  }\n" + (
        "  match /databases/{database}/documents {\n    match /posts/{id} { allow read: if true; }\n  }\n}\n"
    )
    (opening,) = refusal(text).openings
    assert opening.allow.line == 3 and opening.match.full_path == "/{everything=**}"


ACCEPTED_HOSTS = {
    "Firebase's locked mode": "match /{document=**} {\n  allow read, write: if false;\n}",
    "a profile document": "match /users/{uid} {\n  allow read, write: if request.auth.uid == uid;\n}",
    "the host's own user subcollection": "match /users/{uid}/posts/{id} {\n  allow read, write: if true;\n}",
    "reads of jobs": "match /generation_jobs/{jobId} {\n  allow read: if request.auth.uid == resource.data.uid;\n}",
    "a collection group of the host's": "match /{path=**}/comments/{id} {\n  allow read: if true;\n}",
    "rules in comments and strings": (
        "// match /credits_ledger/{id} { allow read: if true; }\n"
        "/* match /{document=**} {\n  allow read, write;\n} */\n"
        "match /posts/{id} {\n"
        '  allow read: if resource.data.note != "match /credits_ledger/{id} { allow read: if true; }"\n'
        "    && resource.data.tag != 'allow write: if true; }';\n"
        "}"
    ),
}


@pytest.mark.parametrize("name", list(ACCEPTED_HOSTS))
def test_a_host_that_leaves_the_ledger_alone_is_merged(name: str):
    text = host(ACCEPTED_HOSTS[name])
    merged = merge_rules.merge(text, BLOCK)
    assert merged.startswith(text[: text.rindex("  }\n}")])


def test_the_fixture_host_is_accepted():
    merge_rules.merge(HOST.read_text(), BLOCK)


# -- the reader --------------------------------------------------------------------------------


def test_the_reader_follows_nesting_braces_strings_comments_and_missing_semicolons():
    rules = merge_rules.parse(
        host(
            """
            function f(m) {
              let x = {'a': '}', "b": m};
              return x.a == '}' && m.match('{') /* } */;
            }
            match /a/{x} {
              allow read: if f({'k': '}'})
              allow write: if x.size() > 0 // }
              match /b/{y=**} {
                allow get, list: if true;
              }
            }
            match /c/{z}{ allow delete; }
            """
        )
    )
    documents = rules.matches[0]
    assert [f.name for f in rules.functions] == ["f"]
    assert [m.full_path for m in rules.all_matches()] == [
        "/databases/{database}/documents",
        "/databases/{database}/documents/a/{x}",
        "/databases/{database}/documents/a/{x}/b/{y=**}",
        "/databases/{database}/documents/c/{z}",
    ]
    a, c = documents.matches
    assert [(allow.line, allow.methods, allow.condition) for allow in a.allows] == [
        (9, ("read",), "f({'k': '}'})"),
        (10, ("write",), "x.size() > 0"),
    ]
    assert a.matches[0].allows[0].operations == merge_rules.READ
    assert c.allows[0].condition is None and c.allows[0].operations == frozenset({"delete"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (host("match /a/{x} {\n  allow read: if true;"), "missing '}' at the end of the file"),
        (host("match /a/{x} {\n  allow wrte: if true;\n}"), "line 5: .*'wrte' is not an operation"),
        (host("match /a/{x} {\n  allow read: true;\n}"), "line 5: .*expected `if`"),
        (host("match a/{x} { allow read: if true; }"), "line 4: expected a path"),
        (host("match /a/{x { allow read: if true; }"), "line 4: not a path segment"),
        (host("match /a/{x} { allow read: if x == 'open; }"), "line 4: a string without its closing quote"),
        (host("/* match /a/{x} { allow read: if true; }"), "line 4: a comment without its closing"),
        ("service firebase.storage {\n}\n", "line 1: `service firebase.storage` is not Firestore's"),
        ("service cloud.firestore {\n  allow read: if true;\n}\n", "line 2: unexpected 'allow'"),
    ],
)
def test_what_the_reader_cannot_read_is_refused_with_its_line(text: str, message: str):
    with pytest.raises(merge_rules.RulesSyntaxError, match=message):
        merge_rules.merge(text, BLOCK)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("/a/{x}", "/a/{y}", True),
        ("/a/{x}", "/b/{y}", False),
        ("/{c}/{x}", "/a/{y}", True),
        ("/{d=**}", "/a/{y}", True),
        ("/{d=**}", "/a/b/c/d", True),
        ("/a/{d=**}", "/a", True),
        ("/a/{d=**}", "/b/c", False),
        ("/{p=**}/balances/{d}", "/users/{u}/balances/{b}", True),
        ("/{p=**}/balances/{d}", "/users/{u}/settings/{b}", False),
        ("/users/{u}", "/users/{u}/balances/{b}", False),
        ("/users/{u}/{d=**}", "/users/{u}/balances/{b}", True),
        ("/a/{x=**}/b/{y}", "/a/c/d/b/e", True),
        ("/a/{x=**}/b/{y}", "/a/c/d/e", False),
        ("/{x=**}/z", "/a/{y=**}", True),
    ],
)
def test_overlaps(first: str, second: str, expected: bool):
    a, b = merge_rules.segments(first), merge_rules.segments(second)
    assert merge_rules.overlaps(a, b) is expected
    assert merge_rules.overlaps(b, a) is expected


# -- the command -------------------------------------------------------------------------------


def test_the_command_writes_the_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "firestore.rules"
    assert merge_rules.main([str(HOST), "--out", str(out)]) == 0
    assert out.read_text() == merge_rules.merge(HOST.read_text(), BLOCK)

    assert merge_rules.main([str(HOST)]) == 0
    assert capsys.readouterr().out == out.read_text()


def test_the_command_refuses_with_exit_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "host.rules"
    bad.write_text(host("match /credits_ledger/{id} {\n  allow read: if true;\n}"))
    out = tmp_path / "merged.rules"

    assert merge_rules.main([str(bad), "--out", str(out)]) == 2

    assert not out.exists()
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}: refused, nothing written: these rules would give clients access")
    assert (
        "line 5: `allow read: if true;` in `match /databases/{database}/documents/credits_ledger/{id}` (line 4)" in err
    )


def test_the_command_writes_the_projects_own_rules(capsys: pytest.CaptureFixture[str]):
    assert merge_rules.main(["--standalone"]) == 0
    assert capsys.readouterr().out == merge_rules.OWN_RULES.read_text()
