"""The `springboard` command: serve, migrate, load demo data, import spreadsheets, run the matching engine.

Start-up stays under a second: only click, the clock and the vocabularies are imported here. The engine
(numpy, scipy, OR-Tools; scikit-learn and skops only to train a model or check its file), the importers
(openpyxl), the database layer and the web app are imported inside the commands that use them
(tests/test_platform.py checks `--help` loads none of them).
"""

import atexit
import gc
import os
import sys
from pathlib import Path

import click

from matching import clock, vocab

# The importable kinds, kept here so `--help` need not import the importers (a test keeps them equal).
IMPORT_KINDS = ("care-leavers", "mentors", "opportunities")
MAX_ID = 2**31 - 1  # models/base.MAX_INT, not imported: start-up stays light


def _refusal(error: Exception) -> click.UsageError | None:
    """Bad input that got past an option's type and was refused by a model's or a domain rule, as one line
    naming the field and the reason; None for anything else. Looked up in sys.modules: if pydantic or the
    domain raised it, they are loaded, and `--help` imports neither."""
    pydantic, errors = sys.modules.get("pydantic"), sys.modules.get("matching.errors")
    if pydantic is not None and isinstance(error, pydantic.ValidationError):
        first = error.errors()[0]
        return click.UsageError(f"{'.'.join(map(str, first['loc'])) or 'value'}: {first['msg']}")
    if errors is not None and isinstance(error, errors.InvalidInput):
        return click.UsageError(str(error))
    return None


