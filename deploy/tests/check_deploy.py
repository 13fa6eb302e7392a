#!/usr/bin/env python3
"""Consistency checks of deploy/ that no off-the-shelf validator makes.

Run by scripts/check-deploy.sh (with its virtualenv's Python, for PyYAML), after the schema
and syntax checks of the real tools (kubernetes-validate, promtool, check-jsonschema,
hadolint). Usage: check_deploy.py REPO_ROOT PROMTOOL WORK_DIR

It checks that the pieces agree with each other and with the service:
- every YAML file under deploy/ parses;
- the metrics of docs/metrics.md are those the code declares (`const …: &str = "rosetta_…"` in a
  `metrics.rs`);
- the Kubernetes manifests: kustomization lists every manifest but the example Secret; for the
  API (`rosetta`, serve without the data plane) and the data plane (`rosetta-replicator`,
  replicate): probes on routes the process serves (read from the code), ports, labels,
  selectors that never cross, security context, graceful termination long enough for the
  drain and a pipeline's stop (read from the code), the metadata database's connections, a
  budget and a scrape job each; the Secret, the ConfigMap and the pods' env name only settings
  documented in docs/configuration.md;
- the WAL thresholds of the alert rules equal WAL_SLOT_* of the ConfigMap and of Compose;
- the alert rules and the Grafana dashboard use only the metrics Rosetta exports, with labels
  those metrics have, per-pipeline alerts one per pipeline; every alert is proven to fire by
  alerts.test.yml; every dashboard query is valid PromQL (checked by promtool, as recording
  rules); the lag panel draws the lag alerts' thresholds;
- Compose: logical WAL, health-gated start, production settings from deploy/.env, each ${VAR}
  documented in .env.example, deploy/.env ignored by git; `rosetta` runs everything, the
  optional `replicator` runs replicate with the same image and settings;
- every link to a heading of docs/ that deploy/, deployment.md and metrics.md make leads to one;
- wherever the service listens on every address (HOST=0.0.0.0: the image, Compose, the
  ConfigMap), API_KEYS are required and ALLOW_UNAUTHENTICATED is never set;
- the Dockerfile: its builder stage runs scripts/build-release.sh (the build CI runs), its
  runtime stage is non-root with a health check and the data directory; the build context
  (Dockerfile.dockerignore) holds what the build reads;
- .ci/run runs scripts/build-release.sh and this check.
"""

import glob
import json
import os
import re
import subprocess
import sys

import yaml

ROOT, PROMTOOL, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
DEPLOY = os.path.join(ROOT, "deploy")
FAILURES = []
CHECKS = [0]

# The metrics Rosetta exports, with their labels (checked against docs/metrics.md, and the names
# against the code's declarations).
# Histograms also have _bucket (with `le`), _sum and _count series.
METRICS = {
    "rosetta_http_requests_total": {"method", "route", "status"},
    "rosetta_http_request_duration_seconds": {"method", "route"},
    "rosetta_db_pool_size": set(),
    "rosetta_db_pool_idle": set(),
    "rosetta_db_pool_waiting": set(),
    "rosetta_source_wal_position_bytes": {"source_id", "source"},
    "rosetta_source_slot_retained_bytes": {"source_id", "source", "slot", "slot_type"},
    "rosetta_source_slot_active": {"source_id", "source", "slot"},
    "rosetta_source_probe_duration_seconds": {"source_id"},
    "rosetta_source_probe_failures_total": {"source_id", "source"},
    "rosetta_source_probe_last_success_timestamp_seconds": {"source_id", "source"},
    "rosetta_wal_monitor_cycle_duration_seconds": set(),
    "rosetta_wal_monitor_probes_total": {"outcome"},
    "rosetta_wal_monitor_cycles_total": {"claimed"},
    "rosetta_pipeline_lag_bytes": {"pipeline_id"},
    "rosetta_pipeline_lag_seconds": {"pipeline_id"},
    "rosetta_pipeline_rows_copied_total": {"pipeline_id"},
    "rosetta_pipeline_changes_applied_total": {"pipeline_id"},
    "rosetta_pipeline_failures_total": {"pipeline_id", "kind"},
    "rosetta_replicator_pipelines": set(),
    # Prometheus' own, per scrape target.
    "up": set(),
}
HISTOGRAMS = {
    "rosetta_http_request_duration_seconds",
    "rosetta_source_probe_duration_seconds",
    "rosetta_wal_monitor_cycle_duration_seconds",
}
# Labels Prometheus attaches to every scraped series (target labels of both example configs).
TARGET_LABELS = {"instance", "job", "namespace", "pod"}
PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan",
}


def check(condition, message):
    CHECKS[0] += 1
    if not condition:
        FAILURES.append(message)
    return condition


def rel(path):
    return os.path.relpath(path, ROOT)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def load_yaml(path):
    return [doc for doc in yaml.safe_load_all(read(path)) if doc is not None]


# --- YAML everywhere ---------------------------------------------------------------------------

def check_yaml_parses():
    for dirpath, _, files in os.walk(DEPLOY):
        for name in sorted(files):
            if name.endswith((".yml", ".yaml")):
                path = os.path.join(dirpath, name)
                try:
                    docs = load_yaml(path)
                    check(docs, f"{rel(path)}: no YAML document")
                except yaml.YAMLError as e:
                    check(False, f"{rel(path)}: does not parse: {e}")


# --- Settings documented in docs/configuration.md ---------------------------------------------

def documented_settings():
    names = set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|", read(os.path.join(ROOT, "docs/configuration.md")), re.M))
    check(len(names) >= 20, f"docs/configuration.md: found only {len(names)} settings")
    return names


def setting_default(name):
    m = re.search(r"^\|\s*`%s`\s*\|\s*`([^`]*)`" % name, read(os.path.join(ROOT, "docs/configuration.md")), re.M)
    check(m, f"docs/configuration.md: no default for {name}")
    return m.group(1) if m else "0"


