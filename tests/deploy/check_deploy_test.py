# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""scripts/check_deploy.py against deliberately broken copies of deploy/: the
shipped tree passes, and each break, one per check family (Dockerfile, its
runtime packages against ldd of the binaries, compose, Kubernetes, systemd,
flags against the binaries, prose, metric names in the Grafana dashboard and
Prometheus rules), is refused with the message that names it.

    python3 -m pytest tests/deploy --server=PATH/card-server \\
        --stress=PATH/card-stress --cardctl=PATH/cardctl

Each case copies deploy/ into a temporary directory, edits one file (the text
to replace must occur exactly once, so a change to deploy/ that moves it
fails here instead of silently testing nothing) and runs the checker there,
as scripts/check-deploy.sh does from the repository root.
"""
import os
import shutil
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKER = os.path.join(REPO_ROOT, "scripts", "check_deploy.py")

# card-server's readiness probe (the proxy's is a TCP probe; the startup probe
# runs the same command, so the texts below anchor on this header to be unique).
READINESS_EXEC = ("          readinessProbe:\n            exec:\n              command:\n"
                  "                - cardctl\n")

# (case, file under deploy/, text, replacement, what the refusal must say)
BREAKS = [
    ("dockerfile-root-user", "Dockerfile", "USER 10001:10001", "USER root",
     "the runtime stage must end with a non-root USER"),
    ("dockerfile-unknown-flag", "Dockerfile", '"--listen=0.0.0.0:50051", \\\n',
     '"--listen_address=0.0.0.0:50051", \\\n', "card-server has no flag --listen_address"),
    ("dockerfile-probe-without-client-cert", "Dockerfile",
     '"--tls_key_file=/etc/card-server/tls/tls.key", "--timeout=3s", "health"]',
     '"--timeout=3s", "health"]', "HEALTHCHECK lacks --tls_key_file"),
    ("dockerfile-runtime-lacks-nghttp2", "Dockerfile",
     "libprometheus-cpp-pull1.0 libnghttp2-14 \\\n", "libprometheus-cpp-pull1.0 \\\n",
     "the runtime stage lacks Debian package libnghttp2-14 (card-stress needs libnghttp2.so.14)"),
    ("dockerfile-runtime-lacks-prometheus", "Dockerfile",
     "libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0", "libprometheus-cpp-core1.0",
     "the runtime stage lacks Debian package libprometheus-cpp-pull1.0 "
     "(card-server needs libprometheus-cpp-pull.so.1.0)"),
    ("compose-stop-before-drain", "docker-compose.yml", "stop_grace_period: 30s",
     "stop_grace_period: 15s", "must exceed --shutdown_grace (20s)"),
    ("compose-no-front-proxy", "docker-compose.yml",
     '    network_mode: "service:card-server-1"\n', "",
     "no front proxy (a haproxy service with network_mode: service:card-server-1)"),
    ("compose-proxy-not-trusted", "docker-compose.yml",
     ',\n            "--trusted_proxy_identities=spiffe://cards.example/ns/cards/sa/card-proxy"]',
     "]", "without --trusted_proxy_identities every call acts as the proxy"),
    ("k8s-no-front-proxy", "k8s/deployment.yaml",
     'command: ["haproxy", "-db", "-f", "/etc/card-server/proxy/haproxy.cfg"]',
     'command: ["sleep", "infinity"]', "no front proxy container"),
    ("k8s-duplicate-key", "k8s/deployment.yaml", "terminationGracePeriodSeconds: 40",
     "terminationGracePeriodSeconds: 40\n      terminationGracePeriodSeconds: 41",
     "duplicate key 'terminationGracePeriodSeconds'"),
    ("k8s-grace-shorter-than-drain", "k8s/deployment.yaml",
     "terminationGracePeriodSeconds: 40", "terminationGracePeriodSeconds: 25",
     "terminationGracePeriodSeconds (25) must exceed preStop sleep"),
    ("k8s-subpath-mount", "k8s/deployment.yaml",
     "              mountPath: /etc/card-server/flags\n              readOnly: true\n"
     "            - name: tls\n              mountPath: /etc/card-server/tls\n",
     "              mountPath: /etc/card-server/flags\n              readOnly: true\n"
     "            - name: tls\n              mountPath: /etc/card-server/tls\n"
     "              subPath: tls.crt\n", "mounted with subPath"),
    ("k8s-no-writable-tmp", "k8s/deployment.yaml",
     "            - name: tmp\n              mountPath: /tmp\n", "",
     "needs a writable emptyDir mounted at /tmp"),
    ("k8s-probe-without-tls", "k8s/deployment.yaml",
     READINESS_EXEC + "                - --target=127.0.0.1:50052\n                - --tls\n",
     READINESS_EXEC + "                - --target=127.0.0.1:50052\n",
     "readinessProbe lacks --tls"),
    ("k8s-probe-targets-another-pod", "k8s/deployment.yaml",
     READINESS_EXEC + "                - --target=127.0.0.1:50052\n",
     READINESS_EXEC + "                - --target=card-server:50052\n",
     "the probe runs in the pod; use 127.0.0.1:50052"),
    ("k8s-flagfile-not-mounted", "k8s/deployment.yaml",
     "--flagfile=/etc/card-server/flags/card-server.flags",
     "--flagfile=/etc/card-server/other/card-server.flags",
     "no mounted ConfigMap key at that path; the server would fail to start"),
    ("k8s-metrics-beyond-loopback-without-opt-in", "k8s/configmap.yaml",
     "    --allow_insecure_metrics_listen\n", "",
     "without --allow_insecure_metrics_listen: it would refuse to start"),
    ("k8s-flagfile-bad-value", "k8s/configmap.yaml", "--db_pool_size=16", "--db_pool_size=many",
     "card-server rejects"),
    ("k8s-database-without-verify-full", "k8s/manual/secret.yaml",
     "\n  DATABASE_URL: postgresql://card:CHANGE_ME@postgres.database.svc.cluster.local:5432/card"
     "?sslmode=verify-full",
     "\n  DATABASE_URL: postgresql://card:CHANGE_ME@postgres.database.svc.cluster.local:5432/card"
     "?sslmode=require", "use sslmode=verify-full"),
    ("k8s-networkpolicy-admits-everyone", "k8s/networkpolicy.yaml",
     "    - from:\n        - namespaceSelector:\n            matchLabels:\n"
     "              kubernetes.io/metadata.name: monitoring\n",
     "    - from: []\n", "has no `from`: it admits every namespace"),
    ("k8s-policy-copy-differs", "k8s/authz-policy.yaml", '"name": "api-gateway-calls-everything"',
     '"name": "api-gateway-calls-anything"', "policy.json differs from deploy/authz/policy.json"),
    ("systemd-stop-before-drain", "systemd/card-server.service", "TimeoutStopSec=30s",
     "TimeoutStopSec=10s", "TimeoutStopSec (10s) must exceed --shutdown_grace"),
    ("systemd-runs-as-root", "systemd/card-server.service", "User=card-server\n", "",
     "runs as root"),
    ("compose-metrics-beyond-loopback-without-opt-in", "docker-compose.yml",
     '"--metrics_listen=0.0.0.0:9090", "--allow_insecure_metrics_listen",',
     '"--metrics_listen=0.0.0.0:9090",',
     "without --allow_insecure_metrics_listen: it would refuse to start"),
    ("systemd-metrics-on-every-address-without-opt-in", "systemd/card-server.service",
     "--metrics_listen=127.0.0.1:9090", "--metrics_listen=0.0.0.0:9090",
     "without --allow_insecure_metrics_listen: it would refuse to start"),
    ("grafana-panel-on-a-metric-not-exported", "grafana/card-server.json",
     "process_open_fds{", "process_open_file_descriptors{",
     "process_open_file_descriptors is not a metric card-server exports"),
    ("grafana-dashboard-not-json", "grafana/card-server.json",
     '"schemaVersion": 38,', '"schemaVersion": 38,,', "JSON does not parse"),
    ("prometheus-alert-on-a-metric-not-exported", "prometheus/card-server-rules.yml",
     "expr: card_server_health_serving == 0", "expr: card_server_healthy == 0",
     "card_server_healthy is not a metric card-server exports"),
    ("prose-unknown-flag", "README.md", "alone runs `card-server --listen=0.0.0.0:50051`",
     "alone runs\nMind --made_up_flag here.\n`card-server --listen=0.0.0.0:50051`",
     "--made_up_flag is not a flag of card-server, card-stress or cardctl"),
]


@pytest.fixture(scope="module")
def binaries(pytestconfig):
    return [pytestconfig.getoption(name) for name in ("server", "stress", "cardctl")]


def run_checker(root, binaries):
    return subprocess.run(["/usr/bin/python3", CHECKER, *binaries], cwd=root,
                          capture_output=True, text=True, timeout=300)


def copy_of_deploy(tmp_path):
    shutil.copytree(os.path.join(REPO_ROOT, "deploy"), tmp_path / "deploy")
    return tmp_path


def test_the_shipped_deploy_tree_passes(tmp_path, binaries):
    result = run_checker(copy_of_deploy(tmp_path), binaries)
    assert result.returncode == 0, result.stderr
    assert "check-deploy: OK:" in result.stdout


@pytest.mark.parametrize("case,path,text,replacement,refusal", BREAKS,
                         ids=[b[0] for b in BREAKS])
def test_a_broken_manifest_is_refused(tmp_path, binaries, case, path, text, replacement,
                                      refusal):
    root = copy_of_deploy(tmp_path)
    target = root / "deploy" / path
    original = target.read_text()
    assert original.count(text) == 1, f"{case}: {text!r} is not in deploy/{path} exactly once"
    target.write_text(original.replace(text, replacement))
    result = run_checker(root, binaries)
    assert result.returncode == 1, f"{case} was not refused:\n{result.stdout}{result.stderr}"
    assert refusal in result.stderr, result.stderr
    print(f"{case}: refused: "
          + next(line for line in result.stderr.splitlines() if refusal in line))


def test_no_card_server_flags_exits_2(tmp_path):
    result = run_checker(copy_of_deploy(tmp_path), ["/bin/true", "", ""])
    assert result.returncode == 2
    assert "--helpfull lists no flags" in result.stderr


def test_metric_names_of_promql():
    """What the Grafana check takes for series names, on the PromQL shapes the
    dashboard and rules use (and a few they may)."""
    import sys
    sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
    from deploy_checks.grafana import metric_names
    assert metric_names(
        'histogram_quantile(0.99, sum by (grpc_method, le) (rate('
        'grpc_server_handling_seconds_bucket{job=~"$job",grpc_code!="OK"}[$__rate_interval])))'
    ) == {"grpc_server_handling_seconds_bucket"}
    assert metric_names(
        'a_total / on (job, instance) group_left(version) card_server_build_info offset 5m'
        ' > bool 1e3 and sum(b{x="y z(c)"}) without (x) unless time() - c[1h:5m]'
    ) == {"a_total", "card_server_build_info", "b", "c"}
    assert metric_names("card_server:grpc_server_error_ratio:rate5m > 0.01") == {
        "card_server:grpc_server_error_ratio:rate5m"}
    assert metric_names('label_values(card_server_build_info{job=~"$job"}, instance)') == {
        "card_server_build_info"}
    assert metric_names("label_values(instance)") == set()