class Springboard(click.Group):
    """Every command refuses bad input with one line and exit status 2, never a traceback: a refusal a command
    did not catch itself is turned into a usage error here, around every subcommand."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as error:
            refusal = _refusal(error)
            if refusal is None:
                raise
            raise refusal from None


def _output_file(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """An --output whose folder does not exist is refused before any work is done (it was a traceback after)."""
    if value is not None and not value.parent.is_dir():
        raise click.BadParameter(f"the folder {value.parent} does not exist")
    return value


@click.group(cls=Springboard, help="Springboard: mentors and opportunities for care leavers.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Act as if today were this day (the service's clock, for training and for tests).")
def main(today) -> None:
    if today is not None:
        clock.CLOCK.fix(today.date())
        os.environ[clock.TODAY_VARIABLE] = today.date().isoformat()  # for the server's worker processes


def _url() -> str:
    from matching.settings import get_settings

    return get_settings().db_url


WORKER_START_SECONDS = 90


@main.command(help="Run the web service.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    from matching.settings import get_settings

    if get_settings().scheduler_in_serve:  # one instance on SQLite: no separate worker to run
        from jobs import worker

        worker.start_in_background(get_settings())
    # No access log: its lines carry query strings (a search for a name is personal data in a log).
    # With several workers uvicorn restarts one that does not answer its health check in time; starting
    # takes ten seconds or more (scikit-learn), past uvicorn's default of five, so workers were killed
    # and restarted over and over while the others carried the load.
    # Forwarded headers only from the proxies named in TRUSTED_PROXIES: uvicorn's own default believes any
    # client on 127.0.0.1, which let a local caller pick the address the rate limit and the audit record.
    proxies = get_settings().trusted_proxies.strip()
    uvicorn.run("api.app:serving_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None, log_level="info",
                access_log=False, timeout_worker_healthcheck=WORKER_START_SECONDS)


@main.command(name="worker", help="Run the scheduled jobs (one worker leads at a time; the others wait).")
def worker_command() -> None:
    import logging
    import signal
    import threading

    from jobs import worker
    from matching.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker.lead(get_settings(), stop)


@main.group(name="jobs", help="The scheduled jobs: what they are, when they run next and how they last ended.")
def jobs_group() -> None:
    pass


@jobs_group.command(name="list", help="Each job with its next run, its last run and that run's result.")
def jobs_list() -> None:
    from datetime import UTC, datetime

    from jobs import registry, runner, worker
    from matching import db, notifications

    engine = db.engine_for(_url())
    next_runs = worker.next_runs(engine)
    with db.session_scope(engine) as session:
        last, outbox = runner.last_runs(session), notifications.waiting(session)
    for name, job in sorted(registry.all_jobs().items()):
        upcoming = next_runs.get(name)
        when = (datetime.fromtimestamp(upcoming, UTC).astimezone(clock.ZONE).strftime("%Y-%m-%d %H:%M")
                if upcoming else "not scheduled (no worker has led yet)")
        run = last.get(name)
        ran = (f"{run.started_at.astimezone(clock.ZONE):%Y-%m-%d %H:%M} {run.result}: {run.summary}" if run
               else "never run")
        click.echo(f"{name}\n  {job.description}\n  next: {when}\n  last: {ran}")
    if leader := worker.leader(engine):
        click.echo(f"Leader: {leader}")
    click.echo("Outbox: " + (", ".join(f"{n} {status}" for status, n in sorted(outbox.items())) or "empty"))


@jobs_group.command(name="run", help="Run the job NAME now, here, recorded like a scheduled run.")
@click.argument("name")
def jobs_run(name: str) -> None:
    from jobs import runner

    try:
        run = runner.run_job(name)
    except LookupError as error:
        raise click.BadParameter(str(error), param_hint="NAME") from None
    click.echo(f"{name} (run {run.id}) {run.result}: {run.summary}")
    if run.result != "ok":
        raise click.exceptions.Exit(1)


@main.group(name="db", help="The database schema.")
def database() -> None:
    pass


@database.command(help="Apply every migration not yet applied.")
def upgrade() -> None:
    from matching import db

    db.upgrade(_url())
    click.echo("Database is up to date.")


@database.command(help="Fail if the models have changed without a migration.")
def check() -> None:
    from matching import db

    db.check(_url())


@main.command(help="Load the synthetic demo borough (no real people) into the configured database.")
@click.option("--seed", default=2026, show_default=True, type=click.IntRange(0, 2**32 - 1))
@click.option("--scale", type=click.Choice(["borough", "london", "england"]), default="borough", show_default=True)
def demo(seed: int, scale: str) -> None:
    from fixtures import demo as demo_data

    from matching import db

    db.upgrade(_url())
    result = demo_data.load(db.engine_for(_url()), seed=seed, scale=scale)
    click.echo(result.summary())


@main.command(name="import", help="Import a CSV or XLSX file: every row, or none if any row is bad.")
@click.argument("kind", type=click.Choice(IMPORT_KINDS))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_email", metavar="EMAIL",
              help="The manager or administrator running the import: the audit trail names them for every "
                   "record added or changed (without it, the service itself)")
def import_(kind: str, path: Path, as_email: str | None) -> None:
    from matching import db
    from matching.imports import ImportFailed, import_file

    live = sys.stderr.isatty()

    def show(progress) -> None:  # counts only, nothing from the rows; one updating line on a terminal
        of = f" of {progress.total:,}" if progress.total else ""
        line = f"{path.name}: {progress.stage} {progress.done:,}{of} rows"
        click.echo(f"\r{line}" if live else line, err=True, nl=progress.finished or not live)

    engine = db.writer(db.engine_for(_url()))
    try:
        with db.session_scope(engine) as session:
            actor = _importer(session, as_email) if as_email else None
            report = import_file(session, kind, path, actor_id=actor, route=f"springboard import {kind}",
                                 progress=show)
        db.analyze(engine)
    except ImportFailed as failure:
        for error in failure.errors:
            click.echo(f"{path.name}: {error}", err=True)
        raise click.ClickException(f"{len(failure.errors)} problem(s) found; nothing was imported.") from None
    click.echo(f"{path.name} ({report.layout} layout): {report.rows} rows; {report.created} created, "
               f"{report.updated} updated, {report.unchanged} unchanged.")


def _importer(session, email: str) -> int:
    """The id of the active manager or administrator with EMAIL, or a one-line refusal (exit status 2)."""
    from matching.services import users as users_service

    user = users_service.by_email(session, email)
    if user is None or not user.active or user.role not in {"manager", "admin"}:
        raise click.BadParameter(f"{email.strip().lower()} is not an active manager's or administrator's "
                                 "account", param_hint="--as")
    return user.id


@main.group(help="People who sign in.")
def users() -> None:
    pass


@users.command(name="create", help="Create a user; the password is asked for (or read from standard input).")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(list(vocab.ROLES)))
@click.option("--name", "full_name", help="Full name (default: from the e-mail address)")
@click.option("--department", "department_code", help="Department code, for department and mentor users")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
def create_user_command(email: str, role: str, full_name: str | None, department_code: str | None,
                        password_stdin: bool) -> None:
    from pydantic import ValidationError

    from matching import db
    from matching.errors import InvalidInput
    from matching.models import UserCreate
    from matching.services import users as users_service

    password = (click.get_text_stream("stdin").readline().rstrip("\n") if password_stdin
                else click.prompt("Password", hide_input=True, confirmation_prompt=True))
    with db.session_scope(db.writer(db.engine_for(_url()))) as session:
        department_id = _department_id(session, department_code)
        name = full_name or email.split("@")[0].replace(".", " ").title()
        try:
            user = users_service.create_user(session, UserCreate(email=email, full_name=name, role=role,
                                                                  department_id=department_id, password=password))
        except (ValidationError, InvalidInput) as error:
            raise click.UsageError(_reason(error)) from None
        click.echo(f"Created {role} {user.email} (id {user.id}).")


def _department_id(session, code: str | None) -> int | None:
    """The department with `code` (--department), refused by name when there is none."""
    from sqlmodel import select

    from matching.models import Department

    if not code:
        return None
    department = session.exec(select(Department).where(Department.code == code.upper())).first()
    if department is None:
        raise click.BadParameter(f"no department has the code {code}", param_hint="--department")
    return department.id


def _account_step(email: str, action: str, step, said: str) -> None:
    """One change to the account with EMAIL (matching/accounts.py), audited as made by this command; an unknown
    address or a refused step is one line on standard error, never a traceback."""
    from matching import db
    from matching.errors import DomainError
    from matching.services import audit
    from matching.services import users as users_service

    with db.session_scope(db.writer(db.engine_for(_url()))) as session:
        user = users_service.by_email(session, email)
        if user is None:
            raise click.BadParameter(f"no user has the e-mail {email.strip().lower()}", param_hint="EMAIL")
        try:
            step(session, user.id)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        audit.record_access(session, actor_id=None, action=action, entity="user", ids=[user.id],
                            route=f"springboard users {click.get_current_context().info_name}")
        name = user.full_name
    click.echo(said.format(name=name))


@users.command(name="deactivate", help="Stop the person with EMAIL signing in; their open sessions end now.")
@click.argument("email")
def deactivate_user_command(email: str) -> None:
    from matching import accounts

    _account_step(email, "deactivate", lambda session, user_id: accounts.deactivate(session, user_id, actor_id=None),
                  "{name} is deactivated.")


@users.command(name="activate", help="Let the deactivated person with EMAIL sign in again.")
@click.argument("email")
def activate_user_command(email: str) -> None:
    from matching import accounts

    _account_step(email, "activate", accounts.activate, "{name} is active again.")


@users.command(name="unlock", help="Lift the lockout that repeated wrong passwords put on EMAIL.")
@click.argument("email")
def unlock_user_command(email: str) -> None:
    from matching import accounts

    _account_step(email, "unlock", accounts.unlock, "{name} is unlocked.")


@users.command(name="invite", help="Give EMAIL an account; a one-time link to choose a password goes by notice.")
@click.argument("email")
# Mentors sign up themselves and are vetted (matching/accounts.ASSIGNABLE_ROLES, not imported: start-up stays light).
@click.option("--role", required=True, type=click.Choice([role for role in vocab.ROLES if role != "mentor"]))
@click.option("--name", "full_name", help="Full name (default: from the e-mail address)")
@click.option("--department", "department_code", help="Department code, for department contacts")
def invite_user_command(email: str, role: str, full_name: str | None, department_code: str | None) -> None:
    from pydantic import ValidationError

    from matching import accounts, db
    from matching.errors import DomainError, InvalidInput
    from matching.services import audit
    from matching.settings import get_settings

    with db.session_scope(db.writer(db.engine_for(_url()))) as session:
        department_id = _department_id(session, department_code)
        try:
            user = accounts.invite(session, full_name=full_name or email.split("@")[0].replace(".", " ").title(),
                                   email=email, role=role, department_id=department_id,
                                   service_url=get_settings().service_url)
        except (ValidationError, InvalidInput) as error:
            raise click.UsageError(_reason(error)) from None
        except DomainError as error:
            raise click.ClickException(_reason(error)) from None
        audit.record_access(session, actor_id=None, action="invite", entity="user", ids=[user.id],
                            route="springboard users invite")
        click.echo(f"Invited {role} {user.email} (id {user.id}). An invitation is waiting in the outbox; "
                   f"`springboard worker` sends it.")


@main.group(help="Bearer tokens for systems that call the JSON API.")
def tokens() -> None:
    pass


@tokens.command(name="create", help="Create a token for the user with EMAIL; it is shown once.")
@click.argument("email")
@click.option("--name", required=True, help="What will use it, e.g. 'case system export'")
def create_token_command(email: str, name: str) -> None:
    from pydantic import ValidationError

    from matching import db
    from matching.models import ApiTokenCreate
    from matching.services import users as users_service

    with db.session_scope(db.writer(db.engine_for(_url()))) as session:
        user = users_service.by_email(session, email)
        if user is None:
            raise click.BadParameter(f"no user has the e-mail {email}", param_hint="EMAIL")
        try:
            wanted = ApiTokenCreate(user_id=user.id, name=name)
        except ValidationError as error:
            raise click.BadParameter(error.errors()[0]["msg"], param_hint="--name") from None
        record, token = users_service.create_token(session, wanted, created_by_id=None)
    click.echo(f"Token {record.id} for {email} (keep it secret; it is not shown again):")
    click.echo(token)


@tokens.command(name="revoke", help="Revoke the token with this id.")
@click.argument("token_id", type=click.IntRange(1, MAX_ID))
def revoke_token_command(token_id: int) -> None:
    from matching import db
    from matching.errors import DomainError, NotFound
    from matching.services import users as users_service

    with db.session_scope(db.writer(db.engine_for(_url()))) as session:
        try:
            users_service.revoke_token(session, token_id, revoked_by_id=None)
        except NotFound as error:
            raise click.BadParameter(str(error), param_hint="TOKEN_ID") from None
        except DomainError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Token {token_id} revoked.")


def _reason(error: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return str(error)


@main.group(help="The matching engine: runs, explanations, learning and fairness.")
def match() -> None:
    pass


def _show_progress(stage: str, done: int, total: int) -> None:
    click.echo(f"\r  {stage}: {done}/{total}", err=True, nl=done >= total)


@match.command(name="run", help="Propose the best set of matches now, in one transaction.")
def match_run() -> None:
    from matching import db, engine
    from matching.errors import DomainError

    try:
        run = engine.run(db.engine_for(_url()), today=clock.today(), actor_id=None, source="cli",
                         progress=_show_progress)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    for kind in ("mentoring", "opportunity"):
        counts = run.counts[kind]
        click.echo(f"{kind}: {counts['proposals']} proposals from {counts['candidates']} candidates "
                   f"({counts['pairs_considered']} pairs within reach)")
    stages = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in run.counts["seconds"].items())
    click.echo(f"Run {run.id}: {run.counts['people']} open cases, model {run.model_version}, "
               f"{run.duration_ms / 1000:.2f}s ({stages}).")


@match.command(name="explain", help="A young person's ranked alternatives with reasons, and what excluded the rest.")
@click.argument("case_reference")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50))
def match_explain(case_reference: str, limit: int) -> None:
    # A short command, and the cyclic garbage collector had been a third of it. It is off while the modules load
    # (it traversed their hundreds of thousands of objects again and again: 0.2 s); what they built is frozen
    # out of its way while the rows are read; and everything is frozen again as the interpreter exits, where
    # collecting every module's objects took 0.4 s after the answer was printed. In between the collector is
    # as it was, for a caller that goes on (a test invoking the command).
    enabled = gc.isenabled()
    gc.disable()
    try:
        _explain(case_reference, limit, enabled)
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()
        atexit.unregister(gc.freeze)  # once, however often a test invokes it
        atexit.register(gc.freeze)


def _explain(case_reference: str, limit: int, collecting: bool) -> None:
    from sqlmodel import select

    from matching import db
    from matching.engine import alternatives
    from matching.models import CareLeaver
    from matching.services import audit

    gc.freeze()
    if collecting:
        gc.enable()
    with db.session_scope(db.engine_for(_url())) as session:
        person = session.exec(select(CareLeaver).where(CareLeaver.case_reference == case_reference)).first()
        if person is None:
            raise click.BadParameter(f"no care leaver has the case reference {case_reference}",
                                     param_hint="CASE_REFERENCE")
        found = alternatives(session, person.id, today=clock.today(), limit=limit)
        audit.record_access(session, actor_id=None, action="read", entity="care_leaver", ids=[person.id],
                     route="cli: match explain", client="cli")
    click.echo(f"{case_reference} (scored by {found['model_version']})")
    for kind in ("mentoring", "opportunity"):
        part = found[kind]
        click.echo(f"\n{kind.capitalize()}: {part['eligible']} eligible")
        for rank, item in enumerate(part["ranked"], 1):
            click.echo(f"  {rank}. {item['label']} (score {item['score']:.2f}): {'; '.join(item['reasons'])}")
        for excluded in part["excluded"]:
            click.echo(f"  excluded {excluded['count']}: {excluded['says']} [{excluded['rule']}]")


@match.command(name="train", help="Retrain on recorded outcomes; keep the model only if it does better held out.")
def match_train() -> None:
    from matching import db, engine
    from matching.settings import get_settings

    settings = get_settings()
    with db.session_scope(db.writer(db.engine_for(_url()))) as session:
        result = engine.train(session, today=clock.today(), actor_id=None, models_dir=settings.data_dir / "models")
    if isinstance(result, dict):
        click.echo(f"Not trained: {result['reason']} (have {result['labelled']}).")
        return
    held_out, current = result.metrics["held_out"], result.metrics["current_on_same_rows"]
    click.echo(f"{result.version}: ROC AUC {held_out['roc_auc']:.3f} held out, against "
               f"{current['roc_auc']:.3f} for {current['version']}: {result.status}.")


@match.command(name="fairness", help="Success rate and exposure per group, as JSON.")
def match_fairness() -> None:
    import json

    from matching import db, engine

    with db.session_scope(db.engine_for(_url())) as session:
        click.echo(json.dumps(engine.fairness(session), indent=2))


@main.group(name="report", help="Reports: the cohort, matching and outcomes, and the statutory care-leaver return "
                                 "(SSDA903 OC3).")
def report_group() -> None:
    pass


def _write(content: str | bytes, output: Path | None) -> None:
    if output is None:
        click.echo(content, nl=False)
    else:
        output.write_bytes(content if isinstance(content, bytes) else content.encode())
        click.echo(f"Written to {output}", err=True)


@report_group.command(name="oc3", help="The OC3 return for the year ending 31 March YYYY, as CSV, once every row "
                                       "passes the return's checks (failing rows are listed on standard error).")
@click.option("--year", required=True, type=int,
              help="The collection year's end: 2026 for 1 April 2025 to 31 March 2026.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), callback=_output_file,
              help="Write here (default: standard output).")
@click.option("--with-errors", is_flag=True, help="Produce the file even when rows fail the checks.")
def report_oc3(year: int, output: Path | None, with_errors: bool) -> None:
    from matching import db
    from matching.reports import export, oc3

    if year not in oc3.years_offered(clock.today()):
        offered = oc3.years_offered(clock.today())
        raise click.BadParameter(f"must be a year from {offered[-1]} to {offered[0]}", param_hint="--year")
    engine = db.engine_for(_url())
    with db.session_scope(engine) as session:
        result = oc3.build_return(session, year, today=clock.today())
    for row, rules in result.failing_rows:
        for rule in rules:
            click.echo(f"{row.child}: rule {rule.code}: {rule.message}", err=True)
    notes = sorted({note for row in result.rows for note in row.notes if not note.startswith("The birthday window")})
    for note in notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(f"{result.year.label}: {len(result.rows)} rows, {len(result.failing_rows)} failing.", err=True)
    if result.failures and not with_errors:
        click.echo("The file was not produced: correct the failing rows, or use --with-errors.", err=True)
        raise click.exceptions.Exit(1)
    with db.session_scope(db.writer(engine)) as session:
        export.record_download(session, report="oc3", actor_id=None, period=year, route="cli report oc3")
    _write(export.csv_text(oc3.file_rows(result)), output)


@report_group.command(name="annual", help="The annual report for a year (small numbers withheld), as the page "
                                          "prints it: a PDF.")
@click.option("--year", type=int, help="The year's end: 2026 for 1 April 2025 to 31 March 2026 (default: the year "
                                       "in progress).")
@click.option("--format", "file_format", type=click.Choice(["pdf"]), default="pdf", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), callback=_output_file,
              help="Write the PDF here.")
def report_annual(year: int | None, file_format: str, output: Path) -> None:
    from api.pages.reports import annual_pdf_of_year
    from matching import db
    from matching.reports import export, oc3

    offered = oc3.years_offered(clock.today())
    if year is not None and year not in offered:
        raise click.BadParameter(f"must be a year from {offered[-1]} to {offered[0]}", param_hint="--year")
    year = year or offered[0]
    engine = db.engine_for(_url())
    with db.session_scope(engine) as session:
        content = annual_pdf_of_year(session, year)
    with db.session_scope(db.writer(engine)) as session:
        export.record_download(session, report="annual", actor_id=None, period=year, route="cli report annual")
    _write(content, output)


def _report_command(report) -> click.Command:
    """`springboard report NAME` for one table report (matching/reports/catalogue.py)."""
    def write(file_format: str, output: Path | None, year: int | None = None) -> None:
        from matching import db
        from matching.reports import export, oc3

        offered = oc3.years_offered(clock.today())
        if year is not None and year not in offered:
            raise click.BadParameter(f"must be a year from {offered[-1]} to {offered[0]}", param_hint="--year")
        if file_format == "xlsx" and output is None:
            raise click.BadParameter("an XLSX workbook needs a file to go to", param_hint="--output")
        year = (year or offered[0]) if report.yearly else None
        engine = db.engine_for(_url())
        with db.session_scope(engine) as session:
            rows = report.rows(session, year, clock.today())
        with db.session_scope(db.writer(engine)) as session:
            export.record_download(session, report=report.audit_name, actor_id=None, period=year,
                                   route=f"cli report {report.name}")
        _write(export.xlsx_bytes(rows, report.title) if file_format == "xlsx" else export.csv_text(rows), output)

    # Only the annual report is made as a PDF (`springboard report annual`): "pdf" here is refused by its choices.
    options = [click.Option(["--format", "file_format"], type=click.Choice(["csv", "xlsx"]), default="csv",
                            show_default=True, help="CSV or XLSX (the annual report's PDF: report annual)."),
               click.Option(["--output"], type=click.Path(dir_okay=False, path_type=Path), callback=_output_file,
                            help="Write here (default: standard output; XLSX needs a file).")]
    if report.yearly:
        options.append(click.Option(["--year"], type=int, help="The year's end: 2026 for 1 April 2025 to 31 March "
                                                               "2026 (default: the year in progress)."))
    return click.Command(report.name, callback=write, params=options,
                         help=f"{report.title} (small numbers withheld), as CSV or XLSX.")


def _report_commands() -> None:
    from matching.reports.catalogue import REPORTS

    for report in REPORTS.values():
        report_group.add_command(_report_command(report))


_report_commands()
