#!/usr/bin/env bash
# manifests.sh DIR [PORT] — writes the benchmark's Gateway API manifests into DIR: the same
# routing as the reference proxies in ../shared/bench (any Host → v1 on 127.0.0.1:18081;
# Host split.example.com → 90 % v1 / 10 % v2 on 127.0.0.1:18082), served by a Gateway on
# 127.0.0.1:PORT (default 18110). The backends are selector-less Services whose
# EndpointSlices point at the bench's nginx origins, so no fake pod is involved.
set -euo pipefail
dir=${1:?usage: manifests.sh DIR [PORT]}
port=${2:-18110}
v1=${V1_PORT:-18081}
v2=${V2_PORT:-18082}
mkdir -p "$dir"
cat > "$dir/bench.yaml" <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: bench}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bench, namespace: bench}
spec:
  gatewayClassName: istio
  addresses: [{type: IPAddress, value: 127.0.0.1}]
  listeners:
  - {name: http, port: $port, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}
---
apiVersion: v1
kind: Service
metadata: {name: v1, namespace: bench}
spec:
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: v1-1
  namespace: bench
  labels: {kubernetes.io/service-name: v1}
addressType: IPv4
ports: [{port: $v1}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: v1
kind: Service
metadata: {name: v2, namespace: bench}
spec:
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: v2-1
  namespace: bench
  labels: {kubernetes.io/service-name: v2}
addressType: IPv4
ports: [{port: $v2}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: any-host, namespace: bench}
spec:
  parentRefs: [{name: bench}]
  rules:
  - backendRefs: [{name: v1, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: bench}
spec:
  parentRefs: [{name: bench}]
  hostnames: [split.example.com]
  rules:
  - backendRefs:
    - {name: v1, port: 80, weight: 90}
    - {name: v2, port: 80, weight: 10}
YAML
