"""Every test that touches the database runs on SQLite and on PostgreSQL.

Per xdist worker: one migrated SQLite template (copied for each test) and one PostgreSQL database
(emptied for each test). Outside CI, PostgreSQL tests are skipped with a message when no server answers;
in CI (CI=true) an unreachable server fails the run.
"""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from sqlmodel import Session, SQLModel, select

from api.app import create_app
from matching import db
from matching.clock import CLOCK
from matching.models import ApiTokenCreate, Department, User, UserCreate
from matching.services.users import create_token, create_user, hasher
from matching.settings import Settings

PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://springboard:springboard-test@127.0.0.1:5432/springboard_test"
)
# TEST_BACKENDS=sqlite narrows a run to one backend (the moved-date runs in .ci/run use it).
BACKENDS = os.environ.get("TEST_BACKENDS", "sqlite postgresql").split()
# Every test runs on this day unless it moves the clock itself; a run with the system date moved
# (`make test-moved-dates`) proves that nothing reads the real date behind the clock's back.
TEST_TODAY = date(2026, 11, 23)
SEEDED_BY_MIGRATIONS = ["offer_items"]  # reference data: restored after each test's truncate


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with CLOCK.fixed(TEST_TODAY):
        yield


def _worker(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_url(request: pytest.FixtureRequest) -> str:
    """A migrated database of this worker's own, created through the test role (which may CREATEDB)."""
    base = sa.make_url(PG_URL)
    # A run without xdist is named by its process, so runs side by side never drop each other's database.
    worker = _worker(request)
    name = f"{base.database}_{worker}" if worker != "main" else f"{base.database}_main_{os.getpid()}"
    try:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable at {base.render_as_string(hide_password=True)} "
                    f"({type(error.orig).__name__}); start it with `sudo .ci/pg-start`")
    url = base.set(database=name).render_as_string(hide_password=False)
    if worker == "main":
        request.addfinalizer(lambda: _drop(admin, url, name))
    db.upgrade(url)
    with db.engine_for(url).connect() as conn:
        _SEEDS[url] = {t: [dict(r._mapping) for r in conn.execute(sa.text(f'SELECT * FROM "{t}"'))]
                       for t in SEEDED_BY_MIGRATIONS}
    return url


_SEEDS: dict[str, dict[str, list[dict]]] = {}


def _drop(admin: sa.Engine, url: str, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "springboard.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    _empty(db.engine_for(url), _SEEDS[url])
    return url


def _empty(engine: sa.Engine, seeds: dict[str, list[dict]]) -> None:
    """Back to a freshly migrated database: every table emptied, then the migrations' reference rows."""
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for table, rows in seeds.items():
            if rows:
                conn.execute(SQLModel.metadata.tables[table].insert(), rows)
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT MAX(id) FROM \"{table}\"))"))


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    return db.engine_for(database_url)


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """For a test's own reads and writes; not a writer scope, so the app under test can write too."""
    with db.session_scope(engine) as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, secret_key="test-secret-key-" + "x" * 32,
                    secure_cookies=False)  # the test client speaks plain HTTP


@dataclass(frozen=True)
class Person:
    id: int
    role: str
    department_id: int | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


ROLES = ["admin", "manager", "adviser", "other_adviser", "mentor", "department", "other_department"]


@pytest.fixture
def people(engine: sa.Engine) -> dict[str, Person]:
    """One signed-in person per role, each with an API token; the 'other_' ones are for ownership tests."""
    with db.session_scope(db.writer(engine)) as session:
        parks, roads = Department(name="Parks", code="PARK"), Department(name="Roads", code="ROAD")
        session.add_all([parks, roads])
        session.flush()
        found = {}
        for name in ROLES:
            role = name.removeprefix("other_")
            department = roads if name == "other_department" else parks if role in {"mentor", "department"} else None
            user = create_user(session, UserCreate(email=f"{name}@test.example.gov.uk", full_name=f"Test {name}",
                                                   role=role, department_id=department.id if department else None))
            _, token = create_token(session, ApiTokenCreate(user_id=user.id, name="tests"), created_by_id=None)
            found[name] = Person(user.id, role, user.department_id, token)
        return found


@pytest.fixture
def client(settings: Settings, people: dict[str, Person]) -> Iterator[TestClient]:
    """The app, signed in as a manager unless a request says otherwise."""
    with TestClient(app=create_app(settings)) as client:
        client.headers.update(people["manager"].headers)
        yield client


PASSWORD = "a long enough password"


@pytest.fixture
def browser(settings: Settings, people: dict[str, Person], engine: sa.Engine) -> Iterator[TestClient]:
    """A signed-out page client (no bearer token); every test person gets the same password."""
    with db.session_scope(db.writer(engine)) as session:
        for user in session.exec(select(User)):
            user.password_hash = hasher.hash(PASSWORD)
    with TestClient(app=create_app(settings)) as client:
        yield client
