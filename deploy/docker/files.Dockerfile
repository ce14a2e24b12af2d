# syntax=docker/dockerfile:1
# The files service (Flask under gunicorn, port 8081). Build from the repo root:
#   docker build -f deploy/docker/files.Dockerfile -t portfolio/files .
# Start command and environment: docs/LAYOUT-CONTRACT.md. Stateless: run as many replicas as
# the upload peak needs (deploy/README.md). Extra gunicorn flags: GUNICORN_CMD_ARGS.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY libs/portfolio-common ./libs/portfolio-common
COPY services/files ./services/files
RUN pip install --no-cache-dir ./libs/portfolio-common ./services/files "gunicorn>=23"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER app
EXPOSE 8081
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8081/healthz', timeout=5)"]
# Binds FILES_BIND (compose: 0.0.0.0:8081 on the private network; default loopback).
CMD ["gunicorn", "-c", "python:files.gunicorn_conf", "files.app:create_app()"]
