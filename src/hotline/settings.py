"""Django settings for hotline. Every knob comes from the environment (docs/configuration.md)."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from hotline.lib.env import ConfigError, envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent
# Where the embedded default keeps its database, media and secrets.
DATA_DIR = Path(envstr("HOTLINE_DATA_DIR", str(Path.cwd() / "var")) or "var").resolve()

DEBUG = envbool("HOTLINE_DEBUG", False)
SECRET_KEY = envstr("HOTLINE_SECRET_KEY")
if not SECRET_KEY:
    # Embedded default: a secret generated once and kept beside the database.
    key_file = DATA_DIR / "secret_key"
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
            key_file.chmod(0o600)
        SECRET_KEY = key_file.read_text(encoding="utf-8").strip()
    except OSError as exc:  # pragma: no cover - unwritable data dir
        raise ConfigError(f"HOTLINE_SECRET_KEY is unset and {key_file} cannot be written: {exc}") from exc

ALLOWED_HOSTS = envlist("HOTLINE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("HOTLINE_CSRF_TRUSTED_ORIGINS", [])

# models.W040: the list indexes carry the id as an INCLUDE column for PostgreSQL's
# index-only scans (cases migration 0005); SQLite ignores it and the index still works,
# so the embedded default need not print this warning at every command.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "hotline.accounts",
    "hotline.audit",
    "hotline.directory",
    "hotline.cases",
    "hotline.knowledge",
    "hotline.web",
    "hotline.telephony",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files under uvicorn (web pages)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "hotline.audit.context.AuditContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hotline.urls"
ASGI_APPLICATION = "hotline.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]

# Database: SQLite (WAL) embedded by default, PostgreSQL through DATABASE_URL.
_default_sqlite = f"sqlite:///{DATA_DIR / 'hotline.sqlite3'}"
DATABASE_URL = envstr("DATABASE_URL", _default_sqlite) or _default_sqlite
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("HOTLINE_DB_CONN_MAX_AGE", 60, minimum=0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend with write transactions queued (threads, then processes) before
    # BEGIN IMMEDIATE instead of left to SQLite's busy-sleep (hotline/lib/sqlite3/base.py).
    if envbool("HOTLINE_SQLITE_WRITER_QUEUE", True):
        DATABASES["default"]["ENGINE"] = "hotline.lib.sqlite3"
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if DATABASES["default"]["NAME"] == ":memory:" else 60
    DATABASES["default"]["OPTIONS"] = {
        # Writers take the lock when the transaction starts: no "database is locked"
        # deadlock between two upgrading readers; WAL lets readers run beside a writer.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
        ),
    }
    # Tests use a file database so that concurrency tests see real SQLite locking.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = envstr("HOTLINE_TEST_SQLITE_NAME", str(DATA_DIR / "test.sqlite3"))
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every request may run on another thread, and persistent per-thread
    # connections pile up until PostgreSQL refuses new clients ("too many clients",
    # seen with 16 concurrent API clients). A psycopg pool per process bounds them.
    _pool_max = envint("HOTLINE_DB_POOL_MAX", 20, minimum=0)
    if _pool_max:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": _pool_max, "timeout": 30}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
# Lockout after repeated failed logins (accounts.actions.do_login).
HOTLINE_LOCKOUT_THRESHOLD = envint("HOTLINE_LOCKOUT_THRESHOLD", 5, minimum=1)
HOTLINE_LOCKOUT_MINUTES = envint("HOTLINE_LOCKOUT_MINUTES", 15, minimum=1)
HOTLINE_TOKEN_DAYS = envint("HOTLINE_TOKEN_DAYS", 30, minimum=1)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = envstr("HOTLINE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Front-end libraries come from the npm registry (package.json, `npm ci`) into node_modules
# and are served from there: nothing third-party is copied into the repository (docs/web.md).
NODE_MODULES = Path(envstr("HOTLINE_NODE_MODULES", str(BASE_DIR.parent.parent / "node_modules")) or "node_modules").resolve()
STATICFILES_DIRS = [("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"), ("vendor/alpinejs", NODE_MODULES / "alpinejs" / "dist")]
WHITENOISE_USE_FINDERS = True  # serve straight from the finders: no collectstatic step needed
LOGIN_REDIRECT_URL = "/"
# Citizen portal (hotline.web.portal): appeals per client address per hour, lookups per 10 minutes.
HOTLINE_PORTAL_SUBMITS_PER_HOUR = envint("HOTLINE_PORTAL_SUBMITS_PER_HOUR", 5, minimum=1)
HOTLINE_PORTAL_LOOKUPS_PER_10MIN = envint("HOTLINE_PORTAL_LOOKUPS_PER_10MIN", 30, minimum=1)
MEDIA_ROOT = Path(envstr("HOTLINE_MEDIA_ROOT", str(DATA_DIR / "media")) or "").resolve()
MEDIA_URL = "/media/"
# Attachments: allowed types and the size limit (bytes).
HOTLINE_ATTACHMENT_MAX_BYTES = envint("HOTLINE_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = HOTLINE_ATTACHMENT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Channel layer: in-memory on the embedded default, Redis when several web processes run.
REDIS_URL = envstr("REDIS_URL")
# Processes of `hotline web`/`serve`, each with its own listening socket on the port
# (lib/shared_port). More than one needs REDIS_URL for the PBX's call events (screen
# pops): the PBX posts each to one web process, and the agent's browser may be on
# another. Ticket updates reach every process through the event table (web/live.py).
HOTLINE_WEB_WORKERS = envint("HOTLINE_WEB_WORKERS", 1, minimum=1)
# Threads per web process running Django's (sync) request handler (hotline/asgi.py).
HOTLINE_WEB_THREADS = envint("HOTLINE_WEB_THREADS", 8, minimum=1)
# Per-process caches (data dictionary, API tokens): how often each process checks the
# database for changes made by other processes, in seconds; 0 turns the caches off.
HOTLINE_CACHE_CHECK_SECONDS = envint("HOTLINE_CACHE_CHECK_SECONDS", 1, minimum=0)
if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Background jobs: a database-backed queue (django-tasks + django-tasks-db), no extra server.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
HOTLINE_DEADLINE_JOB_SECONDS = envint("HOTLINE_DEADLINE_JOB_SECONDS", 60, minimum=1)
# Knowledge (issue 5): ticket indexing for duplicate checks, and dispatch-model retraining.
HOTLINE_KNOWLEDGE_JOB_SECONDS = envint("HOTLINE_KNOWLEDGE_JOB_SECONDS", 60, minimum=1)
HOTLINE_DISPATCH_TRAIN_SECONDS = envint("HOTLINE_DISPATCH_TRAIN_SECONDS", 86400, minimum=60)

# Telephony (issue 3): the PBX process (`hotline pbx`, a child of `hotline serve`).
# Parsed strictly by hotline.telephony.config.pbx_config_from_settings (docs/telephony-admin.md).
HOTLINE_PBX_ENABLED = envbool("HOTLINE_PBX_ENABLED", True)
HOTLINE_SIP_LISTEN = envstr("HOTLINE_SIP_LISTEN", "127.0.0.1:5060") or "127.0.0.1:5060"
HOTLINE_SIP_TRANSPORTS = envlist("HOTLINE_SIP_TRANSPORTS", ["udp", "tcp"])
HOTLINE_SIP_ADVERTISED_HOST = envstr("HOTLINE_SIP_ADVERTISED_HOST", "") or ""
HOTLINE_RTP_PORTS = envstr("HOTLINE_RTP_PORTS", "20000-30000") or "20000-30000"
HOTLINE_SIP_REALM = envstr("HOTLINE_SIP_REALM", "hotline") or "hotline"
# Nonce HMAC secret of the registrar, and the key of the PBX → web CTI event link.
HOTLINE_SIP_SECRET = envstr("HOTLINE_SIP_SECRET") or ""
HOTLINE_PBX_MAX_CALLS = envint("HOTLINE_PBX_MAX_CALLS", 500, minimum=1)
# Where the PBX posts call events for screen-pops when there is no shared (Redis) channel layer.
HOTLINE_CTI_URL = envstr("HOTLINE_CTI_URL", "") or ""

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("HOTLINE_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django_tasks_db": {"level": "WARNING"}, "django_tasks": {"level": "WARNING"}},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("HOTLINE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
