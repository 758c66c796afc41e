"""Typed settings, read from ``KYODAKU_*`` environment variables (or keyword arguments).

Nothing is created at import time: build a :class:`Settings` where you need one
(``Settings()`` reads the environment; ``Settings(home=...)`` overrides it).

``mode="server"`` refuses insecure defaults: it needs a ``secret_key`` of at least
32 characters, and a non-SQLite ``database_url`` unless ``allow_sqlite=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MIN_SECRET_KEY_LENGTH", "UNNAMED_LICENSEE", "Settings", "SettingsError", "load_settings", "sqlite_url"]

MIN_SECRET_KEY_LENGTH = 32

#: the desk's licensee when KYODAKU_LICENSEE is not set (``kyodaku serve`` warns about it,
#: and refuses it in server mode)
UNNAMED_LICENSEE = "unnamed-licensee"


class SettingsError(ValueError):
    """Settings that cannot be used (for example insecure defaults in server mode)."""


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file (absolute, so the working folder does not matter)."""
    return f"sqlite:///{Path(path).expanduser().resolve()}"


class Settings(BaseSettings):
    """kyodaku settings.

    - ``home`` (``KYODAKU_HOME``): the workspace folder, default ``./kyodaku-data``.
    - ``database_url`` (``KYODAKU_DATABASE_URL``): default ``sqlite:///{home}/kyodaku.db``.
    - ``mode`` (``KYODAKU_MODE``): ``local`` (default) or ``server``.
    - ``secret_key`` (``KYODAKU_SECRET_KEY``): required in server mode.
    - ``allow_sqlite`` (``KYODAKU_ALLOW_SQLITE``): explicit opt-in to SQLite in server mode.
    - ``policy_file`` (``KYODAKU_POLICY_FILE``): a JSON file overriding the packaged policy.
    - ``licensee`` (``KYODAKU_LICENSEE``): the AI developer answering at the desk (claims'
      evidence is checked for this licensee).
    - ``deadlines_file`` (``KYODAKU_DEADLINES_FILE``): the desk's deadline policy (JSON).
    - ``smtp_host`` / ``smtp_port`` / ``smtp_username`` / ``smtp_password`` / ``smtp_sender``:
      email notifications (optional; webhooks work without them).
    - ``cookie_secure`` (``KYODAKU_COOKIE_SECURE``): send session cookies over HTTPS only
      (default: on in server mode).
    - ``delivery_interval`` (``KYODAKU_DELIVERY_INTERVAL``): seconds between notification
      deliveries in ``kyodaku serve`` (0: only ``kyodaku desk deliver`` delivers).
    - ``webhook_allow_private`` (``KYODAKU_WEBHOOK_ALLOW_PRIVATE``): let holders' webhooks
      reach loopback and private networks (off: the server is no way into internal hosts).

    Limits of the desk (``kyodaku serve``); see ``docs/desk-limits.md``:

    - ``max_upload_mb`` (``KYODAKU_MAX_UPLOAD_MB``, default 256): the largest multipart
      request (an uploaded output or a work's reference files, all files of one request
      together), counted while it streams in.  256 MiB is the largest file the image
      reader accepts (``kyodaku.media.images.load_image``'s ``max_bytes``): the desk takes
      nothing the scanner would refuse by size; larger reference videos go in with
      ``kyodaku works import``.
    - ``max_body_kb`` (``KYODAKU_MAX_BODY_KB``, default 1024): the largest other request
      body (JSON, forms), counted while it streams in: a longer one is answered 413 before
      it is read whole.
    - ``holder_quota_mb`` (``KYODAKU_HOLDER_QUOTA_MB``, default 2048; 0: no quota): what
      the desk keeps for one holder (its claims' uploaded outputs and its works'
      reference media).  An upload that would exceed it is answered 413 with the figures.
    - ``rate_limit_per_minute`` (``KYODAKU_RATE_LIMIT_PER_MINUTE``, default 600; 0: off)
      and ``rate_limit_burst`` (``KYODAKU_RATE_LIMIT_BURST``, default 120): requests per
      API key or signed-in session (per client address when neither is sent), a token
      bucket; over it the answer is 429 with ``Retry-After``.  Each server process counts
      on its own (``--workers 4`` allows four times as much).
    - ``login_rate_per_minute`` (``KYODAKU_LOGIN_RATE_PER_MINUTE``, default 30; 0: off):
      sign-in attempts (``POST /login``) per client address, burst 10.

    The generation guard (``kyodaku screen``, ``POST /api/v1/screen/*``):

    - ``screen_keep_prompts`` (``KYODAKU_SCREEN_KEEP_PROMPTS``, default off): record a
      screened prompt's text; off, the records keep its SHA-256 only.
    - ``screen_max_pixels`` (``KYODAKU_SCREEN_MAX_PIXELS``, default 40 000 000) and
      ``screen_max_seconds`` (``KYODAKU_SCREEN_MAX_SECONDS``, default 600): the largest
      image and the longest video screened; larger ones are refused (413), never cleared.
    - ``c2pa_cert`` / ``c2pa_key`` (``KYODAKU_C2PA_CERT`` / ``KYODAKU_C2PA_KEY``, both or
      neither): the operator's PEM certificate chain (signer first) and ES256 key that sign
      cleared outputs (``sign=true`` on ``POST /api/v1/screen/output``, ``kyodaku screen
      --signed-out``).  Server mode refuses to start when they are missing or do not load.
    - ``c2pa_trust_anchors`` (``KYODAKU_C2PA_TRUST_ANCHORS``): PEM root certificates that
      ``kyodaku verify`` trusts; unset, a signature is never reported trusted.
    """

    model_config = SettingsConfigDict(env_prefix="KYODAKU_", extra="ignore", validate_default=True)

    home: Path = Path("./kyodaku-data")
    database_url: str | None = None
    mode: Literal["local", "server"] = "local"
    secret_key: SecretStr | None = None
    allow_sqlite: bool = False
    policy_file: Path | None = None
    licensee: str = UNNAMED_LICENSEE
    deadlines_file: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "kyodaku@localhost"
    cookie_secure: bool | None = None
    delivery_interval: float = 10.0
    webhook_allow_private: bool = False
    max_upload_mb: int = Field(default=256, ge=1, le=64 * 1024)
    max_body_kb: int = Field(default=1024, ge=1, le=1024 * 1024)
    holder_quota_mb: int = Field(default=2048, ge=0)
    rate_limit_per_minute: float = Field(default=600.0, ge=0)
    rate_limit_burst: int = Field(default=120, ge=1)
    login_rate_per_minute: float = Field(default=30.0, ge=0)
    #: the generation guard (``kyodaku.guard``): keep screened prompts' text in the records
    #: (off: only their SHA-256), and the largest image (pixels) and video (seconds) screened
    screen_keep_prompts: bool = False
    screen_max_pixels: int = Field(default=40_000_000, ge=1)
    screen_max_seconds: float = Field(default=600.0, gt=0)
    #: signed provenance of released outputs (``kyodaku.guard.provenance``): the operator's
    #: PEM certificate chain (signer first) and ES256 private key; both or neither
    c2pa_cert: Path | None = None
    c2pa_key: Path | None = None
    #: PEM root certificates ``kyodaku verify`` trusts (unset: no signature is trusted)
    c2pa_trust_anchors: Path | None = None

    @model_validator(mode="after")
    def _defaults_and_server_checks(self) -> Settings:
        if not self.database_url:
            self.database_url = sqlite_url(self.home / "kyodaku.db")
        if self.cookie_secure is None:
            self.cookie_secure = self.mode == "server"
        if (self.c2pa_cert is None) != (self.c2pa_key is None):
            raise ValueError("KYODAKU_C2PA_CERT and KYODAKU_C2PA_KEY go together: set both or neither")
        if self.mode == "server":
            key = self.secret_key.get_secret_value() if self.secret_key is not None else ""
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    f"server mode needs KYODAKU_SECRET_KEY of at least {MIN_SECRET_KEY_LENGTH} characters"
                )
            if self.is_sqlite and not self.allow_sqlite:
                raise ValueError(
                    "server mode needs KYODAKU_DATABASE_URL of a database server (e.g. postgresql://...); "
                    "set KYODAKU_ALLOW_SQLITE=1 to run on SQLite anyway"
                )
            self._check_signing()
        return self

    def _check_signing(self) -> None:
        """Server mode: configured signing and trust files must exist and load (a desk
        that would answer every ``sign=true`` with an error does not start)."""
        if self.c2pa_cert is None and self.c2pa_trust_anchors is None:
            return
        from kyodaku.guard.provenance import SigningKey, SigningKeyError, load_trust_anchors

        try:
            if self.c2pa_cert is not None and self.c2pa_key is not None:
                SigningKey.load(self.c2pa_cert, self.c2pa_key)
            if self.c2pa_trust_anchors is not None:
                load_trust_anchors(self.c2pa_trust_anchors)
        except SigningKeyError as e:
            raise ValueError(f"server mode: {e}") from None

    @property
    def licensee_given(self) -> bool:
        """Was a licensee given (``KYODAKU_LICENSEE`` or ``licensee=``), not left at the placeholder?"""
        return "licensee" in self.model_fields_set

    @property
    def is_sqlite(self) -> bool:
        return (self.database_url or "").startswith("sqlite")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb << 20

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_kb << 10

    @property
    def db_url(self) -> str:
        """The resolved database URL (never None after validation)."""
        assert self.database_url is not None
        return self.database_url


def load_settings(**overrides: object) -> Settings:
    """``Settings(**overrides)`` with validation errors turned into one readable :class:`SettingsError`.

    Overrides that are ``None`` are dropped, so CLI options left unset fall back to the environment.
    """
    kwargs = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**kwargs)  # type: ignore[arg-type]
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err.get("loc", ()))
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}" if loc else msg)
        raise SettingsError("invalid settings: " + "; ".join(parts)) from None
