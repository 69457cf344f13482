# The api server in a container, built by `make image` (go run ./scripts/build
# -platform image), whose context is dist/image: the static kmsless command
# and kmsless-api, its link, by which name it is the api server; the CA
# bundle; and an empty data directory. Nothing is compiled here, so the image
# is the binary the build made, and holds no shell, package or toolchain.
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY bin/ /usr/local/bin/
# A numeric user, so that a runtime that refuses to run as root (Kubernetes'
# runAsNonRoot) can tell without a passwd file. /data is the user's and group
# 0's (mode 770), for a runtime that picks an arbitrary user in group 0.
COPY --chown=65532:0 volume/ /
USER 65532:65532
ENV KMS_LISTEN_ADDR=:8080 \
    KMS_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
# kmsless healthcheck asks /readyz where the environment says the server
# listens (KMS_OPERATOR_ADDR when set), so it follows what the container is
# given; a server that asks for client certificates needs KMS_OPERATOR_ADDR.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s CMD ["kmsless", "healthcheck"]
CMD ["kmsless-api"]
