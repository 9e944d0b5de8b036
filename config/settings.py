"""Django settings for One API, read from the environment (see README's table).

Only ``config.env`` helpers read the environment, so a bad value names its variable and stops the process.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from config.env import env_bool, env_choice, env_cidrs, env_float, env_int, env_str, parse_sql_dsn

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "v0.1.0"

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("ONE_API_TESTING", False)
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).resolve()
LOG_DIR = Path(env_str("ONE_API_LOG_DIR", str(BASE_DIR / "logs"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _session_secret() -> str:
    """SESSION_SECRET, or one generated once and kept in the data directory so sessions survive restarts."""
    configured = env_str("SESSION_SECRET")
    if configured:
        if configured == "random_string":
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                "SESSION_SECRET='random_string': set a real secret (any long random text)"
            )
        return configured
    path = DATA_DIR / "session_secret"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(48)
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return value


SECRET_KEY = _session_secret()
ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS").split(",") if o]

# --- One API runtime knobs (names as in the original's environment) ---------------------------------------
NODE_TYPE = env_choice("NODE_TYPE", "master", ("master", "slave"))
IS_MASTER_NODE = NODE_TYPE == "master"
FRONTEND_BASE_URL = env_str("FRONTEND_BASE_URL").rstrip("/")
MEMORY_CACHE_ENABLED = env_bool("MEMORY_CACHE_ENABLED", False)
SYNC_FREQUENCY = env_int("SYNC_FREQUENCY", 600, minimum=1)
CHANNEL_TEST_FREQUENCY = env_int("CHANNEL_TEST_FREQUENCY", 0, minimum=0)  # minutes; 0 = off
CHANNEL_UPDATE_FREQUENCY = env_int("CHANNEL_UPDATE_FREQUENCY", 0, minimum=0)  # minutes; 0 = off
POLLING_INTERVAL = env_int("POLLING_INTERVAL", 0, minimum=0)  # seconds between channels in a test run
BATCH_UPDATE_ENABLED = env_bool("BATCH_UPDATE_ENABLED", False)
BATCH_UPDATE_INTERVAL = env_int("BATCH_UPDATE_INTERVAL", 5, minimum=1)
GLOBAL_API_RATE_LIMIT = env_int("GLOBAL_API_RATE_LIMIT", 480, minimum=0)
GLOBAL_WEB_RATE_LIMIT = env_int("GLOBAL_WEB_RATE_LIMIT", 240, minimum=0)
RELAY_TIMEOUT = env_int("RELAY_TIMEOUT", 0, minimum=0)  # seconds; 0 = no overall limit
RELAY_PROXY = env_str("RELAY_PROXY")
TRUSTED_PROXIES = env_cidrs("TRUSTED_PROXIES", "127.0.0.1/32,::1/128")
RELAY_MAX_BODY_BYTES = env_int("RELAY_MAX_BODY_BYTES", 64 * 1024 * 1024, minimum=1024)
USER_CONTENT_REQUEST_PROXY = env_str("USER_CONTENT_REQUEST_PROXY")
USER_CONTENT_REQUEST_TIMEOUT = env_int("USER_CONTENT_REQUEST_TIMEOUT", 30, minimum=1)
ENFORCE_INCLUDE_USAGE = env_bool("ENFORCE_INCLUDE_USAGE", False)
GEMINI_SAFETY_SETTING = env_str("GEMINI_SAFETY_SETTING", "BLOCK_NONE")
GEMINI_VERSION = env_str("GEMINI_VERSION", "v1")
THEME = env_choice("THEME", "default", ("default", "berry", "air"))
ENABLE_METRIC = env_bool("ENABLE_METRIC", False)
METRIC_QUEUE_SIZE = env_int("METRIC_QUEUE_SIZE", 10, minimum=1)
METRIC_SUCCESS_RATE_THRESHOLD = env_float("METRIC_SUCCESS_RATE_THRESHOLD", 0.8)
INITIAL_ROOT_TOKEN = env_str("INITIAL_ROOT_TOKEN")
INITIAL_ROOT_ACCESS_TOKEN = env_str("INITIAL_ROOT_ACCESS_TOKEN")
TEST_PROMPT = env_str("TEST_PROMPT", "Output only your specific model name with no additional text.")
TIKTOKEN_CACHE_DIR = env_str("TIKTOKEN_CACHE_DIR") or env_str("DATA_GYM_CACHE_DIR")
REDIS_CONN_STRING = env_str("REDIS_CONN_STRING")
TIME_ZONE = env_str("TZ", "UTC") or "UTC"

# --- Databases -------------------------------------------------------------------------------------------
SQLITE_PATH = Path(env_str("SQLITE_PATH", str(DATA_DIR / "one-api.db")))
SQLITE_BUSY_TIMEOUT = env_int("SQLITE_BUSY_TIMEOUT", 3000, minimum=0)
SQL_MAX_IDLE_CONNS = env_int("SQL_MAX_IDLE_CONNS", 100, minimum=0)
SQL_MAX_OPEN_CONNS = env_int("SQL_MAX_OPEN_CONNS", 1000, minimum=1)
SQL_MAX_LIFETIME = env_int("SQL_MAX_LIFETIME", env_int("SQL_CONN_MAX_LIFETIME", 60, minimum=0), minimum=0)
# Django keeps one connection per worker thread; the thread pool bounds how many are open at once.
os.environ.setdefault("ASGI_THREADS", str(max(4, min(SQL_MAX_OPEN_CONNS, 64))))


def _database(variable: str) -> dict:
    dsn = env_str(variable)
    if dsn:
        database = parse_sql_dsn(variable, dsn)
    else:
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                "timeout": SQLITE_BUSY_TIMEOUT / 1000,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    # Django's advice for ASGI: no persistent connections for views (each sync view may run in a new thread,
    # whose connection would linger until garbage-collected). The relay's worker threads are long-lived and
    # keep theirs open (relay.services.in_thread closes one that broke).
    database["CONN_MAX_AGE"] = 0
    database["CONN_HEALTH_CHECKS"] = True
    database.setdefault("TEST", {})
    return database


DATABASES = {"default": _database("SQL_DSN")}
if env_str("LOG_SQL_DSN"):
    DATABASES["logs"] = _database("LOG_SQL_DSN")
DATABASE_ROUTERS = ["logs_app.routers.LogDatabaseRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"


# --- Caches ----------------------------------------------------------------------------------------------
def redis_caches(url: str) -> dict:
    """The Redis cache. IGNORE_EXCEPTIONS: if Redis goes away, rate limits, throttles and verification codes
    degrade (allow, forget) instead of failing requests; the error is logged once per 5 minutes (logger
    below), and the cross-node invalidation counters notice the outage themselves (config.cache_versions)."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                "IGNORE_EXCEPTIONS": True,
            },
            "KEY_PREFIX": "oneapi",
        }
    }


