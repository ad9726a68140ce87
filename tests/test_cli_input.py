"""The command line refuses bad input with one line naming the option and the reason, and exit status 2; never a
Python traceback. Every command of `springboard` is listed here with bad input for it, or as taking none: a new
command that is not fails the first test."""

import click
from click.testing import CliRunner

from api import cli

EMAIL = "manager@test.example.gov.uk"  # one of tests/conftest.py's people
# (arguments, what the one line must name)
BAD = [
    (["--today", "2026-13-45", "jobs", "list"], "--today"),
    (["serve", "--port", "70000"], "--port"),
    (["serve", "--workers", "0"], "--workers"),
    (["demo", "--seed", "-1"], "--seed"),
    (["demo", "--scale", "planet"], "--scale"),
    (["jobs", "run", "no-such-job"], "NAME"),
    (["tokens", "create", "--name", "x", EMAIL], "--name"),
    (["tokens", "create", "--name", "x" * 121, EMAIL], "--name"),
    (["tokens", "create", "--name", "case system export", "nobody@test.example.gov.uk"], "EMAIL"),
    (["tokens", "create", EMAIL], "--name"),
    (["tokens", "revoke", "abc"], "TOKEN_ID"),
    (["tokens", "revoke", "9223372036854775808"], "TOKEN_ID"),
    (["tokens", "revoke", "4242"], "TOKEN_ID"),
    (["match", "explain", "NO-SUCH-REF"], "CASE_REFERENCE"),
    (["match", "explain", "T1", "--limit", "0"], "--limit"),
    (["report", "oc3", "--year", "1900"], "--year"),
    (["report", "oc3", "--year", "twenty"], "--year"),
    (["report", "oc3", "--year", "2026", "--output", "/no/such/folder/oc3.csv"], "--output"),
    (["report", "cohort", "--format", "pdf"], "--format"),
    (["report", "annual", "--year", "1900", "--output", "/tmp/annual.pdf"], "--year"),
    (["report", "annual", "--output", "/no/such/folder/annual.pdf"], "--output"),
    (["report", "cohort", "--format", "xlsx"], "--output"),
    (["report", "cohort", "--output", "/no/such/folder/cohort.csv"], "--output"),
    (["report", "outcomes", "--year", "1900"], "--year"),
    (["report", "outcomes", "--format", "xlsx"], "--output"),
    (["report", "housing", "--year", "twenty"], "--year"),
    (["report", "keeping-in-touch", "--format", "pdf"], "--format"),
    (["report", "local-offer", "--output", "/no/such/folder/offer.csv"], "--output"),
    (["import", "pupils", "file.csv"], "'pupils' is not one of"),
    (["import", "mentors", "/no/such/file.csv"], "PATH"),
    (["users", "create", "someone@example.gov.uk", "--role", "wizard"], "--role"),
    (["users", "invite", "someone@example.gov.uk", "--role", "mentor"], "--role"),
    (["users", "invite", "not-an-address", "--role", "adviser"], "email"),
    (["users", "invite", "someone@example.gov.uk", "--role", "department", "--department", "NOPE"], "--department"),
    (["users", "deactivate", "nobody@test.example.gov.uk"], "EMAIL"),
    (["users", "activate", "nobody@test.example.gov.uk"], "EMAIL"),
    (["users", "unlock", "nobody@test.example.gov.uk"], "EMAIL"),
]
TAKES_NO_INPUT = {"worker", "jobs list", "db upgrade", "db check", "match run", "match train", "match fairness"}
ELSEWHERE: set[str] = set()  # every command is tried here


def _commands(group: click.Group, prefix: str = "") -> set[str]:
    found = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= _commands(command, f"{prefix}{name} ")
        else:
            found.add(f"{prefix}{name}")
    return found


def _command_of(args: list[str]) -> str:
    words = [arg for arg in args if not arg.startswith("-")]
    commands = _commands(cli.main)
    return next(" ".join(words[:n]) for n in (2, 1) if " ".join(words[:n]) in commands)


def test_every_command_is_tried_with_bad_input_or_takes_none():
    tried = {_command_of(args) for args, _ in BAD if args[0] != "--today"}
    assert _commands(cli.main) - tried - TAKES_NO_INPUT - ELSEWHERE == set()


def test_every_command_refuses_bad_input_in_one_line_with_exit_status_2(people, database_url, monkeypatch):
    monkeypatch.setattr(cli, "_url", lambda: database_url)
    wrong = []
    for args, named in BAD:
        result = CliRunner().invoke(cli.main, args, input="")
        said = result.output.strip().splitlines()
        refusal = said[-1] if said else ""
        if (result.exit_code != 2 or "Traceback" in result.output or not refusal.startswith("Error: ")
                or named not in refusal or not isinstance(result.exception, SystemExit | None)):
            wrong.append(f"{' '.join(args)}: exit {result.exit_code}: {result.output[-300:]!r} {result.exception!r}")
    assert wrong == []


def test_a_refusal_from_a_model_or_a_domain_rule_is_a_usage_error_not_a_traceback():
    """The safety net round every command: a pydantic or InvalidInput refusal a command did not catch."""
    from pydantic import BaseModel, Field

    from matching.errors import InvalidInput

    class Named(BaseModel):
        name: str = Field(min_length=3)

    @cli.main.command(name="test-refusals")
    @click.argument("which")
    def refusing(which: str) -> None:
        if which == "model":
            Named(name="x")
        raise InvalidInput("--colour", "must be red or blue")

    try:
        model, domain = (CliRunner().invoke(cli.main, ["test-refusals", which]) for which in ("model", "domain"))
    finally:
        del cli.main.commands["test-refusals"]
    assert model.exit_code == 2 and model.output.strip().splitlines()[-1].startswith("Error: name: String should")
    assert domain.exit_code == 2 and domain.output.strip() == "Error: --colour: must be red or blue"
