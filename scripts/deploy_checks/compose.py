# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""deploy/docker-compose.yml: card-server reachable with mutual TLS, stopped
only after its drain, health-checked by cardctl; card-stress a one-shot job."""
from deploy_checks import server
from deploy_checks.commands import argv_of, flag_value, flags_of, seconds


def check_compose(ctx, path, doc):
    services = doc.get("services") or {}
    for name, service in services.items():
        argv = argv_of(service.get("entrypoint")) + argv_of(service.get("command"))
        where = f"{path}: service {name}"
        if "card-server" in argv:
            flags = flags_of(argv)
            proxy = _front_proxy_of(ctx, where, services, name, flags)
            _check_server_service(ctx, where, service, flags, behind_proxy=proxy is not None)
        if "card-stress" in argv and str(service.get("restart", "no")) != "no":
            ctx.problem(where, "card-stress is a one-shot job: restart must be \"no\"")
    if not any("card-stress" in argv_of(s.get("command")) for s in services.values()):
        ctx.problem(path, "no card-stress service")


def _front_proxy_of(ctx, where, services, name, flags):
    """The haproxy service in card-server service `name`'s network namespace
    (network_mode: service:NAME): every deploy needs one, since gRPC 1.51 alone
    falls to HTTP/2 rapid reset. None, with a problem, if missing or misconnected."""
    for proxy_name, proxy in services.items():
        if "haproxy" not in argv_of(proxy.get("command")):
            continue
        if proxy.get("network_mode") != f"service:{name}":
            continue
        address = (proxy.get("environment") or {}).get("CARD_SERVER_ADDRESS")
        listen = flag_value(flags, "listen", server.DEFAULT_LISTEN)
        if address != listen:
            ctx.problem(where, f"{proxy_name}'s CARD_SERVER_ADDRESS {address} is not "
                               f"card-server's --listen {listen}")
        if not flag_value(flags, "trusted_proxy_identities"):
            ctx.problem(where, f"behind {proxy_name} without --trusted_proxy_identities every "
                               "call acts as the proxy, and the policy denies it")
        return proxy
    ctx.problem(where, "no front proxy (a haproxy service with network_mode: "
                       f"service:{name}): card-server's gRPC 1.51 alone falls to HTTP/2 "
                       "rapid reset")
    return None


def _check_server_service(ctx, where, service, flags, behind_proxy):
    server.check_listen(ctx.findings, where, flags, container=not behind_proxy)
    grace = seconds(flag_value(flags, "shutdown_grace", ctx.programs.default_grace))
    stop = seconds(service.get("stop_grace_period", "10s"))
    if stop is None or stop <= grace:
        ctx.problem(where, f"stop_grace_period ({service.get('stop_grace_period', '10s')}) must "
                           f"exceed --shutdown_grace ({grace:g}s)")
    test = argv_of((service.get("healthcheck") or {}).get("test"))
    if "cardctl" not in test or "health" not in test:
        ctx.problem(where, "healthcheck must run `cardctl ... health`")
    else:
        server.check_probe_tls(ctx.findings, where, flags, test, "healthcheck")
