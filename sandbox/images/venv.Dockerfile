# The Python sandbox image: the debootstrap base plus a venv with the benchmarks' libraries.
# Built with no network: the wheels were fetched on the host and come in the build context.
ARG BASE
FROM ${BASE} AS builder
# the build removes this stage's image (wheels and a second venv, GBs) once it is done
LABEL codeeval.build-stage=builder
COPY requirements.txt /tmp/requirements.txt
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --no-cache-dir --disable-pip-version-check \
      --find-links /tmp/wheels -r /tmp/requirements.txt

FROM ${BASE}
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1
