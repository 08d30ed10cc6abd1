# syntax=docker/dockerfile:1
# The production image: gunicorn serving the app, or (another command) the Celery worker or beat.
# Two stages: `build` installs the runtime dependencies (requirements.lock only: no test or lint
# tools) into a virtualenv and collects the static files; the final stage copies just those and
# the code, and runs as an unprivileged user that cannot write to the code.
# Build context: see .dockerignore (no .env, .venv, .git, databases, node_modules, tests).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# A virtualenv without pip or setuptools (26 MB the server never uses), filled by the base
# image's pip.
RUN python -m venv --without-pip /opt/venv
WORKDIR /app
COPY requirements.lock .
RUN pip --python /opt/venv/bin/python install -r requirements.lock
ENV PATH=/opt/venv/bin:$PATH
COPY . .
# Static files are part of the image (whitenoise serves them). The settings refuse to load
# without a real-looking secret; this one exists only for this command and is not kept.
RUN DEBUG=false SECRET_KEY=build-time-only-collectstatic-key-not-used-at-runtime-0123456789 \
    DATABASE_URL=postgres://build@localhost/build ENV_FILE=/nonexistent \
    python manage.py collectstatic --noinput \
 && python -m compileall -q /app

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER app:app
EXPOSE 8000
# Workers: WEB_CONCURRENCY (gunicorn's own variable; docker-compose sets it). Limits, timeouts
# and the metrics hooks: config/gunicorn.conf.py. No control socket: gunicorn would make it in
# $HOME, which this user cannot write.
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--no-control-socket"]
