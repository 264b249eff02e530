# syntax=docker/dockerfile:1
# The `vividly-notify` image: exactly what uv.lock pins, installed the way `make` does it (uv
# from PyPI at the Makefile's version, then `uv sync --frozen`), without the dev extra. It runs
# as an unprivileged user; settings and secrets come from the environment at run time only.
# ffmpeg for the simulated video pipeline is the binary inside the imageio-ffmpeg wheel.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1
WORKDIR /app
RUN python -m venv /opt/uv && /opt/uv/bin/pip install --quiet uv==0.13.8
# The locked dependencies first: this layer stays cached while only the code (or the README,
# which the project's build reads) changes.
COPY pyproject.toml uv.lock ./
RUN /opt/uv/bin/uv sync --frozen --no-install-project
COPY README.md ./
COPY service service
COPY db db
COPY migrations migrations
COPY web web
COPY clients/js/src clients/js/src
RUN /opt/uv/bin/uv sync --frozen

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin vividly \
    && mkdir -p /data/media \
    && chown vividly:vividly /data/media
WORKDIR /app
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    MEDIA_DIR=/data/media
USER vividly
EXPOSE 8000
ENTRYPOINT ["vividly-notify"]
CMD ["serve"]