def check_metrics_documented():
    """METRICS above agrees with docs/metrics.md, the service's own list of its metrics."""
    rows = {}
    for m in re.finditer(r"^\|\s*`(rosetta_\w+)`\s*\|\s*([^|]*)\|\s*([^|]*)\|", read(os.path.join(ROOT, "docs/metrics.md")), re.M):
        rows[m.group(1)] = (m.group(2).strip(), set(re.findall(r"`(\w+)`", m.group(3))))
    for name, labels in METRICS.items():
        if name == "up":
            continue
        if check(name in rows, f"docs/metrics.md does not list {name}"):
            kind, documented = rows[name]
            check(documented == labels, f"docs/metrics.md: {name} has labels {sorted(documented)}, not {sorted(labels)}")
            check((name in HISTOGRAMS) == kind.startswith("histogram"), f"docs/metrics.md: {name} is a {kind}")


# --- What the service's code says ---------------------------------------------------------------

def code_facts():
    """Facts the deployment must agree with, read from the Rust code rather than restated here:
    the metric names the code declares, the routes `rosetta replicate` serves, and how long a
    stop may take."""
    metric_names = set()
    # Metrics are declared in the `metrics.rs` modules; other `rosetta_…` constants (cookie
    # names, database name prefixes) are not metrics.
    for path in glob.glob(os.path.join(ROOT, "crates/*/src/**/metrics.rs"), recursive=True):
        metric_names |= set(re.findall(r'const [A-Z_]+: &str = "(rosetta_[a-z][a-z0-9_]*[a-z0-9])";', read(path)))
    check(len(metric_names) >= 15, f"crates/*/src: found only {len(metric_names)} metric names")

    lib = read(os.path.join(ROOT, "crates/http-api/src/lib.rs"))
    body = re.search(r"pub fn operations_app\(.*?\n}\n", lib, re.S)
    routes = set(re.findall(r'web::resource\("([^"]+)"\)', body.group(0))) if body else set()
    check({"/health", "/health/live", "/metrics"} <= routes,
          f"crates/http-api/src/lib.rs: operations_app (rosetta replicate) serves {sorted(routes)}")

    def seconds(path, const):
        m = re.search(r"const %s: Duration = Duration::from_secs\((\d+)\);" % const, read(os.path.join(ROOT, path)))
        check(m, f"{path}: no {const}")
        return int(m.group(1)) if m else 0
    return {
        "metrics": metric_names,
        "replicate_routes": routes,
        # How long in-flight requests may take once SIGTERM arrives (serve and replicate).
        "drain": seconds("crates/server/src/startup.rs", "SHUTDOWN_GRACE"),
        # How long each stopped pipeline gets to record its state before it is aborted.
        "worker_stop": seconds("crates/app/src/replicator/supervisor.rs", "STOP_GRACE"),
    }


def check_metrics_in_code(facts):
    exported = set(METRICS) - {"up"}
    check(facts["metrics"] == exported,
          f"metrics the code declares {sorted(facts['metrics'] - exported)} are not in METRICS, "
          f"or METRICS has {sorted(exported - facts['metrics'])} the code does not declare")


# --- Kubernetes ----------------------------------------------------------------------------------

API = "rosetta"                    # the Deployment (and Service) of the API: `rosetta serve`
REPLICATOR = "rosetta-replicator"  # the Deployment of the data plane: `rosetta replicate`
# PostgreSQL's default max_connections (100) less superuser_reserved_connections (3).
METADATA_CONNECTIONS = 97


def k8s_objects():
    objects = {}
    k8s = os.path.join(DEPLOY, "k8s")
    for name in sorted(os.listdir(k8s)):
        if name.endswith((".yaml", ".yml")):
            for doc in load_yaml(os.path.join(k8s, name)):
                objects.setdefault(doc.get("kind"), []).append((name, doc))
    return objects


def one(objects, kind):
    found = objects.get(kind, [])
    check(len(found) == 1, f"deploy/k8s: expected one {kind}, found {len(found)}")
    return found[0][1] if found else {}


def by_name(objects, kind):
    return {doc.get("metadata", {}).get("name"): doc for _, doc in objects.get(kind, [])}


def selects(selector, labels):
    match = selector.get("matchLabels", {})
    return bool(match) and match.items() <= labels.items()


def memory_bytes(quantity):
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", str(quantity))
    if not check(m, f"deploy/k8s: memory quantity {quantity!r} not understood"):
        return 0
    return int(m.group(1)) * {None: 1, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3}[m.group(2)]


