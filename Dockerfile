# syntax=docker/dockerfile:1
# The Tessera service image: tessera-app (API + worker) with the tessera engine.
#
#   docker build -t tessera-app .
#   docker compose up            # with PostgreSQL: see docker-compose.yml and docs/quickstart-operator.md
#
# Stage 1 builds wheels of the two distributions (engine/, app/) and installs them with their
# dependencies into a virtual environment; stage 2 copies only that environment onto a slim
# Python, so no compiler, pip cache or source tree ends up in the image.

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY engine/ engine/
COPY app/ app/
RUN python -m pip wheel --wheel-dir /wheels --no-deps ./engine ./app \
 && python -m venv /opt/tessera \
 && /opt/tessera/bin/pip install --find-links /wheels /wheels/*.whl

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="tessera-app" \
      org.opencontainers.image.description="Tessera: contracts as code (service, worker, CLI)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/tessera/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TESSERA_ENVIRONMENT=production \
    TESSERA_HOST=0.0.0.0 \
    TESSERA_PORT=8000
RUN groupadd --system --gid 10001 tessera \
 && useradd --system --no-log-init --uid 10001 --gid tessera \
      --home-dir /var/lib/tessera --create-home --shell /usr/sbin/nologin tessera
COPY --from=build /opt/tessera /opt/tessera
USER 10001:10001
WORKDIR /var/lib/tessera
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "tessera_app.entrypoint", "--probe", "/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "tessera_app.entrypoint"]
CMD ["serve"]
