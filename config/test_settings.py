"""Settings for the test suite: the production settings plus fast hashing and a throw-away data dir."""

import os
import tempfile

os.environ["ONE_API_TESTING"] = "1"
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="one-api-test-"))

from config.settings import *  # noqa: E402,F403
