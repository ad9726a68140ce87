"""The one place settings are read from the environment (prefix-free names, as councils' ops teams expect)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path.cwd() / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Where the embedded SQLite database and models live.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in DATA_DIR.")
    secret_key: str = Field("dev-only-change-me", description="Signs session cookies and CSRF tokens.")
    debug: bool = False
    secure_cookies: bool = Field(True, description="Send cookies over HTTPS only; false only for http://127.0.0.1")
    trusted_proxies: str = Field("", description=(
        "Comma-separated addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are "
        "believed; empty: none, so a client cannot choose the address the sign-in limit and the audit see."))
    oidc_issuer: str = Field("", description="The council's OpenID Connect issuer URL; empty: passwords only")
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_redirect_url: str = Field("", description="This service's /sign-in/oidc/callback, as registered")
    identity_cache_seconds: float = Field(5.0, ge=0, description=(
        "How long a checked API token or signed-in user is remembered. A revocation or deactivation made by "
        "another process takes effect within this time; 0 checks the database on every request."))
    api_page_size_max: int = 200
    service_url: str = Field("http://127.0.0.1:8000", description=(
        "This service's address as people reach it; notices link into it and carry nothing else"))
    # The worker and its notices (docs/jobs.md).
    scheduler_in_serve: bool = Field(False, description=(
        "Run the scheduler inside `springboard serve` (one instance on SQLite) instead of `springboard worker`"))
    scheduler_leader_retry_seconds: float = Field(10.0, gt=0, le=30, description=(
        "How often a waiting worker tries to take the leader's lock, and the leader checks it still holds it"))
    smtp_host: str = Field("", description="Mail server for notices; empty: notices wait in the outbox unsent")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = Field("springboard@localhost", description="The From address of every notice")
    smtp_tls: str = Field("none", pattern="^(none|starttls|ssl)$", description="none, starttls or ssl")
    smtp_user: str = Field("", description="With SMTP_PASSWORD, sign in to the mail server; empty: no sign-in")
    smtp_password: str = ""
    smtp_timeout_seconds: float = Field(20.0, gt=0, le=300)
    # GOV.UK Notify, for a council that sends through it: when NOTIFY_API_KEY is set it is used instead of SMTP.
    notify_api_key: str = Field("", description=(
        "A GOV.UK Notify API key (name-serviceid-secret); empty: notices go by SMTP"))
    notify_template_id: str = Field("", description=(
        "The Notify email template every notice goes through: subject ((subject)), message ((body))"))
    notify_base_url: str = Field("https://api.notifications.service.gov.uk", description="Notify's API address")
    notify_timeout_seconds: float = Field(20.0, gt=0, le=300)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'springboard.sqlite3'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
