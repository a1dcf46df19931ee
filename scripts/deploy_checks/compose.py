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
            _check_server_service(ctx, where, service, flags_of(argv))
        if "card-stress" in argv and str(service.get("restart", "no")) != "no":
            ctx.problem(where, "card-stress is a one-shot job: restart must be \"no\"")
    if not any("card-stress" in argv_of(s.get("command")) for s in services.values()):
        ctx.problem(path, "no card-stress service")


def _check_server_service(ctx, where, service, flags):
    server.check_listen(ctx.findings, where, flags)
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
