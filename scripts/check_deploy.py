#!/usr/bin/python3
"""The deployment checks of scripts/check-deploy.sh (its header lists them).

    check_deploy.py CARD_SERVER CARD_STRESS CARDCTL

Run it through scripts/check-deploy.sh: that wrapper runs it from the
repository root (it reads deploy/), makes sure CARD_SERVER exists and installs
python3-yaml when missing. CARD_STRESS and CARDCTL may be empty strings.
Exit 0: all checks hold; 1: problems (listed on stderr); 2: CARD_SERVER lists
no flags. Debian's /usr/bin/python3, standard library and python3-yaml only.
"""
import json, os, re, shutil, subprocess, sys, tempfile
import yaml

PROGRAMS = ("card-server", "card-stress", "cardctl")
# absl's own flags, absent from --helpfull's list.
ABSL_BUILTIN = {"help", "helpfull", "helpshort", "helppackage", "version", "only_check_args"}
SEPARATORS = {"&&", "||", ";", "|", "&"}
LOOPBACK = ("127.", "localhost:", "[::1]:")
# The health service names the server registers (server/app/card_server.cc:
# gRPC's default health service, set for "" and the API service).
HEALTH_SERVICES = {"", "devcard.card.v1.CardService"}
# What every card-server reachable beyond loopback must be given (README.md,
# "Security"): mutual TLS and the authorization policy.
MTLS_FLAGS = ("tls_cert_file", "tls_key_file", "tls_client_ca_file", "authz_policy_file")
POLICY = "deploy/authz/policy.json"

problems, notes = {}, []  # message -> where it was found (a YAML anchor repeats one)
def problem(where, message):
    problems.setdefault(message, [])
    if where not in problems[message]:
        problems[message].append(where)

def guarded(where, check, *args):
    """A malformed file is a problem to report, not a traceback."""
    try:
        check(*args)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
        problem(where, f"unexpected structure ({type(e).__name__}: {e}); fix the file or this check")

def run(argv):
    # No DATABASE_URL or other settings from the caller reach the programs.
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})

# ---------------------------------------------------------------- the programs
binaries, known, BOOLEAN = {}, {}, {}
for program, path in zip(PROGRAMS, sys.argv[1:4]):
    if not path:
        notes.append(f"{program} flags not checked: no {program} binary given")
    elif not os.access(path, os.X_OK):
        notes.append(f"{program} flags not checked: no executable at {path}")
    else:
        text = run([path, "--helpfull"]).stdout
        flags = set(re.findall(r"^\s+--(\w+) \(", text, re.M))
        BOOLEAN[program] = set(re.findall(r"^\s+--(\w+) \((?:[^;]|;(?!\s+default:))*;\s+default: (?:true|false);",
                                          text, re.M))
        if not flags:
            problem(path, f"--helpfull lists no flags; is this {program}?")
            continue
        binaries[program], known[program] = os.path.abspath(path), flags
        if program == "card-server":
            grace = re.search(r"--shutdown_grace \(.*?\);\s+default: (\S+);", text, re.S)
            DEFAULT_GRACE = grace.group(1) if grace else "20s"

if "card-server" not in binaries:
    print(f"check-deploy: {sys.argv[1]} --helpfull lists no flags", file=sys.stderr)
    sys.exit(2)

