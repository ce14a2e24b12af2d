# syntax=docker/dockerfile:1
# One nameko service (accounts, records, certification or submission). Build from the repo root:
#   docker build -f deploy/docker/nameko-service.Dockerfile --build-arg SERVICE=records -t portfolio/records .
# Start command and environment: docs/LAYOUT-CONTRACT.md.

FROM python:3.11-slim AS build
ARG SERVICE
RUN test -n "$SERVICE" \
    || { echo "build with --build-arg SERVICE=<accounts|records|certification|submission>" >&2; exit 1; }
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY libs/portfolio-common ./libs/portfolio-common
COPY services/${SERVICE} ./services/${SERVICE}
# nameko 2.14's CLI imports pkg_resources: keep setuptools below 81 where nameko runs.
RUN pip install --no-cache-dir "setuptools<81" ./libs/portfolio-common "./services/${SERVICE}"

FROM python:3.11-slim
ARG SERVICE
# ARG values do not reach the running container: ENV carries the name to CMD and HEALTHCHECK.
ENV SERVICE=${SERVICE} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY services/${SERVICE}/config.yaml /app/config.yaml
USER app
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=5 \
    CMD python -m portfolio_common.health "$SERVICE"
# exec: nameko becomes PID 1 and receives SIGTERM for a graceful stop.
CMD ["/bin/sh", "-c", "exec nameko run --config /app/config.yaml \"${SERVICE}.service\""]
