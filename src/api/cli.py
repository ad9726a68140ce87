"""The `springboard` command: serve, migrate, load demo data, import spreadsheets."""

from pathlib import Path

import click

from matching import db
from matching.imports import KINDS, ImportFailed, import_file
from matching.settings import get_settings


@click.group(help="Springboard: mentors and opportunities for care leavers.")
def main() -> None:
    pass


def _url() -> str:
    return get_settings().db_url


@main.command(help="Run the web service.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    # No access log: its lines carry query strings (a search for a name is personal data in a log).
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, log_level="info", access_log=False)


@main.group(name="db", help="The database schema.")
def database() -> None:
    pass


@database.command(help="Apply every migration not yet applied.")
def upgrade() -> None:
    db.upgrade(_url())
    click.echo("Database is up to date.")


@database.command(help="Fail if the models have changed without a migration.")
def check() -> None:
    db.check(_url())


@main.command(help="Load the synthetic demo borough (no real people) into the configured database.")
@click.option("--seed", default=2026, show_default=True)
@click.option("--scale", type=click.Choice(["borough", "london", "england"]), default="borough", show_default=True)
def demo(seed: int, scale: str) -> None:
    from fixtures import demo as demo_data

    db.upgrade(_url())
    result = demo_data.load(db.engine_for(_url()), seed=seed, scale=scale)
    click.echo(result.summary())


@main.command(name="import", help="Import a CSV or XLSX file: every row, or none if any row is bad.")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(kind: str, path: Path) -> None:
    engine = db.writer(db.engine_for(_url()))
    try:
        with db.session_scope(engine) as session:
            report = import_file(session, kind, path)
    except ImportFailed as failure:
        for error in failure.errors:
            click.echo(f"{path.name}: {error}", err=True)
        raise click.ClickException(f"{len(failure.errors)} problem(s) found; nothing was imported.") from None
    click.echo(f"{path.name} ({report.layout} layout): {report.rows} rows; {report.created} created, "
               f"{report.updated} updated, {report.unchanged} unchanged.")
