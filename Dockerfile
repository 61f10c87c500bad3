# The gridflow image: the `gridflow` console script and its dependencies.
#   docker build -t gridflow:local .
#   docker run --rm gridflow:local intake      # = `gridflow intake`
#
# Networks without internet access: point pip at a local mirror or a folder of
# wheels with --build-arg PIP_INDEX_URL=... or --build-arg PIP_FIND_LINKS=...
# (with PIP_NO_INDEX=1 for a wheel folder only). Needs BuildKit (Docker 23+),
# whose built-in Dockerfile frontend knows RUN --mount; no `# syntax=` line, so
# the build pulls no frontend image.

# --- build: the project and every dependency as wheels --------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
WORKDIR /src
COPY . .
# A build argument left unset must not reach pip as an empty setting.
RUN set -eu; \
    [ -n "${PIP_INDEX_URL:-}" ] || unset PIP_INDEX_URL; \
    [ -n "${PIP_FIND_LINKS:-}" ] || unset PIP_FIND_LINKS; \
    [ -n "${PIP_NO_INDEX:-}" ] || unset PIP_NO_INDEX; \
    pip wheel --wheel-dir /wheels .

# --- runtime ------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRIDFLOW_HOME=/var/lib/gridflow
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index /wheels/*.whl \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/gridflow --no-create-home gridflow \
    && mkdir -p /var/lib/gridflow \
    && chown gridflow:gridflow /var/lib/gridflow
# A volume mounted on /var/lib/gridflow starts as a copy of this folder, so it
# is owned by the gridflow user too.
WORKDIR /var/lib/gridflow
USER gridflow
# 8080: `gridflow intake`; 6066: a worker's web server (table views).
EXPOSE 8080 6066
ENTRYPOINT ["gridflow"]
CMD ["--help"]
