# Image of one environment server: the project wheel plus the server's pinned runtime deps, nothing else.
# Built by openenv_harness.runtime._docker_build with the network off: every wheel comes from the build
# context (downloaded on the host), so the build is offline and its inputs are pinned by hash.
# An environment may ship its own Dockerfile in its folder (same build args and context layout) to add more.
ARG BASE_IMAGE=openenv-harness/base:bookworm-py311
FROM ${BASE_IMAGE}
ARG ENV_NAME
# Dependencies first, the project wheel last: editing the sources only rebuilds the last, small layer.
COPY wheels/deps/ /tmp/wheels/
# --no-index: never reach an index; --require-hashes: the lock pins every byte of the server deps.
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --no-cache-dir --disable-pip-version-check --no-deps \
      --find-links /tmp/wheels --require-hashes -r /tmp/wheels/requirements-server.lock \
 && /opt/venv/bin/pip install --no-index --no-cache-dir --disable-pip-version-check \
      --find-links /tmp/wheels -r /tmp/wheels/requirements-env.txt \
 && rm -rf /tmp/wheels /root/.cache
COPY wheels/project/ /tmp/project/
RUN /opt/venv/bin/pip install --no-index --no-cache-dir --disable-pip-version-check --no-deps \
      /tmp/project/*.whl \
 && rm -rf /tmp/project /root/.cache
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    OPENENV_HARNESS_ENV=${ENV_NAME}
LABEL org.openenv-harness.env=${ENV_NAME}
# Unprivileged at run time; the provider also drops capabilities and sets resource limits.
USER 65534:65534
EXPOSE 8000
# Shell form with exec so the server replaces the shell and gets SIGTERM (the provider passes an explicit
# command anyway, with the env's kwargs).
CMD exec python -m openenv_harness.server --env "$OPENENV_HARNESS_ENV" --host 0.0.0.0 --port 8000
