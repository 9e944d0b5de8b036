"""Settings for the test suite: the production settings plus fast hashing and a throw-away data dir."""

import os
import tempfile

os.environ["ONE_API_TESTING"] = "1"
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="one-api-test-"))

from config.settings import *  # noqa: E402,F403

# A file, not :memory:: the relay serves tests over real HTTP from other threads, which need their own
# connections to the same database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(os.environ["DATA_DIR"], "test.sqlite3")}  # noqa: F405
