# One image for every newsworkers role; the compose file picks the role by command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY workers ./workers
COPY config ./config
COPY seeds ./seeds
RUN pip install --no-cache-dir .
ENV NEWSWORKERS_DATA_DIR=/data
VOLUME ["/data"]
ENTRYPOINT ["newsworkers"]
