# syntax=docker/dockerfile:1
# The migrate step as a one-shot image: every service's migrations, run as each database's owner
# role, and the broker's topology, declared as the vhost's administrator. Build from the repo root:
#   docker build -f deploy/docker/migrate.Dockerfile -t portfolio/migrate .
# Command and environment: docs/LAYOUT-CONTRACT.md ("One-shot steps").

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY libs/portfolio-common ./libs/portfolio-common
COPY services ./services
# nameko 2.14 imports pkg_resources: keep setuptools below 81 where nameko is installed.
RUN pip install --no-cache-dir "setuptools<81" ./libs/portfolio-common ./services/accounts ./services/records \
    ./services/files ./services/certification ./services/submission

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
CMD ["python", "-m", "portfolio_common.migrate", "--topology"]