def seconds(text):
    """absl or systemd duration ("20s", "1m30s", "30", "2min") in seconds, or None."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|min|sec|hr|h|m|s)", text)
    if not parts or not re.fullmatch(r"(\s*\d+(\.\d+)?\s*(ms|min|sec|hr|h|m|s))+\s*", text):
        return None
    return sum(float(n) * units[u] for n, u in parts)

# ------------------------------------------------- who gets which --flag
invocations = []  # [where, program, [flag tokens]]
loose = []        # (where, token): a --flag not following one of the programs

def program_of(token):
    """card-server, /usr/local/bin/card-server, "$build/server/card-server",
    ExecStart=/usr/local/bin/card-server -> the program; deployment/card-server -> None."""
    if re.match(r"^[A-Za-z]+=", token):
        token = token.split("=", 1)[1]
    base = token.rsplit("/", 1)[-1]
    if base in PROGRAMS and (token == base or token.startswith(("/", "./", "../", "$", "build"))):
        return base
    return None

def attribute(tokens, where, structured):
    """Gives each --flag to the program named before it in the same command.
    structured: the tokens are one command's argv (YAML, exec form), where a
    flag with no program before it is a mistake, not prose."""
    current = None
    for token in tokens:
        if token in SEPARATORS:
            current = None
        elif token.startswith("--") and len(token) > 2:
            if current is not None:
                current[2].append(token)
            elif structured:
                problem(where, f"{token}: no card-server/cardctl/card-stress named before it "
                               "in this command; name the program so the flag can be checked")
            else:
                loose.append((where, token))
        elif program_of(token):
            current = [where, program_of(token), []]
            invocations.append(current)

def words(text):
    """Shell-ish words of one line of any file; quotes and JSON punctuation dropped."""
    text = re.sub(r"(&&|\|\||;|\|)", r" \1 ", text)
    text = re.sub(r'"\s*,\s*"', " ", text)           # ["a", "b"]
    text = re.sub(r"[\"'`]", "", re.sub(r"[][]", " ", text))
    return [t.rstrip(",") for t in text.split()]

def logical_lines(lines):
    """(line number, text) with backslash continuations joined."""
    out, buf, start = [], "", None
    for number, line in enumerate(lines, 1):
        start = start or number
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        out.append((start, buf + line))
        buf, start = "", None
    if buf:
        out.append((start, buf))
    return out

def sweep_text(path, lines):
    for number, text in logical_lines(lines):
        attribute(words(text), f"{path}:{number}", structured=False)

def flag_name(token):
    return token[2:].split("=", 1)[0]

def flag_value(flags, name, default=None):
    for token in reversed(flags):
        if flag_name(token) == name:
            return token.split("=", 1)[1] if "=" in token else "true"
    return default

# ------------------------------------------------------------------- YAML
class StrictLoader(yaml.SafeLoader):
    pass

def construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)

StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)

def argv_of(value):
    if value is None:
        return []
    if isinstance(value, str):
        return words(value)
    out = []
    for item in value:
        item = str(item)
        # ["sh", "-c", "card-server --x"]: look inside the script too.
        out += words(item) if " " in item and not item.startswith("--") else [item]
    return out

def walk(node, where):
    """Every command in a YAML document: compose entrypoint+command and
    healthcheck test, Kubernetes command+args, flagfiles in ConfigMap data."""
    if isinstance(node, dict):
        if any(k in node for k in ("entrypoint", "command", "args")):
            tokens = argv_of(node.get("entrypoint")) + argv_of(node.get("command")) + argv_of(node.get("args"))
            attribute(tokens, f"{where}.command", structured=True)
        if isinstance(node.get("test"), (list, str)):
            attribute(argv_of(node["test"]), f"{where}.test", structured=True)
        for key, value in node.items():
            if key in ("entrypoint", "command", "args", "test"):
                continue
            program = str(key)[:-len(".flags")] if str(key).endswith(".flags") else None
            if program in PROGRAMS and isinstance(value, str):
                flags = [l.strip() for l in value.splitlines() if l.strip() and not l.strip().startswith("#")]
                for line in flags:
                    if not line.startswith("--"):
                        problem(f"{where}.{key}", f"flagfile line {line!r} is not --flag=value")
                invocations.append([f"{where}.{key}", program, [l for l in flags if l.startswith("--")]])
            else:
                walk(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk(value, f"{where}[{i}]")
    elif isinstance(node, str):
        for line in node.splitlines():
            attribute(words(line), where, structured=False)

def comment_lines(lines):
    """Whole-line comments only; everything else YAML is walked as data."""
    return [l.split("#", 1)[1] if l.lstrip().startswith("#") else "" for l in lines]

# ------------------------------------------------------------- Dockerfile
def check_dockerfile(path, lines):
    stage, final = [], None
    for number, text in logical_lines(lines):
        stripped = text.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            attribute(words(stripped[1:]), f"{path}:{number}", structured=False)
            continue
        word, _, rest = stripped.partition(" ")
        word, where = word.upper(), f"{path}:{number}"
        if word == "FROM":
            stage = []
        stage.append((word, rest.strip(), where))
        if word == "HEALTHCHECK":
            match = re.search(r"\bCMD\b\s*(.*)", rest)
            rest = match.group(1) if match else ""
        if word in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            rest = rest.strip()
            try:
                argv = json.loads(rest) if rest.startswith("[") else words(rest)
            except ValueError as e:
                problem(where, f"{word} exec form is not valid JSON: {e}")
                argv = []
            attribute(argv, where, structured=True)
            if word != "ENTRYPOINT":
                stage[-1] = (word, argv, where)
        elif word == "RUN":
            attribute(words(rest), where, structured=False)
    final = stage
    def last(word):
        found = [item for item in final if item[0] == word]
        return found[-1] if found else None
    user = last("USER")
    if not user or user[1].split(":")[0] in ("root", "0"):
        problem(path, "the runtime stage must end with a non-root USER")
    if not any(w == "EXPOSE" and "50051" in r.split() for w, r, _ in final):
        problem(path, "the runtime stage must EXPOSE 50051")
    health = last("HEALTHCHECK")
    if not health or "cardctl" not in health[1] or "health" not in health[1]:
        problem(path, "HEALTHCHECK must run `cardctl ... health`")
    cmd = last("CMD")
    if not cmd or "card-server" not in cmd[1]:
        problem(path, "CMD must run card-server")
    else:
        flags = [t for t in cmd[1] if t.startswith("--")]
        check_listen(cmd[2], flags)
        if health and "cardctl" in health[1]:
            check_probe_tls(health[2], flags, health[1], "HEALTHCHECK")

def check_listen(where, flags, container=True):
    listen = flag_value(flags, "listen", "127.0.0.1:50051")
    if listen.startswith(LOOPBACK):
        if container:
            problem(where, f"card-server listens on {listen}: unreachable from outside the container; "
                           "pass --listen=0.0.0.0:50051")
        return
    missing = [f"--{name}" for name in MTLS_FLAGS if not flag_value(flags, name)]
    if missing and flag_value(flags, "allow_insecure_listen", "false") != "true":
        problem(where, f"card-server serves {listen} without {', '.join(missing)}: anyone who can "
                       "reach the port could call every method (plaintext is refused there; TLS "
                       "alone authorizes no one). Serve mutual TLS with the policy")

def check_probe_tls(where, server_flags, probe_argv, what):
    """A health probe of a server that speaks mutual TLS must speak it too."""
    if not flag_value(server_flags, "tls_cert_file"):
        return
    probe_flags = [t for t in probe_argv if t.startswith("--")]
    needed = ["tls"] + (["tls_cert_file", "tls_key_file"]
                        if flag_value(server_flags, "tls_client_ca_file") else [])
    missing = [f"--{name}" for name in needed if not flag_value(probe_flags, name)]
    if missing:
        problem(where, f"{what} lacks {', '.join(missing)}: the server requires a client "
                       "certificate, so the probe would fail the handshake and always report unhealthy")

# ------------------------------------------------------------------ compose
def check_compose(path, doc):
    services = doc.get("services") or {}
    for name, service in services.items():
        argv = argv_of(service.get("entrypoint")) + argv_of(service.get("command"))
        where = f"{path}: service {name}"
        if "card-server" in argv:
            flags = [t for t in argv if t.startswith("--")]
            check_listen(where, flags)
            grace = seconds(flag_value(flags, "shutdown_grace", DEFAULT_GRACE))
            stop = seconds(service.get("stop_grace_period", "10s"))
            if stop is None or stop <= grace:
                problem(where, f"stop_grace_period ({service.get('stop_grace_period', '10s')}) must exceed "
                               f"--shutdown_grace ({grace:g}s)")
            test = argv_of((service.get("healthcheck") or {}).get("test"))
            if "cardctl" not in test or "health" not in test:
                problem(where, "healthcheck must run `cardctl ... health`")
            else:
                check_probe_tls(where, flags, test, "healthcheck")
        if "card-stress" in argv and str(service.get("restart", "no")) != "no":
            problem(where, "card-stress is a one-shot job: restart must be \"no\"")
    if not any("card-stress" in argv_of(s.get("command")) for s in services.values()):
        problem(path, "no card-stress service")

# --------------------------------------------------------------- Kubernetes
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

def check_k8s(objects):
    kinds = {}
    for where, obj in objects:
        kind = obj.get("kind")
        if kind not in API_VERSIONS:
            problem(where, f"unexpected kind {kind!r} (expected one of {', '.join(sorted(API_VERSIONS))})")
            continue
        if obj.get("apiVersion") != API_VERSIONS[kind]:
            problem(where, f"{kind} needs apiVersion {API_VERSIONS[kind]}, not {obj.get('apiVersion')}")
        kinds.setdefault(kind, []).append((where, obj))
    for kind in sorted(REQUIRED_KINDS - kinds.keys()):
        problem("deploy/k8s", f"no {kind}")
    by_name = {(k, o["metadata"]["name"]): o for k, items in kinds.items() for _, o in items}
    secret_keys = {o["metadata"]["name"]: set(o.get("stringData") or {}) | set(o.get("data") or {})
                   for _, o in kinds.get("Secret", [])}
    for _, certificate in kinds.get("Certificate", []):
        secret_keys.setdefault(certificate["spec"]["secretName"], set()).update(CERT_MANAGER_KEYS)
    secret_values = {o["metadata"]["name"]: dict(o.get("stringData") or {})
                     for _, o in kinds.get("Secret", [])}

    for where, deployment in kinds.get("Deployment", []):
        pod = deployment["spec"]["template"]
        labels = pod["metadata"].get("labels") or {}
        if not selects(deployment["spec"]["selector"].get("matchLabels"), labels):
            problem(where, "selector does not match the pod template's labels")
        for kind in ("Service", "PodDisruptionBudget"):
            for w, o in kinds.get(kind, []):
                selector = o["spec"].get("selector") or {}
                selector = selector.get("matchLabels", selector) if kind == "PodDisruptionBudget" else selector
                if not selects(selector, labels):
                    problem(w, f"{kind} {o['metadata']['name']} does not select the Deployment's pods")
        spec = pod["spec"]
        check_pod_refs(where, spec, by_name, secret_keys)
        for container in spec["containers"]:
            argv = argv_of(container.get("command")) + argv_of(container.get("args"))
            if "card-server" not in argv:
                continue
            cwhere = f"{where}: container {container['name']}"
            flags = effective_flags(cwhere, container, spec, by_name)
            check_listen(cwhere, flags)
            ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
            port = int(flag_value(flags, "listen", "127.0.0.1:50051").rsplit(":", 1)[1])
            if port not in ports.values():
                problem(cwhere, f"no containerPort {port} (the --listen port)")
            check_readiness(cwhere, container, spec, by_name, secret_keys, flags, port)
            check_metrics_port(cwhere, flags, ports, pod["metadata"].get("annotations") or {})
            for name in MTLS_FLAGS:
                if flag_value(flags, name):
                    mounted_file(cwhere, f"--{name}", flag_value(flags, name), container, spec,
                                 by_name, secret_keys)
            check_database_url(cwhere, container, spec, by_name, secret_keys, secret_values)
            for w, policy in kinds.get("NetworkPolicy", []):
                check_network_policy(w, policy, labels, container)
            if (container.get("livenessProbe") or {}).get("grpc") is not None:
                problem(cwhere, "livenessProbe must not be a gRPC health probe: every service the server "
                                "registers follows the database, so an outage would restart every pod")
            grace = seconds(flag_value(flags, "shutdown_grace", DEFAULT_GRACE))
            pre_stop = (container.get("lifecycle") or {}).get("preStop") or {}
            sleep = pre_stop.get("sleep", {}).get("seconds", 0)
            command = (pre_stop.get("exec") or {}).get("command") or []
            if command and command[0].rsplit("/", 1)[-1] == "sleep":
                sleep = seconds(command[1]) or 0
            if not sleep:
                problem(cwhere, "no preStop sleep: SIGTERM would arrive before endpoints are removed")
            total = spec.get("terminationGracePeriodSeconds", 30)
            if total <= sleep + grace:
                problem(where, f"terminationGracePeriodSeconds ({total}) must exceed preStop sleep "
                               f"({sleep:g}s) + --shutdown_grace ({grace:g}s)")
    for where, certificate in kinds.get("Certificate", []):
        check_certificate(where, certificate, kinds.get("Deployment", []))
    for where, config in kinds.get("ConfigMap", []):
        if "policy.json" in (config.get("data") or {}):
            check_policy_copy(where, config["data"]["policy.json"])
    for where, service in kinds.get("Service", []):
        for p in service["spec"].get("ports", []):
            want = "http" if p.get("name") == "metrics" else "grpc"
            if p.get("appProtocol") != want:
                problem(where, f"port {p.get('name')}: appProtocol must be {want}")
    for where, job in kinds.get("Job", []):
        spec = job["spec"]["template"]["spec"]
        check_pod_refs(where, spec, by_name, secret_keys)
        for container in spec["containers"]:
            if "--migrate_only" not in argv_of(container.get("args")) + argv_of(container.get("command")):
                problem(where, "the Job is expected to run card-server --migrate_only")
            check_database_url(where, container, spec, by_name, secret_keys, secret_values)

def check_pod_refs(where, spec, by_name, secret_keys):
    for container in spec["containers"]:
        for env in container.get("env", []):
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["key"] not in secret_keys.get(ref["name"], set()):
                problem(where, f"env {env['name']}: no Secret {ref['name']} with key {ref['key']} in deploy/k8s")
    for volume in spec.get("volumes", []):
        name = (volume.get("configMap") or {}).get("name")
        if name and ("ConfigMap", name) not in by_name:
            problem(where, f"volume {volume['name']}: no ConfigMap {name} in deploy/k8s")
        secret = (volume.get("secret") or {}).get("secretName")
        if secret and secret not in secret_keys:
            problem(where, f"volume {volume['name']}: no Secret {secret} in deploy/k8s, and no "
                           "Certificate writes one")

def mounted_file(where, what, path, container, spec, by_name, secret_keys):
    """The mounted ConfigMap's text at `path`, "" for a Secret's key, or None
    (after reporting why) when no mount of this container provides the file."""
    for mount in container.get("volumeMounts", []):
        prefix = mount["mountPath"].rstrip("/") + "/"
        if not path.startswith(prefix):
            continue
        key = path[len(prefix):]
        if mount.get("subPath"):
            problem(where, f"{what}: volume {mount['name']} is mounted with subPath, which never "
                           "sees updates: a renewed certificate or edited policy would not arrive")
            return None
        volume = next((v for v in spec.get("volumes", []) if v["name"] == mount["name"]), {})
        if "configMap" in volume:
            config = by_name.get(("ConfigMap", volume["configMap"].get("name")))
            if config and key in (config.get("data") or {}):
                return config["data"][key]
            problem(where, f"{what}={path}: ConfigMap {volume['configMap'].get('name')} has no key {key}")
            return None
        if "secret" in volume:
            if key in secret_keys.get(volume["secret"].get("secretName"), set()):
                return ""
            problem(where, f"{what}={path}: Secret {volume['secret'].get('secretName')} has no key {key}")
            return None
    problem(where, f"{what}={path}: no volume of this container is mounted there")
    return None

def check_readiness(where, container, spec, by_name, secret_keys, flags, port):
    probe = container.get("readinessProbe") or {}
    if not flag_value(flags, "tls_cert_file"):
        ready = probe.get("grpc")
        if not ready or ready.get("port") != port:
            problem(where, f"readinessProbe must be a native gRPC probe on port {port}")
        elif ready.get("service", "") not in HEALTH_SERVICES:
            problem(where, f"readinessProbe service {ready['service']!r} is not registered: "
                           "the server answers NOT_FOUND and the probe always fails")
        return
    # The kubelet's gRPC probe speaks plaintext only: a TLS port needs cardctl.
    argv = argv_of((probe.get("exec") or {}).get("command"))
    if not argv or program_of(argv[0]) != "cardctl" or "health" not in argv:
        problem(where, "the server speaks TLS, which the kubelet's gRPC probe cannot: "
                       "readinessProbe must exec `cardctl --tls ... health`")
        return
    probe_flags = [t for t in argv if t.startswith("--")]
    check_probe_tls(where, flags, argv, "readinessProbe")
    target = flag_value(probe_flags, "target", "127.0.0.1:50051")
    if not target.startswith(LOOPBACK) or not target.endswith(f":{port}"):
        problem(where, f"readinessProbe --target={target}: the probe runs in the pod; use 127.0.0.1:{port}")
    if flag_value(probe_flags, "service", "") not in HEALTH_SERVICES:
        problem(where, "readinessProbe --service is not registered: the probe would always fail")
    for name in ("tls_ca_file", "tls_cert_file", "tls_key_file"):
        if flag_value(probe_flags, name):
            mounted_file(where, f"readinessProbe --{name}", flag_value(probe_flags, name),
                         container, spec, by_name, secret_keys)

def check_database_url(where, container, spec, by_name, secret_keys, secret_values):
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
            problem(where, f"Secret {ref['name']} {ref['key']}: sslmode={params.get('sslmode')}; use "
                           "sslmode=verify-full (require accepts any certificate, an impostor's too)")
        elif "sslrootcert" not in params:
            problem(where, f"Secret {ref['name']} {ref['key']}: sslmode=verify-full needs sslrootcert=<mounted root>")
        else:
            mounted_file(where, f"{ref['key']} sslrootcert", params["sslrootcert"], container, spec,
                         by_name, secret_keys)

def check_metrics_port(where, flags, ports, annotations):
    """--metrics_listen's port is the containerPort named metrics, and the one the
    prometheus.io/port annotation points scrapers at."""
    listen = flag_value(flags, "metrics_listen")
    scrape = annotations.get("prometheus.io/scrape") == "true"
    if not listen:
        if scrape or "metrics" in ports:
            problem(where, "a metrics port or prometheus.io/scrape without --metrics_listen")
        return
    port = int(listen.rsplit(":", 1)[1])
    if ports.get("metrics") != port:
        problem(where, f"no containerPort named metrics with --metrics_listen's port {port}")
    if scrape and str(annotations.get("prometheus.io/port")) != str(port):
        problem(where, f"prometheus.io/port must be --metrics_listen's port {port}")

def check_network_policy(where, policy, labels, container):
    spec = policy["spec"]
    if not selects((spec.get("podSelector") or {}).get("matchLabels"), labels):
        problem(where, "NetworkPolicy does not select the Deployment's pods")
    if "Ingress" not in (spec.get("policyTypes") or []):
        problem(where, "NetworkPolicy must list policyTypes: [Ingress]")
    rules = spec.get("ingress") or []
    ports = {p.get("name") for p in container.get("ports", [])} | \
            {p["containerPort"] for p in container.get("ports", [])}
    for i, rule in enumerate(rules):
        if not rule.get("from"):
            problem(where, f"ingress[{i}] has no `from`: it admits every namespace")
        if not any(p.get("port") in ports for p in rule.get("ports") or []):
            problem(where, f"ingress[{i}] does not name the gRPC port")
    if not rules:
        notes.append(f"{where}: admits no traffic at all")

def check_certificate(where, certificate, deployments):
    spec = certificate["spec"]
    usages = set(spec.get("usages") or [])
    if not {"server auth", "client auth"} <= usages:
        problem(where, "usages must include server auth and client auth: the readiness probe "
                       "presents the server's own certificate")
    if not any(str(u).startswith("spiffe://") for u in spec.get("uris") or []):
        problem(where, "no spiffe:// URI SAN: the workload identity other services' policies name")
    used = False
    for _, deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        if any((v.get("secret") or {}).get("secretName") == spec["secretName"]
               for v in pod.get("volumes", [])):
            used = True
            for c in pod["containers"]:
                probe = argv_of(((c.get("readinessProbe") or {}).get("exec") or {}).get("command"))
                name = flag_value([t for t in probe if t.startswith("--")], "tls_server_name")
                if name and name not in (spec.get("dnsNames") or []):
                    problem(where, f"dnsNames lacks {name}, the readiness probe's --tls_server_name")
    if not used:
        problem(where, f"no Deployment mounts its Secret {spec['secretName']}")

def check_policy_copy(where, text):
    try:
        with open(POLICY) as f:
            shipped = json.load(f)
        copy = json.loads(text)
    except (OSError, ValueError) as e:
        problem(where, f"policy.json vs {POLICY}: {e}")
        return
    if copy != shipped:
        problem(where, f"policy.json differs from {POLICY} (the policy README.md and the tests describe)")

def effective_flags(where, container, spec, by_name):
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
            problem(where, f"{token}: no mounted ConfigMap key at that path; the server would fail to start")
            continue
        out += [l.strip() for l in resolved.splitlines() if l.strip().startswith("--")]
    return out

# ------------------------------------------------------------------ systemd
def check_unit(path, lines):
    keys = {}
    for _, text in logical_lines(lines):
        m = re.match(r"^\s*([A-Za-z]+)\s*=\s*(.*)$", text)
        if m:
            keys.setdefault(m.group(1), []).append(m.group(2).strip())
    get = lambda k: (keys.get(k) or [None])[-1]
    exec_start = words(get("ExecStart") or "")
    if not exec_start or program_of(exec_start[0]) != "card-server":
        problem(path, "ExecStart must run card-server")
        return
    flags = [t for t in exec_start if t.startswith("--")]
    check_listen(path, flags, container=False)
    grace = seconds(flag_value(flags, "shutdown_grace", DEFAULT_GRACE))
    stop = seconds(get("TimeoutStopSec") or "90s")
    if stop is None or stop <= grace:
        problem(path, f"TimeoutStopSec ({get('TimeoutStopSec')}) must exceed --shutdown_grace ({grace:g}s)")
    expected = {"KillSignal": "SIGTERM", "Restart": "on-failure", "ProtectSystem": "strict"}
    for key, value in expected.items():
        if get(key) != value:
            problem(path, f"{key}= should be {value}, not {get(key)}")
    if not get("EnvironmentFile"):
        problem(path, "no EnvironmentFile= (DATABASE_URL)")
    if get("DynamicUser") != "yes" and not get("User"):
        problem(path, "runs as root: set DynamicUser=yes or User=")
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        notes.append(f"{path}: systemd-analyze not installed, unit not verified")
        return
    with tempfile.TemporaryDirectory() as tmp:
        # verify wants ExecStart's binary to exist: point it at the one given.
        unit = os.path.join(tmp, os.path.basename(path))
        with open(unit, "w") as f:
            f.writelines(re.sub(r"^ExecStart=\S+", f"ExecStart={binaries['card-server']}", l) for l in lines)
        result = run([analyze, "verify", "--man=no", unit])
        if result.returncode != 0 or result.stderr.strip():
            problem(path, "systemd-analyze verify: " + (result.stderr.strip() or f"exit {result.returncode}"))
        # Exposure 0 (locked down) .. 10 (root, no sandbox); threshold is x10.
        result = run([analyze, "security", "--offline=yes", "--threshold=20", unit])
        level = re.search(r"Overall exposure level for \S+: (\S+)", result.stdout)
        if result.returncode != 0:
            problem(path, f"systemd-analyze security: exposure {level.group(1) if level else '?'} above 2.0")
        elif level:
            notes.append(f"{path}: systemd-analyze verify passed, security exposure {level.group(1)}")

# ------------------------------------------------------------------- files
checked = []
k8s_objects = []
for directory, subdirs, files in os.walk("deploy"):
    subdirs.sort()
    for name in sorted(files):
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines(keepends=True)
        except UnicodeDecodeError:
            continue
        checked.append(path)
        if name.endswith((".yml", ".yaml")):
            try:
                docs = [d for d in yaml.load_all("".join(lines), Loader=StrictLoader) if d is not None]
            except yaml.YAMLError as e:
                problem(path, f"YAML does not parse: {e}")
                continue
            sweep_text(path, comment_lines(lines))
            for i, doc in enumerate(docs):
                where = path if len(docs) == 1 else f"{path}#{i + 1}"
                walk(doc, where)
                if path.startswith("deploy/k8s/"):
                    if not isinstance(doc, dict) or "kind" not in doc:
                        problem(where, "not a Kubernetes object (no kind)")
                    else:
                        k8s_objects.append((f"{where} ({doc['kind']})", doc))
                elif isinstance(doc, dict) and "services" in doc:
                    guarded(path, check_compose, path, doc)
        elif name == "Dockerfile" or name.endswith(".Dockerfile"):
            guarded(path, check_dockerfile, path, lines)
        elif name.endswith(".service"):
            sweep_text(path, lines)
            if "card-server" in binaries:
                guarded(path, check_unit, path, lines)
        else:
            sweep_text(path, lines)

guarded("deploy/k8s", check_k8s, k8s_objects)

# --------------------------------------------- flags: names, then values
def is_flag(program, name):
    base = name[2:] if name.startswith("no") else None  # --nomigrate
    return name in known[program] or base in known[program] or name in ABSL_BUILTIN

flag_count, runs = 0, {}
for where, program, flags in invocations:
    if program not in known:
        continue
    for token in flags:
        name, flag_count = flag_name(token), flag_count + 1
        if not is_flag(program, name):
            problem(where, f"{program} has no flag --{name} (see {program} --helpfull)")
    # Only --name=value (or a boolean alone): a bare --name would take the
    # next argument, --helpfull, as its value, and the program would run.
    # Values with placeholders ($VAR, %d, <id>) cannot be parsed here; a
    # --flagfile is checked through its contents instead.
    testable = tuple(t for t in flags if is_flag(program, flag_name(t))
                     and flag_name(t) not in ABSL_BUILTIN | {"flagfile"}
                     and ("=" in t or flag_name(t) in BOOLEAN[program]
                          or flag_name(t)[2:] in BOOLEAN[program])
                     and not re.search(r"[$%<>{}]", t))
    runs.setdefault((program, testable), where)
for (program, flags), where in runs.items():
    result = run([binaries[program], *flags, "--helpfull"])
    if result.stderr.strip():
        problem(where, f"{program} rejects {' '.join(flags)}: {result.stderr.strip().splitlines()[0]}")

all_flags = set().union(*known.values())
for where, token in loose:
    name = flag_name(token)
    if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", name) or name in all_flags:
        continue
    if len(known) == len(PROGRAMS):
        problem(where, f"--{name} is not a flag of card-server, card-stress or cardctl")
    else:
        notes.append(f"{where}: --{name} is not a flag of {', '.join(sorted(known))}; not checked further")

for note in notes:
    print(f"check-deploy: note: {note}")
if problems:
    for message, wheres in problems.items():
        also = f" (also {', '.join(wheres[1:])})" if len(wheres) > 1 else ""
        print(f"check-deploy: FAIL {wheres[0]}: {message}{also}", file=sys.stderr)
    print(f"check-deploy: {len(problems)} problem(s) in deploy/", file=sys.stderr)
    sys.exit(1)
commands = sum(1 for _, program, flags in invocations if flags and program in known)
print(f"check-deploy: OK: {len(checked)} files, {len(k8s_objects)} Kubernetes objects, "
      f"{flag_count} flags in {commands} commands checked against "
      f"{', '.join(p + ' --helpfull' for p in PROGRAMS if p in known)}")
