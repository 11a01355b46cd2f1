# Build: the committed .sqlx/ data lets the query macros compile without a database.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true
RUN cargo build --release --locked --bin concord

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app concord
WORKDIR /app
COPY --from=build /src/target/release/concord /app/concord
COPY static /app/static
ENV CONCORD_BIND=0.0.0.0:8080 \
    CONCORD_STATIC_DIR=/app/static
USER concord
EXPOSE 8080
ENTRYPOINT ["/app/concord"]
CMD ["serve"]
