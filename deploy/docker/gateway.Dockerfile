# syntax=docker/dockerfile:1
# The gateway (Flask under gunicorn, port 8080), and the one-shot demo loader. Build from the repo root:
#   docker build -f deploy/docker/gateway.Dockerfile -t portfolio/gateway .               (target gateway, the last stage)
#   docker build -f deploy/docker/gateway.Dockerfile --target demo -t portfolio/demo .
# Start command and environment: docs/LAYOUT-CONTRACT.md. Extra gunicorn flags: GUNICORN_CMD_ARGS.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY libs/portfolio-common ./libs/portfolio-common
COPY gateway ./gateway
RUN pip install --no-cache-dir ./libs/portfolio-common ./gateway "gunicorn>=23"

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app

# Demo loader: `python -m deploy.demo_school` from /app, with the gateway's packages installed.
FROM runtime AS demo
COPY deploy /app/deploy
USER app
CMD ["python", "-m", "deploy.demo_school"]

# The gateway itself: the last stage, so a plain `docker build` produces it.
FROM runtime AS gateway
USER app
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=5)"]
CMD ["gunicorn", "-c", "python:gateway.gunicorn_conf", "gateway.app:create_app()"]
