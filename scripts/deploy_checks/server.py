# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""What every card-server invocation must satisfy, wherever it is deployed."""
from deploy_checks.commands import flag_value, flags_of

LOOPBACK = ("127.", "localhost:", "[::1]:")
# The health service names the server registers (gRPC's default health
# service, set for "" and the API service).
HEALTH_SERVICES = {"", "devcard.card.v1.CardService"}
# What every card-server reachable beyond loopback must be given (README.md,
# "Security"): mutual TLS and the authorization policy.
MTLS_FLAGS = ("tls_cert_file", "tls_key_file", "tls_client_ca_file", "authz_policy_file")
DEFAULT_LISTEN = "127.0.0.1:50051"


def check_metrics_listen(findings, where, flags):
    """card-server refuses plain HTTP metrics beyond loopback without the opt-in."""
    listen = flag_value(flags, "metrics_listen", "")
    if listen and not listen.startswith(LOOPBACK) and \
            flag_value(flags, "allow_insecure_metrics_listen", "false") != "true":
        findings.problem(where, f"card-server serves metrics on {listen} without "
                                "--allow_insecure_metrics_listen: it would refuse to start")


def check_listen(findings, where, flags, container=True):
    check_metrics_listen(findings, where, flags)
    listen = flag_value(flags, "listen", DEFAULT_LISTEN)
    if listen.startswith(LOOPBACK):
        if container:
            findings.problem(where, f"card-server listens on {listen}: unreachable from outside "
                                    "the container; pass --listen=0.0.0.0:50051")
        return
    missing = [f"--{name}" for name in MTLS_FLAGS if not flag_value(flags, name)]
    if missing and flag_value(flags, "allow_insecure_listen", "false") != "true":
        findings.problem(where, f"card-server serves {listen} without {', '.join(missing)}: "
                                "anyone who can reach the port could call every method "
                                "(plaintext is refused there; TLS alone authorizes no one). "
                                "Serve mutual TLS with the policy")


def check_probe_tls(findings, where, server_flags, probe_argv, what):
    """A health probe of a server that speaks mutual TLS must speak it too."""
    if not flag_value(server_flags, "tls_cert_file"):
        return
    probe_flags = flags_of(probe_argv)
    needed = ["tls"] + (["tls_cert_file", "tls_key_file"]
                        if flag_value(server_flags, "tls_client_ca_file") else [])
    missing = [f"--{name}" for name in needed if not flag_value(probe_flags, name)]
    if missing:
        findings.problem(where, f"{what} lacks {', '.join(missing)}: the server requires a "
                                "client certificate, so the probe would fail the handshake and "
                                "always report unhealthy")