if REDIS_CONN_STRING:
    CACHES = redis_caches(REDIS_CONN_STRING)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "one-api"}}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "one_api.shared_cache"

# --- Applications ----------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "config",
    "accounts",
    "channels_app",
    "billing",
    "redeem",
    "logs_app",
    "relay",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "config.middleware.WebRateLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.SlaveFrontendRedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
SESSION_COOKIE_NAME = "session"
SESSION_COOKIE_AGE = 30 * 24 * 3600
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
APPEND_SLASH = False

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",  # accounts imported from the original keep working
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "config.context_processors.site",
            ],
        },
    }
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "One API management API",
    "DESCRIPTION": "The original one-api's /api routes: {success, message, data} envelope, session or access token.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["config.api_urls.schema_without_aliases"],
    # Swagger UI's files come from drf-spectacular-sidecar: the docs page works without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Social sign-in: django-allauth for GitHub, Feishu/Lark and OpenID Connect (console engineer) --------
# Client ids and secrets are console options read per request by accounts.oauth.SocialAccountAdapter, not
# settings; callbacks keep the original's /oauth/github, /oauth/lark, /oauth/oidc. allauth insists on its own
# middleware by name (a wrapper that skips /v1 fails its start-up check); on /v1 it costs one context
# variable per request. Password sign-in stays Django's ModelBackend (allauth's login pages are not used).
INSTALLED_APPS += [
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.feishu",
    "allauth.socialaccount.providers.openid_connect",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "allauth.account.middleware.AccountMiddleware",
)
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/dashboard"
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = False
SOCIALACCOUNT_ADAPTER = "accounts.oauth.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = True  # the original's sign-in buttons are plain links
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10

# --- Celery ----------------------------------------------------------------------------------------------
# With Redis, Celery workers and beat use it as broker. Without it the web process runs the same beat
# schedule in-process (config.scheduler), so a one-command SQLite install still tests channels on time.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_CONN_STRING)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Logging ---------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "[%(levelname)s] %(asctime)s %(name)s: %(message)s"}},
    "filters": {"once_per_5_min": {"()": "config.logfilters.OncePerInterval", "seconds": 300}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "DEBUG" if env_bool("DEBUG_SQL") else "INFO"},
        # httpx logs every request at INFO: a line per relayed call is noise and costs CPU on the hot path.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # django-redis reports every ignored Redis error; once per outage-ish is what an operator needs.
        "one_api.shared_cache": {"filters": ["once_per_5_min"]},
    },
}
if not TESTING:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    LOGGING["handlers"]["file"] = {
        "class": "logging.handlers.TimedRotatingFileHandler",
        "filename": str(LOG_DIR / "one-api.log"),
        "when": "midnight",
        "backupCount": 14,
        "formatter": "plain",
        "encoding": "utf-8",
    }
    LOGGING["root"]["handlers"].append("file")