def check_pod(name, deployment, config, account, settings):
    """What every Rosetta Deployment needs; returns its container, its ports and its pod labels."""
    where = f"Deployment {name}"
    spec = deployment.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    pod_labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    check(spec.get("replicas", 1) >= 2, f"{where}: several replicas expected")
    check(selects(spec.get("selector", {}), pod_labels), f"{where}: selector does not match the pod labels")
    check(spec.get("strategy", {}).get("rollingUpdate", {}).get("maxUnavailable") == 0,
          f"{where}: rolling update must keep maxUnavailable 0")
    check(pod.get("serviceAccountName") == account.get("metadata", {}).get("name"),
          f"{where}: serviceAccountName is not the ServiceAccount")
    containers = pod.get("containers", [])
    check(len(containers) == 1, f"{where}: one container expected")
    c = containers[0] if containers else {}
    check(c.get("image", "").split(":")[0] == "rosetta", f"{where}: the image is `rosetta` (kustomize `images:` sets it)")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    data = config.get("data", {})
    check(ports.get("http") == int(data.get("PORT", "0")), f"{where}: containerPort `http` differs from the ConfigMap's PORT")

    def probe(kind):
        return c.get(kind, {}).get("httpGet", {})
    check(probe("readinessProbe").get("path") == "/health", f"{where}: readinessProbe must GET /health")
    check(probe("livenessProbe").get("path") == "/health/live", f"{where}: livenessProbe must GET /health/live")
    check(probe("startupProbe").get("path") == "/health/live", f"{where}: startupProbe must GET /health/live")
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        check(probe(kind).get("port") in ports, f"{where}: {kind} port is not a container port")

    resources = c.get("resources", {})
    for part in ("requests", "limits"):
        check({"cpu", "memory"} <= set(resources.get(part, {})), f"{where}: resources.{part} needs cpu and memory")

    pod_sc, c_sc = pod.get("securityContext", {}), c.get("securityContext", {})
    check(pod_sc.get("runAsNonRoot") is True, f"{where}: runAsNonRoot")
    check(pod_sc.get("runAsUser") == 10001, f"{where}: runAsUser must be the image's uid 10001")
    check(c_sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem")
    check(c_sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation false")
    check("ALL" in c_sc.get("capabilities", {}).get("drop", []), f"{where}: drop ALL capabilities")
    mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts", [])}
    volumes = {v.get("name"): v for v in pod.get("volumes", [])}
    data_dir = data.get("ROSETTA_DATA_DIR")
    check(data_dir in mounts and "emptyDir" in volumes.get(mounts.get(data_dir), {}),
          f"{where}: ROSETTA_DATA_DIR must be a mounted emptyDir (the root filesystem is read-only)")

    refs = {(k, v.get("name")) for e in c.get("envFrom", []) for k, v in e.items()}
    check(("configMapRef", config.get("metadata", {}).get("name")) in refs, f"{where}: envFrom the ConfigMap")
    check(("secretRef", "rosetta-secrets") in refs, f"{where}: envFrom the Secret rosetta-secrets")
    for var in c.get("env", []):
        check(var.get("name") in settings, f"{where}: env {var.get('name')} is not a setting of docs/configuration.md")
        check(isinstance(var.get("value"), str), f"{where}: env {var.get('name')} must be a string value")
        check(var.get("name") not in {"DATABASE_URL", "ROSETTA_ENCRYPTION_KEYS", "API_KEYS"},
              f"{where}: {var.get('name')} belongs in the Secret")

    annotations = spec.get("template", {}).get("metadata", {}).get("annotations", {})
    check(annotations.get("prometheus.io/scrape") == "true", f"{where}: prometheus.io/scrape must be \"true\"")
    check(annotations.get("prometheus.io/port") == data.get("PORT"), f"{where}: prometheus.io/port != PORT")
    check(annotations.get("prometheus.io/path") == "/metrics", f"{where}: prometheus.io/path must be /metrics")
    return c, ports, pod_labels


def env_of(container):
    return {v.get("name"): v.get("value") for v in container.get("env", [])}


def check_kubernetes(settings, facts):
    objects = k8s_objects()
    kust = one(objects, "Kustomization")
    listed = set(kust.get("resources", []))
    manifests = {n for kind, docs in objects.items() if kind != "Kustomization" for n, _ in docs}
    check("secret.example.yaml" not in listed,
          "deploy/k8s/kustomization.yaml must not apply secret.example.yaml (placeholders would overwrite real keys)")
    check(listed == manifests - {"secret.example.yaml"},
          f"deploy/k8s/kustomization.yaml resources {sorted(listed)} != manifests {sorted(manifests - {'secret.example.yaml'})}")

    deployments = by_name(objects, "Deployment")
    check(set(deployments) == {API, REPLICATOR}, f"deploy/k8s: Deployments {sorted(deployments)}, expected {API} and {REPLICATOR}")
    api, replicator = deployments.get(API, {}), deployments.get(REPLICATOR, {})
    service = one(objects, "Service")
    config = one(objects, "ConfigMap")
    secret = one(objects, "Secret")
    account = one(objects, "ServiceAccount")
    data = config.get("data", {})

    api_c, api_ports, api_labels = check_pod(API, api, config, account, settings)
    rep_c, rep_ports, rep_labels = check_pod(REPLICATOR, replicator, config, account, settings)

    # The API: serve, behind the Service, without the data plane.
    check(api_c.get("args") == ["serve"], f"Deployment {API}: the container must run `rosetta serve`")
    check(env_of(api_c).get("REPLICATOR_ENABLED") == "false",
          f"Deployment {API}: REPLICATOR_ENABLED must be \"false\" (the pipelines run in {REPLICATOR})")
    pre_stop = api_c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    check(len(pre_stop) == 2 and pre_stop[0] == "sleep", f"Deployment {API}: preStop must `sleep` before SIGTERM")
    sleep = int(pre_stop[1]) if len(pre_stop) == 2 else 0
    api_pod = api.get("spec", {}).get("template", {}).get("spec", {})
    grace = api_pod.get("terminationGracePeriodSeconds", 30)
    check(grace >= sleep + facts["drain"] + 5,
          f"Deployment {API}: terminationGracePeriodSeconds {grace} < preStop {sleep} s + {facts['drain']} s drain + margin")

    # The data plane: replicate, its probes on the routes it serves, a stop that has time to
    # hand the pipelines over.
    check(rep_c.get("args") == ["replicate"], f"Deployment {REPLICATOR}: the container must run `rosetta replicate`")
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        path = rep_c.get(kind, {}).get("httpGet", {}).get("path")
        check(path in facts["replicate_routes"], f"Deployment {REPLICATOR}: {kind} GETs {path}, which `rosetta replicate` does not serve")
    rep_annotations = replicator.get("spec", {}).get("template", {}).get("metadata", {}).get("annotations", {})
    check(rep_annotations.get("prometheus.io/path") in facts["replicate_routes"],
          f"Deployment {REPLICATOR}: prometheus.io/path is not served by `rosetta replicate`")
    rep_pod = replicator.get("spec", {}).get("template", {}).get("spec", {})
    rep_grace = rep_pod.get("terminationGracePeriodSeconds", 30)
    check(rep_grace >= facts["drain"] + facts["worker_stop"] + 5,
          f"Deployment {REPLICATOR}: terminationGracePeriodSeconds {rep_grace} < {facts['drain']} s listener drain "
          f"+ {facts['worker_stop']} s for a pipeline to stop + margin")
    check("lifecycle" not in rep_c, f"Deployment {REPLICATOR}: no preStop (no Service routes to it; it only delays the handover)")
    check(replicator.get("spec", {}).get("minReadySeconds", 0) >= 2 * int(data.get("REPLICATOR_POLL_SECONDS", "2")),
          f"Deployment {REPLICATOR}: minReadySeconds must leave a new replica two polls to take its share")
    limit = memory_bytes(rep_c.get("resources", {}).get("limits", {}).get("memory", "0"))
    batch = int(data.get("REPLICATOR_BATCH_BYTES", "16777216"))
    check(limit >= 32 * 1024 ** 2 + 10 * batch,
          f"Deployment {REPLICATOR}: memory limit below 32 MiB + 10 pipelines x REPLICATOR_BATCH_BYTES")
    check(env_of(rep_c).get("REPLICATOR_ENABLED") is None and "REPLICATOR_ENABLED" not in data,
          f"Deployment {REPLICATOR}: REPLICATOR_ENABLED means nothing to `rosetta replicate`; set it on the API only")

    # The two Deployments never select each other's pods (a Deployment's selector is immutable).
    check(not selects(api.get("spec", {}).get("selector", {}), rep_labels),
          f"Deployment {API}: its selector matches the {REPLICATOR} pods")
    check(not selects(replicator.get("spec", {}).get("selector", {}), api_labels),
          f"Deployment {REPLICATOR}: its selector matches the {API} pods")
    check(api_labels.get("app.kubernetes.io/component") == "control-plane"
          and rep_labels.get("app.kubernetes.io/component") == "data-plane",
          "deploy/k8s: pods labelled app.kubernetes.io/component control-plane (API) and data-plane (replicator)")

    # The metadata database's connections: every replica's pool at its largest.
    def pool(container):
        env = env_of(container)
        return int(env.get("DB_POOL_SIZE", data.get("DB_POOL_SIZE", "20"))) + int(env.get("DB_MAX_OVERFLOW", data.get("DB_MAX_OVERFLOW", "10")))
    connections = sum(d.get("spec", {}).get("replicas", 1) * pool(c) for d, c in ((api, api_c), (replicator, rep_c)))
    check(connections <= METADATA_CONNECTIONS,
          f"deploy/k8s: the replicas' pools may open {connections} connections to the metadata database, over {METADATA_CONNECTIONS}")

    check(secret.get("metadata", {}).get("name") == "rosetta-secrets", "secret.example.yaml: name rosetta-secrets")
    secret_data = secret.get("stringData", {})
    check(set(secret_data) == {"DATABASE_URL", "ROSETTA_ENCRYPTION_KEYS", "API_KEYS"},
          f"secret.example.yaml: keys {sorted(secret_data)}")
    check(all("REPLACE" in str(v) for v in secret_data.values()),
          "secret.example.yaml: every value must be an obvious REPLACE placeholder")
    for key in list(data) + list(secret_data):
        check(key in settings, f"deploy/k8s: {key} is not a setting of docs/configuration.md")
    check(not set(data) & set(secret_data), "deploy/k8s: a setting is both in the ConfigMap and the Secret")
    check(not set(data) & {"DATABASE_URL", "ROSETTA_ENCRYPTION_KEYS", "API_KEYS"},
          "deploy/k8s: secrets belong in the Secret, not the ConfigMap")
    check(data.get("APP_ENV") == "production", "ConfigMap: APP_ENV=production")
    # The Service reaches the pods on their own address, and serve refuses a HOST other than
    # loopback without API_KEYS (an API open to the network).
    check(data.get("HOST") == "0.0.0.0", "ConfigMap: HOST=0.0.0.0 (the Service reaches the pod on its address)")
    check("API_KEYS" in secret_data and "ALLOW_UNAUTHENTICATED" not in data,
          "deploy/k8s: HOST=0.0.0.0 goes with API_KEYS in the Secret, never ALLOW_UNAUTHENTICATED")
    check(data.get("LOG_FORMAT") == "json", "ConfigMap: LOG_FORMAT=json")
    check(all(isinstance(v, str) for v in data.values()), "ConfigMap: every value must be a string")

    svc = service.get("spec", {})
    check(service.get("metadata", {}).get("name") == API, f"Service: named {API}")
    check(svc.get("selector", {}).items() <= api_labels.items(), "Service: selector does not match the API pods")
    check(not svc.get("selector", {}).items() <= rep_labels.items(), "Service: selector matches the replicator pods, which serve no API")
    check(any(p.get("port") == 80 and p.get("targetPort") in api_ports for p in svc.get("ports", [])),
          "Service: port 80 must target the container's http port")

    pdbs = by_name(objects, "PodDisruptionBudget")
    check(set(pdbs) == {API, REPLICATOR}, f"deploy/k8s: PodDisruptionBudgets {sorted(pdbs)}, expected one per Deployment")
    for name, labels, deployment in ((API, api_labels, api), (REPLICATOR, rep_labels, replicator)):
        pdb_spec = pdbs.get(name, {}).get("spec", {})
        other = rep_labels if name == API else api_labels
        check(selects(pdb_spec.get("selector", {}), labels) and not selects(pdb_spec.get("selector", {}), other),
              f"PodDisruptionBudget {name}: must select the {name} pods, and only them")
        replicas = deployment.get("spec", {}).get("replicas", 1)
        if "minAvailable" in pdb_spec:
            check(0 < pdb_spec["minAvailable"] < replicas,
                  f"PodDisruptionBudget {name}: minAvailable must be below the replicas, or drains never finish")
        else:
            check(pdb_spec.get("maxUnavailable", 0) >= 1, f"PodDisruptionBudget {name}: maxUnavailable at least 1")

    check_kubernetes_scrape(api_labels, rep_labels)
    return data


def check_kubernetes_scrape(api_labels, rep_labels):
    """prometheus-kubernetes.yml scrapes each Deployment's pods in a job of its own: `rosetta`
    (RosettaDown's) the API pods, `rosetta-replicator` the data plane's."""
    config = load_yaml(os.path.join(DEPLOY, "prometheus/prometheus-kubernetes.yml"))[0]
    kept = {}
    for job in config.get("scrape_configs", []):
        for relabel in job.get("relabel_configs", []):
            if relabel.get("action") == "keep" and relabel.get("source_labels") == ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]:
                kept[job.get("job_name")] = relabel.get("regex")
    for job, labels in ((API, api_labels), (REPLICATOR, rep_labels)):
        name = labels.get("app.kubernetes.io/name", "")
        jobs = [j for j, regex in kept.items() if regex and re.fullmatch(regex, name)]
        check(jobs == [job], f"prometheus-kubernetes.yml: pods named {name!r} are kept by jobs {jobs}, expected [{job!r}]")


# --- PromQL: metric names and labels -------------------------------------------------------------

def substitute_grafana_variables(expr):
    expr = re.sub(r"\$__\w+", "5m", expr)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def promql_names(expr):
    """Metric names, grouping labels and matcher labels used by a PromQL expression."""
    no_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    grouping = set()
    for m in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", no_strings):
        grouping |= {x.strip() for x in m.group(1).split(",") if x.strip()}
    matchers = set()
    for m in re.finditer(r"\{([^}]*)\}", no_strings):
        matchers |= set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", m.group(1)))
    rest = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", no_strings)
    rest = re.sub(r"\{[^}]*\}", " ", rest)
    rest = re.sub(r"\[[^\]]*\]", " ", rest)
    metrics = set()
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)\b(?!\s*\()", rest):
        word = m.group(1)
        if word.lower() not in PROMQL_WORDS:
            metrics.add(word)
    return metrics, grouping, matchers


def check_promql(where, expr, legend_labels=()):
    metrics, grouping, matchers = promql_names(expr)
    check(metrics, f"{where}: no metric in {expr!r}")
    allowed = set(TARGET_LABELS)
    for name in metrics:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if base in HISTOGRAMS and base != name:
            allowed |= METRICS[base] | ({"le"} if name.endswith("_bucket") else set())
        elif check(name in METRICS and name not in HISTOGRAMS,
                   f"{where}: {name} is not a metric Rosetta exports (or a histogram without _bucket/_sum/_count)"):
            allowed |= METRICS[name]
    for label in grouping | matchers:
        check(label in allowed, f"{where}: label {label!r} is not on {sorted(metrics)}")
    for label in legend_labels:
        check(label in grouping or (not grouping and label in allowed),
              f"{where}: {{{{{label}}}}} is not kept by the aggregation of {expr!r}")
    return grouping


# --- Prometheus rules -----------------------------------------------------------------------------

def check_alerts(config_data, compose_env):
    alerts_path = os.path.join(DEPLOY, "prometheus/alerts.yml")
    groups = load_yaml(alerts_path)[0].get("groups", [])
    alerts = {}
    for group in groups:
        for rule in group.get("rules", []):
            name = rule.get("alert")
            if not check(name, f"alerts.yml: group {group.get('name')}: a rule without `alert`"):
                continue
            alerts[name] = rule
            grouping = check_promql(f"alerts.yml {name}", rule.get("expr", ""))
            check(rule.get("labels", {}).get("severity") in ("warning", "critical"),
                  f"alerts.yml {name}: severity must be warning or critical")
            annotations = rule.get("annotations", {})
            check({"summary", "description"} <= set(annotations), f"alerts.yml {name}: summary and description")
            for text in annotations.values():
                for label in re.findall(r"\$labels\.(\w+)", text):
                    check(label in grouping, f"alerts.yml {name}: $labels.{label} is not kept by the expression")

    names = set(alerts)
    expected = {"RosettaSlotInactiveRetaining", "RosettaSlotRetainedAboveWarning",
                "RosettaSlotRetainedAboveCritical", "RosettaSourceProbeFailing",
                "RosettaWalMonitorStalled", "RosettaPipelineLagging", "RosettaPipelineLagCritical",
                "RosettaPipelineFailing", "RosettaPipelineStopped", "RosettaReplicatorAbsent"}
    check(expected <= names, f"alerts.yml: missing {sorted(expected - names)}")

    # A pipeline's series come from whichever replica runs it (and linger on one it left): its
    # alerts aggregate them into one per pipeline.
    for name, rule in alerts.items():
        metrics, grouping, _ = promql_names(rule.get("expr", ""))
        if any(m.startswith("rosetta_pipeline_") for m in metrics):
            check(grouping == {"pipeline_id"}, f"alerts.yml {name}: must aggregate `by (pipeline_id)`, not {sorted(grouping)}")
    # A pipeline that keeps failing fails again within every backoff: the window must hold two.
    window = re.search(r"\[(\d+)m\]", alerts.get("RosettaPipelineFailing", {}).get("expr", ""))
    backoff = int(config_data.get("REPLICATOR_MAX_BACKOFF_SECONDS", setting_default("REPLICATOR_MAX_BACKOFF_SECONDS")))
    check(window and int(window.group(1)) * 60 >= 2 * backoff,
          f"alerts.yml RosettaPipelineFailing: its window must hold two retries ({backoff} s apart at most)")

    # Thresholds equal the service's settings wherever the deployment sets them.
    warn = re.search(r">\s*(\d+)\s*$", alerts.get("RosettaSlotRetainedAboveWarning", {}).get("expr", "").strip())
    crit = re.search(r">\s*(\d+)\s*$", alerts.get("RosettaSlotRetainedAboveCritical", {}).get("expr", "").strip())
    for source, values in (("deploy/k8s/configmap.yaml", config_data), ("deploy/docker-compose.yml", compose_env)):
        check(warn and values.get("WAL_SLOT_WARN_BYTES") == warn.group(1),
              f"alerts.yml warning threshold != WAL_SLOT_WARN_BYTES of {source}")
        check(crit and values.get("WAL_SLOT_CRITICAL_BYTES") == crit.group(1),
              f"alerts.yml critical threshold != WAL_SLOT_CRITICAL_BYTES of {source}")

    # Every alert is shown to fire by a unit test.
    tests = load_yaml(os.path.join(DEPLOY, "prometheus/alerts.test.yml"))[0]
    check("alerts.yml" in tests.get("rule_files", []), "alerts.test.yml: must load alerts.yml")
    fired = {t.get("alertname") for test in tests.get("tests", []) for t in test.get("alert_rule_test", [])
             if t.get("exp_alerts")}
    quiet = {t.get("alertname") for test in tests.get("tests", []) for t in test.get("alert_rule_test", [])
             if not t.get("exp_alerts")}
    check(names <= fired, f"alerts.test.yml: no test makes {sorted(names - fired)} fire")
    check(names <= quiet, f"alerts.test.yml: no test shows {sorted(names - quiet)} quiet")
    return alerts


# --- Grafana ----------------------------------------------------------------------------------------

def alert_threshold(alerts, name):
    m = re.search(r">\s*(\d+)\s*$", alerts.get(name, {}).get("expr", "").strip())
    check(m, f"alerts.yml {name}: no `> N` threshold")
    return int(m.group(1)) if m else None


def check_dashboard(alerts):
    path = os.path.join(DEPLOY, "grafana/rosetta-dashboard.json")
    try:
        dashboard = json.loads(read(path))
    except json.JSONDecodeError as e:
        check(False, f"{rel(path)}: not JSON: {e}")
        return
    check(dashboard.get("schemaVersion") == 39, "dashboard: schemaVersion 39")
    check(dashboard.get("uid") and dashboard.get("title"), "dashboard: uid and title")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    ds_var = variables.get("DS_PROMETHEUS", {})
    check(ds_var.get("type") == "datasource" and ds_var.get("query") == "prometheus",
          "dashboard: a DS_PROMETHEUS data source variable of type prometheus")
    ds_ref = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    ids, rules, cells = set(), [], set()
    exprs = []
    for v in variables.values():
        if v.get("type") == "query":
            check(v.get("datasource") == ds_ref, f"dashboard: variable {v.get('name')} data source")
            q = v.get("definition", "")
            m = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", q)
            if check(m, f"dashboard: variable {v.get('name')}: unexpected query {q!r}"):
                check(m.group(1) in METRICS and m.group(2) in METRICS[m.group(1)],
                      f"dashboard: variable {v.get('name')}: {q!r} names an unknown metric or label")
    for panel in dashboard.get("panels", []):
        title = panel.get("title")
        check(panel.get("id") not in ids, f"dashboard: duplicate panel id {panel.get('id')}")
        ids.add(panel.get("id"))
        g = panel.get("gridPos", {})
        check(g.get("x", 0) + g.get("w", 0) <= 24 and g.get("w", 0) > 0 and g.get("h", 0) > 0,
              f"dashboard: panel {title!r} gridPos {g}")
        area = {(x, y) for x in range(g.get("x", 0), g.get("x", 0) + g.get("w", 0))
                for y in range(g.get("y", 0), g.get("y", 0) + g.get("h", 0))}
        check(not area & cells, f"dashboard: panel {title!r} overlaps another")
        cells |= area
        if panel.get("type") == "row":
            continue
        check(panel.get("datasource") == ds_ref, f"dashboard: panel {title!r} data source must be ${{DS_PROMETHEUS}}")
        targets = panel.get("targets", [])
        check(targets, f"dashboard: panel {title!r} has no query")
        refs = [t.get("refId") for t in targets]
        check(len(refs) == len(set(refs)), f"dashboard: panel {title!r} repeats a refId")
        for t in targets:
            expr = t.get("expr", "")
            legend = re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", ""))
            check_promql(f"dashboard panel {title!r}", substitute_grafana_variables(expr), legend)
            exprs.append((title, expr))
    names = " ".join(e for _, e in exprs)
    for needed in ("rosetta_source_wal_position_bytes", "rosetta_source_slot_retained_bytes",
                   "rosetta_pipeline_lag_seconds", "rosetta_pipeline_lag_bytes",
                   "rosetta_pipeline_changes_applied_total", "rosetta_replicator_pipelines"):
        check(needed in names, f"dashboard: no panel plots {needed}")
    check(not re.search(r"\b(?:rate|increase)\(rosetta_pipeline_lag", names),
          "dashboard: pipeline lags are gauges: never rate or increase them")
    # The lag panel draws the alerts' thresholds.
    lag_panels = [p for p in dashboard.get("panels", [])
                  if any("rosetta_pipeline_lag_seconds" in t.get("expr", "") for t in p.get("targets", []))]
    wanted = {alert_threshold(alerts, "RosettaPipelineLagging"), alert_threshold(alerts, "RosettaPipelineLagCritical")}
    for panel in lag_panels:
        steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
        drawn = {s.get("value") for s in steps if s.get("value") is not None}
        check(drawn == wanted, f"dashboard panel {panel.get('title')!r}: thresholds {sorted(drawn)} != the lag alerts' {sorted(wanted)}")
        check(panel.get("fieldConfig", {}).get("defaults", {}).get("unit") == "s",
              f"dashboard panel {panel.get('title')!r}: unit must be s")
    check(not re.search(r"\brate\(rosetta_source_wal_position_bytes", names),
          "dashboard: the WAL position is a gauge: use deriv, not rate")

    # Every query is valid PromQL: promtool checks them as recording rules.
    for i, (_, expr) in enumerate(exprs):
        rules.append({"record": f"dashboard:panel_query_{i}", "expr": substitute_grafana_variables(expr)})
    rules_path = os.path.join(WORK, "dashboard-queries.rules.yml")
    with open(rules_path, "w", encoding="utf-8") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f, sort_keys=False)
    run = subprocess.run([PROMTOOL, "check", "rules", rules_path], capture_output=True, text=True)
    check(run.returncode == 0, f"dashboard: promtool rejects a query:\n{run.stdout}{run.stderr}")


# --- Compose -------------------------------------------------------------------------------------

def check_compose(settings, facts):
    compose = load_yaml(os.path.join(DEPLOY, "docker-compose.yml"))[0]
    services = compose.get("services", {})
    pg, app = services.get("postgres", {}), services.get("rosetta", {})
    command = pg.get("command", [])
    check("wal_level=logical" in command, "compose: postgres must run with wal_level=logical")
    check(pg.get("image", "").startswith("postgres:"), "compose: postgres image")
    check("pg_isready" in " ".join(pg.get("healthcheck", {}).get("test", [])), "compose: postgres healthcheck with pg_isready")
    check(app.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
          "compose: rosetta must wait for a healthy postgres")
    build = app.get("build", {})
    check(build.get("context") == ".." and build.get("dockerfile") == "deploy/Dockerfile",
          "compose: rosetta is built from deploy/Dockerfile with the repository as context")
    env = {k: str(v) for k, v in app.get("environment", {}).items()}
    for key in env:
        check(key in settings, f"compose: {key} is not a setting of docs/configuration.md")
    check(env.get("APP_ENV") == "production", "compose: APP_ENV=production")
    # The published port reaches the container on its address; serve refuses that without
    # API_KEYS (required below).
    check(env.get("HOST") == "0.0.0.0", "compose: HOST=0.0.0.0 (the published port reaches the container on its address)")
    check("ALLOW_UNAUTHENTICATED" not in env, "compose: the API is protected by API_KEYS, never ALLOW_UNAUTHENTICATED")
    for secret in ("ROSETTA_ENCRYPTION_KEYS", "API_KEYS"):
        check(re.fullmatch(r"\$\{%s:\?[^}]+\}" % secret, env.get(secret, "")),
              f"compose: {secret} must come from deploy/.env, required")
    check("${POSTGRES_PASSWORD" in env.get("DATABASE_URL", ""), "compose: DATABASE_URL uses POSTGRES_PASSWORD")
    check(any(str(p).endswith(":8000") for p in app.get("ports", [])), "compose: rosetta publishes port 8000")
    check(app.get("command") == ["serve"], "compose: the rosetta service runs `rosetta serve`")
    # One process runs everything, the data plane included.
    check(env.get("REPLICATOR_ENABLED", "true") != "false", "compose: the rosetta service runs the data plane too")
    stop = facts["drain"] + facts["worker_stop"]
    grace = re.fullmatch(r"(\d+)s", str(app.get("stop_grace_period", "")))
    check(grace and int(grace.group(1)) > stop,
          f"compose: stop_grace_period must exceed serve's {facts['drain']} s drain + {facts['worker_stop']} s for a pipeline to stop")

    # The optional processes running only the data plane: the same image and settings.
    replicator = services.get("replicator", {})
    if check(replicator, "compose: a `replicator` service (rosetta replicate) shows how to scale out"):
        check(replicator.get("command") == ["replicate"], "compose: the replicator service runs `rosetta replicate`")
        check(replicator.get("profiles"), "compose: the replicator service is optional (a profile)")
        check(replicator.get("image") == app.get("image") and replicator.get("build") == app.get("build"),
              "compose: the replicator service runs the rosetta service's image")
        check(replicator.get("environment") == app.get("environment"), "compose: the replicator service has the rosetta service's settings")
        check(not replicator.get("ports"), "compose: the replicator service publishes no port (`--scale` would clash)")
        check(replicator.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
              "compose: the replicator service waits for a healthy postgres")
        grace = re.fullmatch(r"(\d+)s", str(replicator.get("stop_grace_period", "")))
        check(grace and int(grace.group(1)) > stop,
              f"compose: the replicator's stop_grace_period must exceed {stop} s")
    prometheus = read(os.path.join(DEPLOY, "prometheus/prometheus.yml"))
    commented = re.search(r"^  # (- job_name: rosetta-replicator\n(?:  #   .*\n)+)", prometheus, re.M)
    if check(commented, "prometheus.yml: a commented-out scrape job for the scale-out replicators"):
        job = re.sub(r"^  #   ", "    ", commented.group(1), flags=re.M).replace("- job_name", "  - job_name", 1)
        path = os.path.join(WORK, "prometheus-scale-out.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(prometheus.replace("rule_files:\n  - alerts.yml\n", "") + "\n" + job)
        run = subprocess.run([PROMTOOL, "check", "config", path], capture_output=True, text=True)
        check(run.returncode == 0, f"prometheus.yml: the scale-out job, uncommented, is refused:\n{run.stdout}{run.stderr}")

    text = read(os.path.join(DEPLOY, "docker-compose.yml"))
    used = set(re.findall(r"\$\{(\w+)", text))
    example = read(os.path.join(DEPLOY, ".env.example"))
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
    check(used <= documented, f"deploy/.env.example does not document {sorted(used - documented)}")
    for line in example.splitlines():
        m = re.match(r"^(ROSETTA_ENCRYPTION_KEYS|API_KEYS|POSTGRES_PASSWORD)=(.*)$", line)
        if m:
            check(re.search(r"REPLACE|change-me", m.group(2)), f"deploy/.env.example: {m.group(1)} must be a placeholder")
    ignored = subprocess.run(["git", "-C", ROOT, "check-ignore", "-q", "deploy/.env"])
    check(ignored.returncode == 0, "deploy/.env must be ignored by git")
    for volume in (services.get("prometheus", {}).get("volumes", []) + services.get("grafana", {}).get("volumes", [])):
        host = str(volume).split(":")[0]
        if host.startswith("./"):
            check(os.path.exists(os.path.join(DEPLOY, host)), f"compose: mounted {host} does not exist")
    return env


# --- Dockerfile --------------------------------------------------------------------------------------

def dockerfile_instructions(text):
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        lines.append((word.upper(), rest.strip()))
        current = ""
    return lines


def check_dockerfile():
    instructions = dockerfile_instructions(read(os.path.join(DEPLOY, "Dockerfile")))
    stages = []
    for word, rest in instructions:
        if word == "FROM":
            stages.append({"from": rest, "ins": []})
        elif stages:
            stages[-1]["ins"].append((word, rest))
    check(len(stages) == 2, f"Dockerfile: two stages expected, found {len(stages)}")
    if len(stages) != 2:
        return
    builder, runtime = stages
    check(re.match(r"rust:\S*bookworm\s+AS\s+builder$", builder["from"], re.I), f"Dockerfile: builder FROM {builder['from']}")
    runs = [rest for word, rest in builder["ins"] if word == "RUN"]
    check(any(re.search(r"(^|\s)scripts/build-release\.sh(\s|$)", r) for r in runs),
          "Dockerfile: the builder stage must RUN scripts/build-release.sh (the build CI runs)")
    check(not any("cargo build" in r for r in runs), "Dockerfile: build through scripts/build-release.sh only")
    check(runtime["from"].startswith("debian:bookworm-slim"), f"Dockerfile: runtime FROM {runtime['from']}")
    ins = runtime["ins"]
    words = {w: r for w, r in ins}
    check(words.get("USER", "").split(":")[0] == "10001", "Dockerfile: runtime USER 10001")
    check(words.get("EXPOSE") == "8000", "Dockerfile: EXPOSE 8000")
    check(words.get("STOPSIGNAL") == "SIGTERM", "Dockerfile: STOPSIGNAL SIGTERM")
    check("ROSETTA_DATA_DIR=/var/lib/rosetta" in words.get("ENV", ""), "Dockerfile: ROSETTA_DATA_DIR=/var/lib/rosetta")
    # Reachable through a published port; serve then needs API_KEYS, given at run time.
    check("HOST=0.0.0.0" in words.get("ENV", ""), "Dockerfile: HOST=0.0.0.0")
    check("API_KEYS" not in words.get("ENV", "") and "ALLOW_UNAUTHENTICATED" not in words.get("ENV", ""),
          "Dockerfile: API_KEYS come at run time, and the image never allows an open API")
    check("install -d -o 10001 -g 10001" in words.get("RUN", "") or any(
        "install -d -o 10001 -g 10001" in r for w, r in ins if w == "RUN"), "Dockerfile: /var/lib/rosetta owned by 10001")
    check(any(w == "COPY" and r.startswith("--from=builder") for w, r in ins), "Dockerfile: COPY --from=builder")
    health = words.get("HEALTHCHECK", "")
    cmd = re.search(r"\bCMD\s+(.*)$", health)
    if check(cmd, "Dockerfile: HEALTHCHECK CMD"):
        body = cmd.group(1)
        if body.startswith("["):
            try:
                body = " ".join(json.loads(body))
            except json.JSONDecodeError:
                # Docker would silently run it as a shell command instead.
                check(False, "Dockerfile: HEALTHCHECK CMD is not a valid JSON array")
        check("/health/live" in body, "Dockerfile: HEALTHCHECK must probe /health/live")
    for word in ("ENTRYPOINT", "CMD"):
        try:
            json.loads(words.get(word, ""))
        except json.JSONDecodeError:
            check(False, f"Dockerfile: {word} must be a JSON array (exec form: rosetta is PID 1 and gets SIGTERM)")

    # The build context (deploy/Dockerfile.dockerignore, an allow-list) has what the build reads.
    allowed = [line[1:].rstrip("/") for line in read(os.path.join(DEPLOY, "Dockerfile.dockerignore")).splitlines()
               if line.startswith("!")]
    for path in allowed:
        check(os.path.exists(os.path.join(ROOT, path)), f"Dockerfile.dockerignore: {path} does not exist")
    check("scripts/build-release.sh" in allowed, "Dockerfile.dockerignore: scripts/build-release.sh must be in the context")
    needed = {"Cargo.toml", "Cargo.lock", "crates"}
    for dirpath, _, files in os.walk(os.path.join(ROOT, "crates")):
        if "/target" in dirpath:
            continue
        for name in files:
            if name.endswith(".rs"):
                src = os.path.join(dirpath, name)
                for ref in re.findall(r'(?:include_str|include_bytes|embed_migrations)!\(\s*"([^"]+)"', read(src)):
                    target = os.path.normpath(os.path.join(dirpath, ref))
                    needed.add(os.path.relpath(target, ROOT).split(os.sep)[0])
    for top in sorted(needed):
        check(top in allowed, f"Dockerfile.dockerignore: the build reads {top}/ but the context excludes it")


def anchors(doc):
    """The anchors GitHub gives the headings of a Markdown file."""
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", read(doc), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
        found.add(slug.replace(" ", "-"))
    return found


def check_doc_links():
    """Every `docs/<file>.md#anchor` that deploy/, deployment.md and metrics.md point to exists."""
    sources = [os.path.join(d, n) for d, _, files in os.walk(DEPLOY) for n in files
               if n.endswith((".yml", ".yaml", ".md", ".json", ".py", "Dockerfile"))]
    sources += [os.path.join(ROOT, "docs", n) for n in ("deployment.md", "metrics.md")]
    for path in sources:
        here = os.path.dirname(path)
        for target, anchor in re.findall(r"((?:\.\./)?(?:docs/)?[\w-]+\.md)?#([a-z0-9][a-z0-9_-]*)", read(path)):
            if not target and not path.endswith(".md"):
                continue
            doc = os.path.normpath(os.path.join(here, target)) if target else path
            if not os.path.exists(doc) and target:
                doc = os.path.join(ROOT, "docs", os.path.basename(target))
            if doc.endswith(".md") and os.path.exists(doc):
                check(anchor in anchors(doc), f"{rel(path)}: link to {rel(doc)}#{anchor}, which has no such heading")


def check_ci():
    ci = read(os.path.join(ROOT, ".ci/run"))
    check(re.search(r"^scripts/build-release\.sh\b", ci, re.M), ".ci/run must run scripts/build-release.sh")
    check(re.search(r"^scripts/check-deploy\.sh\b", ci, re.M), ".ci/run must run scripts/check-deploy.sh")


def main():
    os.makedirs(WORK, exist_ok=True)
    check_yaml_parses()
    settings = documented_settings()
    facts = code_facts()
    check_metrics_documented()
    check_metrics_in_code(facts)
    config_data = check_kubernetes(settings, facts)
    compose_env = check_compose(settings, facts)
    alerts = check_alerts(config_data, compose_env)
    check_dashboard(alerts)
    check_dockerfile()
    check_ci()
    check_doc_links()
    if FAILURES:
        for failure in FAILURES:
            print(f"FAIL {failure}", file=sys.stderr)
        print(f"check-deploy: {len(FAILURES)} of {CHECKS[0]} consistency checks failed", file=sys.stderr)
        sys.exit(1)
    print(f"check-deploy: all {CHECKS[0]} consistency checks pass")


if __name__ == "__main__":
    main()
