# syntax=docker/dockerfile:1.7
# kfn images. Node 24 ("Krypton", LTS until 2028-04); bump NODE_IMAGE to move on.
#
#   docker build --target platform     -t kfn/platform:dev .
#   docker build --target node-runtime -t kfn/node-runtime:dev .
#
# `platform` holds every entry; a Deployment picks one with its args, e.g.
#   args: ["/opt/kfn/dist/cmd/activator/main.js"]
# `node-runtime` is the base image of Node functions (see samples/hello/Dockerfile).
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY cmd ./cmd
COPY pkg ./pkg
RUN npx tsc -p tsconfig.json

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /opt/kfn
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS platform
ENV NODE_ENV=production
WORKDIR /opt/kfn
# package.json says "type": "module", which the compiled files need.
COPY package.json .node-version ./
COPY --from=prod-deps /opt/kfn/node_modules ./node_modules
COPY --from=build /src/dist/cmd ./dist/cmd
COPY --from=build /src/dist/pkg ./dist/pkg
COPY --chmod=0755 bin ./bin
# The official image's `node` user, by number so runAsNonRoot can check it.
USER 1000:1000
ENTRYPOINT ["node"]
CMD ["/opt/kfn/dist/cmd/kfn/main.js", "--help"]

FROM ${NODE_IMAGE} AS node-runtime
ENV NODE_ENV=production \
    PORT=8080 \
    PATH=/opt/kfn/bin:$PATH
WORKDIR /opt/kfn
# The runtime imports node built-ins only: no node_modules here.
COPY package.json ./
COPY --from=build /src/dist/pkg/runtime ./dist/pkg/runtime
COPY --chmod=0755 bin/kfn-node-runtime ./bin/kfn-node-runtime
WORKDIR /app
USER 1000:1000
EXPOSE 8080
CMD ["kfn-node-runtime", "handler.js"]
