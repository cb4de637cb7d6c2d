"""Settings, read from environment variables, with safe defaults for development.

Every setting is listed in README.md. Production (``SOUKCHECK_ENV=production``) refuses to
start without a real ``SECRET_KEY``, and sends cookies only over HTTPS, with HSTS.
"""

import math
import os
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'soukcheck.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(ROOT / "uploads"))
    CHECKLIST_DIR = os.environ.get("CHECKLIST_DIR", str(ROOT / "checklists"))
    MAX_PHOTO_MB = _int("MAX_PHOTO_MB", 15)
    # A whole no-JS submission may carry several photos at once.
    MAX_CONTENT_LENGTH = _int("MAX_REQUEST_MB", 80) * 1024 * 1024
    MAX_PHOTO_PIXELS = _int("MAX_PHOTO_PIXELS", 50_000_000)
    BABEL_DEFAULT_LOCALE = os.environ.get("DEFAULT_LANGUAGE", "fr")
    BABEL_DEFAULT_TIMEZONE = "Africa/Casablanca"
    LANGUAGES = ("ar", "fr", "en")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Background jobs (large exports): RQ on this Redis, and where their files are kept.
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    JOB_QUEUE = os.environ.get("JOB_QUEUE", "soukcheck")
    EXPORT_DIR = os.environ.get("EXPORT_DIR", str(ROOT / "instance" / "exports"))
    EXPORT_KEEP_HOURS = _int("EXPORT_KEEP_HOURS", 24)
    # Reverse proxies in front of the app (for the client address and https in QR links).
    PROXY_COUNT = _int("PROXY_COUNT", 0)
    BADGE_FONT = os.environ.get("BADGE_FONT")  # a TTF with Arabic glyphs for PNG badges
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = timedelta(days=31)  # the tournament, with a margin
    HSTS_SECONDS = 0  # Strict-Transport-Security, sent in production only
    WTF_CSRF_TIME_LIMIT = None  # a form left open during a long walk must still submit
    SEND_FILE_MAX_AGE_DEFAULT = 0


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    HSTS_SECONDS = _int("HSTS_SECONDS", 365 * 24 * 3600)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    BABEL_DEFAULT_LOCALE = "en"  # tests read the English source strings unless they ask
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    # The shared Redis: our own database number and a queue no other test run uses.
    REDIS_URL = os.environ.get("SOUKCHECK_TEST_REDIS_URL", "redis://127.0.0.1:6379/10")
    JOB_QUEUE = f"soukcheck-test-{os.getpid()}"


def config_for_environment() -> type[Config]:
    return ProductionConfig if os.environ.get("SOUKCHECK_ENV") == "production" else Config


# A secret must carry at least this many bits by the estimate below: 32 random hex digits carry
# about 120, ``secrets.token_hex(32)`` about 250; "aaaaaaaaaaaaaaaa" carries none.
MIN_SECRET_BITS = 80


def secret_bits(secret: str) -> float:
    """A rough upper bound of a secret's entropy: its length times the Shannon entropy of its
    characters. It cannot see every pattern ("abcdefgh…"), but it refuses repetition and
    secrets too short for their alphabet."""
    counts = Counter(secret)
    n = len(secret)
    return n * -sum(c / n * math.log2(c / n) for c in counts.values())


def check_production_secret(secret: str | None) -> None:
    """Refuse to serve production traffic with a missing, development or guessable secret."""
    if (
        not secret
        or secret in (DEV_SECRET, "testing-secret")
        or len(secret) < 16
        or secret_bits(secret) < MIN_SECRET_BITS
    ):
        raise RuntimeError(
            "SECRET_KEY must be set to a long random value in production "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )
