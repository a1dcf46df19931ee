# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""deploy/k8s: the expected kinds of object, agreeing with each other:
selectors, Secret keys, the flagfile's mount path, probe ports, termination
grace against preStop + --shutdown_grace; mutual TLS files from mounted Secret
or ConfigMap keys (never through subPath), a cardctl readiness probe, a
Certificate that can serve and be presented, a NetworkPolicy that admits named
namespaces only, the shipped policy, DATABASE_URL with sslmode=verify-full,
and a writable emptyDir at $TMPDIR for the private copies of the TLS files."""
import json

from deploy_checks import server
from deploy_checks.commands import argv_of, flag_value, program_of, seconds
from deploy_checks.programs import flag_name
from deploy_checks.server import HEALTH_SERVICES, LOOPBACK, MTLS_FLAGS

POLICY = "deploy/authz/policy.json"

API_VERSIONS = {"Deployment": "apps/v1", "Service": "v1", "PodDisruptionBudget": "policy/v1",
                "ConfigMap": "v1", "Secret": "v1", "Job": "batch/v1",
                "NetworkPolicy": "networking.k8s.io/v1", "Certificate": "cert-manager.io/v1",
                "ServiceMonitor": "monitoring.coreos.com/v1"}
REQUIRED_KINDS = {"Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "Secret",
                  "NetworkPolicy", "Certificate"}
# The keys cert-manager writes into a Certificate's Secret.
CERT_MANAGER_KEYS = {"tls.crt", "tls.key", "ca.crt"}


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Manifests:
    """deploy/k8s's objects by kind and by (kind, name), and what the Secrets
    hold: their keys (with those cert-manager writes for a Certificate) and the
    values given in stringData."""

    def __init__(self, ctx, objects):
        self.kinds = {}
        for where, obj in objects:
            kind = obj.get("kind")
            if kind not in API_VERSIONS:
                ctx.problem(where, f"unexpected kind {kind!r} (expected one of "
                                   f"{', '.join(sorted(API_VERSIONS))})")
                continue
            if obj.get("apiVersion") != API_VERSIONS[kind]:
                ctx.problem(where, f"{kind} needs apiVersion {API_VERSIONS[kind]}, "
                                   f"not {obj.get('apiVersion')}")
            self.kinds.setdefault(kind, []).append((where, obj))
        self.by_name = {(k, o["metadata"]["name"]): o
                        for k, items in self.kinds.items() for _, o in items}
        self.secret_keys = {o["metadata"]["name"]:
                            set(o.get("stringData") or {}) | set(o.get("data") or {})
                            for _, o in self.of("Secret")}
        for _, certificate in self.of("Certificate"):
            self.secret_keys.setdefault(certificate["spec"]["secretName"],
                                        set()).update(CERT_MANAGER_KEYS)
        self.secret_values = {o["metadata"]["name"]: dict(o.get("stringData") or {})
                              for _, o in self.of("Secret")}

    def of(self, kind):
        """[(where, object)] of one kind."""
        return self.kinds.get(kind, [])


def check_k8s(ctx, objects):
    m = Manifests(ctx, objects)
    for kind in sorted(REQUIRED_KINDS - m.kinds.keys()):
        ctx.problem("deploy/k8s", f"no {kind}")
    for where, deployment in m.of("Deployment"):
        check_deployment(ctx, m, where, deployment)
    for where, certificate in m.of("Certificate"):
        check_certificate(ctx, where, certificate, m.of("Deployment"))
    for where, config in m.of("ConfigMap"):
        if "policy.json" in (config.get("data") or {}):
            check_policy_copy(ctx, where, config["data"]["policy.json"])
    for where, service in m.of("Service"):
        for p in service["spec"].get("ports", []):
            want = "http" if p.get("name") == "metrics" else "grpc"
            if p.get("appProtocol") != want:
                ctx.problem(where, f"port {p.get('name')}: appProtocol must be {want}")
    for where, job in m.of("Job"):
        spec = job["spec"]["template"]["spec"]
        check_pod_refs(ctx, where, spec, m.by_name, m.secret_keys)
        for container in spec["containers"]:
            if "--migrate_only" not in (argv_of(container.get("args"))
                                        + argv_of(container.get("command"))):
                ctx.problem(where, "the Job is expected to run card-server --migrate_only")
            check_database_url(ctx, where, container, spec, m.by_name, m.secret_keys,
                               m.secret_values)


def check_deployment(ctx, m, where, deployment):
    pod = deployment["spec"]["template"]
    labels = pod["metadata"].get("labels") or {}
    if not selects(deployment["spec"]["selector"].get("matchLabels"), labels):
        ctx.problem(where, "selector does not match the pod template's labels")
    for kind in ("Service", "PodDisruptionBudget"):
        for w, o in m.of(kind):
            selector = o["spec"].get("selector") or {}
            if kind == "PodDisruptionBudget":
                selector = selector.get("matchLabels", selector)
            if not selects(selector, labels):
                ctx.problem(w, f"{kind} {o['metadata']['name']} does not select the "
                               "Deployment's pods")
    check_pod_refs(ctx, where, pod["spec"], m.by_name, m.secret_keys)
    for container in pod["spec"]["containers"]:
        argv = argv_of(container.get("command")) + argv_of(container.get("args"))
        if "card-server" in argv:
            check_server_container(ctx, m, where, pod, labels, container)


def check_server_container(ctx, m, where, pod, labels, container):
    spec = pod["spec"]
    cwhere = f"{where}: container {container['name']}"
    flags = effective_flags(ctx, cwhere, container, spec, m.by_name)
    proxy = front_proxy_of(ctx, cwhere, spec, flags)
    server.check_listen(ctx.findings, cwhere, flags, container=proxy is None)
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    port = int(flag_value(flags, "listen", server.DEFAULT_LISTEN).rsplit(":", 1)[1])
    if proxy is None and port not in ports.values():
        ctx.problem(cwhere, f"no containerPort {port} (the --listen port)")
    check_readiness(ctx, cwhere, container, spec, m.by_name, m.secret_keys, flags, port)
    check_metrics_port(ctx, cwhere, flags, ports, pod["metadata"].get("annotations") or {})
    for name in MTLS_FLAGS:
        if flag_value(flags, name):
            mounted_file(ctx, cwhere, f"--{name}", flag_value(flags, name), container, spec,
                         m.by_name, m.secret_keys)
    check_database_url(ctx, cwhere, container, spec, m.by_name, m.secret_keys, m.secret_values)
    check_private_tmp(ctx, cwhere, container, spec, flags)
    for w, policy in m.of("NetworkPolicy"):
        # The gRPC port is the proxy's when there is one; metrics stay card-server's.
        exposed = {"ports": container.get("ports", []) + (proxy or {}).get("ports", [])}
        check_network_policy(ctx, w, policy, labels, exposed)
    if (container.get("livenessProbe") or {}).get("grpc") is not None:
        ctx.problem(cwhere, "livenessProbe must not be a gRPC health probe: every service the "
                            "server registers follows the database, so an outage would restart "
                            "every pod")
    check_termination(ctx, where, cwhere, spec, container, flags)


def front_proxy_of(ctx, where, spec, flags):
    """The pod's front proxy container (deploy/proxy/haproxy.cfg) in front of
    card-server, which every deploy needs: gRPC 1.51 alone falls to HTTP/2
    rapid reset. None, with a problem, if it is missing or misconnected."""
    proxies = [c for c in spec["containers"]
               if "haproxy" in argv_of(c.get("command")) + argv_of(c.get("args"))]
    if not proxies:
        ctx.problem(where, "no front proxy container (haproxy -f deploy/proxy/haproxy.cfg) in "
                           "the pod: card-server's gRPC 1.51 alone falls to HTTP/2 rapid reset")
        return None
    proxy = proxies[0]
    env = {e.get("name"): e.get("value") for e in proxy.get("env") or []}
    listen = flag_value(flags, "listen", server.DEFAULT_LISTEN)
    if env.get("CARD_SERVER_ADDRESS") != listen:
        ctx.problem(where, f"the proxy's CARD_SERVER_ADDRESS {env.get('CARD_SERVER_ADDRESS')} "
                           f"is not card-server's --listen {listen}")
    if not flag_value(flags, "trusted_proxy_identities"):
        ctx.problem(where, "behind a proxy without --trusted_proxy_identities every call acts "
                           "as the proxy, and the policy denies it")
    if not proxy.get("ports"):
        ctx.problem(where, f"proxy container {proxy['name']} has no containerPort")
    return proxy


def check_private_tmp(ctx, where, container, spec, flags):
    """With TLS, card-server writes private copies of its certificate and key
    under $TMPDIR (/tmp by default) at start-up: on a read-only root
    filesystem that directory must be a mounted emptyDir, or it cannot start."""
    if not flag_value(flags, "tls_cert_file"):
        return
    if not (container.get("securityContext") or {}).get("readOnlyRootFilesystem"):
        return
    env = {e.get("name"): e.get("value") for e in container.get("env") or []}
    tmpdir = (env.get("TMPDIR") or "/tmp").rstrip("/") or "/"
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        if mount.get("mountPath", "").rstrip("/") == tmpdir and not mount.get("readOnly"):
            if "emptyDir" in volumes.get(mount["name"], {}):
                return
    ctx.problem(where, f"readOnlyRootFilesystem with --tls_cert_file needs a writable emptyDir "
                       f"mounted at {tmpdir} ($TMPDIR): card-server keeps its private copies "
                       "of the TLS files there and would fail to start")


def check_termination(ctx, where, cwhere, spec, container, flags):
    """A preStop sleep lets endpoints go before SIGTERM; the pod's grace covers
    that sleep and the server's drain."""
    grace = seconds(flag_value(flags, "shutdown_grace", ctx.programs.default_grace))
    pre_stop = (container.get("lifecycle") or {}).get("preStop") or {}
    sleep = pre_stop.get("sleep", {}).get("seconds", 0)
    command = (pre_stop.get("exec") or {}).get("command") or []
    if command and command[0].rsplit("/", 1)[-1] == "sleep":
        sleep = seconds(command[1]) or 0
    if not sleep:
        ctx.problem(cwhere, "no preStop sleep: SIGTERM would arrive before endpoints are removed")
    total = spec.get("terminationGracePeriodSeconds", 30)
    if total <= sleep + grace:
        ctx.problem(where, f"terminationGracePeriodSeconds ({total}) must exceed preStop sleep "
                           f"({sleep:g}s) + --shutdown_grace ({grace:g}s)")


def check_pod_refs(ctx, where, spec, by_name, secret_keys):
    for container in spec["containers"]:
        for env in container.get("env", []):
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["key"] not in secret_keys.get(ref["name"], set()):
                ctx.problem(where, f"env {env['name']}: no Secret {ref['name']} with key "
                                   f"{ref['key']} in deploy/k8s")
    for volume in spec.get("volumes", []):
        name = (volume.get("configMap") or {}).get("name")
        if name and ("ConfigMap", name) not in by_name:
            ctx.problem(where, f"volume {volume['name']}: no ConfigMap {name} in deploy/k8s")
        secret = (volume.get("secret") or {}).get("secretName")
        if secret and secret not in secret_keys:
            ctx.problem(where, f"volume {volume['name']}: no Secret {secret} in deploy/k8s, and no "
                           "Certificate writes one")


def mounted_file(ctx, where, what, path, container, spec, by_name, secret_keys):
    """The mounted ConfigMap's text at `path`, "" for a Secret's key, or None
    (after reporting why) when no mount of this container provides the file."""
    for mount in container.get("volumeMounts", []):
        prefix = mount["mountPath"].rstrip("/") + "/"
        if not path.startswith(prefix):
            continue
        key = path[len(prefix):]
        if mount.get("subPath"):
            ctx.problem(where, f"{what}: volume {mount['name']} is mounted with subPath, "
                               "which never "
                           "sees updates: a renewed certificate or edited policy would not arrive")
            return None
        volume = next((v for v in spec.get("volumes", []) if v["name"] == mount["name"]), {})
        if "configMap" in volume:
            config = by_name.get(("ConfigMap", volume["configMap"].get("name")))
            if config and key in (config.get("data") or {}):
                return config["data"][key]
            ctx.problem(where, f"{what}={path}: ConfigMap {volume['configMap'].get('name')} "
                               f"has no key {key}")
            return None
        if "secret" in volume:
            if key in secret_keys.get(volume["secret"].get("secretName"), set()):
                return ""
            ctx.problem(where, f"{what}={path}: Secret {volume['secret'].get('secretName')} "
                               f"has no key {key}")
            return None
    ctx.problem(where, f"{what}={path}: no volume of this container is mounted there")
    return None


def check_readiness(ctx, where, container, spec, by_name, secret_keys, flags, port):
    probe = container.get("readinessProbe") or {}
    if not flag_value(flags, "tls_cert_file"):
        ready = probe.get("grpc")
        if not ready or ready.get("port") != port:
            ctx.problem(where, f"readinessProbe must be a native gRPC probe on port {port}")
        elif ready.get("service", "") not in HEALTH_SERVICES:
            ctx.problem(where, f"readinessProbe service {ready['service']!r} is not registered: "
                           "the server answers NOT_FOUND and the probe always fails")
        return
    # The kubelet's gRPC probe speaks plaintext only: a TLS port needs cardctl.
    argv = argv_of((probe.get("exec") or {}).get("command"))
    if not argv or program_of(argv[0]) != "cardctl" or "health" not in argv:
        ctx.problem(where, "the server speaks TLS, which the kubelet's gRPC probe cannot: "
                       "readinessProbe must exec `cardctl --tls ... health`")
        return
    probe_flags = [t for t in argv if t.startswith("--")]
    server.check_probe_tls(ctx.findings, where, flags, argv, "readinessProbe")
    target = flag_value(probe_flags, "target", "127.0.0.1:50051")
    if not target.startswith(LOOPBACK) or not target.endswith(f":{port}"):
        ctx.problem(where, f"readinessProbe --target={target}: the probe runs in the pod; "
                           f"use 127.0.0.1:{port}")
    if flag_value(probe_flags, "service", "") not in HEALTH_SERVICES:
        ctx.problem(where, "readinessProbe --service is not registered: "
                           "the probe would always fail")
    for name in ("tls_ca_file", "tls_cert_file", "tls_key_file"):
        if flag_value(probe_flags, name):
            mounted_file(ctx, where, f"readinessProbe --{name}", flag_value(probe_flags, name),
                         container, spec, by_name, secret_keys)


def check_database_url(ctx, where, container, spec, by_name, secret_keys, secret_values):
    """PostgreSQL over TLS that checks whose certificate it is, with the root mounted."""
    for env in container.get("env", []):
        ref = (env.get("valueFrom") or {}).get("secretKeyRef")
        if env["name"] != "DATABASE_URL" or not ref:
            continue
        url = secret_values.get(ref["name"], {}).get(ref["key"])
        if url is None:
            continue
        params = dict(p.split("=", 1) for p in url.partition("?")[2].split("&") if "=" in p)
        if params.get("sslmode") != "verify-full":
            ctx.problem(where, f"Secret {ref['name']} {ref['key']}: "
                               f"sslmode={params.get('sslmode')}; "
                               "use sslmode=verify-full (require accepts any certificate, "
                               "an impostor's too)")
        elif "sslrootcert" not in params:
            ctx.problem(where, f"Secret {ref['name']} {ref['key']}: sslmode=verify-full needs "
                               "sslrootcert=<mounted root>")
        else:
            mounted_file(ctx, where, f"{ref['key']} sslrootcert", params["sslrootcert"], container,
                         spec, by_name, secret_keys)


def check_metrics_port(ctx, where, flags, ports, annotations):
    """--metrics_listen's port is the containerPort named metrics, and the one the
    prometheus.io/port annotation points scrapers at."""
    listen = flag_value(flags, "metrics_listen")
    scrape = annotations.get("prometheus.io/scrape") == "true"
    if not listen:
        if scrape or "metrics" in ports:
            ctx.problem(where, "a metrics port or prometheus.io/scrape without --metrics_listen")
        return
    port = int(listen.rsplit(":", 1)[1])
    if ports.get("metrics") != port:
        ctx.problem(where, f"no containerPort named metrics with --metrics_listen's port {port}")
    if scrape and str(annotations.get("prometheus.io/port")) != str(port):
        ctx.problem(where, f"prometheus.io/port must be --metrics_listen's port {port}")


def check_network_policy(ctx, where, policy, labels, container):
    spec = policy["spec"]
    if not selects((spec.get("podSelector") or {}).get("matchLabels"), labels):
        ctx.problem(where, "NetworkPolicy does not select the Deployment's pods")
    if "Ingress" not in (spec.get("policyTypes") or []):
        ctx.problem(where, "NetworkPolicy must list policyTypes: [Ingress]")
    rules = spec.get("ingress") or []
    ports = {p.get("name") for p in container.get("ports", [])} | \
            {p["containerPort"] for p in container.get("ports", [])}
    for i, rule in enumerate(rules):
        if not rule.get("from"):
            ctx.problem(where, f"ingress[{i}] has no `from`: it admits every namespace")
        if not any(p.get("port") in ports for p in rule.get("ports") or []):
            ctx.problem(where, f"ingress[{i}] does not name the gRPC port")
    if not rules:
        ctx.note(f"{where}: admits no traffic at all")


def check_certificate(ctx, where, certificate, deployments):
    spec = certificate["spec"]
    usages = set(spec.get("usages") or [])
    probed = probing_containers(spec["secretName"], deployments)
    if probed and not {"server auth", "client auth"} <= usages:
        ctx.problem(where, "usages must include server auth and client auth: the readiness probe "
                       "presents the server's own certificate")
    if "client auth" not in usages:
        ctx.problem(where, "usages must include client auth: it is presented to card-server")
    if not any(str(u).startswith("spiffe://") for u in spec.get("uris") or []):
        ctx.problem(where, "no spiffe:// URI SAN: the workload identity other services' "
                           "policies name")
    used = any(any((v.get("secret") or {}).get("secretName") == spec["secretName"]
                   for v in deployment["spec"]["template"]["spec"].get("volumes", []))
               for _, deployment in deployments)
    for c in probed:
        probe = argv_of(((c.get("readinessProbe") or {}).get("exec") or {}).get("command"))
        name = flag_value([t for t in probe if t.startswith("--")], "tls_server_name")
        if name and name not in (spec.get("dnsNames") or []):
            ctx.problem(where, f"dnsNames lacks {name}, the readiness probe's "
                                   "--tls_server_name")
    if not used:
        ctx.problem(where, f"no Deployment mounts its Secret {spec['secretName']}")


def probing_containers(secret_name, deployments):
    """Containers that mount the Secret and have an exec readiness probe."""
    found = []
    for _, deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        volumes = {v["name"] for v in pod.get("volumes", [])
                   if (v.get("secret") or {}).get("secretName") == secret_name}
        for c in pod["containers"]:
            mounts = {m["name"] for m in c.get("volumeMounts") or []}
            if volumes & mounts and ((c.get("readinessProbe") or {}).get("exec")):
                found.append(c)
    return found


def check_policy_copy(ctx, where, text):
    try:
        with open(POLICY) as f:
            shipped = json.load(f)
        copy = json.loads(text)
    except (OSError, ValueError) as e:
        ctx.problem(where, f"policy.json vs {POLICY}: {e}")
        return
    if copy != shipped:
        ctx.problem(where, f"policy.json differs from {POLICY} (the policy README.md and the "
                           "tests describe)")


def effective_flags(ctx, where, container, spec, by_name):
    """The container's flags, with --flagfile resolved through its volume
    mounts to the ConfigMap key it names."""
    argv = argv_of(container.get("command")) + argv_of(container.get("args"))
    flags = [t for t in argv if t.startswith("--")]
    out = []
    for token in flags:
        if flag_name(token) != "flagfile":
            out.append(token)
            continue
        path = token.split("=", 1)[1]
        resolved = None
        for mount in container.get("volumeMounts", []):
            prefix = mount["mountPath"].rstrip("/") + "/"
            volume = next((v for v in spec.get("volumes", []) if v["name"] == mount["name"]), {})
            cm = by_name.get(("ConfigMap", (volume.get("configMap") or {}).get("name")))
            if path.startswith(prefix) and cm and path[len(prefix):] in (cm.get("data") or {}):
                resolved = cm["data"][path[len(prefix):]]
        if resolved is None:
            ctx.problem(where, f"{token}: no mounted ConfigMap key at that path; the server "
                               "would fail to start")
            continue
        out += [l.strip() for l in resolved.splitlines() if l.strip().startswith("--")]
    return out

