# One Quen process. Settings come from the environment (QUEN_*); see README "Running a chain".
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 quen
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY locales ./locales
COPY loyalty ./loyalty
COPY models ./models
COPY scheduler ./scheduler
RUN pip install . && mkdir -p /app/data && chown quen:quen /app/data
USER quen
ENV QUEN_HTTP_HOST=0.0.0.0 QUEN_HTTP_PORT=8080
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["quen", "run"]
