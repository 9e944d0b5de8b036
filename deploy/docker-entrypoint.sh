#!/bin/sh
# Container entry point (see deploy/Dockerfile).
#   (no args) or flags only -> bootstrap the database, then `one-api --port 3000 --log-dir /data/logs [flags]`
#   anything else           -> exec it (e.g. `celery -A config worker -l info`)
set -eu

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    python manage.py bootstrap
    exec one-api --port 3000 --log-dir /data/logs "$@"
fi
exec "$@"
